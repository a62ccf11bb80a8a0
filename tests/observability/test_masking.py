"""Masking: what bot/privacy.py hides, the filter on every log record, and the detector that
the whole-suite check (tests/observability/leakcheck.py) relies on."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.observability.leaks import find_leaks
from bot.observability.logs import (
    JsonFormatter,
    MaskingFilter,
    TextFormatter,
    configure_logging,
    install_masking,
    parse_format,
)
from bot.privacy import mask_identifiers

ROOT = Path(__file__).resolve().parents[2]
NIK = "9109014107950001"
NOP_DOTTED = "63.09.010.001.001-0001.0"
PHONES = ("081234567890", "0812-3456-7890", "0812 - 3456 - 7890", "+62 812 3456 7890")
TOKEN = "7412589630:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


@pytest.mark.parametrize(
    "text",
    [
        f"nik {NIK}",
        f"nop {NOP_DOTTED}",
        "nop 630901000100100010",
        *(f"hp {phone}" for phone in PHONES),
        f"POST https://api.telegram.org/bot{TOKEN}/getUpdates",
        f"url /bot{TOKEN.replace(':', '%3A')}/getMe",
    ],
)
def test_identifiers_and_tokens_are_masked(text: str) -> None:
    masked = mask_identifiers(text)
    assert find_leaks(text), "the detector sees the unmasked text"
    assert find_leaks(masked) == []


def test_masking_keeps_enough_to_follow_a_request() -> None:
    assert mask_identifiers(f"nik {NIK}") == "nik 91************01"
    assert mask_identifiers("tahun 2026, 12 intents, port 8080") == (
        "tahun 2026, 12 intents, port 8080"
    )
    masked = mask_identifiers(f"bot{TOKEN}/sendMessage")
    assert masked == "bot74******30:***/sendMessage"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /x?api_key=k3y-VALUE&page=2", "k3y-VALUE"),
        ("GET /x?access_token=abc.DEF&page=2", "abc.DEF"),
        ("GET /x?sig=0a1b2c3d&page=2", "0a1b2c3d"),
        ('{"client_secret": "hunter2"}', "hunter2"),
        ("X-Telegram-Bot-Api-Secret-Token: s3cr3t-value", "s3cr3t-value"),
        ("Authorization: Bearer eyJhbGciOi", "eyJhbGciOi"),
        ("password=correct-horse", "correct-horse"),
    ],
)
def test_secret_looking_values_are_masked(text: str, secret: str) -> None:
    masked = mask_identifiers(text)
    assert secret not in masked
    assert "***" in masked


def _record(msg: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError(f"no bill for NOP {NOP_DOTTED}")
        except ValueError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("bot.test", logging.ERROR, __file__, 1, msg, args, exc_info)
    record.__dict__.update(extra)
    return record


def test_filter_masks_message_args_traceback_and_extras() -> None:
    record = _record(
        "citizen %s asked about %s",
        NIK,
        "0812-3456-7890",
        exc=True,
        phone="+62 812 3456 7890",
        nik_number=int(NIK),
        update_id=912345678,
        detail={"nop": NOP_DOTTED, "count": 3},
    )
    assert MaskingFilter().filter(record) is True
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(record)
        assert find_leaks(line) == [], line
        assert "91************01" in line
    data = json.loads(JsonFormatter().format(record))
    assert data["message"] == "citizen 91************01 asked about 08**-****-**90"
    assert data["phone"] == "+62 *** **** **90"
    assert data["nik_number"] == "91************01"
    assert data["update_id"] == 912345678  # counts and ids stay numbers
    assert data["detail"] == {"nop": "63.**.***.***.***-***1.0", "count": 3}
    assert "ValueError: no bill for NOP 63.**.***.***.***-***1.0" in data["exc"]
    assert data["level"] == "ERROR" and data["logger"] == "bot.test"


def test_filter_keeps_a_record_whose_arguments_do_not_fit() -> None:
    record = _record("two %s %s", NIK)  # one argument short
    assert MaskingFilter().filter(record) is True
    assert NIK not in record.getMessage()
    assert "unformattable" in record.getMessage()


def test_log_format_is_json_or_text() -> None:
    assert parse_format(None) == "text"
    assert parse_format("JSON") == "json"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        parse_format("xml")


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    """configure_logging changes the root logger; put it back for the rest of the run."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in ("aiohttp.access", "httpx")}
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
        for masking in [f for f in handler.filters if isinstance(f, MaskingFilter)]:
            handler.removeFilter(masking)
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def test_every_logger_of_the_app_is_masked_once_configured(
    root_logging: logging.Logger,
) -> None:
    """Our loggers, aiohttp's access log, PTB's and httpx's lines with the token in a URL:
    all reach the one handler through the root logger, and are masked there."""
    stream = io.StringIO()
    configure_logging(level="DEBUG", fmt="json", stream=stream)
    url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
    logging.getLogger("bot.frontdesk").info("erased the data of NIK %s", NIK)
    logging.getLogger("aiohttp.access").info('127.0.0.1 "GET /hooks/x?signature=abc123" 200')
    logging.getLogger("httpx").info('HTTP Request: POST %s "HTTP/1.1 200 OK"', url)
    logging.getLogger("telegram.ext.Updater").debug("Network error on %s", url)
    logging.getLogger("integrations.http").warning("bapenda GET /v1/pbb/%s", NOP_DOTTED)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == [
        "bot.frontdesk",
        "aiohttp.access",
        "httpx",
        "telegram.ext.Updater",
        "integrations.http",
    ]
    text = stream.getvalue()
    assert find_leaks(text) == []
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1" not in text
    assert "abc123" not in text


