"""Reads a flow set from YAML and checks it like code: schema, references, reachability.

A set with any error is refused as a whole (``FlowSetError`` lists every problem with its
file and line), so a half-edited flow never replaces a working one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.flows.model import (
    STEP_TYPES,
    Case,
    Flow,
    FlowSet,
    Intent,
    LocalList,
    LocalText,
    Option,
    ServiceInfo,
    Step,
)
from bot.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES
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
OUTCOME_KEYS = ("ok", "not_found", "unavailable", "invalid")
CASE_TESTS = ("equals", "not_equals", "in", "exists")
HANDOFF_KINDS = ("request", "complaint")
_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_INTENT_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")

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
        {"bring", "procedure", "notes", "next", "text"},
    ),
    "choice": ({"text"}, {"options", "options_from", "save_as", "next"}),
    "input": ({"text", "validator", "save_as", "next"}, {"entity"}),
    "action": ({"action", "on"}, {"params", "save_as", "text"}),
    "branch": ({"cases", "default"}, set()),
    "end": (set(), {"text"}),
    "handoff": ({"text", "kind"}, {"opd", "next"}),
}


@dataclass(frozen=True, slots=True)
class FlowError:
    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


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

    def error(self, path: str, line: int, problem: str) -> None:
        self.errors.append(FlowError(path, line, problem))

    # -- small typed readers -------------------------------------------------------------

    def text(self, parent: Any, key: str, path: str, where: str) -> LocalText | None:
        value = parent.get(key)
        line = line_of(parent, key)
        if isinstance(value, str):
            value = {DEFAULT_LOCALE: value}
        if not isinstance(value, dict):
            self.error(path, line, f"{where}.{key}: expected a text with 'id' and 'en' versions")
            return None
        result: LocalText = {}
        for locale, text in value.items():
            if locale not in SUPPORTED_LOCALES:
                self.error(
                    path, line_of(value, locale), f"{where}.{key}: unknown language {locale!r}"
                )
            elif not isinstance(text, str) or not text.strip():
                self.error(path, line_of(value, locale), f"{where}.{key}.{locale}: empty text")
            else:
                self.check_placeholders(text, path, line_of(value, locale), f"{where}.{key}")
                result[locale] = text.strip("\n")
        if DEFAULT_LOCALE not in value:
            self.error(path, line, f"{where}.{key}: missing Indonesian text ('{DEFAULT_LOCALE}')")
        return result

    def text_list(self, parent: Any, key: str, path: str, where: str) -> LocalList | None:
        value = parent.get(key)
        line = line_of(parent, key)
        if not isinstance(value, dict):
            self.error(path, line, f"{where}.{key}: expected 'id' and 'en' lists of lines")
            return None
        result: LocalList = {}
        for locale, items in value.items():
            if locale not in SUPPORTED_LOCALES:
                self.error(
                    path, line_of(value, locale), f"{where}.{key}: unknown language {locale!r}"
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
                    f"{where}.{key}.{locale}: expected a non-empty list of lines",
                )
                continue
            for index, item in enumerate(items):
                self.check_placeholders(item, path, line_of(items, index), f"{where}.{key}")
            result[locale] = tuple(item.strip() for item in items)
        if DEFAULT_LOCALE not in value:
            self.error(path, line, f"{where}.{key}: missing Indonesian text ('{DEFAULT_LOCALE}')")
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
                    f"{where}: bad placeholder {token!r} "
                    "(write {name}, or {{ }} for a brace)",
                )
            elif name.startswith("office.") and self.known.offices:
                office = name.split(".")[1] if name.count(".") >= 1 else ""
                if office not in self.known.offices:
                    self.error(path, line, f"{where}: unknown office {office!r} in {token}")

    def unknown_keys(self, mapping: Any, allowed: set[str], path: str, where: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.error(path, line_of(mapping, key), f"{where}: unknown key {key!r}")

    def ref(self, flow: str, value: Any, path: str, line: int, where: str) -> str | None:
        if not isinstance(value, str) or not value:
            self.error(path, line, f"{where}: expected a step name")
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

    for name, text in sorted(sources.items()):
        try:
            data = load_yaml_text(text, name)
        except YamlError as error:
            checker.error(error.path, error.line, error.problem)
            continue
        if name.startswith("nlu/"):
            _read_nlu(checker, name, data, nlu, nlu_lines)
        else:
            _read_flow(checker, name, data, flows, steps, intents)

    _cross_check(checker, steps, intents, nlu, nlu_lines)
    if checker.errors:
        raise FlowSetError(checker.errors)
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
            name, 1, f"unknown language {locale!r} (expected one of {SUPPORTED_LOCALES})"
        )
        return
    if not isinstance(data, dict):
        checker.error(name, 1, "expected a mapping of intent id to examples and keywords")
        return
    entries: dict[str, IntentNLU] = {}
    for intent_id, entry in data.items():
        line = line_of(data, intent_id)
        if not isinstance(entry, dict):
            checker.error(name, line, f"{intent_id}: expected 'examples' and 'keywords'")
            continue
        checker.unknown_keys(entry, {"examples", "keywords"}, name, intent_id)
        examples = entry.get("examples") or []
        keywords = entry.get("keywords") or []
        if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
            checker.error(name, line, f"{intent_id}.examples: expected a list of sentences")
            continue
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            checker.error(name, line, f"{intent_id}.keywords: expected a list of words")
            continue
        if not examples and not keywords:
            checker.error(name, line, f"{intent_id}: give at least one example or keyword")
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
) -> None:
    if not isinstance(data, LineDict):
        checker.error(name, 1, "a flow file must be a mapping with 'flow', 'intents' and 'steps'")
        return
    checker.unknown_keys(data, {"flow", "opd", "intents", "steps"}, name, "flow file")
    flow_id = data.get("flow")
    if flow_id != Path(name).stem:
        checker.error(
            name,
            line_of(data, "flow"),
            f"'flow: {flow_id}' must equal the file name {Path(name).stem!r}",
        )
        flow_id = Path(name).stem
    opd = data.get("opd")
    if opd is not None and checker.known.opds and opd not in checker.known.opds:
        checker.error(
            name,
            line_of(data, "opd"),
            f"unknown opd {opd!r} (known: {', '.join(sorted(checker.known.opds))})",
        )
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, dict) or not raw_steps:
        checker.error(name, line_of(data, "steps"), "'steps' must be a non-empty mapping")
        raw_steps = {}
    for step_name, raw in raw_steps.items():
        if not _ID_PATTERN.match(str(step_name)):
            checker.error(
                name,
                line_of(raw_steps, step_name),
                f"step name {step_name!r}: use lower-case letters, digits and _",
            )
        step = _read_step(
            checker, name, str(flow_id), str(step_name), raw, line_of(raw_steps, step_name)
        )
        if step is not None:
            steps[step.ref] = step
    intent_ids: list[str] = []
    raw_intents = data.get("intents") or []
    if not isinstance(raw_intents, list):
        checker.error(name, line_of(data, "intents"), "'intents' must be a list")
        raw_intents = []
    for index, raw in enumerate(raw_intents):
        line = line_of(raw_intents, index)
        if not isinstance(raw, dict):
            checker.error(name, line, "an intent needs 'id', 'title' and 'start'")
            continue
        checker.unknown_keys(raw, {"id", "title", "start"}, name, "intent")
        intent_id = raw.get("id")
        if not isinstance(intent_id, str) or not _INTENT_PATTERN.match(intent_id):
            checker.error(name, line, f"intent id {intent_id!r}: write it as flow.name")
            continue
        if intent_id in intents:
            other = intents[intent_id]
            checker.error(
                name,
                line,
                f"duplicate intent id {intent_id!r} (also at {other.path}:{other.line})",
            )
            continue
        title = checker.text(raw, "title", name, intent_id) or {}
        start = checker.ref(
            str(flow_id), raw.get("start"), name, line_of(raw, "start"), f"{intent_id}.start"
        )
        if start is None:
            continue
        intents[intent_id] = Intent(intent_id, title, start, str(flow_id), name, line)
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
            path, line_of(raw, key), f"{where}.{key}: expected a non-empty list of {{label, goto}}"
        )
        return ()
    options = []
    for index, item in enumerate(items):
        line = line_of(items, index)
        if not isinstance(item, dict):
            checker.error(path, line, f"{where}.{key}[{index + 1}]: expected {{label, goto}}")
            continue
        checker.unknown_keys(item, {"label", "goto", "set"}, path, f"{where}.{key}[{index + 1}]")
        label = checker.text(item, "label", path, f"{where}.{key}[{index + 1}]")
        goto = checker.ref(
            flow, item.get("goto"), path, line_of(item, "goto"), f"{where}.{key}[{index + 1}].goto"
        )
        values = item.get("set") or {}
        if not isinstance(values, dict):
            checker.error(
                path, line_of(item, "set"), f"{where}.{key}[{index + 1}].set: expected a mapping"
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
        checker.error(path, line, f"{where}: expected a mapping with a 'type'")
        return None
    step_type = raw.get("type")
    if step_type not in STEP_TYPES:
        checker.error(
            path,
            line_of(raw, "type"),
            f"{where}: unknown type {step_type!r} (one of {', '.join(STEP_TYPES)})",
        )
        return None
    required, optional = STEP_KEYS[step_type]
    checker.unknown_keys(raw, required | optional | COMMON_KEYS, path, where)
    for key in sorted(required):
        if key not in raw and not (step_type == "choice" and key == "options"):
            checker.error(path, line, f"{where}: missing '{key}'")
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
                path, line_of(raw, "save_as"), f"{where}.save_as: use a simple name like 'number'"
            )
        fields["save_as"] = str(save_as)

    if step_type == "choice":
        fields["options"] = _options(checker, flow, path, raw, "options", where)
        source = raw.get("options_from")
        if source is not None:
            if source not in OPTION_SOURCES:
                checker.error(
                    path,
                    line_of(raw, "options_from"),
                    f"{where}.options_from: unknown source {source!r} (known: districts)",
                )
            if "save_as" not in raw or "next" not in raw:
                checker.error(path, line, f"{where}: options_from needs 'save_as' and 'next'")
            fields["options_from"] = str(source)
        elif not fields["options"]:
            checker.error(path, line, f"{where}: a choice needs 'options' or 'options_from'")
    elif step_type == "input":
        validator = raw.get("validator")
        if validator not in checker.known.validators:
            checker.error(
                path,
                line_of(raw, "validator"),
                f"{where}: unknown validator {validator!r} "
                f"(known: {', '.join(sorted(checker.known.validators))})",
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
                    f"{where}.entity: unknown entity {entity!r} (known: {', '.join(ENTITY_NAMES)})",
                )
            else:
                fields["entity"] = str(entity)
    elif step_type == "action":
        action = raw.get("action")
        if action not in checker.known.actions and action not in BUILTIN_ACTIONS:
            checker.error(path, line_of(raw, "action"), f"{where}: unknown action {action!r}")
        fields["action"] = str(action)
        params = raw.get("params") or {}
        if not isinstance(params, dict):
            checker.error(path, line_of(raw, "params"), f"{where}.params: expected a mapping")
            params = {}
        fields["params"] = dict(params)
        outcomes = raw.get("on") or {}
        if not isinstance(outcomes, dict) or "ok" not in outcomes:
            checker.error(
                path, line_of(raw, "on"), f"{where}.on: must name at least the 'ok' step"
            )
            outcomes = {}
        resolved = {}
        for outcome, target in outcomes.items():
            if outcome not in OUTCOME_KEYS:
                checker.error(
                    path,
                    line_of(outcomes, outcome),
                    f"{where}.on: unknown outcome {outcome!r} (one of {', '.join(OUTCOME_KEYS)})",
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
            checker.error(path, line_of(raw, "cases"), f"{where}.cases: expected a list")
            raw_cases = []
        for index, item in enumerate(raw_cases):
            case_line = line_of(raw_cases, index)
            when = item.get("when") if isinstance(item, dict) else None
            if not isinstance(when, dict) or not isinstance(when.get("var"), str):
                checker.error(
                    path,
                    case_line,
                    f"{where}.cases[{index + 1}]: expected "
                    "{when: {var, equals|not_equals|in|exists}, goto}",
                )
                continue
            tests = [t for t in CASE_TESTS if t in when]
            if len(tests) != 1:
                checker.error(
                    path,
                    case_line,
                    f"{where}.cases[{index + 1}]: give exactly one of {', '.join(CASE_TESTS)}",
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
                f"{where}.kind: expected one of {', '.join(HANDOFF_KINDS)}",
            )
        fields["kind"] = str(kind)
        if "opd" in raw:
            if checker.known.opds and raw["opd"] not in checker.known.opds:
                checker.error(
                    path, line_of(raw, "opd"), f"{where}.opd: unknown opd {raw['opd']!r}"
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
    office = raw.get("office")
    if checker.known.offices and office not in checker.known.offices:
        checker.error(
            path,
            line_of(raw, "office"),
            f"{where}.office: unknown office {office!r} "
            f"(known: {', '.join(sorted(checker.known.offices))})",
        )
    legal = raw.get("legal_basis")
    if not isinstance(legal, list) or not legal or not all(isinstance(x, str) for x in legal):
        checker.error(
            path,
            line_of(raw, "legal_basis"),
            f"{where}.legal_basis: expected a non-empty list such as ['UU 24/2013 Pasal 79A']",
        )
        legal = []
    checked = str(raw.get("checked", ""))
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", checked):
        checker.error(
            path, line_of(raw, "checked"), f"{where}.checked: expected a date YYYY-MM-DD"
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
) -> None:
    for step in steps.values():
        for target in _targets(step):
            if target not in steps:
                checker.error(
                    step.path, step.line, f"step {step.name}: goes to unknown step {target!r}"
                )
    for intent in intents.values():
        if intent.start not in steps:
            checker.error(
                intent.path,
                intent.line,
                f"intent {intent.id}: starts at unknown step {intent.start!r}",
            )
    # Reachability: from every intent's start, following every way out of a step.
    seen: set[str] = set()
    frontier = [intent.start for intent in intents.values() if intent.start in steps]
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
                f"step {step.name}: unreachable (no intent or step leads here)",
            )
    for (locale, intent_id), (path, line) in nlu_lines.items():
        # "_..." entries are out-of-scope look-alikes for the matcher, not intents.
        if intent_id.startswith(RESERVED_PREFIX):
            continue
        if intent_id not in intents:
            checker.error(path, line, f"{intent_id}: no flow declares this intent ({locale})")
    if nlu:
        indonesian = nlu.get(DEFAULT_LOCALE, {})
        for intent in intents.values():
            if intent.id not in indonesian:
                checker.error(
                    intent.path,
                    intent.line,
                    f"intent {intent.id}: no Indonesian examples in "
                    f"flows/nlu/{DEFAULT_LOCALE}.yaml",
                )
