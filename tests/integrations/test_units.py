"""Small pieces: breaker states, settings from the environment, masking, push signatures."""

from __future__ import annotations

import json
import logging

import pytest
from opd_testkit import FakeClock

from bot.privacy import mask_identifiers, mask_nop
from integrations.breaker import CircuitBreaker
from integrations.errors import InvalidReply
from integrations.formatting import long_date, rupiah
from integrations.push import parse_status_push, sign, verify_signature
from integrations.settings import SettingsError, load_settings


def test_breaker_opens_after_threshold_and_half_opens_after_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_success()
    assert breaker.consecutive_failures == 0
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    clock.advance(10)
    assert breaker.state == "half_open"
    assert breaker.allow()
    assert not breaker.allow()  # only one probe
    breaker.abandon()
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed"


def test_breaker_failed_probe_reopens_for_a_full_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=10, clock=clock)
    breaker.record_failure()
    clock.advance(10)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.advance(9.9)
    assert not breaker.allow()


def test_settings_from_environment() -> None:
    settings = load_settings(
        {
            "DISDUKCAPIL_API_URL": "http://127.0.0.1:8089/disdukcapil/",
            "DISDUKCAPIL_API_TOKEN": "secret-token-value",
            "DISDUKCAPIL_API_TIMEOUT": "2.5",
            "DISDUKCAPIL_POLL_INTERVAL": "60",
            "BAPENDA_API_URL": "https://bapenda.example/api",
            "BAPENDA_API_TOKEN": "t",
        }
    )
    assert set(settings.opds) == {"disdukcapil", "bapenda"}
    dukcapil = settings.opds["disdukcapil"]
    assert dukcapil.base_url == "http://127.0.0.1:8089/disdukcapil"
    assert (dukcapil.timeout, dukcapil.poll_interval) == (2.5, 60.0)
    assert settings.opds["bapenda"].timeout == 5.0
    assert "secret-token-value" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"DINKES_API_URL": "ftp://x"}, "DINKES_API_URL"),
        ({"DINKES_API_URL": "http://x"}, "DINKES_API_TOKEN"),
        (
            {"DINKES_API_URL": "http://x", "DINKES_API_TOKEN": "t", "DINKES_API_TIMEOUT": "abc"},
            "DINKES_API_TIMEOUT",
        ),
        (
            {"DINKES_API_URL": "http://x", "DINKES_API_TOKEN": "t", "DINKES_API_TIMEOUT": "-1"},
            "DINKES_API_TIMEOUT",
        ),
    ],
)
def test_bad_settings_fail_loudly_naming_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        load_settings(env)


def test_masking() -> None:
    masked = mask_identifiers(
        "nik 9109014107950001 nop 94.12.010.001.001-0001.0 app 7301-2026-000481 "
        "Authorization: Bearer abc.def token=xyz year 2026"
    )
    assert "9109014107950001" not in masked and "91************01" in masked
    assert "010.001.001-0001" not in masked
    assert "7301-2026-000481" not in masked
    assert "abc.def" not in masked and "xyz" not in masked
    assert "year 2026" in masked
    assert mask_nop("941201000100100010") == "94.12.***.***.***-0001.0"


async def test_logs_never_contain_identifiers_or_tokens(
    caplog: pytest.LogCaptureFixture, closed_port: int
) -> None:
    from opd_testkit import make_settings

    from integrations import OpdClients, Unavailable

    settings = make_settings(
        {"bapenda": f"http://127.0.0.1:{closed_port}/bapenda"}, {"bapenda": "tok-SECRET-123"}
    )
    caplog.set_level(logging.DEBUG)
    async with OpdClients.open(settings) as clients:
        assert clients.bapenda
        with pytest.raises(Unavailable):
            await clients.bapenda.pbb_bill("941201000100100010", 2026)
    assert caplog.records
    assert "941201000100100010" not in caplog.text
    assert "tok-SECRET-123" not in caplog.text


def test_rupiah_and_dates() -> None:
    from datetime import date

    assert rupiah(1250000) == "Rp1.250.000"
    assert rupiah(0) == "Rp0"
    assert long_date(date(2026, 9, 30), "id") == "30 September 2026"
    assert long_date(date(2026, 8, 31), "id") == "31 Agustus 2026"
    assert long_date(date(2026, 8, 31), "xx") == "31 Agustus 2026"


def test_push_signature_and_body() -> None:
    body = json.dumps(
        {
            "number": "9404-2026-000104",
            "status": "ready_for_pickup",
            "updated_at": "2026-11-23T08:45:00+09:00",
            "note": None,
        }
    ).encode()
    signature = sign("s3cret", body)
    assert verify_signature("s3cret", body, signature)
    assert verify_signature("s3cret", body, signature.upper())
    assert not verify_signature("s3cret", body + b" ", signature)
    assert not verify_signature("other", body, signature)
    assert not verify_signature("s3cret", body, None)
    assert parse_status_push("disdukcapil", body).number == "9404-2026-000104"
    with pytest.raises(InvalidReply):
        parse_status_push("disnakertrans", body)  # not an AK/I status
    with pytest.raises(InvalidReply):
        parse_status_push("disdukcapil", b"{not json")