def test_a_logger_with_its_own_handler_is_masked_too(root_logging: logging.Logger) -> None:
    stream = io.StringIO()
    lonely = logging.getLogger("tests.observability.lonely")
    own = logging.StreamHandler(stream)
    lonely.addHandler(own)
    lonely.propagate = False
    try:
        install_masking(root_logging)
        lonely.warning("token %s", TOKEN)
    finally:
        lonely.removeHandler(own)
        lonely.propagate = True
    assert TOKEN not in stream.getvalue()
    assert find_leaks(stream.getvalue()) == []


def test_the_detector_finds_what_masking_must_hide() -> None:
    line = (
        f'{{"message": "nik {NIK} nop {NOP_DOTTED} hp +62 812-3456-7890", "url": "/bot{TOKEN}"}}'
    )
    kinds = sorted(leak.kind for leak in find_leaks(line))
    assert kinds == ["bot_token", "nik", "nop", "phone"]
    # ...and not what a log line legitimately holds.
    assert find_leaks('2026-11-29 04:06:11,234 INFO 127.0.0.1:8080 "duration_ms": 0.8123') == []


INNER_TEST = """
import logging

import bot.observability.logs as logs

def test_masked_is_fine():
    logging.getLogger("bot.inner").warning("nik %s", "9109014107950001")

def test_unmasked_fails_the_run(monkeypatch):
    # A gap in the masking (simulated): the line reaches the formatter whole.
    monkeypatch.setattr(logs, "mask_identifiers", lambda text: text)
    logging.getLogger("bot.inner").warning("nik %s", "9109014107950001")
"""


def _pytest_with_leakcheck(tmp_path: Path, select: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TEST), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.observability.leakcheck",
            "--rootdir",
            str(tmp_path),
            "-k",
            select,
            str(tmp_path / "test_inner.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_suite_check_passes_masked_lines(tmp_path: Path) -> None:
    result = _pytest_with_leakcheck(tmp_path, "masked_is_fine")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no whole NIK, NOP, phone number or bot token" in result.stdout


def test_the_suite_check_fails_the_run_on_an_unmasked_line(tmp_path: Path) -> None:
    """Every test passes, yet the run fails: the leak is named, the exit status is 1."""
    result = _pytest_with_leakcheck(tmp_path, "unmasked_fails_the_run")
    assert "1 passed" in result.stdout
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout + result.stderr
    assert "log masking check FAILED" in result.stdout
    assert "bot.inner at" in result.stdout and "nik 910…01 (16 chars)" in result.stdout
    assert NIK not in result.stdout  # the report itself does not repeat it
