"""Published flow versions (issue 6): stored in the database, loaded without a restart.

Why in the database and not in ``flows/``: admins change what the bot says from the console
or from Telegram, on a server whose files are a deployment artefact. Every publish is a new,
immutable row (author, time, message, the YAML sources, a summary of what changed), so
"what did the bot say last Tuesday" has an answer and a rollback is just publishing an
earlier version's sources again, as a new number.

Publishing is: check the sources with the very loader ``loket flows validate`` uses (a set
with any error is refused whole, nothing is written), write the row, then
``Loket.reload_flows`` swaps the engine in one reference assignment. An event already being
handled finishes on the engine it started with; a conversation whose waiting step no longer
exists is restarted at the menu with a note by the engine (``Engine.handle``), never crashed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import difflib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flows.loader import FlowError, FlowSetError, build_flow_set
from bot.flows.model import FlowSet
from bot.staff.roles import audit
from bot.storage.models import FlowVersion

if TYPE_CHECKING:
    from bot.app import Loket

logger = logging.getLogger(__name__)

# A flow set is a dozen small files; anything much bigger is a mistake or an attack.
MAX_SET_BYTES = 2 * 1024 * 1024
MAX_MESSAGE_CHARS = 500
_SOURCE_NAME = re.compile(r"^(?:nlu/)?[a-z0-9][a-z0-9_-]*\.yaml$")


@dataclass(frozen=True, slots=True)
class ChangeSummary:
    """What a new flow set changes against the one before, by name."""

    flows_added: tuple[str, ...] = ()
    flows_removed: tuple[str, ...] = ()
    flows_changed: tuple[str, ...] = ()
    steps_added: tuple[str, ...] = ()
    steps_removed: tuple[str, ...] = ()
    steps_changed: tuple[str, ...] = ()
    intents_added: tuple[str, ...] = ()
    intents_removed: tuple[str, ...] = ()
    intents_changed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(dataclasses.astuple(self))

    def as_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChangeSummary:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: tuple(v) for k, v in data.items() if k in names})

    def lines(self) -> list[str]:
        """Indonesian lines for staff (console and Telegram), e.g. ``Langkah diubah: ...``."""
        labels = (
            ("flows_added", "Alur ditambah"),
            ("flows_removed", "Alur dihapus"),
            ("flows_changed", "Alur diubah"),
            ("intents_added", "Intent ditambah"),
            ("intents_removed", "Intent dihapus"),
            ("intents_changed", "Intent diubah"),
            ("steps_added", "Langkah ditambah"),
            ("steps_removed", "Langkah dihapus"),
            ("steps_changed", "Langkah diubah"),
        )
        found = []
        for name, label in labels:
            values: tuple[str, ...] = getattr(self, name)
            if values:
                found.append(f"{label}: {', '.join(values)}")
        return found or ["Tidak ada perubahan isi."]


@dataclass(frozen=True, slots=True)
class VersionInfo:
    number: int
    digest: str
    author_user_id: int | None
    message: str
    created_at: dt.datetime
    summary: ChangeSummary = field(default_factory=ChangeSummary)


class SourcesRefused(FlowSetError):
    """The upload itself is unacceptable (too big, a strange file name) before any parsing."""


def _neutral(value: Any) -> Any:
    """A step or intent without its position, so moving lines is not reported as a change."""
    return dataclasses.replace(value, line=0, path="")


def _split(names: set[str], old: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(sorted(names - old)), tuple(sorted(old - names))


def summarise(old: FlowSet | None, new: FlowSet) -> ChangeSummary:
    """Which flows, steps and intents ``new`` adds, removes or changes against ``old``."""
    if old is None:
        return ChangeSummary(
            flows_added=tuple(sorted(new.flows)),
            steps_added=tuple(sorted(new.steps)),
            intents_added=tuple(sorted(new.intents)),
        )
    steps_added, steps_removed = _split(set(new.steps), set(old.steps))
    steps_changed = tuple(
        sorted(
            ref
            for ref in set(new.steps) & set(old.steps)
            if _neutral(new.steps[ref]) != _neutral(old.steps[ref])
        )
    )
    intents_added, intents_removed = _split(set(new.intents), set(old.intents))

    def nlu_of(flows: FlowSet, intent: str) -> dict[str, Any]:
        return {locale: entries.get(intent) for locale, entries in flows.nlu.items()}

    intents_changed = tuple(
        sorted(
            i
            for i in set(new.intents) & set(old.intents)
            if _neutral(new.intents[i]) != _neutral(old.intents[i])
            or nlu_of(new, i) != nlu_of(old, i)
        )
    )
    flows_added, flows_removed = _split(set(new.flows), set(old.flows))
    touched = {ref.split(":", 1)[0] for ref in steps_added + steps_removed + steps_changed}
    touched |= {
        flows.intents[i].flow
        for flows, names in ((new, intents_added + intents_changed), (old, intents_removed))
        for i in names
    }
    flows_changed = tuple(sorted((touched & set(new.flows)) - set(flows_added)))
    return ChangeSummary(
        flows_added=flows_added,
        flows_removed=flows_removed,
        flows_changed=flows_changed,
        steps_added=steps_added,
        steps_removed=steps_removed,
        steps_changed=steps_changed,
        intents_added=intents_added,
        intents_removed=intents_removed,
        intents_changed=intents_changed,
    )


def diff_sources(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """A unified diff of every file that differs (what the version page shows)."""
    chunks: list[str] = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        chunks.extend(
            difflib.unified_diff(
                (before or "").splitlines(keepends=True),
                (after or "").splitlines(keepends=True),
                fromfile=f"a/{name}" if before is not None else "/dev/null",
                tofile=f"b/{name}" if after is not None else "/dev/null",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)


def check_sources(sources: Mapping[str, str]) -> None:
    """Refuses what must not even be parsed: odd file names, a set over MAX_SET_BYTES."""
    errors = [
        FlowError(name, 1, "file name must look like name.yaml or nlu/id.yaml")
        for name in sources
        if not _SOURCE_NAME.match(name)
    ]
    total = sum(len(text.encode("utf-8")) for text in sources.values())
    if total > MAX_SET_BYTES:
        errors.append(FlowError("(set)", 1, f"flow set larger than {MAX_SET_BYTES // 1024} KiB"))
    if errors:
        raise SourcesRefused(errors)


def add_example(sources: Mapping[str, str], locale: str, intent: str, text: str) -> dict[str, str]:
    """The sources with ``text`` added as an example of ``intent`` in ``nlu/<locale>.yaml``.

    Edits the text rather than re-dumping the YAML so the file's comments and layout stay.
    The example is written as a JSON string, which is valid YAML and needs no escaping rules
    of our own.
    """
    name = f"nlu/{locale}.yaml"
    new = dict(sources)
    lines = new.get(name, "").splitlines()
    item = f"    - {json.dumps(text.strip(), ensure_ascii=False)}"
    start = next((i for i, line in enumerate(lines) if line.rstrip() == f"{intent}:"), None)
    if start is None:
        lines += ["", f"{intent}:", "  examples:", item]
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace()),
            len(lines),
        )
        at = next(
            (i for i in range(start + 1, end) if lines[i].strip().startswith("examples:")), None
        )
        if at is None:
            lines.insert(start + 1, "  examples:")
            lines.insert(start + 2, item)
        elif lines[at].strip() == "examples: []":
            lines[at] = "  examples:"
            lines.insert(at + 1, item)
        else:
            lines.insert(at + 1, item)
    new[name] = "\n".join(lines) + "\n"
    return new


async def latest_sources(session: AsyncSession) -> dict[str, str] | None:
    """The sources of the newest published version, or None if nothing was published yet."""
    row = await session.scalar(select(FlowVersion).order_by(FlowVersion.number.desc()).limit(1))
    return None if row is None else {str(k): str(v) for k, v in row.sources.items()}


def _info(row: FlowVersion) -> VersionInfo:
    return VersionInfo(
        number=row.number,
        digest=row.digest,
        author_user_id=row.author_user_id,
        message=row.message,
        created_at=row.created_at,
        summary=ChangeSummary.from_dict(row.summary or {}),
    )


class FlowVersions:
    """Publishes, lists and rolls back flow versions of one running Loket.

    One instance is shared by the console and the Telegram commands: its lock makes two
    publishes at the same moment happen one after the other, each diffed against the other.
    """

    def __init__(self, loket: Loket) -> None:
        self.loket = loket
        self._lock = asyncio.Lock()

    @property
    def current(self) -> FlowSet:
        return self.loket.runtime.current().flows

    def check(self, sources: Mapping[str, str]) -> FlowSet:
        """Validates without publishing; raises FlowSetError listing every problem."""
        from bot.app import known_names

        check_sources(sources)
        return build_flow_set(sources, known_names(self.loket.registry, self.loket.region))

    async def publish(
        self, sources: Mapping[str, str], *, author_user_id: int | None, message: str
    ) -> VersionInfo:
        """Checks, stores as the next version, and loads it; nothing changes on an error."""
        async with self._lock:
            flows = self.check(sources)
            summary = summarise(self.current, flows)
            async with self.loket.sessions() as session, session.begin():
                number = (await session.scalar(select(func.max(FlowVersion.number))) or 0) + 1
                row = FlowVersion(
                    number=number,
                    digest=flows.version,
                    author_user_id=author_user_id,
                    message=(message.strip() or "(tanpa pesan)")[:MAX_MESSAGE_CHARS],
                    sources=dict(flows.sources),
                    summary=summary.as_dict(),
                )
                session.add(row)
                await audit(
                    session,
                    author_user_id,
                    "flow.publish",
                    f"flow_version:{number}",
                    {"digest": flows.version, "changes": len(summary.lines())},
                )
            # Committed first: if the swap fails the next start loads this version anyway,
            # and the swap itself only re-checks what was just checked.
            self.loket.reload_flows(flows.sources)
            logger.info("flow version %d published (%s)", number, flows.version)
            return _info(row)

    async def rollback(self, number: int, *, author_user_id: int | None) -> VersionInfo:
        """Publishes version ``number``'s sources again as a new version."""
        async with self.loket.sessions() as session:
            row = await session.get(FlowVersion, number)
        if row is None:
            raise LookupError(f"versi {number} tidak ada")
        return await self.publish(
            {str(k): str(v) for k, v in row.sources.items()},
            author_user_id=author_user_id,
            message=f"Kembali ke versi {number}",
        )

    async def list(self, limit: int = 50) -> list[VersionInfo]:
        async with self.loket.sessions() as session:
            rows = await session.scalars(
                select(FlowVersion).order_by(FlowVersion.number.desc()).limit(limit)
            )
            return [_info(row) for row in rows]

    async def info(self, number: int) -> VersionInfo | None:
        async with self.loket.sessions() as session:
            row = await session.get(FlowVersion, number)
            return None if row is None else _info(row)

    async def sources_of(self, number: int) -> dict[str, str] | None:
        async with self.loket.sessions() as session:
            row = await session.get(FlowVersion, number)
            return None if row is None else {str(k): str(v) for k, v in row.sources.items()}

    async def diff_of(self, number: int) -> str:
        """The diff of version ``number`` against the one before it (or the files)."""
        new = await self.sources_of(number)
        if new is None:
            return ""
        old = await self.sources_of(number - 1) if number > 1 else None
        if old is None:
            from bot.flows.loader import read_flow_sources

            old = read_flow_sources(self.loket.settings.flows_dir)
        return diff_sources(old, new)
