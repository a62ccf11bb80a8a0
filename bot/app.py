"""Builds a running Loket from settings. The one factory that the CLI, the Telegram channel,
the terminal chat and the tests all use; nothing here happens at import time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.booking.actions import register_booking_actions
from bot.booking.editor import apply_latest as apply_latest_quotas
from bot.broadcast.verify import AnnouncementCheck
from bot.core_actions import register_core_actions
from bot.engine.engine import Engine
from bot.engine.render import Renderer
from bot.flows.loader import KnownNames, build_flow_set, load_flow_set, read_flow_sources
from bot.flows.model import FlowSet
from bot.frontdesk import Clock, FrontDesk, system_clock
from bot.handoff.service import Handoff
from bot.i18n import Translator
from bot.local import mark_sample, sandbox_opds
from bot.nlu.matcher import IntentNLU, Matcher
from bot.notify.actions import register_follow_actions
from bot.notify.source import StatusSource
from bot.region import Region, load_region
from bot.registry import Registry
from bot.settings import Settings
from bot.staff.roles import STAFF_OPDS, StaffDesk
from bot.storage.db import make_engine, sessions
from bot.storage.migrate import ensure_schema
from bot.validators import register_validators
from integrations import OpdClients, load_settings
from integrations.actions import register_actions
from integrations.settings import IntegrationSettings

logger = logging.getLogger(__name__)


def build_registry(
    region: Region,
    translator: Translator,
    clients: OpdClients,
    session_factory: async_sessionmaker[AsyncSession] | None,
    clock: Clock = system_clock,
) -> Registry:
    """Every validator and action a flow may name. "Today" for validators is the region's
    local date from ``clock`` (WIT in Mimika: 1 January starts at 15.00 UTC)."""
    registry = Registry()
    register_validators(registry, today=lambda: region.now(clock()).date())
    register_actions(
        registry, clients, translator, {d.code: d.name for d in region.districts}, now=clock
    )
    register_core_actions(registry, session_factory, region, translator)
    register_follow_actions(registry, session_factory, translator, StatusSource(clients))
    register_booking_actions(registry, session_factory, region, translator, clock)
    return registry


def known_names(registry: Registry, region: Region) -> KnownNames:
    return KnownNames(
        validators=registry.validator_names,
        actions=registry.action_names,
        opds=frozenset(region.opds),
        offices=frozenset(region.offices),
    )


class FlowRuntime:
    """Holds the published flow set and the engine built on it.

    Publishing swaps one reference, so every event is handled entirely by one version: an
    event that started on the old engine finishes on it.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine

    def current(self) -> Engine:
        return self._engine

    def publish(self, engine: Engine) -> None:
        self._engine = engine


@lru_cache(maxsize=8)
def _matcher(entries: tuple[tuple[str, IntentNLU], ...]) -> Matcher:
    return Matcher(dict(entries))


def matcher_for(entries: Mapping[str, IntentNLU]) -> Matcher:
    """The matcher for one locale's examples, shared by every engine built from the same
    examples. Building one trains the classifier (a few hundred milliseconds); the console's
    preview builds an engine per turn and a publish rebuilds every engine, but the examples
    rarely change. A Matcher is read-only once built, so sharing it is safe."""
    return _matcher(tuple(entries.items()))


def build_engine(
    flows: FlowSet, registry: Registry, region: Region, translator: Translator, settings: Settings
) -> Engine:
    matchers = {locale: matcher_for(entries) for locale, entries in flows.nlu.items() if entries}
    return Engine(
        flows,
        registry,
        matchers,
        Renderer(region, translator),
        timeout=settings.conversation_timeout,
    )


