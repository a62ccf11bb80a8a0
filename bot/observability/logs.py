"""Logging for operators: one format switch (JSON or text) and masking on every record.

Personal data (NIK, NOP, phone numbers) and secrets (bot tokens, API tokens) must never reach a
log line whole (UU 27/2022), whoever logs it: our code, python-telegram-bot, aiohttp's access
log. Masking therefore happens in a :class:`MaskingFilter` attached to the root logger's
handlers, which every propagating logger's records pass through, rather than at each call.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Mapping
from typing import Any, Literal, TextIO

from bot.privacy import mask_identifiers

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(
    set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__)
    | {"message", "asctime", "taskName"}
)
_MASKED_MARK = "_loket_masked"
# Numbers this long in an extra field are identifiers, not counts (update ids have ten digits).
_LONG_NUMBER = 10**11
# Marks the handler configure_logging installed, so a second call replaces only that one.
LOKET_HANDLER = "_loket_handler"


def _masked_value(value: Any) -> Any:
    """An extra field, masked; numbers stay numbers and small dicts/lists keep their shape."""
    if isinstance(value, str):
        return mask_identifiers(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _LONG_NUMBER:
        return mask_identifiers(str(value))  # a NIK or NOP passed as a number
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(key): _masked_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked_value(item) for item in value]
    return mask_identifiers(str(value))


class MaskingFilter(logging.Filter):
    """Rewrites a record so that its message, traceback and extra fields are masked.

    The message is formatted once (``msg % args``), masked, and stored back with no args:
    masking the args one by one would miss an identifier split between the format string
    and an argument. Never drops a record; a record that cannot be formatted is kept with a
    note instead of raising inside logging.
    """

    _exception_formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _MASKED_MARK, False):
            return True  # a second handler: already done
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = f"{record.msg!r} (unformattable args {record.args!r})"
        record.msg = mask_identifiers(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exception_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_identifiers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_identifiers(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD and not name.startswith("_"):
                record.__dict__[name] = _masked_value(value)
        setattr(record, _MASKED_MARK, True)
        return True


def record_extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields passed with ``extra=`` (for the JSON line), without logging's own."""
    return {
        name: value
        for name, value in record.__dict__.items()
        if name not in _STANDARD and not name.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the extras, exc (traceback).

    Field names are stable so a log pipeline can index ``outcome`` or ``duration_ms``.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record_extras(record).items():
            line.setdefault(name, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic one-line text, with ``key=value`` extras appended (for a terminal)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = record_extras(record)
        if not extras:
            return text
        head, newline, rest = text.partition("\n")
        fields = " ".join(f"{name}={value}" for name, value in extras.items())
        return f"{head} [{fields}]{newline}{rest}"


def make_formatter(fmt: LogFormat) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def parse_format(value: str | None) -> LogFormat:
    """LOG_FORMAT: ``json`` or ``text`` (default); anything else fails at start-up."""
    chosen = (value or "text").strip().lower()
    if chosen not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be json or text, got {value!r}")
    return chosen  # type: ignore[return-value]


def install_masking(root: logging.Logger | None = None) -> MaskingFilter:
    """Puts one MaskingFilter on every handler of the root logger and of any logger that
    does not propagate to it (so third-party handlers are covered too); returns it."""
    root = root or logging.getLogger()
    masking = next(
        (f for h in root.handlers for f in h.filters if isinstance(f, MaskingFilter)),
        MaskingFilter(),
    )
    loggers: list[logging.Logger] = [root]
    for candidate in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(candidate, logging.Logger) and not candidate.propagate:
            loggers.append(candidate)
    for logger in loggers:
        for handler in logger.handlers:
            if masking not in handler.filters:
                handler.addFilter(masking)
    return masking


def configure_logging(
    *,
    level: str | int = "INFO",
    fmt: LogFormat = "text",
    stream: TextIO | None = None,
    levels: Mapping[str, str | int] | None = None,
) -> logging.Handler:
    """Installs one masked handler to ``stream`` (stderr) on the root logger.

    A handler this function installed before is replaced; anyone else's (a test runner's)
    is kept, with the masking filter added.

    ``levels`` sets particular loggers' levels (by default aiohttp's access log and the
    HTTP client libraries stay at WARNING unless LOG_LEVEL is DEBUG: one line per request
    would drown the one line per update).
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, LOKET_HANDLER, False):
            root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, LOKET_HANDLER, True)
    handler.setFormatter(make_formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    quiet = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    defaults: dict[str, str | int] = {"aiohttp.access": quiet, "httpx": quiet, "httpcore": quiet}
    for name, name_level in {**defaults, **(levels or {})}.items():
        logging.getLogger(name).setLevel(name_level)
    install_masking(root)
    return handler
