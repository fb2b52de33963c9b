"""The authorisation matrix: every route that needs a token, called by every role, by a token limited to
another tenant, and by a department on another department's things, answers as the permission table
(cityos.auth.models.PERMISSIONS), the tenant rule and the ownership rules say.

Routes and their permissions are read from the app itself (the guard each declares), so a new route is
in the matrix the day it is added. A cell is "refused" (401 without a token, 403 without the
permission or outside the token's tenant) or "let through" (any answer but 401 and 403: the request
itself may still be bad, as the placeholders in the paths name nothing). No cell may answer 5xx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from conftest import Api

from cityos.app import api_routes
from cityos.auth import Subject, ensure_tenant, route_guard, sign_in_subject
from cityos.auth.models import PERMISSIONS, SUBJECT_ROLES, allows
from cityos.auth.service import create_token

ROLES = ("admin", "operator", "department", "reader", "reporter", "citizen", "enterprise")
ENTITY = "urn:ngsi-ld:Nothing:matrix-1"
# what a path parameter is given: a value of the right shape that names nothing
PLACEHOLDERS = {"entity_id": ENTITY, "fmt": "json"}
# routes whose answer never ends: the matrix reads their status, then hangs up
STREAMS = {"/web/events"}
# routes whose figures count every tenant: a token limited to one tenant is refused them even at home
CITY_WIDE = {"/metrics"}


def _path(template: str) -> str:
    return re.sub(r"{(\w+)(:\w+)?}", lambda m: PLACEHOLDERS.get(m.group(1), "matrix-nothing"), template)


@dataclass(frozen=True)
class Cell:
    method: str
    path: str
    permission: str  # "(any valid token)" for the routes any token may call


def guarded_cells(api: Api) -> list[Cell]:
    """Every (method, route) of the app that needs a token, with the permission it declares."""
    cells = []
    for route in api_routes(api.client.app):  # type: ignore[arg-type]
        guard = route_guard(route.dependant)
        assert guard is not None, route.path  # tests/test_routes_guarded.py says which
        if guard[0] == "public":
            continue
        cells += [Cell(m, route.path, guard[1]) for m in sorted(route.methods - {"HEAD"})]
    return cells


@pytest.fixture
def api(sqlite_api: Api) -> Api:
    return sqlite_api


async def _first_status(app: Any, path: str, headers: dict[str, str]) -> int:
    """The status a route that streams without end (server-sent events) answers with, then a disconnect."""
    started = anyio.Event()
    status: list[int] = []
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    sent_body = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await started.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
            started.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(app, scope, receive, send)
        with anyio.fail_after(10):
            await started.wait()
        tasks.cancel_scope.cancel()
    return status[0]


def _call(api: Api, cell: Cell, token: str | None, headers: dict[str, str] | None = None) -> int:
    if cell.path in STREAMS:
        sent = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        return api.client.portal.call(_first_status, api.client.app, cell.path, sent)  # type: ignore[attr-defined]
    kw: dict[str, Any] = {}
    if cell.method in ("POST", "PUT", "PATCH"):
        kw["json"] = {}
    return api.request(cell.method, _path(cell.path), token=token, headers=headers, **kw).status_code


def _kind(role: str) -> str:
    return "department" if role == "department" else "staff"


# the subjects of the matrix's citizen and enterprise: a person's ID number and an enterprise's credit code,
# valid in form, whose registry entities the hub does not hold
SUBJECTS = {
    "person": Subject("person", "11010519491231002X", "urn:ngsi-ld:Person:matrix-citizen"),
    "enterprise": Subject("enterprise", "91350100M000100Y43", "urn:ngsi-ld:Organization:matrix-enterprise"),
}


def _token(api: Api, role: str) -> str:
    """A token of the role: a citizen's and an enterprise's as the one-stop portal's login issues them (a
    principal carrying its subject), the others' as ``cityos token create`` does."""
    if role in SUBJECT_ROLES:
        subject = SUBJECTS[SUBJECT_ROLES[role]]
        return sign_in_subject(api.rt.db, f"matrix-{role}", subject, tenant="default")[0]
    return create_token(api.rt.db, f"matrix-{role}", role=role, kind=_kind(role))


def _expected(role: str | None, permission: str) -> str:
    if role is None:
        return "401"
    if permission == "(any valid token)" or allows(role, permission):
        return "through"
    return "403"


def _seen(status: int) -> str:
    return str(status) if status in (401, 403) else ("5xx" if status >= 500 else "through")


def test_every_route_answers_each_role_as_the_permission_table_says(api: Api) -> None:
    cells = guarded_cells(api)
    assert len(cells) > 80  # every route of every package, not a handful
    tokens: dict[str | None, str | None] = {None: None}
    for role in ROLES:
        tokens[role] = _token(api, role)
    wrong = []
    for cell in cells:
        for role, token in tokens.items():
            if cell.path == "/auth/logout" and role is not None:  # it revokes the token it is called with
                token = _token(api, role)
            seen, expected = _seen(_call(api, cell, token)), _expected(role, cell.permission)
            if seen != expected:
                wrong.append(f"{cell.method} {cell.path} as {role or 'no token'}: {seen}, not {expected}")
    assert wrong == [], "\n".join(wrong)
    # a token nobody issued is refused on every route, like no token
    forged = [c for c in cells if _call(api, c, "cos_not-a-token-anyone-issued") != 401]
    assert forged == []
    # every permission a route names is in the role table, so the matrix above has meant something
    named = {c.permission for c in cells} - {"(any valid token)"}
    granted = set().union(*PERMISSIONS.values()) - {"*"}
    assert named <= granted, named - granted


def test_a_token_limited_to_one_tenant_is_refused_in_every_other(api: Api) -> None:
    ensure_tenant(api.rt.db, "pudong")
    ensure_tenant(api.rt.db, "huangpu")
    pudong_admin = create_token(api.rt.db, "pudong-admin", role="admin", kind="staff", tenant="pudong")
    elsewhere = []
    at_home = []
    for cell in guarded_cells(api):
        token = pudong_admin
        if cell.path == "/auth/logout":  # it revokes the token it is called with: that cell gets one of its own
            token = create_token(api.rt.db, "pudong-admin", role="admin", kind="staff", tenant="pudong")
        if (status := _call(api, cell, token, {"NGSILD-Tenant": "huangpu"})) != 403:
            elsewhere.append(f"{cell.method} {cell.path}: {status}")
        at_home_expected = "403" if cell.path in CITY_WIDE else "through"
        if _seen(status := _call(api, cell, token, {"NGSILD-Tenant": "pudong"})) != at_home_expected:
            at_home.append(f"{cell.method} {cell.path}: {status}")
    assert elsewhere == [], "\n".join(elsewhere)
    assert at_home == [], "\n".join(at_home)
