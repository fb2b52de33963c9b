"""The plans' figures on SQLite and PostgreSQL, from data made through the packages' own service functions: the
online share counts who submitted (two online, one at a counter: 2/3), bundle submissions, devices, governed
reads, open datasets and cases closed on time; a package that fails leaves the others' figures standing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Api

from cityos import datahub, iot, onestop, opendata, plans
from cityos.auth import Subject, sign_in_subject
from cityos.cases import CaseView, NewCase, report
from cityos.cases import service as case_service
from cityos.core.identifiers import credit_check_character
from cityos.onestop import Bundle, BundleItem, Material, ServiceItem, install_catalogue, static_catalogue
from cityos.onestop.ratings import rate_case
from cityos.plans.definitions import Figure, PlanIndicator
from cityos.plans.figures import pick, read_figures
from cityos.runtime import Runtime

T = "default"
ITEMS = tuple(
    ServiceItem(code=code, version=1, name=name, name_en=code, department="market-supervision",
                applicant_kinds=("enterprise",), legal_basis=("《行政许可法》",), conditions=("依法设立",),
                materials=(Material(code="form", name="申请表", source="upload"),), legal_limit_days=20,
                promised_limit_days=5, fee="不收费", handling="online")
    for code, name in (("HP-XK-0001", "营业执照"), ("HP-XK-0002", "食品经营许可"))
)  # fmt: skip
SHOP = Bundle(code="shop", name="开办小店一件事", name_en="Opening a shop", applicant_kind="enterprise",
              items=tuple(BundleItem(i.code) for i in ITEMS), lead_department="market-supervision")  # fmt: skip


def company(n: int) -> str:
    base = f"91310101MA1FPX{n:03d}"
    return base + credit_check_character(base)


def entry(ind_id: str) -> PlanIndicator:
    return next(e for e in plans.shipped() if e.indicator.id == ind_id)


@pytest.fixture
def shop(api: Api) -> Api:
    install_catalogue(api.rt, static_catalogue(ITEMS, [SHOP], applicable=lambda b, a: [i.item for i in b.items]))
    return api


def submit(api: Api, key: str, token: str | None = "", status: int = 201, **body: Any) -> None:
    r = api.post("/onestop/submissions", json={"bundle": "shop", "answers": {}, **body},
                 headers={"Idempotency-Key": key}, token=token)  # fmt: skip
    assert r.status_code == status, r.text


def test_two_online_and_one_at_a_counter_is_an_online_share_of_two_thirds(shop: Api) -> None:
    for n in (1, 2):  # the enterprise's own login: the portal, online
        own = sign_in_subject(shop.rt.db, f"enterprise:{n}", Subject("enterprise", company(n), f"e-{n}"), tenant=T)[0]
        submit(shop, f"own-{n}", token=own)
    submit(shop, "counter", applicant=company(3), applicantKind="enterprise")  # an admin's login: a counter for them
    submit(shop, "counter", status=200, applicant=company(3), applicantKind="enterprise")  # a retry: nothing new
    now = datetime.now(UTC)
    figures = read_figures(shop.rt, T, plans.shipped(), now)
    assert figures["plan_online_share"] == pytest.approx(2 / 3)
    assert figures["plan_bundle_submissions"] == 3
    assert "plan_certificates_issued" in figures and figures["plan_certificates_issued"] == 0
    counted = onestop.service_figures(shop.rt, T, since=now - timedelta(days=30))
    assert (counted.online, counted.on_site, counted.submissions) == (2, 1, 3)
    listed = onestop.items(shop.rt, tenant=T)
    wholly_online = [i for i in listed if i.handling in ("online", "both")]
    assert figures["plan_online_items_share"] == pytest.approx(len(wholly_online) / len(listed))
    before = onestop.service_figures(shop.rt, T, since=now - timedelta(days=30), until=now - timedelta(days=1))
    assert before.submissions == 0 and before.online_rate is None  # nothing then: no rate, not 0


def test_devices_reads_and_open_datasets_are_counted_through_their_packages(rt: Runtime) -> None:
    iot.create_group(rt, iot.DeviceGroupCreate(apikey="plans", name="客流计数", department="hp-culture"))
    counts = {"c": iot.MeasureIn(attr="peopleCount")}
    made = [iot.DeviceCreate(device_id=f"plan-{n}", apikey="plans", device_type="crowd-counter",
                             entity_type="CrowdFlowObserved", measures=counts) for n in range(3)]  # fmt: skip
    iot.provision(rt, made)
    route = "GET /datahub/datasets/{code}/records"
    read = datahub.AuditRead(principal="civil-affairs", code="HP-01-01-0001", route=route)
    datahub.append(rt, T, [read, read])
    datahub.append(rt, "elsewhere", [read])  # another tenant's read is not this tenant's
    datahub.load_catalogue(rt, T, by="test")
    figures = read_figures(rt, T, plans.shipped(), datetime.now(UTC))
    assert figures["plan_iot_devices"] == 3 and figures["plan_iot_devices_online"] == 0
    assert figures["plan_sharing_calls"] == 2
    opened = opendata.snapshot(rt, T).packages
    assert figures["plan_open_datasets"] == len(opened) > 0


def test_cases_closed_on_time_count_against_their_due_time(rt: Runtime) -> None:
    t0 = datetime.now(UTC) - timedelta(days=20)
    for n, late in enumerate((False, True)):
        new = NewCase(text=f"垃圾满溢 {n}", category="garbage-uncollected", lon=121.47 + n * 0.03, lat=31.23)
        reported = report(rt, T, new, "desk", "operator", now=t0)
        case = reported.case
        assert reported.created and isinstance(case, CaseView)
        assert case.due_at, "a dispatched case has a due time"
        due = datetime.fromisoformat(case.due_at)
        at = due + timedelta(hours=1) if late else t0 + timedelta(hours=1)
        for action in ("accept", "start"):
            case_service.act(rt, T, case.id, action, "handler", "handler", department=case.department, now=t0)
        case_service.act(rt, T, case.id, "handle", "handler", "handler", department=case.department,
                         data={"result": "done"}, now=at)  # fmt: skip
    figures = read_figures(rt, T, [entry("plan_case_on_time_rate")], datetime.now(UTC))
    assert figures["plan_case_on_time_rate"] == pytest.approx(0.5)


def test_a_failing_package_leaves_the_other_figures_standing(rt: Runtime) -> None:
    broken = PlanIndicator(indicator=entry("plan_iot_devices").indicator,
                           figure=Figure(call="iot.health_summary", value="total.nothing"), headline=False)  # fmt: skip
    figures = read_figures(rt, T, [broken, entry("plan_open_datasets")], datetime.now(UTC))
    assert set(figures) == {"plan_open_datasets"}


def test_pick_reads_attributes_keys_and_counts() -> None:
    assert pick({"a": {"b": 2}}, "a.b") == 2.0
    assert pick([1, 2, 3], None) == 3.0
    assert pick({"rate": None}, "rate") is None
    with pytest.raises(TypeError, match="not a number"):
        pick({"name": "x"}, "name")


def test_the_good_rate_counts_ratings_of_four_and_five_through_onestop(rt: Runtime) -> None:
    assert "plan_good_rate" not in read_figures(rt, T, [entry("plan_good_rate")], datetime.now(UTC))  # none yet
    for n, level in enumerate((5, 4, 2)):  # two good, one bad (the bad one opens a follow-up, not counted here)
        event = {"caseId": f"C-{n}", "rating": level, "category": "garbage-uncollected", "department": "greening",
                 "source": "hotline"}  # fmt: skip
        assert rate_case(rt, T, event) is not None
    figures = read_figures(rt, T, [entry("plan_good_rate")], datetime.now(UTC))
    assert figures["plan_good_rate"] == pytest.approx(2 / 3)
