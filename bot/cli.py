"""The ``loket`` command. Thin: parses arguments, builds the app through ``bot.app``, runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.app import build_registry, known_names, open_loket
from bot.flows.loader import FLOWS_DIR, FlowSetError, build_flow_set, read_flow_sources
from bot.i18n import DEFAULT_LOCALE, Translator
from bot.nlu.entities import PlaceIndex
from bot.nlu.matcher import Matcher
from bot.nlu.understand import Understanding
from bot.observability.logs import configure_logging, parse_format
from bot.region import load_region
from bot.settings import Settings
from bot.storage.migrate import SchemaError
from bot.yamlsrc import YamlError
from integrations import OpdClients


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loket", description="Loket: chat front desk for public services"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run", help="serve Telegram (with TELEGRAM_BOT_TOKEN) or the local web chat"
    )
    run.add_argument("--port", type=int, default=None, help="port of the local web chat / webhook")

    chat = sub.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument("--user", default="terminal", help="who you are (keeps your conversation)")

    match = sub.add_parser("match", help="show which intent a text matches")
    match.add_argument(
        "text", nargs="?", help="the text; without it, one query per line from stdin"
    )
    match.add_argument("--json", action="store_true", help="print JSON (always on for stdin)")
    match.add_argument("--locale", default="id", choices=["id", "en"])

    flows = sub.add_parser("flows", help="check flows")
    flows_sub = flows.add_subparsers(dest="flows_command", required=True)
    validate = flows_sub.add_parser("validate", help="validate a flow set (exit 1 on errors)")
    validate.add_argument(
        "paths", nargs="*", type=Path, help="a flows folder, or files replacing the default set's"
    )
    test = flows_sub.add_parser("test", help="run the conversation tests in flows/tests")
    test.add_argument("--dir", type=Path, default=None, help="folder of test files")

    database = sub.add_parser("db", help="database schema migrations (DATABASE_URL)")
    database_sub = database.add_subparsers(dest="db_command", required=True)
    database_sub.add_parser("upgrade", help="apply the missing migrations (back up first)")
    database_sub.add_parser("current", help="show the schema revision and whether it is behind")

    sandbox = sub.add_parser("sandbox", help="serve the agencies' sandbox backends")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8090)

    # Data protection (issue 7): bot/retention.py, bot/export.py, docs/data-protection.md.
    retention = sub.add_parser("retention", help="the retention period (RETENTION_DAYS)")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    retention_sub.add_parser("run", help="delete what is past the retention period, once")
    export = sub.add_parser("export-user", help="a citizen's stored data as JSON")
    export.add_argument("--channel", default="telegram", help="channel (default telegram)")
    export.add_argument("--id", required=True, dest="external_id", help="their id there")
    export.add_argument("--output", type=Path, default=None, help="file (default: stdout)")
    return parser


def _offline_known(settings: Settings):  # type: ignore[no-untyped-def]
    region = load_region(settings.region_file)
    registry = build_registry(region, Translator.load(), OpdClients(), None)
    return known_names(registry, region)


def _sources_for(paths: Sequence[Path]) -> dict[str, str]:
    """A folder is a whole set; single files replace their namesakes in the default set."""
    if len(paths) == 1 and paths[0].is_dir():
        return read_flow_sources(paths[0])
    sources = read_flow_sources(FLOWS_DIR)
    for path in paths:
        key = f"nlu/{path.name}" if path.parent.name == "nlu" else path.name
        sources[key] = path.read_text(encoding="utf-8")
    return sources


def cmd_validate(settings: Settings, paths: Sequence[Path]) -> int:
    try:
        sources = _sources_for(paths) if paths else read_flow_sources(settings.flows_dir)
        flow_set = build_flow_set(sources, _offline_known(settings))
    except FlowSetError as error:
        for item in error.errors:
            print(item, file=sys.stderr)
        print(f"{len(error.errors)} error(s); nothing was loaded.", file=sys.stderr)
        return 1
    except (OSError, YamlError) as error:
        print(error, file=sys.stderr)
        return 1
    from bot.flows.whatsapp_fit import whatsapp_warnings

    for warning in whatsapp_warnings(flow_set):  # shown, never refused (issue 16)
        print(warning, file=sys.stderr)
    print(
        f"OK: {len(flow_set.flows)} flows, {len(flow_set.steps)} steps, "
        f"{len(flow_set.intents)} intents (version {flow_set.version})"
    )
    return 0


def _understanding(settings: Settings) -> Understanding:
    """What the bot itself uses to read a message: every catalogue, the message's own
    language first, entities (numbers, distrik, agency) from the region file."""
    region = load_region(settings.region_file)
    flow_set = build_flow_set(read_flow_sources(settings.flows_dir), _offline_known(settings))
    places = PlaceIndex.from_districts(
        (d.code, d.name, d.aliases, d.spoken_villages()) for d in region.districts
    )
    matchers = {locale: Matcher(nlu) for locale, nlu in flow_set.nlu.items()}
    return Understanding(matchers, places=places, default_locale=DEFAULT_LOCALE)


def _match_json(understanding: Understanding, text: str, locale: str) -> str:
    result = understanding.understand(text, locale)
    return json.dumps(
        {
            "intent": result.intent if result.kind == "confident" else None,
            "score": round(result.score, 2),
            "band": result.band,
            "language": result.language,
            "alternatives": [[intent, round(score, 2)] for intent, score in result.alternatives],
            "entities": result.entities.public(),  # a NIK only masked, as in the logs
        },
        ensure_ascii=False,
    )


def cmd_match(settings: Settings, text: str | None, as_json: bool, locale: str) -> int:
    """``locale`` is the citizen's saved language: it only breaks ties, as in the bot."""
    understanding = _understanding(settings)
    if text is None:
        for line in sys.stdin:
            print(_match_json(understanding, line.rstrip("\n"), locale), flush=True)
        return 0
    if as_json:
        print(_match_json(understanding, text, locale))
    else:
        result = understanding.understand(text, locale)
        print(f"{result.kind}: {result.intent} ({result.score:.1f}) [{result.language}]")
        for intent, score in result.alternatives:
            print(f"  {intent}: {score:.1f}")
        for name, value in result.entities.public().items():
            print(f"  entity {name}: {value}")
    return 0


