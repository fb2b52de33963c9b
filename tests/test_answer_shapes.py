"""Typed answers: every route of the typed packages declares the shape of its success answer in the API
description, so that /docs is the contract. A JSON answer is an object with its members named (or a list
of such, or one of several such); a bare object or "anything" fails here, and so does a route that
answers text without saying which."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI

from cityos.app import create_app
from cityos.auth import RequestContext, allow
from cityos.config import Settings

# the packages whose answers have types so far; the others join as they get theirs
TYPED = ("/iot/", "/auth/", "/twin/", "/web/", "/metrics")
JSON_MEDIA = ("application/json", "application/geo+json", "application/ld+json")


def described(schema: dict[str, Any], schemas: dict[str, Any]) -> bool:
    """Whether a JSON schema names the members of what it describes."""
    if "$ref" in schema:
        return described(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return all(described(b, schemas) for b in branches)
    if schema.get("type") == "array":
        return described(schema.get("items") or {}, schemas)
    return schema.get("type") == "object" and bool(schema.get("properties"))


def undescribed(doc: dict[str, Any], prefixes: tuple[str, ...] = TYPED) -> list[str]:
    """The operations under ``prefixes`` whose success answer has no declared shape."""
    schemas = doc.get("components", {}).get("schemas", {})
    wrong = []
    for path, ops in doc["paths"].items():
        if not path.startswith(prefixes):
            continue
        for method, op in ops.items():
            success = {s: r for s, r in op["responses"].items() if s.startswith("2")}
            if not success:
                wrong.append(f"{method.upper()} {path}: no success answer")
            for status, answer in success.items():
                for media, body in (answer.get("content") or {}).items():
                    schema = body.get("schema") or {}
                    ok = described(schema, schemas) if media in JSON_MEDIA else bool(schema.get("type"))
                    if not ok:
                        wrong.append(f"{method.upper()} {path} {status} {media}: {schema}")
                if not answer.get("content") and status != "204":
                    wrong.append(f"{method.upper()} {path} {status}: no content declared")
    return wrong


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('db') / 'cityos.db'}"))


def test_every_answer_of_the_typed_packages_has_a_declared_shape(app: FastAPI) -> None:
    doc = app.openapi()
    checked = [p for p in doc["paths"] if p.startswith(TYPED)]
    assert len(checked) >= 20  # the packages' routes are there: the check is not vacuous
    assert undescribed(doc) == []


def test_an_answer_typed_as_a_bare_dict_is_caught(tmp_path: Path) -> None:
    fresh = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'cityos.db'}"))
    extra = APIRouter()

    @extra.get("/twin/untyped")
    def untyped(ctx: RequestContext = allow("vitals:read")) -> dict[str, Any]:
        return {"tenant": ctx.tenant}

    @extra.get("/twin/typed")
    def typed(ctx: RequestContext = allow("vitals:read")) -> list[Settings]:
        return []

    fresh.include_router(extra)
    wrong = undescribed(fresh.openapi(), ("/twin/untyped", "/twin/typed"))
    assert [w.split(" {")[0] for w in wrong] == ["GET /twin/untyped 200 application/json:"]


def test_the_declared_errors_are_those_the_routes_raise(app: FastAPI) -> None:
    """Statuses beyond 400/401/403/404 are declared where they occur (and carry a problem document)."""
    paths = app.openapi()["paths"]
    expected = {
        ("post", "/iot/groups"): {"409"},
        ("delete", "/iot/groups/{apikey}"): {"409"},
        ("post", "/iot/deadletters/{letter_id}/replay"): {"409"},
        ("post", "/iot/devices/{device_id}/commands"): {"409"},
        ("post", "/iot/json"): {"413"},
        ("post", "/iot/ul"): {"413"},
        ("post", "/iot/bulk"): {"413"},
        ("post", "/twin/units/{unit_id}/whatif"): {"409", "422"},
        ("get", "/web/events"): {"503"},
    }
    for (method, path), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert statuses <= set(responses), (method, path)
        for status in statuses:
            assert responses[status]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
