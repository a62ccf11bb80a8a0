"""The written contract (integrations/openapi) agrees with the adapters and the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from integrations.bapenda import parse_pbb_bill
from integrations.dinkes import parse_facilities, parse_immunization_schedule
from integrations.disdukcapil import parse_application, parse_mobile_services
from integrations.disnakertrans import parse_ak1, parse_trainings, parse_vacancies
from integrations.push import parse_status_push
from integrations.sandbox import create_sandbox_app

SPEC_DIR = Path(__file__).resolve().parents[2] / "integrations" / "openapi"
OPDS = ("disdukcapil", "disnakertrans", "dinkes", "bapenda")

PARSERS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("disdukcapil", "/v1/applications/{number}"): parse_application,
    ("disdukcapil", "/v1/mobile-services"): parse_mobile_services,
    ("disnakertrans", "/v1/ak1/{number}"): parse_ak1,
    ("disnakertrans", "/v1/vacancies"): parse_vacancies,
    ("disnakertrans", "/v1/trainings"): parse_trainings,
    ("dinkes", "/v1/facilities"): parse_facilities,
    ("dinkes", "/v1/immunization-schedule"): parse_immunization_schedule,
    ("bapenda", "/v1/pbb/{nop}"): parse_pbb_bill,
}


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((SPEC_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


@pytest.mark.parametrize("name", [*OPDS, "push-hook"])
def test_spec_is_openapi_31_and_refs_resolve(name: str) -> None:
    spec = load(name)
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] and spec["paths"]
    for ref in refs(spec):
        assert ref.startswith("#/"), ref
        node: Any = spec
        for part in ref[2:].split("/"):
            node = node[part]


def test_every_spec_operation_has_a_parser_and_back() -> None:
    operations = {(opd, path) for opd in OPDS for path in load(opd)["paths"]}
    assert operations == set(PARSERS)


@pytest.mark.parametrize(("opd", "path"), sorted(PARSERS))
def test_spec_examples_parse(opd: str, path: str) -> None:
    operation = load(opd)["paths"][path]["get"]
    content = operation["responses"]["200"]["content"]["application/json"]
    assert content["examples"]
    for example in content["examples"].values():
        PARSERS[(opd, path)](json.loads(json.dumps(example["value"])))


def test_push_example_parses() -> None:
    body = load("push-hook")["paths"]["/hooks/{opd}"]["post"]["requestBody"]
    example = body["content"]["application/json"]["examples"]["ready"]["value"]
    push = parse_status_push("disdukcapil", json.dumps(example).encode())
    assert push.status == "ready_for_pickup"


def test_sandbox_serves_exactly_the_spec_paths() -> None:
    app = create_sandbox_app()
    served = {
        resource.canonical
        for resource in app.router.resources()
        if isinstance(resource, web.Resource) and "/_admin/" not in resource.canonical
    }
    specified = {f"/{opd}{path}" for opd in OPDS for path in load(opd)["paths"]}
    assert specified == served - {"/health", "/_admin/faults"}
