"""Unit tests: parsing /peran, role sets, ADMIN_TELEGRAM_IDS."""

from __future__ import annotations

import pytest

from bot.settings import Settings
from bot.staff.roles import (
    ADMIN,
    STAFF,
    STAFF_OPDS,
    Grant,
    RoleCommand,
    RoleCommandError,
    RoleSet,
    parse_role_command,
)


@pytest.mark.parametrize("argument", ["", "  ", "daftar", "DAFTAR"])
def test_no_argument_lists(argument: str) -> None:
    assert parse_role_command(argument, STAFF_OPDS) == RoleCommand("list")


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("beri 123 staf dinkes", RoleCommand("grant", 123, Grant(STAFF, "dinkes"))),
        ("BERI 123 Staff Bapenda", RoleCommand("grant", 123, Grant(STAFF, "bapenda"))),
        ("beri 7 admin", RoleCommand("grant", 7, Grant(ADMIN))),
        ("cabut 123 staf disdukcapil", RoleCommand("revoke", 123, Grant(STAFF, "disdukcapil"))),
        ("cabut 7   admin", RoleCommand("revoke", 7, Grant(ADMIN))),
    ],
)
def test_grant_and_revoke(argument: str, expected: RoleCommand) -> None:
    assert parse_role_command(argument, STAFF_OPDS) == expected


@pytest.mark.parametrize(
    "argument",
    [
        "beri",
        "beri 123",
        "beri abc staf dinkes",
        "beri -5 admin",
        "beri 123 raja",
        "beri 123 staf",  # staff needs an OPD
        "beri 123 staf mpp",  # not an OPD with staff
        "beri 123 staf dinkes bapenda",
        "beri 123 admin dinkes",  # admin has no OPD
        "angkat 123 admin",
    ],
)
def test_malformed_arguments_explain_the_usage(argument: str) -> None:
    with pytest.raises(RoleCommandError) as error:
        parse_role_command(argument, STAFF_OPDS)
    assert "/peran beri <telegram_id> staf <opd>" in str(error.value)


def test_role_set_checks() -> None:
    citizen = RoleSet()
    assert citizen.is_citizen and not citizen.is_admin and not citizen.is_staff()
    staff = RoleSet(frozenset({Grant(STAFF, "dinkes"), Grant(STAFF, "bapenda")}))
    assert staff.is_staff() and staff.is_staff("dinkes") and not staff.is_staff("disdukcapil")
    assert not staff.is_admin and staff.opds == ["bapenda", "dinkes"]
    admin = RoleSet(frozenset({Grant(ADMIN)}))
    assert admin.is_admin and not admin.is_staff("dinkes") and not admin.is_citizen
    assert Grant(STAFF, "dinkes").label() == "staf dinkes" and Grant(ADMIN).label() == "admin"


def test_admin_ids_from_the_environment() -> None:
    assert Settings.from_env({}).admin_telegram_ids == ()
    assert Settings.from_env({"ADMIN_TELEGRAM_IDS": ""}).admin_telegram_ids == ()
    env = {"ADMIN_TELEGRAM_IDS": " 123456789, 42 ,,123456789"}
    assert Settings.from_env(env).admin_telegram_ids == (123456789, 42)
    with pytest.raises(ValueError, match="ADMIN_TELEGRAM_IDS"):
        Settings.from_env({"ADMIN_TELEGRAM_IDS": "@admin"})
