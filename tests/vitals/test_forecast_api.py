"""Forecasts through the API and the backtest command, on stored indicator values."""

from __future__ import annotations

import math
import random
import time
from typing import Any

from conftest import Api
from typer.testing import CliRunner

from cityos.cli import app as cli
from cityos.config import get_settings
from cityos.runtime import Runtime
from cityos.vitals import store

BUND = "urn:ngsi-ld:ManagementUnit:waitan"
MIN = 60_000


def stored(rt: Runtime, indicator: str, scope: str, points: list[tuple[int, float]]) -> None:
    rows = [(indicator, scope, t, v, 0) for t, v in points]
    rt.db.run_write(lambda conn: store.insert_values(conn, "default", rows))


def test_a_rising_density_is_forecast_to_cross_orange_with_a_pre_warning(api: Api, rt: Runtime) -> None:
    now = int(time.time() * 1000)
    climb = [(now - (90 - k) * MIN, 1.0 + 2.7 * k / 90) for k in range(91)]  # 1.0 → 3.7 persons/m² in 90 min
    stored(rt, "bund_crowd_density", BUND, climb)
    r = api.get("/vitals/indicators/bund_crowd_density/forecast", params={"scope": BUND})
    assert r.status_code == 200, r.text
    fc = r.json()
    assert fc["method"] == "ets-trend" and fc["stepSeconds"] == 300 and len(fc["points"]) == 12
    assert all(p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"] for p in fc["points"])
    assert fc["points"][-1]["mean"] > 4.0  # still climbing an hour on
    levels = [w["level"] for w in fc["preWarnings"]]  # no warning is active: every level it reaches
    assert levels[:3] == [1, 2, 3]
    orange = fc["preWarnings"][2]
    assert orange["levelZh"] == "橙" and orange["grade"] == "II" and 0 < orange["probability"] <= 1
    assert orange["at"] > fc["points"][0]["at"]  # still ahead: 3.7 now, 4 later
    no_forecast = api.get("/vitals/indicators/hotspot_walking_speed/forecast", params={"scope": BUND})
    assert no_forecast.status_code == 409 and "forecast" in no_forecast.json()["detail"]
    assert api.get("/vitals/indicators/nope/forecast", params={"scope": BUND}).status_code == 404


def test_backtest_reports_mase_per_group(api: Api, rt: Runtime, monkeypatch: object) -> None:
    now = int(time.time() * 1000)
    now -= now % (5 * MIN)  # on the forecast's 5-minute grid, so that the figure does not depend on the clock
    day = 24 * 60
    rng = random.Random(5)
    series = [
        (now - (3 * day - k) * MIN, 40 + 25 * math.sin(2 * math.pi * k / day) + rng.gauss(0, 1))
        for k in range(0, 3 * day, 5)
    ]  # three days of a daily PM2.5 shape every 5 minutes, with noise
    stored(rt, "pm25_district", "district", series)
    monkeypatch.setenv("CITYOS_DATABASE_URL", rt.db.url)  # type: ignore[attr-defined]
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(cli, ["vitals", "backtest", "pm25_district"])
        assert out.exit_code == 0, out.output
        assert "district" in out.output
        score = float(out.output.split("│")[-2].strip()) if "│" in out.output else None
        assert score is not None and 0 < score < 1.0
        missing = CliRunner().invoke(cli, ["vitals", "backtest", "no_such_indicator"])
        assert missing.exit_code == 1 and "no indicator" in missing.output
    finally:
        get_settings.cache_clear()


def test_the_runner_refreshes_forecasts_and_publishes_pre_warnings_as_they_come_and_go(api: Api, rt: Runtime) -> None:
    from cityos.vitals.runner import VitalsRunner

    seen: list[Any] = []
    rt.bus.subscribe("prewarning.*", seen.append)
    now = int(time.time() * 1000)
    climb = [(now - (90 - k) * MIN, 1.0 + 2.7 * k / 90) for k in range(91)]  # toward orange within the hour
    stored(rt, "bund_crowd_density", BUND, climb)
    runner = VitalsRunner(rt)  # not started: its forecaster is driven by hand, without waiting for the clock
    assert runner.refresh_forecasts(now) >= 1
    raised = [e.data for e in seen if e.subject == "prewarning.raised" and e.data["indicator"] == "bund_crowd_density"]
    assert [d["level"] for d in raised][:3] == [1, 2, 3]
    assert all(d["scope"] == BUND and d["at"] > d["issuedAt"] for d in raised)
    listed = api.get("/vitals/prewarnings", params={"indicator": "bund_crowd_density"}).json()
    assert {w["levelZh"] for w in listed} >= {"蓝", "黄", "橙"}
    assert runner.refresh_forecasts(now + MIN) == 0  # not a forecast step later: nothing is due
    seen.clear()
    calm = [(now + k * MIN, 1.0) for k in range(1, 121)]  # two calm hours later: nothing foreseen
    stored(rt, "bund_crowd_density", BUND, calm)
    assert runner.refresh_forecasts(now + 121 * MIN) >= 1
    cleared = {e.data["level"] for e in seen if e.subject == "prewarning.cleared"}
    assert {1, 2, 3} <= cleared
    assert api.get("/vitals/prewarnings", params={"indicator": "bund_crowd_density"}).json() == []
    assert api.get("/vitals/prewarnings", token=None).status_code == 401
