"""Staff accounts: scrypt passwords, POST /auth/login, GET /auth/me, POST /auth/logout, the lockout, and
`cityos account create | password`, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from conftest import Api
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from cityos.auth import service
from cityos.auth.models import PERMISSIONS
from cityos.auth.passwords import check_password, hash_password, verify_password
from cityos.auth.tables import principals, tokens
from cityos.cli import app
from cityos.config import get_settings
from cityos.core.timefmt import parse_ts
from cityos.errors import InvalidInput, NotFound, Unauthenticated
from cityos.runtime import Runtime

PW = "blue-river-lantern"
WRONG = "the account name or password is wrong"


# --- hashing (pure) ----------------------------------------------------------------------------------


def test_a_password_hash_round_trips_and_carries_its_parameters() -> None:
    stored = hash_password(PW)
    scheme, n, r, p, salt, key = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(key)) == 32
    assert PW not in stored
    assert verify_password(PW, stored)
    assert not verify_password(PW + "x", stored)
    assert not verify_password("", stored)
    assert hash_password(PW) != stored  # a fresh salt each time
    # composed and decomposed forms of the same characters are the same password
    assert verify_password("cafe\u0301-au-lait!", hash_password("caf\u00e9-au-lait!"))


@pytest.mark.parametrize("stored", ["", "plain", "bcrypt$16384$8$1$AAAA$AAAA", "scrypt$16384$8$1$!!$AAAA"])
def test_a_hash_that_cannot_be_read_never_verifies(stored: str) -> None:
    assert not verify_password(PW, stored)


def test_a_short_password_is_refused_with_the_rule() -> None:
    with pytest.raises(InvalidInput, match=r"the password has 9 characters: use at least 10"):
        hash_password("123456789")
    assert check_password("1234567890") == "1234567890"
    with pytest.raises(InvalidInput, match="at most 1024"):
        check_password("x" * 1025)


# --- the API -----------------------------------------------------------------------------------------


def login(api: Api, username: str, password: str, **extra: Any) -> httpx.Response:
    return api.post("/auth/login", json={"username": username, "password": password, **extra}, token=None)


def assert_problem(r: httpx.Response, status: int, detail: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["type"].startswith("https://cityos.dev/problems/")
    if detail is not None:
        assert body["detail"] == detail
    return body


def test_log_in_ask_who_i_am_use_the_token_and_log_out(api: Api, rt: Runtime) -> None:
    service.create_account(
        rt.db, "li.wei", role="department", password=PW, department="traffic-police", display_name="李伟"
    )
    r = login(api, "li.wei", PW)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert set(body) == {"token", "expiresAt", "principal"}
    token = body["token"]
    assert token.startswith("cos_")
    hours = (parse_ts(body["expiresAt"]) - datetime.now(UTC)) / timedelta(hours=1)
    assert 11.9 < hours <= 12
    me = {
        "name": "li.wei",
        "displayName": "李伟",
        "kind": "staff",
        "role": "department",
        "department": "traffic-police",
        "tenant": None,
        "permissions": sorted(PERMISSIONS["department"]),
    }
    assert body["principal"] == me
    assert "cases:act" in me["permissions"] and "vitals:write" not in me["permissions"]

    r = api.get("/auth/me", token=token)
    assert r.status_code == 200 and r.json() == me
    assert api.get("/vitals/indicators", token=token).status_code == 200  # the token works on other APIs
    with rt.db.connect() as conn:  # stored with its expiry and the login label
        row = conn.execute(select(tokens).where(tokens.c.token_hash == service.hash_token(token))).one()
    assert row.expires_at == body["expiresAt"] and row.label == "login" and row.revoked_at is None

    r = api.post("/auth/logout", token=token)
    assert r.status_code == 204 and r.content == b""
    body = assert_problem(api.get("/auth/me", token=token), 401)
    assert "revoked" in body["detail"] and "log in again" in body["detail"]
    assert_problem(api.get("/vitals/indicators", token=token), 401)
    assert_problem(api.post("/auth/logout", token=token), 401)
    assert api.get("/auth/me").status_code == 200  # only that token went: the admin's still works


def test_me_of_an_admin_lists_every_action_and_the_wildcard(api: Api) -> None:
    r = api.get("/auth/me")
    assert r.status_code == 200
    me = r.json()
    every = set().union(*PERMISSIONS.values())
    assert me["permissions"] == sorted(every) and "*" in me["permissions"]
    assert {"cases:supervise", "metrics:read", "commands:send"} <= set(me["permissions"])
    assert me | {"permissions": None} == {
        "name": "test-admin",
        "displayName": "test-admin",
        "kind": "staff",
        "role": "admin",
        "department": None,
        "tenant": None,
        "permissions": None,
    }


def test_me_and_logout_need_a_token_and_login_does_not(api: Api, rt: Runtime) -> None:
    body = assert_problem(api.get("/auth/me", token=None), 401)
    assert "bearer token" in body["detail"]
    assert_problem(api.post("/auth/logout", token=None), 401)
    service.create_account(rt.db, "ops.zhang", role="operator", password=PW)
    r = login(api, "ops.zhang", PW, hours=1)
    assert r.status_code == 200
    hours = (parse_ts(r.json()["expiresAt"]) - datetime.now(UTC)) / timedelta(hours=1)
    assert 0.9 < hours <= 1
    assert r.json()["principal"]["department"] is None and r.json()["principal"]["displayName"] == "ops.zhang"


def test_wrong_password_and_unknown_name_get_the_same_401(api: Api, rt: Runtime) -> None:
    service.create_account(rt.db, "li.wei", role="reader", password=PW)
    wrong = assert_problem(login(api, "li.wei", PW + "!"), 401, WRONG)
    unknown = assert_problem(login(api, "nobody", PW), 401, WRONG)
    assert wrong == unknown
    assert login(api, "li.wei", PW + "!").headers["www-authenticate"] == 'Bearer realm="cityos"'


@pytest.mark.parametrize(
    ("body", "field"),
    [({"password": PW}, "username"), ({"username": "li.wei"}, "password"), ({"hours": 2}, "username")],
)
def test_a_login_missing_a_field_is_a_400_problem(api: Api, body: dict[str, Any], field: str) -> None:
    detail = assert_problem(api.post("/auth/login", json=body, token=None), 400)["detail"]
    assert field in detail and "required" in detail.lower()


@pytest.mark.parametrize("hours", [0, 25])
def test_a_login_longer_than_a_day_is_refused(api: Api, rt: Runtime, hours: int) -> None:
    service.create_account(rt.db, "li.wei", role="reader", password=PW)
    assert "hours" in assert_problem(login(api, "li.wei", PW, hours=hours), 400)["detail"]


def login_from(api: Api, address: str, username: str, password: str) -> httpx.Response:
    """A login from another client address than the test client's own."""
    from fastapi.testclient import TestClient

    other = TestClient(api.client.app, client=(address, 50000), raise_server_exceptions=False)
    return other.post("/auth/login", json={"username": username, "password": password})


