"""No script from the data runs on the dashboard: markup sent as a device's reading (over the group's API key
alone), as an entity's name (NGSI-LD), as a case's text and as an indicator's name shows as text on every
page that shows it, in a real browser (Debian's Chromium through Playwright) against ``cityos demo``
without its simulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from chromium import Demo, log_in, running_demo, watched_page
from conftest import wait_for

pytestmark = [pytest.mark.interop, pytest.mark.browser]

UNIT = "urn:ngsi-ld:ManagementUnit:xintiandi"
# Each part, if the page wrote it as markup, would set window.__pwned or open a dialog.
PAYLOAD = (
    "<img src=x onerror=\"window.__pwned='img';alert('img')\">"
    "\"><script>window.__pwned='script';alert('script')</script>"
    "</textarea><svg onload=\"window.__pwned='svg';alert('svg')\">"
    "' onmouseover='window.__pwned=\"attr\"' x='"
    "javascript:window.__pwned='url'//"
)
# an indicator's name and unit have room for less (100 and 32 characters)
NAME = "<img src=x onerror=\"window.__pwned='name';alert('name')\">"
UNIT_NAME = "<svg onload=alert('unit')>"
INDICATOR = "xss_streetlight_power"
WATCH = {
    "category": "energy", "source": {"entityType": "Streetlight", "attr": "powerConsumption"},
    "aggregation": "max", "window": {"kind": "sliding", "duration": "5s"}, "scope": {"level": "unit", "ids": [UNIT]},
    "thresholds": {"blue": 1, "yellow": 2, "orange": 3, "red": 4},
}  # fmt: skip


@dataclass
class Poisoned:
    demo: Demo
    sensor: str  # the streetlight whose reading and name are the payload
    lon: float
    lat: float
    case_id: str
    case_state: str
    warning_id: str


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Poisoned]:
    """The demo district, a streetlight of Xintiandi whose reading (over /iot/json with its group's key) and
    name (NGSI-LD) are the payload, Xintiandi's own name the payload too, and a hotline case that quotes it."""
    with running_demo(tmp_path_factory.mktemp("xss"), "--sensors", "60", "--no-simulate") as demo:
        twin = demo.get(f"/twin/units/{UNIT}")
        light = next(s for s in twin["sensors"] if s["type"] == "Streetlight")
        device = demo.get(f"/iot/devices/{light['id'].split(':')[-1]}")
        key = next(k for k, m in device["measures"].items() if m["attr"] == light["attr"])
        # a device's message needs no token: the group's API key is all
        r = demo.http.post("/iot/json", params={"k": device["apikey"], "i": device["deviceId"]},
                           json={key: PAYLOAD}, headers={"Authorization": ""})  # fmt: skip
        assert r.status_code == 200, r.text
        named = {"name": {"type": "Property", "value": PAYLOAD}}
        r = demo.http.patch(f"/ngsi-ld/v1/entities/{light['id']}/attrs", json=named)
        assert r.status_code == 204, r.text
        unit_named = {"name": {"type": "Property", "value": {"zh": PAYLOAD, "en": PAYLOAD}}}
        r = demo.http.patch(f"/ngsi-ld/v1/entities/{UNIT}/attrs", json=unit_named)
        assert r.status_code == 204, r.text
        lon, lat = device["location"]["lon"], device["location"]["lat"]
        report = {"source": "hotline", "text": PAYLOAD, "lon": lon, "lat": lat}
        # 503 (Retry-After) while the demo's classifier still loads in the background
        r = wait_for(lambda: (r := demo.http.post("/cases", json=report)).status_code != 503 and r, timeout=120)
        assert r.status_code == 201, r.text
        case = r.json()["case"]
        # an indicator named with the payload, raised by the streetlight's power draw
        watts = next(k for k, m in device["measures"].items() if m["attr"] == "powerConsumption")
        indicator = {**WATCH, "name": {"zh": NAME, "en": NAME}, "unit": UNIT_NAME}
        r = demo.http.put(f"/vitals/indicators/{INDICATOR}", json=indicator)
        assert r.status_code in (200, 201), r.text

        def raised() -> str | None:
            sent = demo.http.post("/iot/json", params={"k": device["apikey"], "i": device["deviceId"]},
                                  json={watts: 500}, headers={"Authorization": ""})  # fmt: skip
            assert sent.status_code == 200, sent.text
            found = demo.get("/vitals/warnings", params={"indicator": INDICATOR})
            return found[0]["id"] if found else None

        warning_id = wait_for(raised, 60)  # once the new definition's 5 s window has filled
        yield Poisoned(demo, light["id"], lon, lat, case["id"], case["state"], warning_id)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A watched page that also records every dialog a script opens (and dismisses it)."""
    with watched_page(browser) as pg:
        pg.dialogs = []
        pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
        yield pg


def nothing_ran(page: Any) -> None:
    assert page.evaluate("() => window.__pwned") is None, "a payload ran"
    assert page.dialogs == [], f"a payload opened dialogs: {page.dialogs}"
    found = page.evaluate(
        """() => ({ handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes]
                      .some((a) => a.name.startsWith('on'))).map((e) => e.outerHTML.slice(0, 80)),
                    links: [...document.querySelectorAll('a[href], [src]')].map((e) => e.href || e.src)
                      .filter((u) => /^\\s*javascript:/i.test(u)),
                    injected: document.querySelectorAll('img[src="x"], svg[onload], main script').length })"""
    )
    assert found == {"handlers": [], "links": [], "injected": 0}


def texts(page: Any, selector: str) -> list[str]:
    return page.locator(selector).evaluate_all("(els) => els.map((e) => e.textContent.trim())")


def tooltip(page: Any, series_id: str, name: str, shown: str = PAYLOAD) -> str:
    """Show the map's tooltip on one point, as hovering it does, and read the tooltip's text."""
    wait_for(lambda: page.evaluate(
        """([seriesId, name]) => {
          const chart = echarts.getInstanceByDom(document.querySelector('#map'));
          const option = chart && chart.getOption();
          if (!option) return false;
          const series = option.series;
          const seriesIndex = series.findIndex((s) => s.id === seriesId);
          const dataIndex = seriesIndex < 0 ? -1 : series[seriesIndex].data.findIndex((d) => d.name === name);
          if (dataIndex >= 0) chart.dispatchAction({ type: 'showTip', seriesIndex, dataIndex });
          return dataIndex >= 0;
        }""",
        [series_id, name],
    ))  # fmt: skip
    return wait_for(lambda: page.evaluate(
        """(payload) => [...document.querySelectorAll('#map div')].map((d) => d.textContent)
              .find((t) => t.includes(payload.slice(0, 20))) || null""",
        shown,
    ))  # fmt: skip


def test_the_unit_page_shows_the_payload_as_text(page: Any, poisoned: Poisoned) -> None:
    log_in(page, poisoned.demo, "duty")
    page.goto(f"{poisoned.demo.url}/#/unit/{UNIT}")
    page.wait_for_selector("#twin-title")
    assert page.text_content("#twin-title") == PAYLOAD  # the unit's name (NGSI-LD)
    rows = page.locator("#twin tbody tr").evaluate_all(
        "(trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()))"
    )
    assert [PAYLOAD, "Streetlight", PAYLOAD] in [row[:3] for row in rows]  # the streetlight's name and reading
    assert any(row[0] == NAME and row[1].endswith(UNIT_NAME) for row in rows)  # the indicator and its unit
    assert any(NAME in t for t in texts(page, "#twin ol.list li"))  # the warning
    nothing_ran(page)


def test_the_map_tooltips_and_sensor_details_show_the_payload_as_text(page: Any, poisoned: Poisoned) -> None:
    log_in(page, poisoned.demo, "duty")
    sensor_tip = tooltip(page, "sensors-Streetlight", poisoned.sensor)
    assert f"powerState: {PAYLOAD}" in sensor_tip  # the reading, as the device sent it

    # the point clicked: its details beside the map (clicked again should a redraw have moved it meanwhile)
    def clicked() -> bool:
        xy = page.evaluate(
            """([lon, lat]) => { const chart = echarts.getInstanceByDom(document.querySelector('#map'));
                  const box = document.querySelector('#map').getBoundingClientRect();
                  const [x, y] = chart.convertToPixel({ geoIndex: 0 }, [lon, lat]);
                  return [box.left + x, box.top + y]; }""",
            [poisoned.lon, poisoned.lat],
        )
        page.mouse.click(*xy)
        return poisoned.sensor in texts(page, "#details:not([hidden]) dd")

    wait_for(clicked)
    assert PAYLOAD in texts(page, "#details dd")
    # the case's pin, hovered
    assert PAYLOAD[:60] in tooltip(page, "cases", poisoned.case_id)
    # the warning's marker, hovered
    assert NAME in tooltip(page, "warnings", poisoned.warning_id, NAME)
    nothing_ran(page)


def test_the_warning_list_and_details_show_the_payload_as_text(page: Any, poisoned: Poisoned) -> None:
    log_in(page, poisoned.demo, "duty")
    row = f"#warnings [data-warning='{poisoned.warning_id}']"
    page.wait_for_selector(row)
    assert page.text_content(f"{row} .what") in (f"{NAME} · 新天地", f"{NAME} · {PAYLOAD}")  # the map's names: 60 s
    page.click(f"{row} .what")
    page.wait_for_selector("#details:not([hidden]) h3")
    assert page.text_content("#details h3").strip().endswith(NAME)
    assert any(t.endswith(UNIT_NAME) for t in texts(page, "#details dd"))  # the value and its unit
    nothing_ran(page)


def test_the_case_list_and_drawer_show_the_payload_as_text(page: Any, poisoned: Poisoned) -> None:
    log_in(page, poisoned.demo, "duty")
    tab = "dispatch" if poisoned.case_state in ("reported", "registered", "returned") else "open"
    page.click(f"#case-tabs [data-tab={tab}]")
    page.wait_for_selector(f"#cases [data-case='{poisoned.case_id}']")
    assert page.text_content(f"#cases [data-case='{poisoned.case_id}'] .text") == PAYLOAD
    page.click(f"#cases [data-case='{poisoned.case_id}']")
    page.wait_for_selector("#case-actions")
    assert page.text_content("#drawer-title") == PAYLOAD[:40]
    assert PAYLOAD in texts(page, "#drawer dd")
    nothing_ran(page)
