"""pytest plugin: no log line of the whole test run may hold a whole NIK, NOP, phone number or
bot token (issue 7's masking test).

Loaded by tests/conftest.py. A handler on the root logger sees every record any test, fixture,
library or background task produces; it formats a copy of each exactly as production would
(:class:`MaskingFilter`, then the JSON formatter) and looks for leaks in the
result. Records are produced at INFO for the run, production's default LOG_LEVEL (tests that
lower a logger further are checked at their level); ``LOKET_LEAKCHECK_LEVEL=DEBUG`` checks
the chattiest libraries too (the database driver logs SQL parameters there; it also changes
what ``caplog`` sees, so a test or two that assume the quiet default then fail on their own).
A whole ``loket run`` process at DEBUG is checked by tests/observability/test_run.py.
A leak fails the run at the end: the exit status is non-zero and the summary names the
logger, the source line and the kind of leak.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Generator
from dataclasses import dataclass

import pytest

from bot.observability.leaks import find_leaks
from bot.observability.logs import LOKET_HANDLER, JsonFormatter, MaskingFilter


@dataclass(frozen=True, slots=True)
class Offender:
    logger: str
    where: str
    leaks: tuple[str, ...]


class LeakCollector(logging.Handler):
    """Formats a copy of every record the production way and keeps the offending ones."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.checked = 0
        self.offenders: list[Offender] = []
        self._masking = MaskingFilter()
        # The JSON line holds everything the text line does (message, extras, traceback).
        self._formatters = (JsonFormatter(),)

    def emit(self, record: logging.LogRecord) -> None:
        # A copy: the other handlers (caplog) must see the record as the test logged it.
        masked = copy.copy(record)
        try:
            self._masking.filter(masked)
            lines = [formatter.format(masked) for formatter in self._formatters]
        except Exception as error:  # a record production could not log is a finding too
            lines = []
            self.offenders.append(
                Offender(record.name, _where(record), (f"unformattable: {error!r}",))
            )
        self.checked += 1
        leaks = tuple(
            dict.fromkeys(leak.redacted() for line in lines for leak in find_leaks(line))
        )
        if leaks:
            self.offenders.append(Offender(record.name, _where(record), leaks))


def _where(record: logging.LogRecord) -> str:
    return f"{record.pathname}:{record.lineno}"


_KEY = pytest.StashKey[LeakCollector]()
_LEVEL = pytest.StashKey[int]()
LEVEL_ENV = "LOKET_LEAKCHECK_LEVEL"


def _check_level() -> int:
    return logging.getLevelName(os.environ.get(LEVEL_ENV, "INFO").upper())  # type: ignore[no-any-return]


def pytest_configure(config: pytest.Config) -> None:
    collector = LeakCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    config.stash[_LEVEL] = root.level
    root.setLevel(_check_level())
    config.stash[_KEY] = collector


def pytest_sessionstart(session: pytest.Session) -> None:
    """The root logger is at INFO for the check; pytest's own handlers stay at WARNING, as
    they were before (a failure report and ``caplog`` show what they always showed; a test
    that wants more lowers them with ``caplog.set_level``, as before)."""
    plugin = session.config.pluginmanager.get_plugin("logging-plugin")
    if plugin is None or session.config.getini("log_level"):
        return
    for name in ("caplog_handler", "report_handler"):
        handler = getattr(plugin, name, None)
        if isinstance(handler, logging.Handler):
            handler.setLevel(logging.WARNING)


def _restore(config: pytest.Config) -> None:
    """Undoes what a test's ``loket`` command line did to logging (``configure_logging``):
    its handler and masking filters go, the collector stays on the root logger, whose level
    is the check's again."""
    collector = config.stash.get(_KEY, None)
    if collector is None:
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, LOKET_HANDLER, False):
            root.removeHandler(handler)
        else:
            for masking in [f for f in handler.filters if isinstance(f, MaskingFilter)]:
                handler.removeFilter(masking)
    if collector not in root.handlers:
        root.addHandler(collector)
    root.setLevel(_check_level())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    yield
    _restore(item.config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    collector = session.config.stash.get(_KEY, None)
    if collector is not None and collector.offenders and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    collector = terminalreporter.config.stash.get(_KEY, None)
    if collector is None:
        return
    if not collector.offenders:
        terminalreporter.write_line(
            f"log masking check: {collector.checked} log records "
            f"({logging.getLevelName(_check_level())} and up), no whole NIK, NOP, phone "
            "number or bot token"
        )
        return
    terminalreporter.section("log masking check FAILED", red=True)
    for offender in collector.offenders[:50]:
        terminalreporter.write_line(
            f"{offender.logger} at {offender.where}: {', '.join(offender.leaks)}"
        )
    terminalreporter.write_line(
        f"{len(collector.offenders)} of {collector.checked} log records leak personal data "
        "or a secret (bot/observability/logs.py masks them; bot/privacy.py says how)"
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    collector = config.stash.get(_KEY, None)
    if collector is not None:
        root = logging.getLogger()
        root.removeHandler(collector)
        root.setLevel(config.stash.get(_LEVEL, logging.WARNING))