LOCKED = "5 wrong passwords for this account name from this address within 5 minutes: try again in 5 minutes"


def test_five_wrong_passwords_from_one_address_lock_that_address_out_of_that_name(api: Api, rt: Runtime) -> None:
    service.create_account(rt.db, "li.wei", role="reader", password=PW)
    for _ in range(2):
        assert_problem(login(api, "li.wei", "not-the-password"), 401, WRONG)
    assert login(api, "li.wei", PW).status_code == 200  # a success clears the count: the next lock needs 5 more

    for _ in range(4):
        assert_problem(login(api, "li.wei", "not-the-password"), 401, WRONG)
    locked = login(api, "li.wei", "not-the-password")
    assert_problem(locked, 429, LOCKED)
    assert 290 <= int(locked.headers["retry-after"]) <= 300
    assert assert_problem(locked, 429)["retryAfter"] == int(locked.headers["retry-after"])
    assert_problem(login(api, "li.wei", PW), 429, LOCKED)  # while locked even the right password is refused


def test_a_stranger_cannot_keep_the_owner_of_an_account_out(api: Api, rt: Runtime) -> None:
    # Issue 16, finding 11: the lock was per account, so anyone could keep a staff member out for good.
    service.create_account(rt.db, "li.wei", role="reader", password=PW)
    for _ in range(5):
        login_from(api, "203.0.113.66", "li.wei", "guess")
    assert_problem(login_from(api, "203.0.113.66", "li.wei", PW), 429, LOCKED)  # guessing is stopped there ...
    assert login_from(api, "198.51.100.7", "li.wei", PW).status_code == 200  # ... and the owner gets in
    assert login(api, "li.wei", PW).status_code == 200


def test_the_lockout_answers_alike_for_names_that_exist_and_names_that_do_not(api: Api, rt: Runtime) -> None:
    # Issue 16, finding 11: the lockout message told which account names exist.
    service.create_account(rt.db, "li.wei", role="reader", password=PW)
    answers = {}
    for name in ("li.wei", "no.such.person"):
        seen = [login(api, name, "not-the-password") for _ in range(6)]
        answers[name] = [(r.status_code, r.json()["detail"], r.json()["type"]) for r in seen]
    assert answers["li.wei"] == answers["no.such.person"]
    assert [status for status, _, _ in answers["li.wei"]] == [401] * 4 + [429] * 2


