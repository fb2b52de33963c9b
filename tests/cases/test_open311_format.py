"""Open311 GeoReport v2 representations: services from the taxonomy, POST form checks, request views and XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from cityos.cases.open311 import (
    DESCRIPTION_MAX,
    NewRequest,
    Open311Error,
    Open311Errors,
    errors_body,
    parse_request,
    parse_w3c,
    request_view,
    service_definition,
    service_list,
    status_filter,
    to_xml,
)
from cityos.cases.taxonomy import Taxonomy, load_taxonomy

SERVICE_KEYS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
REQUEST_KEYS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
CODE = "garbage-uncollected"


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def parse(xml: bytes) -> ET.Element:
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(xml)


def a_case(**changes: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "id": 42,
        "state": "in_progress",
        "category": CODE,
        "text": "小区门口垃圾桶满溢三天了",
        "department": "city-appearance",
        "address": "上海市黄浦区南京东路100号",
        "lon": 121.4737,
        "lat": 31.2304,
        "created_at": "2024-05-01T08:00:00+08:00",
        "updated_at": "2024-05-01T09:30:00+08:00",
        "due_at": "2024-05-02T08:00:00+08:00",
        "result": None,
        "attachments": ["https://files.example.org/a.jpg", "https://files.example.org/b.jpg"],
        "last_note": "已派遣至市容环境部门",
    }
    case.update(changes)
    return case


def errors_of(form: dict[str, str], taxonomy: Taxonomy) -> Open311Errors:
    with pytest.raises(Open311Errors) as caught:
        parse_request(form, taxonomy)
    return caught.value


# --- services -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_service_list_has_one_service_per_sub_category(taxonomy: Taxonomy, lang: str) -> None:
    services = service_list(taxonomy, lang)
    assert [s["service_code"] for s in services] == [sub.code for sub in taxonomy.subs]
    for service, sub in zip(services, taxonomy.subs, strict=True):
        assert list(service) == SERVICE_KEYS
        name = sub.name.zh if lang == "zh" else sub.name.en
        group = taxonomy.main(sub.main).name
        assert service["service_name"] == name
        assert service["group"] == (group.zh if lang == "zh" else group.en)
        assert service["keywords"].split(",") == list(sub.keywords)
        assert service["type"] == "realtime"
        assert service["metadata"] is True  # every service defines the urgency attribute


def test_service_list_refuses_an_unknown_language(taxonomy: Taxonomy) -> None:
    with pytest.raises(Open311Error) as caught:
        service_list(taxonomy, "fr")
    assert caught.value.status == 400
    assert "zh" in caught.value.description and "en" in caught.value.description


def test_service_definition_offers_an_optional_urgency_list(taxonomy: Taxonomy) -> None:
    zh = service_definition(taxonomy, CODE, "zh")
    en = service_definition(taxonomy, CODE, "en")
    assert zh["service_code"] == CODE
    [attribute] = zh["attributes"]
    assert attribute["code"] == "urgency"
    assert attribute["datatype"] == "singlevaluelist"
    assert (attribute["variable"], attribute["required"], attribute["order"]) == (True, False, 1)
    assert [v["key"] for v in attribute["values"]] == ["normal", "urgent"]
    assert [v["name"] for v in attribute["values"]] == ["一般", "紧急"]
    assert [v["name"] for v in en["attributes"][0]["values"]] == ["Normal", "Urgent"]


def test_service_definition_of_an_unknown_code_is_404(taxonomy: Taxonomy) -> None:
    with pytest.raises(Open311Error) as caught:
        service_definition(taxonomy, "no-such-service", "en")
    err = caught.value
    assert (err.status, err.code) == (404, 404)
    assert "no-such-service" in err.description
    assert "GET services" in err.description


# --- POST requests --------------------------------------------------------------------------------------------------


def test_parse_request_accepts_a_good_form(taxonomy: Taxonomy) -> None:
    form = {
        "api_key": "ignored-here",
        "jurisdiction_id": "city.example.cn",
        "service_code": CODE,
        "lat": "31.2304",
        "long": "121.4737",
        "address_string": "南京东路100号",
        "email": "citizen@example.cn",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13800000000",
        "description": "垃圾桶满溢",
        "media_url": "https://files.example.org/a.jpg",
        "attribute[urgency]": "urgent",
        "device_id": "",  # empty means not sent
    }
    request = parse_request(form, taxonomy)
    assert request == NewRequest(
        service_code=CODE,
        lat=31.2304,
        lon=121.4737,
        address_string="南京东路100号",
        description="垃圾桶满溢",
        email="citizen@example.cn",
        first_name="小明",
        last_name="王",
        phone="13800000000",
        media_url="https://files.example.org/a.jpg",
        attributes={"urgency": "urgent"},
    )


@pytest.mark.parametrize(
    "location",
    [{"lat": "31.2", "long": "121.4"}, {"address_string": "人民广场"}, {"address_id": "SH-000123"}],
)
def test_any_one_kind_of_location_is_enough(taxonomy: Taxonomy, location: dict[str, str]) -> None:
    request = parse_request({"service_code": CODE, **location}, taxonomy)
    assert request.service_code == CODE
    assert request.attributes == {}


def test_missing_code_and_location_are_both_reported(taxonomy: Taxonomy) -> None:
    exc = errors_of({"description": "路灯不亮"}, taxonomy)
    assert [e.status for e in exc.errors] == [400, 400]
    assert exc.status == 400
    assert "service_code" in exc.errors[0].description
    location = exc.errors[1].description
    assert all(word in location for word in ("lat", "long", "address_string", "address_id"))


def test_an_unknown_code_is_404(taxonomy: Taxonomy) -> None:
    exc = errors_of({"service_code": "no-such-service", "address_string": "人民广场"}, taxonomy)
    assert [e.status for e in exc.errors] == [404]
    assert exc.status == 404
    assert "no-such-service" in exc.errors[0].description


def test_the_answer_takes_the_status_of_the_first_error(taxonomy: Taxonomy) -> None:
    exc = errors_of({"service_code": "no-such-service"}, taxonomy)
    assert [e.status for e in exc.errors] == [404, 400]
    assert exc.status == 404


def test_every_problem_of_a_bad_form_is_reported(taxonomy: Taxonomy) -> None:
    form = {
        "service_code": CODE,
        "lat": "91",
        "long": "east",
        "description": "x" * (DESCRIPTION_MAX + 1),
        "email": "not-an-email",
        "media_url": "ftp://files.example.org/a.jpg",
        "attribute[urgency]": "very",
        "attribute[colour]": "red",
    }
    exc = errors_of(form, taxonomy)
    descriptions = [e.description for e in exc.errors]
    assert len(descriptions) == 7, descriptions
    assert all(e.status == 400 for e in exc.errors)
    expected = ["lat '91'", "long 'east'", "description", "email", "media_url", "'very'", "'colour'"]
    for fragment, description in zip(expected, descriptions, strict=True):
        assert fragment in description


def test_lat_without_long_says_what_to_send(taxonomy: Taxonomy) -> None:
    exc = errors_of({"service_code": CODE, "lat": "31.2"}, taxonomy)
    [err] = exc.errors
    assert "without long" in err.description


def test_a_description_of_exactly_the_limit_is_accepted(taxonomy: Taxonomy) -> None:
    text = "字" * DESCRIPTION_MAX
    request = parse_request({"service_code": CODE, "address_id": "1", "description": text}, taxonomy)
    assert request.description == text


def test_a_list_value_for_a_single_value_attribute_is_refused(taxonomy: Taxonomy) -> None:
    exc = errors_of({"service_code": CODE, "address_id": "1", "attribute[urgency][]": "urgent"}, taxonomy)
    [err] = exc.errors
    assert "attribute[urgency]=value" in err.description


def test_errors_body_is_the_spec_list(taxonomy: Taxonomy) -> None:
    exc = errors_of({}, taxonomy)
    body = errors_body(exc.errors)
    assert body == [{"code": 400, "description": e.description} for e in exc.errors]


# --- request view ---------------------------------------------------------------------------------------------------

STATES = {
    "reported": "open",
    "registered": "open",
    "dispatched": "open",
    "returned": "open",
    "accepted": "open",
    "in_progress": "open",
    "suspended": "open",
    "handled": "open",
    "verified": "open",
    "closed": "closed",
    "cancelled": "closed",
    "merged": "closed",
    "split": "closed",
}


@pytest.mark.parametrize(("state", "status"), STATES.items())
def test_request_view_status_for_each_state(taxonomy: Taxonomy, state: str, status: str) -> None:
    assert request_view(a_case(state=state), taxonomy, "zh")["status"] == status


def test_request_view_covers_every_workflow_state() -> None:
    from cityos.cases.workflow import State

    assert set(STATES) == {s.value for s in State}


def test_request_view_maps_the_case(taxonomy: Taxonomy) -> None:
    view = request_view(a_case(), taxonomy, "en")
    assert list(view) == REQUEST_KEYS
    assert view["service_request_id"] == "42"
    assert view["service_name"] == taxonomy.sub(CODE).name.en
    assert view["service_code"] == CODE
    assert view["description"] == "小区门口垃圾桶满溢三天了"
    assert view["agency_responsible"] == "city-appearance"
    assert view["status_notes"] == "已派遣至市容环境部门"
    assert view["requested_datetime"] == "2024-05-01T08:00:00+08:00"
    assert view["expected_datetime"] == "2024-05-02T08:00:00+08:00"
    assert (view["lat"], view["long"]) == (31.2304, 121.4737)
    assert view["media_url"] == "https://files.example.org/a.jpg"
    assert (view["address_id"], view["zipcode"], view["service_notice"]) == (None, None, "")


def test_a_closed_request_explains_itself_with_the_result(taxonomy: Taxonomy) -> None:
    view = request_view(a_case(state="closed", result="已清运完毕", attachments=[], due_at=None), taxonomy, "zh")
    assert view["status_notes"] == "已清运完毕"
    assert view["media_url"] is None
    assert view["expected_datetime"] is None


# --- query parameters -----------------------------------------------------------------------------------------------


def test_status_filter() -> None:
    assert status_filter(None) is None
    assert status_filter("") is None
    assert status_filter("open") == {"open"}
    assert status_filter("open, closed") == {"open", "closed"}
    with pytest.raises(Open311Error) as caught:
        status_filter("open,pending")
    assert caught.value.status == 400
    assert "'pending'" in caught.value.description


def test_parse_w3c_reads_utc_and_offsets() -> None:
    assert parse_w3c("2010-01-01T00:00:00Z", "start_date") == datetime(2010, 1, 1, tzinfo=UTC)
    east8 = timezone(timedelta(hours=8))
    assert parse_w3c("2010-01-01T08:00+08:00", "end_date") == datetime(2010, 1, 1, 8, tzinfo=east8)
    assert parse_w3c("2010-01-01T00:00:00.123456789Z", "x").microsecond == 123456


@pytest.mark.parametrize(
    "value", ["2010-01-01", "2010-01-01T00:00:00", "yesterday", "2010-13-01T00:00:00Z", "2010-01-01T00:00:00 08:00"]
)
def test_parse_w3c_refuses_with_the_parameter_name(value: str) -> None:
    with pytest.raises(Open311Error) as caught:
        parse_w3c(value, "start_date")
    assert caught.value.status == 400
    assert caught.value.description.startswith("start_date ")


def test_parse_w3c_explains_a_plus_sent_unescaped() -> None:
    with pytest.raises(Open311Error) as caught:
        parse_w3c("2010-01-01T00:00:00 08:00", "end_date")
    assert "%2B" in caught.value.description


# --- XML ------------------------------------------------------------------------------------------------------------


def test_services_xml(taxonomy: Taxonomy) -> None:
    services = service_list(taxonomy, "zh")
    root = parse(to_xml("services", services))
    assert root.tag == "services"
    assert [child.tag for child in root] == ["service"] * len(services)
    first = root[0]
    assert [child.tag for child in first] == SERVICE_KEYS
    assert first.findtext("service_name") == services[0]["service_name"]  # Chinese text intact
    assert first.findtext("group") == "市容环境"
    assert first.findtext("metadata") == "true"


def test_service_definition_xml(taxonomy: Taxonomy) -> None:
    root = parse(to_xml("service_definition", service_definition(taxonomy, CODE, "zh")))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == CODE
    [attribute] = root.findall("attributes/attribute")
    assert attribute.findtext("code") == "urgency"
    assert attribute.findtext("required") == "false"
    assert attribute.findtext("variable") == "true"
    assert [(v.findtext("key"), v.findtext("name")) for v in attribute.findall("values/value")] == [
        ("normal", "一般"),
        ("urgent", "紧急"),
    ]


def test_service_requests_xml(taxonomy: Taxonomy) -> None:
    views = [request_view(a_case(), taxonomy, "zh"), request_view(a_case(id=43, state="closed"), taxonomy, "zh")]
    root = parse(to_xml("service_requests", views))
    assert root.tag == "service_requests"
    assert [r.tag for r in root] == ["request", "request"]
    assert [child.tag for child in root[0]] == REQUEST_KEYS
    assert root[0].findtext("description") == "小区门口垃圾桶满溢三天了"
    assert root[0].findtext("address") == "上海市黄浦区南京东路100号"
    assert root[0].findtext("long") == "121.4737"
    assert root[1].findtext("status") == "closed"
    none_element = root[0].find("zipcode")
    assert none_element is not None and none_element.text is None  # None is an empty element


def test_post_response_and_tokens_xml() -> None:
    posted = parse(to_xml("post_response", [{"service_request_id": "42", "service_notice": "", "account_id": None}]))
    assert posted.tag == "service_requests"
    assert [child.tag for child in posted[0]] == ["service_request_id", "service_notice", "account_id"]
    assert posted[0].findtext("service_request_id") == "42"
    tokens = parse(to_xml("tokens", [{"service_request_id": "42", "token": "t-1"}]))
    assert tokens.tag == "service_requests"
    assert tokens[0].tag == "request"
    assert (tokens[0].findtext("service_request_id"), tokens[0].findtext("token")) == ("42", "t-1")


def test_errors_xml(taxonomy: Taxonomy) -> None:
    exc = errors_of({"description": "无"}, taxonomy)
    root = parse(to_xml("errors", errors_body(exc.errors)))
    assert root.tag == "errors"
    assert [e.tag for e in root] == ["error", "error"]
    assert [e.findtext("code") for e in root] == ["400", "400"]
    assert [e.findtext("description") for e in root] == [e.description for e in exc.errors]


def test_xml_survives_control_characters_and_markup(taxonomy: Taxonomy) -> None:
    view = request_view(a_case(text="垃圾<满溢>&\x0b三天"), taxonomy, "zh")
    root = parse(to_xml("service_requests", [view]))
    assert root[0].findtext("description") == "垃圾<满溢>&三天"


def test_to_xml_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown Open311 XML kind"):
        to_xml("requests", [])
