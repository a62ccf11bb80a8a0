"""An invalid flow set is refused as a whole, and every problem names the file, the line and
what is wrong: for the loader, for ``loket flows validate``, and for publishing at run time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest

from bot.cli import main as cli_main
from bot.flows.loader import FLOWS_DIR, FlowError, FlowSetError, build_flow_set, read_flow_sources
from bot.yamlsrc import MAX_YAML_BYTES
from tests.support.app import FakeClock, offline_known, running_loket
from tests.support.conversation import Conversation

KNOWN = offline_known()

UMUM = dedent("""\
    flow: umum
    opd: mpp
    intents:
      - id: umum.menu
        title: {id: "Menu utama", en: "Main menu"}
        start: menu
        sources: ["Contoh sumber"]
    steps:
      menu:
        type: choice
        text: {id: "Pilih layanan:", en: "Choose a service:"}
        options:
          - {label: {id: "Status", en: "Status"}, goto: status}
          - {label: {id: "Info", en: "Info"}, goto: info}
      status:
        type: input
        text: {id: "Nomor permohonan?", en: "Application number?"}
        validator: application_number
        save_as: number
        next: cek
      cek:
        type: action
        action: disdukcapil.application_status
        params: {number: "{number}"}
        on:
          ok: info
      info:
        type: message
        text: {id: "Terima kasih.", en: "Thank you."}
    """)
NLU = "umum.menu:\n  examples: [menu utama]\n  keywords: [menu]\n"
LAIN = dedent("""\
    flow: lain
    intents:
      - id: umum.menu
        title: {id: "Menu lain"}
        start: mulai
    steps:
      mulai:
        type: end
        text: {id: "Selesai."}
    """)


def base() -> dict[str, str]:
    return {"umum.yaml": UMUM, "nlu/id.yaml": NLU}


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(lines) >= occurrence, f"{needle!r} not in the text"
    return lines[occurrence - 1]


def errors_of(sources: dict[str, str]) -> list[FlowError]:
    with pytest.raises(FlowSetError) as caught:
        build_flow_set(sources, KNOWN)
    assert str(caught.value) == "\n".join(str(e) for e in caught.value.errors)
    return caught.value.errors


def edit(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def apply(text: str) -> str:
        assert old in text
        return text.replace(old, new, count)

    return apply


# name: (edit of umum.yaml, the line it must point at (a needle in the edited text), problem)
CASES: dict[str, tuple[Callable[[str], str], tuple[str, int], str]] = {
    "unknown step target": (
        edit("goto: info}", "goto: infoo}"),
        ("  menu:", 1),
        "goes to unknown step 'umum:infoo'",
    ),
    # Provenance (issue 14): the field is named, whatever the language of the message.
    "intent without sources": (
        edit('    sources: ["Contoh sumber"]\n', ""),
        ("- id: umum.menu", 1),
        "umum.menu.sources",
    ),
    "empty sources": (
        edit('sources: ["Contoh sumber"]', "sources: []"),
        ("sources: []", 1),
        "umum.menu.sources",
    ),
    "review without a due date": (
        edit(
            'sources: ["Contoh sumber"]', 'sources: [x]\n    review: {opd: mpp, on: "2026-12-04"}'
        ),
        ("review:", 1),
        "umum.menu.review",
    ),
    "review due before it was made": (
        edit(
            'sources: ["Contoh sumber"]',
            'sources: [x]\n    review: {opd: mpp, on: "2026-12-04", due: "2026-01-01"}',
        ),
        ("review:", 1),
        "umum.menu.review",
    ),
    "intent answered by an unknown OPD": (
        edit('sources: ["Contoh sumber"]', "sources: [x]\n    opd: dinas_x"),
        ("opd: dinas_x", 1),
        "umum.menu.opd",
    ),
    "review by an unknown OPD": (
        edit(
            'sources: ["Contoh sumber"]',
            'sources: [x]\n    review: {opd: dinas_x, on: "2026-12-04", due: "2027-06-02"}',
        ),
        ("review:", 1),
        "umum.menu.review.opd",
    ),
    "unknown next": (
        edit("next: cek", "next: cekk"),
        ("  status:", 1),
        "unknown step 'umum:cekk'",
    ),
    "unreachable step": (
        lambda t: t + '  lost:\n    type: message\n    text: {id: "Hilang"}\n',
        ("  lost:", 1),
        "step lost: unreachable",
    ),
    "missing Indonesian text": (
        edit('text: {id: "Terima kasih.", en: "Thank you."}', 'text: {en: "Thank you."}'),
        ('text: {en: "Thank you."}', 1),
        "step info.text: missing Indonesian text ('id')",
    ),
    "empty Indonesian text": (
        edit('{id: "Terima kasih.",', '{id: "  ",'),
        ('{id: "  ",', 1),
        "step info.text.id: empty text",
    ),
    "unknown validator": (
        edit("validator: application_number", "validator: nomor_ajaib"),
        ("validator: nomor_ajaib", 1),
        "step status: unknown validator 'nomor_ajaib'",
    ),
    "unknown action": (
        edit("action: disdukcapil.application_status", "action: disdukcapil.sihir"),
        ("action: disdukcapil.sihir", 1),
        "step cek: unknown action 'disdukcapil.sihir'",
    ),
    "unknown step type": (
        edit("type: message", "type: pesan"),
        ("type: pesan", 1),
        "step info: unknown type 'pesan'",
    ),
    "unknown key": (
        edit("    save_as: number\n", "    save_as: number\n    simpan: x\n"),
        ("simpan: x", 1),
        "step status: unknown key 'simpan'",
    ),
    "action without ok outcome": (
        edit("      ok: info", "      not_found: info"),
        ("    on:", 1),
        "step cek.on: must name at least the 'ok' step",
    ),
    "bad placeholder": (
        edit('"Terima kasih."', '"Terima kasih {nama lengkap}."'),
        ("Terima kasih {nama", 1),
        "bad placeholder '{nama lengkap}'",
    ),
    "YAML syntax error": (
        edit('    text: {id: "Terima kasih.", en: "Thank you."}', "    text: a: b"),
        ("text: a: b", 1),
        "mapping values are not allowed here",
    ),
    "duplicate key": (
        edit("    next: cek\n", "    next: cek\n    next: info\n"),
        ("next: info", 1),
        "duplicate key 'next'",
    ),
    "over-size file": (
        lambda t: t + "# " + "x" * MAX_YAML_BYTES + "\n",
        ("flow: umum", 1),
        f"file is larger than {MAX_YAML_BYTES // 1024} KiB",
    ),
    "flow name differs from the file": (
        edit("flow: umum", "flow: umum2"),
        ("flow: umum2", 1),
        "must equal the file name 'umum'",
    ),
}


def test_the_base_set_is_valid() -> None:
    flow_set = build_flow_set(base(), KNOWN)
    assert set(flow_set.intents) == {"umum.menu"}
    assert len(flow_set.steps) == 4


@pytest.mark.parametrize("case", CASES)
def test_error_names_file_line_and_problem(case: str) -> None:
    change, (needle, occurrence), problem = CASES[case]
    sources = base()
    sources["umum.yaml"] = change(UMUM)
    errors = errors_of(sources)
    expected_line = line_of(sources["umum.yaml"], needle, occurrence)
    found = [e for e in errors if problem in e.problem]
    assert found, f"no error about {problem!r}: {[str(e) for e in errors]}"
    assert (found[0].path, found[0].line) == ("umum.yaml", expected_line), str(found[0])
    assert str(found[0]).startswith(f"umum.yaml:{expected_line}: ")


def test_duplicate_intent_id_across_files() -> None:
    sources = {**base(), "lain.yaml": LAIN}
    errors = errors_of(sources)
    duplicate = [e for e in errors if "duplicate intent id 'umum.menu'" in e.problem]
    assert len(duplicate) == 1, [str(e) for e in errors]
    where = {
        ("lain.yaml", line_of(LAIN, "- id: umum.menu")),
        ("umum.yaml", line_of(UMUM, "- id: umum.menu")),
    }
    assert (duplicate[0].path, duplicate[0].line) in where
    other = (where - {(duplicate[0].path, duplicate[0].line)}).pop()
    assert f"also at {other[0]}:{other[1]}" in duplicate[0].problem


def test_nlu_for_an_undeclared_intent() -> None:
    sources = base()
    sources["nlu/id.yaml"] = NLU + "umum.hantu:\n  examples: [boo]\n"
    errors = errors_of(sources)
    assert [(e.path, e.line) for e in errors if "no flow declares this intent" in e.problem] == [
        ("nlu/id.yaml", line_of(sources["nlu/id.yaml"], "umum.hantu:"))
    ]


def test_every_problem_is_reported_in_one_run() -> None:
    text = UMUM.replace("validator: application_number", "validator: nomor_ajaib")
    text = text.replace("action: disdukcapil.application_status", "action: sihir.x")
    text = text.replace("goto: info}", "goto: infoo}")
    problems = " | ".join(str(e) for e in errors_of({**base(), "umum.yaml": text}))
    for expected in ("unknown validator", "unknown action", "unknown step 'umum:infoo'"):
        assert expected in problems


def test_an_error_in_the_project_set_points_at_the_edited_line() -> None:
    sources = read_flow_sources(FLOWS_DIR)
    text = sources["disdukcapil.yaml"].replace(
        "validator: application_number", "validator: nomor_permohonan", 1
    )
    errors = errors_of({**sources, "disdukcapil.yaml": text})
    assert [(e.path, e.line) for e in errors] == [
        ("disdukcapil.yaml", line_of(text, "validator: nomor_permohonan"))
    ]


# -- the command line -----------------------------------------------------------------------


def write_set(folder: Path, sources: dict[str, str]) -> Path:
    for name, text in sources.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_cli_validate_rejects_a_folder_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = UMUM.replace("validator: application_number", "validator: nomor_ajaib")
    folder = write_set(tmp_path, {"umum.yaml": text, "nlu/id.yaml": NLU})
    assert cli_main(["flows", "validate", str(folder)]) == 1
    err = capsys.readouterr().err
    assert (
        f"umum.yaml:{line_of(text, 'validator: nomor_ajaib')}: step status: unknown validator"
        in err
    )
    assert "nothing was loaded" in err


def test_cli_validate_rejects_one_edited_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (FLOWS_DIR / "umum.yaml").read_text(encoding="utf-8")
    text = text.replace("    validator: free_text", "    validator: teks_bebas", 1)
    edited = tmp_path / "umum.yaml"
    edited.write_text(text, encoding="utf-8")
    assert cli_main(["flows", "validate", str(edited)]) == 1
    err = capsys.readouterr().err
    assert f"umum.yaml:{line_of(text, 'validator: teks_bebas')}: " in err
    assert "unknown validator 'teks_bebas'" in err


def test_cli_validate_reports_a_yaml_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = UMUM.replace("    next: cek\n", "    next: cek\n    next: info\n")
    folder = write_set(tmp_path, {"umum.yaml": text, "nlu/id.yaml": NLU})
    assert cli_main(["flows", "validate", str(folder)]) == 1
    assert (
        f"umum.yaml:{line_of(text, 'next: info')}: duplicate key 'next'" in capsys.readouterr().err
    )


def test_cli_validate_accepts_the_project_flows(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["flows", "validate", str(FLOWS_DIR)]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


# -- publishing at run time -----------------------------------------------------------------


async def test_an_invalid_set_never_replaces_the_published_one(tmp_path: Path) -> None:
    async with running_loket(tmp_path / "loket.sqlite3", clock=FakeClock(), sandbox=False) as app:
        published = app.runtime.current()
        chat = Conversation(app)
        await chat.send("cek status permohonan")

        broken = read_flow_sources(FLOWS_DIR)
        broken["disdukcapil.yaml"] = broken["disdukcapil.yaml"].replace(
            "validator: application_number", "validator: nomor_ajaib", 1
        )
        with pytest.raises(FlowSetError, match=r"disdukcapil\.yaml:\d+: .*nomor_ajaib"):
            app.reload_flows(broken)
        assert app.runtime.current() is published

        await chat.send("ab")  # the old flow still validates the waiting answer
        chat.assert_sane()
        assert (await chat.state()).step == "disdukcapil:status_permohonan"
        assert (await chat.state()).flow_version == published.flows.version


async def test_a_valid_set_is_published_and_used(tmp_path: Path) -> None:
    async with running_loket(tmp_path / "loket.sqlite3", clock=FakeClock(), sandbox=False) as app:
        old = app.runtime.current().flows.version
        chat = Conversation(app)
        await chat.send("cek status permohonan")  # waiting on a step the new set removes

        sources = read_flow_sources(FLOWS_DIR)
        sources["umum.yaml"] = sources["umum.yaml"].replace(
            "Halo! Saya Loket", "Selamat datang! Saya Loket", 1
        )
        new = app.reload_flows(sources)
        assert new.version != old
        assert app.runtime.current().flows.version == new.version

        await chat.send("menu")
        chat.assert_sane()
        assert "Selamat datang! Saya Loket" in chat.last_text
        assert (await chat.state()).flow_version == new.version


async def test_a_conversation_on_a_removed_step_restarts_safely(tmp_path: Path) -> None:
    async with running_loket(tmp_path / "loket.sqlite3", clock=FakeClock(), sandbox=False) as app:
        chat = Conversation(app)
        await chat.send("menu")
        await chat.click("Lainnya")
        assert (await chat.state()).step == "umum:lainnya"

        sources = read_flow_sources(FLOWS_DIR)
        text = sources["umum.yaml"]
        text = text.replace("goto: lainnya}", "goto: petugas}").replace(
            "  lainnya:\n", "  lainnya_baru:\n"
        )
        text = text.replace(
            "goto: petugas}\n\n  lainnya_baru:", "goto: lainnya_baru}\n\n  lainnya_baru:"
        )
        app.reload_flows({**sources, "umum.yaml": text})
        assert "umum:lainnya" not in app.runtime.current().flows.steps

        await chat.send("2")
        chat.assert_sane()
        assert "baru saja diperbarui" in chat.last_text