def test_a_principal_with_only_tokens_cannot_log_in(api: Api, rt: Runtime) -> None:
    service.create_token(rt.db, "ops-bot", role="operator", kind="staff")
    assert_problem(login(api, "ops-bot", PW), 401, WRONG)
    assert_problem(login(api, "test-admin", PW), 401, WRONG)
    with pytest.raises(NotFound, match="there is no account 'ops-bot': create it with 'cityos account create"):
        service.set_password(rt.db, "ops-bot", PW)


def test_an_expired_token_is_refused(api: Api, rt: Runtime) -> None:
    p = service.create_account(rt.db, "li.wei", role="reader", password=PW)
    expired = service.issue_token(rt.db, p, expires_at="2020-01-01T00:00:00.000Z")
    assert "expired" in assert_problem(api.get("/auth/me", token=expired), 401)["detail"]
    soon = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert api.get("/auth/me", token=service.issue_token(rt.db, p, expires_at=soon)).status_code == 200


def test_a_login_token_expires(api: Api, rt: Runtime) -> None:
    service.create_account(rt.db, "li.wei", role="reader", password=PW)
    token, expires_at, _ = service.login(rt.db, "li.wei", PW, hours=1)
    assert timedelta(minutes=59) < parse_ts(expires_at) - datetime.now(UTC) <= timedelta(hours=1)
    assert api.get("/auth/me", token=token).status_code == 200
    with rt.db.write() as conn:  # an hour later
        conn.execute(
            update(tokens)
            .where(tokens.c.token_hash == service.hash_token(token))
            .values(expires_at="2020-01-01T00:00:00.000Z")
        )
    service.forget_tokens(rt.db)  # the cache of recently seen tokens would hide it for up to 10 s
    assert "expired" in assert_problem(api.get("/auth/me", token=token), 401)["detail"]


def test_a_new_password_ends_the_accounts_logins(api: Api, rt: Runtime) -> None:
    service.create_account(rt.db, "li.wei", role="reader", password=PW)
    session = login(api, "li.wei", PW).json()["token"]
    other = service.issue_token(rt.db, service.create_principal(rt.db, "li.wei", role="reader", kind="staff"))
    service.set_password(rt.db, "li.wei", "a-new-password-2")
    assert_problem(login(api, "li.wei", PW), 401, WRONG)
    assert login(api, "li.wei", "a-new-password-2").status_code == 200
    assert_problem(api.get("/auth/me", token=session), 401)  # the login's token went with the old password
    assert api.get("/auth/me", token=other).status_code == 200  # a token given by hand stays


def test_a_token_revoked_by_another_process_stops_working_within_a_second(api: Api, rt: Runtime) -> None:
    service.create_account(rt.db, "zhao.min", role="reader", password=PW)
    session = login(api, "zhao.min", PW).json()["token"]
    assert api.get("/auth/me", token=session).status_code == 200  # now kept by this process
    # another process (cityos account password) revokes it: only the database knows
    with rt.db.write() as conn:
        conn.execute(
            update(tokens)
            .where(tokens.c.token_hash == service.hash_token(session))
            .values(revoked_at=datetime.now(UTC).isoformat())
        )
    time.sleep(1.05)
    assert_problem(api.get("/auth/me", token=session), 401)


def test_account_rules(rt: Runtime) -> None:
    with pytest.raises(InvalidInput, match="needs the department it acts for"):
        service.create_account(rt.db, "li.wei", role="department", password=PW)
    with pytest.raises(InvalidInput, match="give a department only with the department role"):
        service.create_account(rt.db, "li.wei", role="operator", password=PW, department="traffic-police")
    with pytest.raises(InvalidInput, match="role 'chief' is unknown"):
        service.create_account(rt.db, "li.wei", role="chief", password=PW)
    with pytest.raises(InvalidInput, match="account name 'li wei' is not valid"):
        service.create_account(rt.db, "li wei", role="reader", password=PW)
    with pytest.raises(InvalidInput, match="at least 10"):
        service.create_account(rt.db, "li.wei", role="reader", password="short")
    with rt.db.connect() as conn:  # nothing was stored by the refused attempts
        assert conn.execute(select(principals).where(principals.c.name == "li.wei")).first() is None

    # an existing principal gets a password only if it is the same kind of principal
    service.create_token(rt.db, "hotline", role="operator", kind="service")
    with pytest.raises(InvalidInput, match="exists with role operator, kind service"):
        service.create_account(rt.db, "hotline", role="operator", password=PW)
    service.create_token(rt.db, "desk.chen", role="operator", kind="staff")
    with pytest.raises(InvalidInput, match="exists with role operator"):
        service.create_account(rt.db, "desk.chen", role="reader", password=PW)
    p = service.create_account(rt.db, "desk.chen", role="operator", password=PW, display_name="陈")
    assert p.attributes == {"display_name": "陈"}
    assert service.login(rt.db, "desk.chen", PW)[2].pk == p.pk
    service.create_account(rt.db, "desk.chen", role="operator", password="replaced-password")  # replaced
    with pytest.raises(Unauthenticated, match=WRONG):
        service.login(rt.db, "desk.chen", PW)
    assert service.login(rt.db, "desk.chen", "replaced-password")[2].attributes == {"display_name": "陈"}


