"""Reads a flow set from YAML and checks it like code: schema, references, reachability.

A set with any error is refused as a whole (``FlowSetError`` lists every problem with its
file and line), so a half-edited flow never replaces a working one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.booking.hook import CODE_ENTRY_STEPS
from bot.flows.model import (
    STEP_TYPES,
    Case,
    Flow,
    FlowSet,
    Intent,
    LocalList,
    LocalText,
    Option,
    Review,
    ServiceInfo,
    Step,
)
from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, Translator
from bot.nlu.entities import ENTITY_NAMES
from bot.nlu.matcher import RESERVED_PREFIX, IntentNLU
from bot.yamlsrc import LineDict, YamlError, line_of, load_yaml_text

FLOWS_DIR = Path(__file__).resolve().parent.parent.parent / "flows"

# Actions the engine itself performs (they change the conversation or the citizen's record,
# which only the engine and storage may do); every other action comes from the registry.
BUILTIN_ACTIONS = frozenset(
    {
        "core.set_language",
        "core.erase_user_data",
        "core.save_subscription",
        "core.stop_subscription",
    }
)
OPTION_SOURCES = frozenset({"districts"})
# options_from: context.<dotted name>: options an action saved (issue 18, queue dates).
_CONTEXT_SOURCE = re.compile(r"^context\.[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")


def _is_context_source(source: object) -> bool:
    return isinstance(source, str) and bool(_CONTEXT_SOURCE.match(source))


OUTCOME_KEYS = ("ok", "not_found", "unavailable", "invalid")
CASE_TESTS = ("equals", "not_equals", "in", "exists")
HANDOFF_KINDS = ("request", "complaint")
_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_INTENT_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
# Messages used in several places (the loader's messages are N_ msgids in Indonesian, shown
# as such in the console; locales/en has the English of `loket flows validate`).
_UNKNOWN_LANGUAGE = N_("{where}.{key}: bahasa {lang!r} tidak dikenal")
_NO_INDONESIAN = N_("{where}.{key}: teks Indonesia ('{id}') belum ada")
# ``where`` (the place in a file a message is about) is written in English ("step menu",
# "flow file"); the Indonesian message names it with these words instead.
_WHERE_IN_INDONESIAN = (("step ", "langkah "), ("flow file", "berkas alur"))

COMMON_KEYS = {"type", "buttons", "set"}
STEP_KEYS: dict[str, tuple[set[str], set[str]]] = {
    # type: (required keys, optional keys) besides COMMON_KEYS
    "message": ({"text"}, {"next"}),
    "service": (
        {
            "title",
            "summary",
            "requirements",
            "cost",
            "duration",
            "office",
            "legal_basis",
            "checked",
        },
        {"bring", "procedure", "notes", "next", "text", "proxy"},
    ),
    "choice": ({"text"}, {"options", "options_from", "save_as", "next"}),
    "input": ({"text", "validator", "save_as", "next"}, {"entity", "help"}),
    "action": ({"action", "on"}, {"params", "save_as", "text"}),
    "branch": ({"cases", "default"}, set()),
    "end": (set(), {"text"}),
    "handoff": ({"text", "kind"}, {"opd", "next"}),
}


_ENGLISH = "en"  # the CLI's language (a constant: a literal here would be extracted)


@functools.cache
def _translator() -> Translator:
    return Translator.load()


def _in_indonesian(name: str, value: Any) -> Any:
    if name == "where" and isinstance(value, str):
        for english, indonesian in _WHERE_IN_INDONESIAN:
            if value.startswith(english):
                return indonesian + value[len(english) :]
    return value


@dataclass(frozen=True, slots=True)
class FlowError:
    """One problem at a file and line. ``problem`` is English (``loket flows validate``, logs,
    tests); ``message`` is the same problem in Indonesian for the console. Both come from one
    gettext entry: the Indonesian msgid (``N_``) and its English translation in ``locales/en``.
    """

    path: str
    line: int
    problem: str
    message: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"

    @property
    def indonesian(self) -> str:
        """The problem in Indonesian (English when it was raised without a catalogue entry)."""
        return self.message or self.problem

    @classmethod
    def of(cls, path: str, line: int, msgid: str, **params: Any) -> FlowError:
        """The error for catalogue entry ``msgid`` (Indonesian, ``{placeholders}``)."""
        if not params:  # also a plain string from a caller without a catalogue entry
            return cls(path, line, _translator().gettext(_ENGLISH, msgid), msgid)
        indonesian = msgid.format(**{k: _in_indonesian(k, v) for k, v in params.items()})
        return cls(path, line, _translator().gettext(_ENGLISH, msgid, **params), indonesian)


class FlowSetError(Exception):
    """Every problem found in a flow set; the set was not loaded."""

    def __init__(self, errors: list[FlowError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.path, e.line, e.problem))
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True, slots=True)
class KnownNames:
    """What the flows may refer to outside themselves."""

    validators: frozenset[str]
    actions: frozenset[str]
    opds: frozenset[str] = frozenset()
    offices: frozenset[str] = frozenset()


class _Checker:
    """Collects errors while building the model, so one run reports every problem."""

    def __init__(self, known: KnownNames) -> None:
        self.known = known
        self.errors: list[FlowError] = []

    def error(self, path: str, line: int, problem: str, **params: Any) -> None:
        """Records ``problem``: an ``N_`` msgid (Indonesian) with ``params`` for its fields."""
        self.errors.append(FlowError.of(path, line, problem, **params))

    # -- small typed readers -------------------------------------------------------------

    def text(self, parent: Any, key: str, path: str, where: str) -> LocalText | None:
        value = parent.get(key)
        line = line_of(parent, key)
        if isinstance(value, str):
            value = {DEFAULT_LOCALE: value}
        if not isinstance(value, dict):
            self.error(
                path,
                line,
                N_("{where}.{key}: harus teks dengan versi 'id' dan 'en'"),
                where=where,
                key=key,
            )
            return None
        result: LocalText = {}
        for locale, text in value.items():
            if locale not in SUPPORTED_LOCALES:
                self.error(
                    path,
                    line_of(value, locale),
                    _UNKNOWN_LANGUAGE,
                    where=where,
                    key=key,
                    lang=locale,
                )
            elif not isinstance(text, str) or not text.strip():
                self.error(
                    path,
                    line_of(value, locale),
                    N_("{where}.{key}.{lang}: teks kosong"),
                    where=where,
                    key=key,
                    lang=locale,
                )
            else:
                self.check_placeholders(text, path, line_of(value, locale), f"{where}.{key}")
                result[locale] = text.strip("\n")
        if DEFAULT_LOCALE not in value:
            self.error(path, line, _NO_INDONESIAN, where=where, key=key, id=DEFAULT_LOCALE)
        return result

    def text_list(self, parent: Any, key: str, path: str, where: str) -> LocalList | None:
        value = parent.get(key)
        line = line_of(parent, key)
        if not isinstance(value, dict):
            self.error(
                path,
                line,
                N_("{where}.{key}: harus daftar baris 'id' dan 'en'"),
                where=where,
                key=key,
            )
            return None
        result: LocalList = {}
        for locale, items in value.items():
            if locale not in SUPPORTED_LOCALES:
                self.error(
                    path,
                    line_of(value, locale),
                    _UNKNOWN_LANGUAGE,
                    where=where,
                    key=key,
                    lang=locale,
                )
                continue
            if (
                not isinstance(items, list)
                or not items
                or not all(isinstance(item, str) and item.strip() for item in items)
            ):
                self.error(
                    path,
                    line_of(value, locale),
                    N_("{where}.{key}.{lang}: harus daftar baris yang tidak kosong"),
                    where=where,
                    key=key,
                    lang=locale,
                )
                continue
            for index, item in enumerate(items):
                self.check_placeholders(item, path, line_of(items, index), f"{where}.{key}")
            result[locale] = tuple(item.strip() for item in items)
        if DEFAULT_LOCALE not in value:
            self.error(path, line, _NO_INDONESIAN, where=where, key=key, id=DEFAULT_LOCALE)
        return result

    def check_placeholders(self, text: str, path: str, line: int, where: str) -> None:
        for match in _PLACEHOLDER.finditer(text):
            token = match.group(0)
            if token in ("{{", "}}"):
                continue
            name = match.group(1)
            if name is None or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
                self.error(
                    path,
                    line,
                    N_(
                        "{where}: placeholder {token!r} tidak sah (tulis {name}, atau {braces} "
                        "untuk kurung kurawal)"
                    ),
                    where=where,
                    token=token,
                    name="{name}",
                    braces="{{ }}",
                )
            elif name.startswith("office.") and self.known.offices:
                office = name.split(".")[1] if name.count(".") >= 1 else ""
                if office not in self.known.offices:
                    self.error(
                        path,
                        line,
                        N_("{where}: kantor {office!r} tidak dikenal di {token}"),
                        where=where,
                        office=office,
                        token=token,
                    )

    def unknown_keys(self, mapping: Any, allowed: set[str], path: str, where: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.error(
                    path,
                    line_of(mapping, key),
                    N_("{where}: kunci {key!r} tidak dikenal"),
                    where=where,
                    key=key,
                )

    def ref(self, flow: str, value: Any, path: str, line: int, where: str) -> str | None:
        if not isinstance(value, str) or not value:
            self.error(path, line, N_("{where}: harus nama langkah"), where=where)
            return None
        return value if ":" in value else f"{flow}:{value}"


def _digest(sources: Mapping[str, str]) -> str:
    hasher = hashlib.sha256()
    for name in sorted(sources):
        hasher.update(name.encode())
        hasher.update(b"\0")
        hasher.update(sources[name].encode())
        hasher.update(b"\0")
    return hasher.hexdigest()[:16]


def read_flow_sources(directory: Path = FLOWS_DIR) -> dict[str, str]:
    """Every file that makes up a flow set, by path relative to ``directory``."""
    sources: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        sources[path.name] = path.read_text(encoding="utf-8")
    for path in sorted((directory / "nlu").glob("*.yaml")):
        sources[f"nlu/{path.name}"] = path.read_text(encoding="utf-8")
    return sources


def load_flow_set(directory: Path, known: KnownNames) -> FlowSet:
    return build_flow_set(read_flow_sources(directory), known)


def build_flow_set(sources: Mapping[str, str], known: KnownNames) -> FlowSet:
    """Parses and checks ``sources`` (path -> YAML text); raises FlowSetError on any problem."""
    checker = _Checker(known)
    steps: dict[str, Step] = {}
    intents: dict[str, Intent] = {}
    flows: dict[str, Flow] = {}
    nlu: dict[str, dict[str, IntentNLU]] = {}
    nlu_lines: dict[tuple[str, str], tuple[str, int]] = {}
    # Files that did not parse and steps that could not be built: what refers to them is not
    # reported again (one YAML error was nine errors in other files), see _cross_check.
    broken: set[str] = set()
    broken_steps: set[str] = set()

    for name, text in sorted(sources.items()):
        try:
            data = load_yaml_text(text, name)
        except YamlError as error:
            checker.error(
                error.path,
                error.line,
                N_("YAML tidak sah (periksa indentasi, titik dua dan tanda kutip): {detail}"),
                detail=error.problem,
            )
            broken.add(name)
            continue
        if name.startswith("nlu/"):
            _read_nlu(checker, name, data, nlu, nlu_lines)
        else:
            _read_flow(checker, name, data, flows, steps, intents, broken_steps)

    _cross_check(checker, steps, intents, nlu, nlu_lines, broken, broken_steps)
    if checker.errors:
        raise FlowSetError(checker.errors)
    _expire_edited_reviews(steps, intents)
    return FlowSet(
        flows=flows,
        steps=steps,
        intents=intents,
        nlu=nlu,
        sources=dict(sources),
        version=_digest(sources),
    )


def _read_nlu(
    checker: _Checker,
    name: str,
    data: Any,
    nlu: dict[str, dict[str, IntentNLU]],
    nlu_lines: dict[tuple[str, str], tuple[str, int]],
) -> None:
    locale = Path(name).stem
    if locale not in SUPPORTED_LOCALES:
        checker.error(
            name,
            1,
            N_("bahasa {lang!r} tidak dikenal (salah satu dari {known})"),
            lang=locale,
            known=SUPPORTED_LOCALES,
        )
        return
    if not isinstance(data, dict):
        checker.error(name, 1, N_("harus pemetaan id intent ke contoh kalimat dan kata kunci"))
        return
    entries: dict[str, IntentNLU] = {}
    for intent_id, entry in data.items():
        line = line_of(data, intent_id)
        if not isinstance(entry, dict):
            checker.error(
                name,
                line,
                N_("{intent}: harus berisi 'examples' dan 'keywords'"),
                intent=intent_id,
            )
            continue
        checker.unknown_keys(entry, {"examples", "keywords"}, name, intent_id)
        examples = entry.get("examples") or []
        keywords = entry.get("keywords") or []
        if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
            checker.error(
                name, line, N_("{intent}.examples: harus daftar kalimat"), intent=intent_id
            )
            continue
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            checker.error(name, line, N_("{intent}.keywords: harus daftar kata"), intent=intent_id)
            continue
        if not examples and not keywords:
            checker.error(
                name,
                line,
                N_("{intent}: beri setidaknya satu contoh atau kata kunci"),
                intent=intent_id,
            )
        entries[str(intent_id)] = IntentNLU(tuple(examples), tuple(keywords))
        nlu_lines[(locale, str(intent_id))] = (name, line)
    nlu[locale] = entries


def _read_flow(
    checker: _Checker,
    name: str,
    data: Any,
    flows: dict[str, Flow],
    steps: dict[str, Step],
    intents: dict[str, Intent],
    broken_steps: set[str],
) -> None:
    if not isinstance(data, LineDict):
        checker.error(
            name, 1, N_("berkas alur harus pemetaan dengan 'flow', 'intents' dan 'steps'")
        )
        return
    checker.unknown_keys(data, {"flow", "opd", "intents", "steps"}, name, "flow file")
    flow_id = data.get("flow")
    if flow_id != Path(name).stem:
        checker.error(
            name,
            line_of(data, "flow"),
            N_("'flow: {flow}' harus sama dengan nama berkas {stem!r}"),
            flow=flow_id,
            stem=Path(name).stem,
        )
        flow_id = Path(name).stem
    opd = data.get("opd")
    if opd is not None and checker.known.opds and opd not in checker.known.opds:
        checker.error(
            name,
            line_of(data, "opd"),
            N_("opd {opd!r} tidak dikenal (yang dikenal: {known})"),
            opd=opd,
            known=", ".join(sorted(checker.known.opds)),
        )
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, dict) or not raw_steps:
        checker.error(name, line_of(data, "steps"), N_("'steps' harus pemetaan yang tidak kosong"))
        raw_steps = {}
    for step_name, raw in raw_steps.items():
        if not _ID_PATTERN.match(str(step_name)):
            checker.error(
                name,
                line_of(raw_steps, step_name),
                N_("nama langkah {step!r}: pakai huruf kecil, angka dan _"),
                step=step_name,
            )
        step = _read_step(
            checker, name, str(flow_id), str(step_name), raw, line_of(raw_steps, step_name)
        )
        if step is not None:
            steps[step.ref] = step
        else:
            broken_steps.add(f"{flow_id}:{step_name}")
    intent_ids: list[str] = []
    raw_intents = data.get("intents") or []
    if not isinstance(raw_intents, list):
        checker.error(name, line_of(data, "intents"), N_("'intents' harus daftar"))
        raw_intents = []
    for index, raw in enumerate(raw_intents):
        line = line_of(raw_intents, index)
        if not isinstance(raw, dict):
            checker.error(name, line, N_("intent memerlukan 'id', 'title' dan 'start'"))
            continue
        checker.unknown_keys(
            raw, {"id", "title", "start", "sources", "review", "interface", "opd"}, name, "intent"
        )
        intent_id = raw.get("id")
        if not isinstance(intent_id, str) or not _INTENT_PATTERN.match(intent_id):
            checker.error(
                name, line, N_("id intent {intent!r}: tulis sebagai alur.nama"), intent=intent_id
            )
            continue
        if intent_id in intents:
            other = intents[intent_id]
            checker.error(
                name,
                line,
                N_("id intent {intent!r} ganda (juga di {other_file}:{other_line})"),
                intent=intent_id,
                other_file=other.path,
                other_line=other.line,
            )
            continue
        title = checker.text(raw, "title", name, intent_id) or {}
        start = checker.ref(
            str(flow_id), raw.get("start"), name, line_of(raw, "start"), f"{intent_id}.start"
        )
        if start is None:
            continue
        interface = raw.get("interface") is True
        sources = () if interface else _read_sources(checker, name, raw, intent_id, line)
        review = _read_review(checker, name, raw, intent_id) if "review" in raw else None
        owner = raw.get("opd")
        if owner is not None and (
            not isinstance(owner, str) or (checker.known.opds and owner not in checker.known.opds)
        ):
            checker.error(
                name,
                line_of(raw, "opd"),
                N_("{where}.opd: opd {opd!r} tidak dikenal"),
                where=intent_id,
                opd=owner,
            )
            owner = None
        intents[intent_id] = Intent(
            intent_id,
            title,
            start,
            str(flow_id),
            name,
            line,
            sources=sources,
            review=review,
            interface=interface,
            opd=owner,
        )
        intent_ids.append(intent_id)
    flows[str(flow_id)] = Flow(
        str(flow_id), opd if isinstance(opd, str) else None, name, tuple(intent_ids)
    )


def _options(
    checker: _Checker, flow: str, path: str, raw: Any, key: str, where: str
) -> tuple[Option, ...]:
    items = raw.get(key)
    if items is None:
        return ()
    if not isinstance(items, list) or not items:
        checker.error(
            path,
            line_of(raw, key),
            N_("{where}.{key}: harus daftar {shape} yang tidak kosong"),
            where=where,
            key=key,
            shape="{label, goto}",
        )
        return ()
    options = []
    for index, item in enumerate(items):
        line = line_of(items, index)
        if not isinstance(item, dict):
            checker.error(
                path,
                line,
                N_("{where}.{key}[{n}]: harus {shape}"),
                where=where,
                key=key,
                n=index + 1,
                shape="{label, goto}",
            )
            continue
        checker.unknown_keys(item, {"label", "goto", "set"}, path, f"{where}.{key}[{index + 1}]")
        label = checker.text(item, "label", path, f"{where}.{key}[{index + 1}]")
        goto = checker.ref(
            flow, item.get("goto"), path, line_of(item, "goto"), f"{where}.{key}[{index + 1}].goto"
        )
        values = item.get("set") or {}
        if not isinstance(values, dict):
            checker.error(
                path,
                line_of(item, "set"),
                N_("{where}.{key}[{n}].set: harus pemetaan"),
                where=where,
                key=key,
                n=index + 1,
            )
            values = {}
        if label and goto:
            options.append(Option(label, goto, dict(values)))
    return tuple(options)


def _read_step(
    checker: _Checker, path: str, flow: str, name: str, raw: Any, line: int
) -> Step | None:
    where = f"step {name}"
    if not isinstance(raw, dict):
        checker.error(path, line, N_("{where}: harus pemetaan dengan 'type'"), where=where)
        return None
    step_type = raw.get("type")
    if step_type not in STEP_TYPES:
        checker.error(
            path,
            line_of(raw, "type"),
            N_("{where}: jenis tidak dikenal {type!r} (salah satu dari {known})"),
            where=where,
            type=step_type,
            known=", ".join(STEP_TYPES),
        )
        return None
    required, optional = STEP_KEYS[step_type]
    checker.unknown_keys(raw, required | optional | COMMON_KEYS, path, where)
    for key in sorted(required):
        if key not in raw and not (step_type == "choice" and key == "options"):
            checker.error(path, line, N_("{where}: '{key}' belum ada"), where=where, key=key)
    ref = f"{flow}:{name}"
    fields: dict[str, Any] = {}
    if "text" in raw:
        fields["text"] = checker.text(raw, "text", path, where)
    if "next" in raw:
        fields["next"] = checker.ref(
            flow, raw["next"], path, line_of(raw, "next"), f"{where}.next"
        )
    fields["buttons"] = _options(checker, flow, path, raw, "buttons", where)
    values = raw.get("set") or {}
    fields["set"] = dict(values) if isinstance(values, dict) else {}
    if "save_as" in raw:
        save_as = raw["save_as"]
        if not isinstance(save_as, str) or not _ID_PATTERN.match(save_as):
            checker.error(
                path,
                line_of(raw, "save_as"),
                N_("{where}.save_as: pakai nama sederhana seperti 'number'"),
                where=where,
            )
        fields["save_as"] = str(save_as)

    if step_type == "choice":
        fields["options"] = _options(checker, flow, path, raw, "options", where)
        source = raw.get("options_from")
        if source is not None:
            if source not in OPTION_SOURCES and not _is_context_source(source):
                checker.error(
                    path,
                    line_of(raw, "options_from"),
                    N_(
                        "{where}.options_from: sumber {source!r} tidak dikenal (yang dikenal: "
                        "districts, context.NAMA)"
                    ),
                    where=where,
                    source=source,
                )
            if "save_as" not in raw or "next" not in raw:
                checker.error(
                    path,
                    line,
                    N_("{where}: options_from memerlukan 'save_as' dan 'next'"),
                    where=where,
                )
            fields["options_from"] = str(source)
        elif not fields["options"]:
            checker.error(
                path,
                line,
                N_("{where}: pilihan memerlukan 'options' atau 'options_from'"),
                where=where,
            )
    elif step_type == "input":
        validator = raw.get("validator")
        if validator not in checker.known.validators:
            checker.error(
                path,
                line_of(raw, "validator"),
                N_("{where}: validator {validator!r} tidak dikenal (yang dikenal: {known})"),
                where=where,
                validator=validator,
                known=", ".join(sorted(checker.known.validators)),
            )
        fields["validator"] = str(validator)
        if "entity" in raw:
            # Issue 13: a value of this kind already written in the citizen's message fills
            # this input, so the bot does not ask for it again.
            entity = raw.get("entity")
            if entity not in ENTITY_NAMES:
                checker.error(
                    path,
                    line_of(raw, "entity"),
                    f"{where}.entity: unknown entity {entity!r} "
                    f"(known: {', '.join(ENTITY_NAMES)})",
                )
            else:
                fields["entity"] = str(entity)
        if "help" in raw:
            # Issue 13: what the bot says to "tidak tahu" / "sa tra tau": where to find the
            # value (the NOP on the SPPT, the number on the receipt).
            fields["help"] = checker.text(raw, "help", path, where)
    elif step_type == "action":
        action = raw.get("action")
        if action not in checker.known.actions and action not in BUILTIN_ACTIONS:
            checker.error(
                path,
                line_of(raw, "action"),
                N_("{where}: aksi {action!r} tidak dikenal"),
                where=where,
                action=action,
            )
        fields["action"] = str(action)
        params = raw.get("params") or {}
        if not isinstance(params, dict):
            checker.error(
                path, line_of(raw, "params"), N_("{where}.params: harus pemetaan"), where=where
            )
            params = {}
        fields["params"] = dict(params)
        outcomes = raw.get("on") or {}
        if not isinstance(outcomes, dict) or "ok" not in outcomes:
            checker.error(
                path,
                line_of(raw, "on"),
                N_("{where}.on: sebutkan setidaknya langkah 'ok'"),
                where=where,
            )
            outcomes = {}
        resolved = {}
        for outcome, target in outcomes.items():
            if outcome not in OUTCOME_KEYS:
                checker.error(
                    path,
                    line_of(outcomes, outcome),
                    N_("{where}.on: hasil {outcome!r} tidak dikenal (salah satu dari {known})"),
                    where=where,
                    outcome=outcome,
                    known=", ".join(OUTCOME_KEYS),
                )
                continue
            target_ref = checker.ref(
                flow, target, path, line_of(outcomes, outcome), f"{where}.on.{outcome}"
            )
            if target_ref:
                resolved[outcome] = target_ref
        fields["on"] = resolved
    elif step_type == "branch":
        cases = []
        raw_cases = raw.get("cases") or []
        if not isinstance(raw_cases, list):
            checker.error(
                path, line_of(raw, "cases"), N_("{where}.cases: harus daftar"), where=where
            )
            raw_cases = []
        for index, item in enumerate(raw_cases):
            case_line = line_of(raw_cases, index)
            when = item.get("when") if isinstance(item, dict) else None
            if not isinstance(when, dict) or not isinstance(when.get("var"), str):
                checker.error(
                    path,
                    case_line,
                    N_("{where}.cases[{n}]: harus {shape}"),
                    where=where,
                    n=index + 1,
                    shape="{when: {var, equals|not_equals|in|exists}, goto}",
                )
                continue
            tests = [t for t in CASE_TESTS if t in when]
            if len(tests) != 1:
                checker.error(
                    path,
                    case_line,
                    N_("{where}.cases[{n}]: beri tepat satu dari {known}"),
                    where=where,
                    n=index + 1,
                    known=", ".join(CASE_TESTS),
                )
                continue
            goto = checker.ref(
                flow, item.get("goto"), path, case_line, f"{where}.cases[{index + 1}].goto"
            )
            if goto:
                cases.append(Case(when["var"], tests[0], when[tests[0]], goto))
        fields["cases"] = tuple(cases)
        fields["default"] = checker.ref(
            flow, raw.get("default"), path, line_of(raw, "default"), f"{where}.default"
        )
    elif step_type == "handoff":
        kind = raw.get("kind")
        if kind not in HANDOFF_KINDS:
            checker.error(
                path,
                line_of(raw, "kind"),
                N_("{where}.kind: harus salah satu dari {known}"),
                where=where,
                known=", ".join(HANDOFF_KINDS),
            )
        fields["kind"] = str(kind)
        if "opd" in raw:
            if checker.known.opds and raw["opd"] not in checker.known.opds:
                checker.error(
                    path,
                    line_of(raw, "opd"),
                    N_("{where}.opd: opd {opd!r} tidak dikenal"),
                    where=where,
                    opd=raw["opd"],
                )
            fields["opd"] = str(raw["opd"])
    elif step_type == "service":
        fields["service"] = _read_service(checker, path, raw, where)
    return Step(ref=ref, type=step_type, path=path, line=line, **fields)


def _read_service(checker: _Checker, path: str, raw: Any, where: str) -> ServiceInfo | None:
    title = checker.text(raw, "title", path, where)
    summary = checker.text(raw, "summary", path, where)
    requirements = checker.text_list(raw, "requirements", path, where)
    cost = checker.text(raw, "cost", path, where)
    duration = checker.text(raw, "duration", path, where)
    optional = {
        key: checker.text_list(raw, key, path, where)
        for key in ("bring", "procedure", "notes")
        if key in raw
    }
    if "proxy" in raw:
        optional["proxy"] = checker.text(raw, "proxy", path, where)
    office = raw.get("office")
    if checker.known.offices and office not in checker.known.offices:
        checker.error(
            path,
            line_of(raw, "office"),
            N_("{where}.office: kantor {office!r} tidak dikenal (yang dikenal: {known})"),
            where=where,
            office=office,
            known=", ".join(sorted(checker.known.offices)),
        )
    legal = raw.get("legal_basis")
    if not isinstance(legal, list) or not legal or not all(isinstance(x, str) for x in legal):
        checker.error(
            path,
            line_of(raw, "legal_basis"),
            N_("{where}.legal_basis: harus daftar yang tidak kosong, seperti {example}"),
            where=where,
            example="['UU 24/2013 Pasal 79A']",
        )
        legal = []
    checked = str(raw.get("checked", ""))
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", checked):
        checker.error(
            path,
            line_of(raw, "checked"),
            N_("{where}.checked: harus tanggal TTTT-BB-HH"),
            where=where,
        )
    if not (title and summary and requirements and cost and duration):
        return None
    return ServiceInfo(
        title=title,
        summary=summary,
        requirements=requirements,
        cost=cost,
        duration=duration,
        office=str(office),
        legal_basis=tuple(legal),
        checked=checked,
        **optional,  # type: ignore[arg-type]
    )


def answer_digest(steps: Mapping[str, Step], intents: Mapping[str, Intent], intent: Intent) -> str:
    """A digest of everything an intent can say: its sources and the steps reachable from
    its start without entering another intent (positions left out, so moving lines is no
    change). A review records it; editing the answer changes it (issue 14)."""
    starts = {i.start for i in intents.values() if i.id != intent.id}
    seen: list[str] = []
    queue = [intent.start]
    while queue:
        ref = queue.pop(0)
        if ref in seen or ref in starts or ref not in steps:
            continue
        seen.append(ref)
        queue.extend(_targets(steps[ref]))
    content = repr(
        (
            intent.sources,
            intent.opd,
            [dataclasses.replace(steps[ref], line=0, path="") for ref in sorted(seen)],
        )
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def _expire_edited_reviews(steps: Mapping[str, Step], intents: dict[str, Intent]) -> None:
    """A review whose recorded wording differs from the current one no longer vouches for
    it: the intent is shown as not verified (and the console asks for a new check)."""
    for intent_id, intent in list(intents.items()):
        review = intent.review
        if review is not None and review.answer != answer_digest(steps, intents, intent):
            intents[intent_id] = dataclasses.replace(intent, review=None, review_stale=True)


def _targets(step: Step) -> Iterable[str]:
    if step.next:
        yield step.next
    for option in (*step.options, *step.buttons):
        yield option.goto
    yield from step.on.values()
    for case in step.cases:
        yield case.goto
    if step.default:
        yield step.default


def _cross_check(
    checker: _Checker,
    steps: dict[str, Step],
    intents: dict[str, Intent],
    nlu: dict[str, dict[str, IntentNLU]],
    nlu_lines: dict[tuple[str, str], tuple[str, int]],
    broken: set[str],
    broken_steps: set[str],
) -> None:
    """References, reachability and NLU coverage across files.

    What cannot be judged is not reported: a reference into a file that did not parse or to a
    step already reported as broken, reachability while any part is missing (the missing part
    may be the way in), and NLU entries of a flow whose file did not parse.
    """
    broken_flows = {Path(name).stem for name in broken if not name.startswith("nlu/")}

    def unknown(ref: str) -> bool:
        return ref not in steps and ref not in broken_steps and _flow_of(ref) not in broken_flows

    for step in steps.values():
        for target in _targets(step):
            if unknown(target):
                checker.error(
                    step.path,
                    step.line,
                    N_("{where}: menuju langkah tidak dikenal {target!r}"),
                    where=f"step {step.name}",
                    target=target,
                )
    for intent in intents.values():
        if unknown(intent.start):
            checker.error(
                intent.path,
                intent.line,
                N_("intent {intent}: dimulai di langkah tidak dikenal {start!r}"),
                intent=intent.id,
                start=intent.start,
            )
    if broken or broken_steps:
        return _check_nlu(checker, intents, nlu, nlu_lines, broken, broken_flows)
    # Reachability: from every intent's start, following every way out of a step.
    seen: set[str] = set()
    frontier = [intent.start for intent in intents.values() if intent.start in steps]
    # Steps that buttons made by code lead to (the queue button, a reminder's answers).
    frontier += [ref for ref in CODE_ENTRY_STEPS if ref in steps]
    while frontier:
        ref = frontier.pop()
        if ref in seen:
            continue
        seen.add(ref)
        frontier.extend(t for t in _targets(steps[ref]) if t in steps and t not in seen)
    for ref, step in steps.items():
        if ref not in seen:
            checker.error(
                step.path,
                step.line,
                N_(
                    "{where}: tidak terjangkau (tidak ada intent atau langkah yang menuju ke sini)"
                ),
                where=f"step {step.name}",
            )
    _check_nlu(checker, intents, nlu, nlu_lines, broken, broken_flows)


def _flow_of(ref: str) -> str:
    """The flow of a step (``umum:menu``) or an intent (``umum.menu``)."""
    return ref.split(":", 1)[0] if ":" in ref else ref.split(".", 1)[0]


def _check_nlu(
    checker: _Checker,
    intents: dict[str, Intent],
    nlu: dict[str, dict[str, IntentNLU]],
    nlu_lines: dict[tuple[str, str], tuple[str, int]],
    broken: set[str],
    broken_flows: set[str],
) -> None:
    for (locale, intent_id), (path, line) in nlu_lines.items():
        # "_..." entries are out-of-scope look-alikes for the matcher, not intents.
        if intent_id.startswith(RESERVED_PREFIX):
            continue
        if intent_id not in intents and _flow_of(intent_id) not in broken_flows:
            checker.error(
                path,
                line,
                N_("{intent}: tidak ada alur yang memuat intent ini ({lang})"),
                intent=intent_id,
                lang=locale,
            )
    if nlu and f"nlu/{DEFAULT_LOCALE}.yaml" not in broken:
        indonesian = nlu.get(DEFAULT_LOCALE, {})
        for intent in intents.values():
            if intent.id not in indonesian:
                checker.error(
                    intent.path,
                    intent.line,
                    N_("intent {intent}: belum ada contoh kalimat Indonesia di {file}"),
                    intent=intent.id,
                    file=f"flows/nlu/{DEFAULT_LOCALE}.yaml",
                )


def _read_sources(
    checker: _Checker, path: str, raw: dict[str, Any], where: str, line: int
) -> tuple[str, ...]:
    """Where an intent's facts come from (issue 14): required, a non-empty list of plain
    strings, shown to citizens under every answer. Only ``interface: true`` intents (the
    bot's own menus and small talk) have none."""
    sources = raw.get("sources")
    if not (
        isinstance(sources, list)
        and sources
        and all(isinstance(x, str) and x.strip() for x in sources)
    ):
        checker.error(
            path,
            line_of(raw, "sources") if "sources" in raw else line,
            N_("{where}.sources: wajib, daftar sumber yang tidak kosong, seperti {example}"),
            where=where,
            example="['UU 23/2006 jo. UU 24/2013', 'Perpres 96/2018']",
        )
        return ()
    return tuple(s.strip() for s in sources)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _read_review(checker: _Checker, path: str, raw: dict[str, Any], where: str) -> Review | None:
    """``review: {opd: KEY, on: TTTT-BB-HH, due: TTTT-BB-HH}``, written by the console's
    "Sudah benar" (bot/console/review.py); due must come after on."""
    value = raw.get("review")
    line = line_of(raw, "review")
    problem = N_(
        "{where}.review: harus {{opd: OPD, on: TTTT-BB-HH, due: TTTT-BB-HH, answer: DIGEST}}"
    )
    if not isinstance(value, dict) or not {"opd", "on", "due"} <= set(value) <= {
        "opd",
        "on",
        "due",
        "answer",
    }:
        checker.error(path, line, problem, where=where)
        return None
    opd, on, due = (str(value[k]) for k in ("opd", "on", "due"))
    try:
        ordered = _DATE.fullmatch(on) and _DATE.fullmatch(due) and on < due
        dt.date.fromisoformat(on), dt.date.fromisoformat(due)
    except ValueError:
        ordered = False
    if not ordered:
        checker.error(path, line, problem, where=where)
        return None
    if checker.known.opds and opd not in checker.known.opds:
        checker.error(
            path, line, N_("{where}.review.opd: opd {opd!r} tidak dikenal"), where=where, opd=opd
        )
        return None
    return Review(opd, on, due, str(value.get("answer", "")))
