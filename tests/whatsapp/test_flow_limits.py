"""Every choice of every flow, in every language, rendered for WhatsApp: each message the
renderer makes is one the Cloud API accepts (``limits.check_message``, the stand-in's own
check), with button titles of at most 20 characters, row titles of at most 24, descriptions
of at most 72, unique titles, and every option reachable (paged past ten). And
``loket flows validate`` warns, with file and line, about a label that cannot fit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import cmd_validate
from bot.engine.messages import Button, Outbound
from bot.flows.loader import read_flow_sources
from bot.flows.model import FlowSet, Step
from bot.flows.whatsapp_fit import whatsapp_warnings
from bot.i18n import SUPPORTED_LOCALES, Translator
from bot.region import load_region
from bot.settings import Settings
from bot.whatsapp import limits
from bot.whatsapp.render import MORE_PREFIX, Menu, render, render_page
from tests.support.app import project_flow_set

# A placeholder in a label is filled with the longest value it usually takes (a number).
LONG_VALUE = "9404-2026-000101"
_PLACEHOLDER = re.compile(r"\{[^{}]+\}")
translator = Translator.load()


def fill(text: str | None) -> str:
    return _PLACEHOLDER.sub(LONG_VALUE, text or "")


def offered(step: Step, locale: str, districts: list[str]) -> list[Button]:
    """The buttons the engine attaches to this step (bot/engine/engine.py ``_prompt``)."""
    if step.options_from == "districts":
        labels = districts
    else:
        labels = [fill(o.label.get(locale) or o.label["id"]) for o in step.options]
    buttons = [Button(label, f"o:1.{i}") for i, label in enumerate(labels)]
    buttons += [
        Button(fill(b.label.get(locale) or b.label["id"]), f"g:{b.goto}") for b in step.buttons
    ]
    for label, payload in (("Kembali", "n:back"), ("Menu utama", "n:menu"), ("Batal", "n:cancel")):
        buttons.append(Button(translator.gettext(locale, label), payload))
    return buttons


def choice_steps(flow_set: FlowSet) -> list[Step]:
    return [s for s in flow_set.steps.values() if s.options or s.buttons or s.options_from]


def shown(message: dict[str, object]) -> list[tuple[str, str]]:
    """(title, id) of what one rendered message offers."""
    interactive = message.get("interactive")
    if not isinstance(interactive, dict):
        return []
    action = interactive["action"]
    if interactive["type"] == "button":
        return [(b["reply"]["title"], b["reply"]["id"]) for b in action["buttons"]]
    return [(r["title"], r["id"]) for s in action["sections"] for r in s["rows"]]


def test_every_flow_choice_renders_within_whatsapp_limits() -> None:
    flow_set = project_flow_set()
    districts = [d.name for d in load_region(Settings.from_env({}).region_file).districts]
    steps = choice_steps(flow_set)
    assert len(steps) > 20  # the walk covers the real flows, not an empty set
    checked = 0
    for step in steps:
        for locale in SUPPORTED_LOCALES:
            buttons = offered(step, locale, districts)
            text = fill(step.text.get(locale) or step.text.get("id")) if step.text else "…"
            message = Outbound(text=text, buttons=(tuple(buttons),))
            rendered = render(message)
            bodies = list(rendered.messages)
            if rendered.menu is not None:  # more than ten options: every page
                menu = Menu.from_json(rendered.menu.to_json())
                page = 1
                while True:
                    more = [o for o in shown(bodies[-1]) if o[1].startswith(MORE_PREFIX)]
                    if not more:
                        break
                    bodies += render_page(menu, page).messages
                    page += 1
            seen: set[str] = set()
            for body in bodies:
                full = {"messaging_product": "whatsapp", "to": "6281234567001", **body}
                refusal = limits.check_message(full)
                assert refusal is None, (step.ref, locale, refusal, body)
                options = shown(body)
                titles = [title for title, _ in options]
                assert len(set(titles)) == len(titles), (step.ref, locale, titles)
                seen.update(payload for _, payload in options)
                checked += 1
            wanted = {b.payload for b in buttons}
            assert wanted <= seen, (step.ref, locale, wanted - seen)  # nothing left out
    assert checked > 2 * len(steps)


def test_a_label_that_cannot_fit_is_warned_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    for name, source in read_flow_sources(Settings.from_env({}).flows_dir).items():
        target = flows / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    umum = flows / "umum.yaml"
    long_label = "Pilihan dengan label yang jauh terlalu panjang untuk WhatsApp"
    source = umum.read_text(encoding="utf-8")
    assert "Permohonan yang saya pantau" in source
    umum.write_text(source.replace("Permohonan yang saya pantau", long_label, 1), "utf-8")

    assert (
        cmd_validate(Settings.from_env({"LOKET_FLOWS_DIR": str(flows)}), []) == 0
    )  # not an error
    err = capsys.readouterr().err
    [line] = [w for w in err.splitlines() if long_label in w]
    assert re.match(r"umum\.yaml:\d+: warning: umum:", line), line
    assert "24 characters" in line


def test_the_warnings_name_only_what_does_not_fit() -> None:
    warnings = whatsapp_warnings(project_flow_set())
    for warning in warnings:
        label = re.search(r"'([^']*)'", warning)
        assert label is not None
        assert len(label.group(1)) > limits.MAX_BUTTON_TITLE, warning