# --- the CLI -----------------------------------------------------------------------------------------


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The CLI pointed at the test database through the environment (settings are cached: cleared)."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    monkeypatch.setenv("CITYOS_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("CITYOS_ACCOUNT_PASSWORD", raising=False)
    get_settings.cache_clear()
    yield rt
    get_settings.cache_clear()


def run(*args: str, **kw: Any) -> Result:
    return CliRunner().invoke(app, ["account", *args], **kw)


def test_cli_creates_an_account_that_logs_in(cli: Runtime) -> None:
    r = run("create", "li.wei", "--role", "department", "--department", "hp-env", "--password", PW)
    assert r.exit_code == 0, r.output
    assert "li.wei" in r.stdout and "hp-env" in r.stdout and "ready" in r.stdout
    _, _, p = service.login(cli.db, "li.wei", PW)
    assert (p.kind, p.role, p.department) == ("staff", "department", "hp-env")


def test_cli_asks_for_the_password_twice_or_reads_it_from_the_environment(cli: Runtime) -> None:
    r = run("create", "ops.zhang", "--role", "operator", "--display-name", "张", input=f"{PW}\n{PW}\n")
    assert r.exit_code == 0, r.output
    assert PW not in r.output  # hidden
    assert "Repeat for confirmation" in r.output
    assert service.profile(service.login(cli.db, "ops.zhang", PW)[2]).displayName == "张"

    r = run("password", "ops.zhang", env={"CITYOS_ACCOUNT_PASSWORD": "from-the-environment"})
    assert r.exit_code == 0, r.output
    assert "new password" in r.stdout
    assert service.login(cli.db, "ops.zhang", "from-the-environment")[2].name == "ops.zhang"
    with pytest.raises(Unauthenticated):
        service.login(cli.db, "ops.zhang", PW)


def test_cli_errors_are_clear(cli: Runtime) -> None:
    r = run("create", "li.wei", "--role", "reader", "--password", "short")
    assert r.exit_code == 2 and r.stderr.startswith("error: the password has 5 characters: use at least 10")
    assert "Traceback" not in r.output
    r = run("password", "nobody", "--password", PW)
    assert r.exit_code == 2 and "there is no account 'nobody'" in r.stderr
    r = run("create", "li.wei", "--password", PW)
    assert r.exit_code == 2 and "--role" in r.output  # required


def test_wrong_passwords_sent_at_once_are_each_counted(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The count is taken before the slow password check, so a burst sent in parallel gets five guesses
    checked, not one per request that arrived before the first answer."""
    service.create_account(rt.db, "li.wei", role="reader", password=PW)
    checked = []
    real_check = service.verify_password

    def counting_check(password: str, hashed: str) -> bool:
        checked.append(password)
        return real_check(password, hashed)

    monkeypatch.setattr(service, "verify_password", counting_check)

    def attempt(_: int) -> str:
        try:
            service.login(rt.db, "li.wei", "guess", address="203.0.113.9")
        except Exception as exc:  # the answer each try got
            return type(exc).__name__
        return "logged in"

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(attempt, range(16)))
    assert len(checked) == 5, len(checked)
    assert set(answers) <= {"Unauthenticated", "TooManyRequests"} and answers.count("TooManyRequests") >= 11


def test_an_ipv6_client_is_counted_by_its_64_network(api: Api, rt: Runtime) -> None:
    service.create_account(rt.db, "li.wei", role="reader", password=PW)
    for n in range(5):  # five addresses of one subscriber's /64
        assert login_from(api, f"2001:db8:1:2::{n + 1:x}", "li.wei", "guess").status_code in (401, 429)
    assert_problem(login_from(api, "2001:db8:1:2:ffff::1", "li.wei", PW), 429, LOCKED)
    assert login_from(api, "2001:db8:1:3::1", "li.wei", PW).status_code == 200  # another network is another client