@dataclass(slots=True)
class Loket:
    settings: Settings
    region: Region
    translator: Translator
    registry: Registry
    database: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    runtime: FlowRuntime
    frontdesk: FrontDesk
    clients: OpdClients
    # Where the agencies are and how they notify (hook secrets, poll intervals): bot.notify.
    integrations: IntegrationSettings = field(default_factory=lambda: IntegrationSettings({}))
    clock: Clock = system_clock
    # Roles and the audit log (bot/staff); admins seeded from ADMIN_TELEGRAM_IDS at opening.
    staff: StaffDesk | None = None

    @property
    def handoff(self) -> Handoff:
        """The live handoff to officers (issue 15): tickets, the inbox's live updates."""
        return self.frontdesk.handoff  # type: ignore[no-any-return]

    def reload_flows(self, sources: Mapping[str, str] | None = None) -> FlowSet:
        """Checks a new flow set (by default the flows folder as it is now) and publishes it.

        Any problem raises ``FlowSetError`` and the published set stays: conversations never
        run on a half-edited flow. Events already being handled finish on the old version.
        """
        flows = build_flow_set(
            read_flow_sources(self.settings.flows_dir) if sources is None else sources,
            known_names(self.registry, self.region),
        )
        self.runtime.publish(
            build_engine(flows, self.registry, self.region, self.translator, self.settings)
        )
        logger.info("flows %s published: %d intents", flows.version, len(flows.intents))
        return flows


async def _initial_flows(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings, known: KnownNames
) -> FlowSet:
    """The newest flow version published from the console or Telegram (issue 6), else the
    flows folder. A stored version that no longer checks (an action was removed from the code
    since) is logged and the files are used, so the bot still starts."""
    from bot.flows.loader import FlowSetError
    from bot.flows.versions import latest_sources

    async with session_factory() as session:
        sources = await latest_sources(session)
    if sources is not None:
        try:
            return build_flow_set(sources, known)
        except FlowSetError as error:
            logger.error("the latest published flow version does not load, using files: %s", error)
    return load_flow_set(settings.flows_dir, known)


@asynccontextmanager
async def open_loket(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    integration_env: Mapping[str, str] | None = None,
) -> AsyncIterator[Loket]:
    """Opens the database, the agency clients and the flows; closes them all on exit.

    ``integration_env`` overrides where the agency systems are (the local mode and the tests
    point it at the sandbox); by default the settings' environment is used.
    """
    region = load_region(settings.region_file)
    translator = Translator.load()
    database = make_engine(settings.database_url, clock=clock)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(database.dispose)
        # An empty database is migrated to head here (one command for a newcomer); one that
        # is behind raises SchemaError naming `loket db upgrade` (bot/storage/migrate.py).
        await ensure_schema(database)
        session_factory = sessions(database)
        await apply_latest_quotas(session_factory, region)  # quotas set in the console (#18)
        integration_settings = load_settings(
            integration_env if integration_env is not None else settings.env
        )
        clients = await stack.enter_async_context(OpdClients.open(integration_settings))
        registry = build_registry(region, translator, clients, session_factory, clock)
        # Answers from the sandbox are example data and say so (issue 14, item 1).
        mark_sample(
            registry,
            sandbox_opds(integration_env if integration_env is not None else settings.env),
        )
        flows = await _initial_flows(session_factory, settings, known_names(registry, region))
        runtime = FlowRuntime(build_engine(flows, registry, region, translator, settings))
        frontdesk = FrontDesk(
            session_factory,
            runtime.current,
            clock=clock,
            database=database,
            # The hoax check: a code or a forwarded announcement is answered before the engine.
            interceptors=[AnnouncementCheck(session_factory, translator, region)],
            # Officer requests become tickets in the officers' inbox (issue 15).
            handoff=Handoff(session_factory, region, translator, clock=clock),
        )
        logger.info("flows %s loaded: %d intents", flows.version, len(flows.intents))
        staff = StaffDesk(session_factory, [o for o in STAFF_OPDS if o in region.opds])
        await staff.seed_admins(settings.admin_telegram_ids)
        yield Loket(
            settings=settings,
            region=region,
            translator=translator,
            registry=registry,
            database=database,
            sessions=session_factory,
            runtime=runtime,
            frontdesk=frontdesk,
            clients=clients,
            integrations=integration_settings,
            clock=clock,
            staff=staff,
        )
