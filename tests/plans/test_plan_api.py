"""The plan indicators in the vital-signs engine and on GET /plans/indicators, on SQLite and PostgreSQL: installed
once (an operator's change stands), the figures written to the data hub and aggregated by the running engine,
below target raising the engine's usual warning, with the target, trend, source and definition answered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import Api, wait_for
from test_plan_figures import company, shop, submit  # noqa: F401  (shop is a fixture)

from cityos import plans, vitals
from cityos.auth import Subject, sign_in_subject
from cityos.plans.figures import read_figures, write_figures

T = "default"


def board(api: Api, **params: object) -> dict[str, dict[str, object]]:
    r = api.get("/plans/indicators", params=params)
    assert r.status_code == 200, r.text
    return {i["id"]: i for i in r.json()["indicators"]}


def test_the_online_share_below_target_warns_and_shows_on_the_board(shop: Api) -> None:  # noqa: F811
    rt = shop.rt
    for n in (1, 2):
        own = sign_in_subject(rt.db, f"enterprise:{n}", Subject("enterprise", company(n), f"e-{n}"), tenant=T)[0]
        submit(shop, f"own-{n}", token=own)
    submit(shop, "counter", applicant=company(3), applicantKind="enterprise")
    now = datetime.now(UTC)
    figures = read_figures(rt, T, plans.shipped(), now)
    for minutes in (25, 15, 5):  # history from before the window: the engine's windows start full
        write_figures(rt, T, figures, now - timedelta(minutes=minutes))
    assert set(plans.install(rt, T)) == {e.indicator.id for e in plans.shipped()}
    assert plans.install(rt, T) == []  # once
    share = next(e.indicator for e in plans.shipped() if e.indicator.id == "plan_online_share")
    assert share.thresholds is not None
    expected = vitals.level_of(2 / 3, share.thresholds, 0)
    assert expected >= 1  # 2/3 is below the plan's 80%
    shown = wait_for(lambda: (b := board(shop))["plan_online_share"]["value"] is not None and b)
    online = shown["plan_online_share"]
    assert online["value"] == pytest.approx(2 / 3) and online["level"] == expected
    assert online["target"] == 0.8 and online["targetKind"] == "at-least" and online["headline"] is True
    assert online["periodDays"] == 30 and "30 days" in online["definition"]
    assert online["source"] == "cityos.onestop.service_figures → online_rate"
    assert [d["value"] for d in online["trend"]] == [pytest.approx(2 / 3)]
    assert shown["plan_case_on_time_rate"]["target"] is None and shown["plan_case_on_time_rate"]["value"] is None
    warned = shop.get("/vitals/warnings", params={"indicator": "plan_online_share"}).json()
    assert [(w["scope"], w["level"]) for w in warned] == [("district", expected)]
    listed = {i["id"]: i for i in shop.get("/vitals/indicators").json()}
    assert listed["plan_online_share"]["category"] == "plan" and "bund_crowd_density" in listed


def test_an_operators_target_stands_and_shows(api: Api) -> None:
    plans.install(api.rt, T)
    doc = next(e.indicator for e in plans.shipped() if e.indicator.id == "plan_open_datasets")
    body = {**doc.model_dump(mode="json", exclude_none=True), "thresholds": {"direction": "below", "blue": 100}}
    assert api.put("/vitals/indicators/plan_open_datasets", json=body).status_code == 200
    assert plans.install(api.rt, T) == []  # the operator's version is not replaced
    shown = board(api)["plan_open_datasets"]
    assert shown["target"] == 100 and shown["targetKind"] == "at-least" and shown["value"] is None


def test_bad_days_are_a_problem_and_a_reader_is_needed(api: Api) -> None:
    r = api.get("/plans/indicators", params={"days": 0})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert api.get("/plans/indicators", token=None).status_code == 401