async def cmd_chat(settings: Settings, user: str) -> int:
    from bot.channels.terminal import chat
    from bot.local import integration_env

    async with (
        integration_env(settings.env) as env,
        open_loket(settings, integration_env=env) as loket,
    ):
        await chat(loket.frontdesk, user=user)
    return 0


async def cmd_flows_test(settings: Settings, directory: Path | None) -> int:
    import tempfile

    from bot.flows.testing import load_conversation_tests, run_conversation_test
    from bot.local import integration_env

    try:
        tests = load_conversation_tests(directory or settings.flows_dir / "tests")
    except (OSError, YamlError) as error:  # a broken test file: where, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 1
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        test_settings = Settings.from_env(
            {**settings.env, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/flowtest.sqlite3"}
        )
        async with (
            integration_env({}) as env,
            open_loket(test_settings, integration_env=env) as loket,
        ):
            for test in tests:
                outcome = await run_conversation_test(loket.frontdesk, test)
                if outcome.passed:
                    print(f"ok    {test.name}")
                else:
                    failed += 1
                    print(f"FAIL  {test.name}")
                    for failure in outcome.failures:
                        print("      " + failure.replace("\n", "\n      "))
    print(f"{len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


async def cmd_db(settings: Settings, action: str) -> int:
    """``loket db upgrade`` / ``loket db current`` on the configured DATABASE_URL."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.privacy import mask_identifiers
    from bot.storage import migrate
    from bot.storage.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        if action == "upgrade":
            before, after = await migrate.upgrade(engine)
            if before == after:
                print(f"already at the newest schema revision {after}")
            else:
                print(f"schema upgraded from revision {before or '(none)'} to {after}")
            return 0
        status = await migrate.status(engine)
        where = mask_identifiers(_without_password(settings.database_url))
        print(f"database  {where}")
        print(f"revision  {status.current or '(none)'}")
        print(f"newest    {status.head}")
        if status.up_to_date:
            print("up to date")
            return 0
        print(f"behind: run `{migrate.UPGRADE_COMMAND}`" if status.has_tables else "empty")
        return 1 if status.has_tables else 0
    except (OSError, SQLAlchemyError) as error:
        # No traceback for the usual operator mistakes (server down, wrong password, no such
        # database); the URL's password and any identifier in the message are masked.
        reason = mask_identifiers(str(error).splitlines()[0] if str(error) else repr(error))
        print(f"loket: cannot use the database: {reason}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def cmd_sandbox(host: str, port: int) -> int:
    from bot.local import running_sandbox

    async with running_sandbox(host, port) as url:
        print(
            f"Sandbox of the agencies' systems at "
            f"{url}/{{disdukcapil,disnakertrans,dinkes,bapenda}}"
        )
        await asyncio.Event().wait()
    return 0


async def cmd_retention_run(settings: Settings) -> int:
    """Runs the retention job once (for cron, or before a backup) and prints what it did."""
    from bot.retention import apply_retention
    from bot.storage.db import make_engine, sessions
    from bot.storage.migrate import ensure_schema
    from bot.storage.models import utcnow

    database = make_engine(settings.database_url)
    try:
        await ensure_schema(database)
        report = await apply_retention(
            sessions(database), now=utcnow(), days=settings.retention_days
        )
    finally:
        await database.dispose()
    print(json.dumps({"retention_days": settings.retention_days, **report.to_json()}))
    return 0


async def cmd_export_user(
    settings: Settings, channel: str, external_id: str, output: Path | None
) -> int:
    """Prints (or writes) everything stored about one citizen; exit 1 if none is stored."""
    from bot.export import export_user, to_json
    from bot.storage.db import make_engine, sessions
    from bot.storage.migrate import ensure_schema

    database = make_engine(settings.database_url)
    try:
        await ensure_schema(database)
        export = await export_user(sessions(database), channel, external_id)
    finally:
        await database.dispose()
    if export is None:
        print(f"No data stored for {channel} user {external_id}.", file=sys.stderr)
        return 1
    if output is None:
        print(to_json(export))
    else:
        await asyncio.to_thread(output.write_text, to_json(export) + "\n", encoding="utf-8")
        print(f"Written to {output}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        from dotenv import dotenv_values

        env = {
            **{k: v for k, v in dotenv_values(".env").items() if v is not None},
            **__import__("os").environ,
        }
    except OSError:
        env = dict(__import__("os").environ)
    settings = Settings.from_env(env)
    # Masked logs (issue 7): LOG_FORMAT=json|text, LOG_LEVEL (default INFO for `run`).
    quiet = not env.get("LOG_LEVEL") and args.command != "run"
    try:
        configure_logging(
            level="WARNING" if quiet else settings.log_level,
            fmt=parse_format(settings.log_format),
        )
    except ValueError as error:  # LOG_FORMAT=xml, LOG_LEVEL=LOUD: say so, no traceback
        print(f"Logging settings: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "flows" and args.flows_command == "validate":
            return cmd_validate(settings, args.paths)
        if args.command == "flows" and args.flows_command == "test":
            return asyncio.run(cmd_flows_test(settings, args.dir))
        if args.command == "match":
            return cmd_match(settings, args.text, args.json, args.locale)
        if args.command == "chat":
            return asyncio.run(cmd_chat(settings, args.user))
        if args.command == "db":
            return asyncio.run(cmd_db(settings, args.db_command))
        if args.command == "sandbox":
            return asyncio.run(cmd_sandbox(args.host, args.port))
        if args.command == "run":
            from bot.runner import PortBusy, run

            try:
                return asyncio.run(run(settings, port=args.port))
            except PortBusy as error:  # one line, not an OSError traceback (issue 12)
                print(f"loket: {error}", file=sys.stderr)
                return 1
        if args.command == "retention" and args.retention_command == "run":
            return asyncio.run(cmd_retention_run(settings))
        if args.command == "export-user":
            return asyncio.run(
                cmd_export_user(settings, args.channel, args.external_id, args.output)
            )
    except KeyboardInterrupt:
        return 130
    except FlowSetError as error:
        print(error, file=sys.stderr)
        return 1
    except SchemaError as error:
        print(f"loket: {error}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
