"""Submissions and applications (办件, issue 20 item 3) on SQLite and PostgreSQL: a five-item bundle makes five
applications routed to their departments in one transaction; the same idempotency key (also from two racing
requests) creates nothing new; a clerk receives (the clock starts on working days), asks for a supplement (the
clock stands still), the applicant supplies (the due dates move by the paused working time), the clerk
approves (the certificate hook is called, the bus hears onestop.application.approved)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from onestop_samples import ANSWERS, ITEMS, MONDAY, RESTAURANT
from sqlalchemy import func, select

from cityos.bus import Event
from cityos.onestop import application_tables as t
from cityos.onestop import applications as apps
from cityos.onestop.application_errors import (
    ApplicationActionForbidden,
    ApplicationActionRefused,
    IdempotencyKeyReused,
    InvalidAction,
    InvalidSubmission,
    OnestopApplicationNotFound,
)
from cityos.onestop.applications import Actor, Applicant
from cityos.onestop.workflow import Action
from cityos.runtime import Runtime

SHOP = Applicant("enterprise", "91310101MA1FPX1234")
CLERK = Actor("clerk-li", handles=True, department="market-supervision")
OWNER = Actor("shop", applies=True, applicant=SHOP)


def _count(rt: Runtime, table: Any) -> int:
    with rt.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _submit(rt: Runtime, key: str = "k-1", answers: dict[str, Any] | None = None) -> apps.Submitted:
    return apps.submit(rt, "default", SHOP, RESTAURANT, ITEMS, answers or ANSWERS, key, now=MONDAY)


def test_a_bundle_makes_one_application_per_item_routed_to_its_department(rt: Runtime) -> None:
    heard: list[Event] = []
    rt.bus.subscribe("onestop.>", heard.append)
    done = _submit(rt)
    s = done.submission
    assert done.created and s.bundle == "restaurant" and s.overall == "submitted" and s.due is None
    assert [a.item_code for a in s.applications] == [i.code for i in ITEMS]
    assert [a.department for a in s.applications] == [i.department for i in ITEMS]
    assert all(a.state == "submitted" and len(a.history) == 1 for a in s.applications)
    again = apps.get_submission(rt, "default", s.id, OWNER)
    assert again == s
    assert _count(rt, t.applications) == 5 and _count(rt, t.application_history) == 5
    subjects = sorted(e.subject for e in heard)
    assert subjects == ["onestop.application.submitted"] * 5 + ["onestop.submission.submitted"]


def test_the_same_idempotency_key_returns_the_first_submission_and_creates_nothing(rt: Runtime) -> None:
    first = _submit(rt).submission
    again = _submit(rt)
    assert not again.created and again.submission.id == first.id
    assert _count(rt, t.submissions) == 1 and _count(rt, t.applications) == 5
    with pytest.raises(IdempotencyKeyReused) as e:
        _submit(rt, answers={**ANSWERS, "area": 81})
    assert first.id in e.value.detail
    assert _submit(rt, key="k-2").submission.id != first.id  # a new key: a new submission


def test_two_racing_requests_with_one_key_make_one_submission(rt: Runtime) -> None:
    barrier, found, errors = threading.Barrier(4), [], []

    def go() -> None:
        barrier.wait()
        try:
            found.append(_submit(rt, key="race").submission.id)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len(set(found)) == 1
    assert _count(rt, t.submissions) == 1 and _count(rt, t.applications) == 5


def test_bad_submissions_name_the_field(rt: Runtime) -> None:
    cases = [
        (Applicant("person", "310101199001011234"), ITEMS, "applicantKind"),  # the bundle is an enterprise's
        (SHOP, (*ITEMS, ITEMS[0]), "items"),
        (SHOP, (), "answers"),
        (Applicant("enterprise", " "), ITEMS, "applicant"),
    ]
    for who, items, field in cases:
        with pytest.raises(InvalidSubmission) as e:
            apps.submit(rt, "default", who, RESTAURANT, items, ANSWERS, "k", now=MONDAY)
        assert e.value.extra["field"] == field
    with pytest.raises(InvalidSubmission) as e:
        apps.submit(rt, "default", SHOP, RESTAURANT, ITEMS, {"x": float("nan")}, "k", now=MONDAY)
    assert e.value.extra["field"] == "answers"
    with pytest.raises(InvalidSubmission):
        apps.submit(rt, "default", SHOP, RESTAURANT, ITEMS, ANSWERS, "", now=MONDAY)
    assert _count(rt, t.submissions) == 0


def test_the_legal_clock_runs_on_working_days_and_stands_still_while_paused(rt: Runtime) -> None:
    approved: list[apps.ItemApplication] = []
    heard: list[Event] = []
    rt.bus.subscribe("onestop.application.approved", heard.append)
    licence = _submit(rt).submission.applications[0]  # 3 promised, 15 legal working days
    received = apps.act(rt, "default", licence.id, Action.RECEIVE, CLERK, now=MONDAY)
    assert received.state == "received" and received.clock.received_at == MONDAY
    assert received.clock.promised_due == MONDAY + timedelta(days=3)  # Thursday, 10:00
    friday = MONDAY + timedelta(days=4)
    with pytest.raises(InvalidAction):
        apps.act(rt, "default", licence.id, Action.REQUEST_SUPPLEMENT, CLERK, now=friday)
    paused = apps.act(rt, "default", licence.id, Action.REQUEST_SUPPLEMENT, CLERK, "营业场所证明不清晰", now=MONDAY
                      + timedelta(days=1))  # fmt: skip
    assert paused.state == "supplement-requested" and paused.reasons == "营业场所证明不清晰"
    assert paused.clock.used(MONDAY + timedelta(days=20)) == timedelta(days=1)  # stands still while paused
    back = apps.act(rt, "default", licence.id, Action.SUPPLY, OWNER, now=MONDAY + timedelta(days=7))  # next Monday
    assert back.clock.paused == timedelta(days=4)  # Tuesday → Monday: four working days stood still
    assert back.clock.promised_due == MONDAY + timedelta(days=9)  # Wednesday, with the two days left
    assert back.clock.legal_due == MONDAY + timedelta(days=25)  # 15 + 4 working days: Friday of the fourth week
    tuesday = MONDAY + timedelta(days=8, hours=12)  # 2.5 of the 3 promised working days used
    assert back.clock.state(MONDAY + timedelta(days=8)) == "on-time"
    assert back.clock.state(tuesday) == "reminded" and back.clock.state(MONDAY + timedelta(days=9)) == "overdue"
    done = apps.act(rt, "default", licence.id, Action.APPROVE, CLERK, now=tuesday,
                    on_approved=approved.append)  # fmt: skip
    assert done.state == "approved" and approved == [done] and [e.key for e in heard] == [licence.id]
    assert done.clock.state(MONDAY + timedelta(days=60)) == "reminded"  # the decision stopped the clock
    assert [(h.action, h.to_state) for h in done.history] == [
        ("submit", "submitted"), ("receive", "received"), ("request-supplement", "supplement-requested"),
        ("supply", "received"), ("approve", "approved"),
    ]  # fmt: skip


def test_the_table_refuses_what_it_does_not_allow_and_names_what_it_does(rt: Runtime) -> None:
    a = _submit(rt).submission.applications[0]
    with pytest.raises(ApplicationActionRefused) as e:
        apps.act(rt, "default", a.id, Action.APPROVE, CLERK, now=MONDAY)
    assert e.value.extra["allowed"] == ["receive", "refuse", "withdraw"]
    with pytest.raises(ApplicationActionForbidden):  # the applicant's action, taken by a clerk
        apps.act(rt, "default", a.id, Action.WITHDRAW, CLERK, now=MONDAY)
    refused = apps.act(rt, "default", a.id, Action.REFUSE, CLERK, "不属于本机关职权范围", now=MONDAY)
    assert refused.state == "refused-at-intake"
    with pytest.raises(ApplicationActionRefused) as e:
        apps.act(rt, "default", a.id, Action.RECEIVE, CLERK, now=MONDAY)
    assert e.value.extra["allowed"] == [] and "final" in e.value.detail
    with pytest.raises(OnestopApplicationNotFound):
        apps.act(rt, "default", "nope", Action.RECEIVE, CLERK, now=MONDAY)


def test_a_department_handles_only_what_is_routed_to_it(rt: Runtime) -> None:
    s = _submit(rt).submission
    fire = s.applications[3]
    with pytest.raises(ApplicationActionForbidden) as e:
        apps.act(rt, "default", fire.id, Action.RECEIVE, CLERK, now=MONDAY)
    assert "fire-rescue" in e.value.detail
    with pytest.raises(ApplicationActionForbidden):
        apps.get(rt, "default", fire.id, CLERK)
    stranger = Actor("other", applies=True, applicant=Applicant("enterprise", "91310101MA1OTHER01"))
    with pytest.raises(OnestopApplicationNotFound):
        apps.get(rt, "default", fire.id, stranger)
    page = apps.queue(rt, "default", "market-supervision", state="submitted")
    assert page.total == 2 and [a.item_code for a in page.applications] == ["HP-XK-0001", "HP-XK-0002"]
    apps.act(rt, "default", page.applications[0].id, Action.RECEIVE, CLERK, now=MONDAY)
    assert apps.queue(rt, "default", "market-supervision", state="submitted").total == 1
    assert apps.queue(rt, "default", "market-supervision", state="received").total == 1
    assert apps.queue(rt, "default", None, per_page=2, page=3).applications[0].item_code == "HP-XK-0005"


def test_the_combined_status_follows_the_items(rt: Runtime) -> None:
    s = _submit(rt).submission
    admin = Actor("admin", handles=True, applies=True)
    for a in s.applications:
        apps.act(rt, "default", a.id, Action.RECEIVE, admin, now=MONDAY)
    assert apps.get_submission(rt, "default", s.id).overall == "in-progress"
    apps.act(rt, "default", s.applications[1].id, Action.REQUEST_SUPPLEMENT, admin, "缺平面图", now=MONDAY)
    now = apps.get_submission(rt, "default", s.id)
    assert now.overall == "supplement-requested"
    assert now.due == MONDAY + timedelta(days=14)  # the tobacco licence's 10 working days, two weekends
    apps.act(rt, "default", s.applications[1].id, Action.SUPPLY, admin, now=MONDAY)
    for a in s.applications:
        apps.act(rt, "default", a.id, Action.APPROVE, admin, now=MONDAY + timedelta(days=1))
    assert apps.get_submission(rt, "default", s.id).overall == "completed"
    apps.act(rt, "default", s.applications[0].id, Action.ISSUE_CERTIFICATE, admin, now=MONDAY + timedelta(days=1))
    final = apps.get_submission(rt, "default", s.id)
    assert final.overall == "completed" and final.due is None
