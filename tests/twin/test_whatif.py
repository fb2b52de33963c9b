"""What-if arithmetic without a database: the shipped catalogue's Bund, and small catalogues of our own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cityos.demo.district import BUND, NANJING_ROAD
from cityos.twin import whatif
from cityos.vitals.definitions import Catalogue, load_catalogue, load_yaml
from cityos.vitals.service import SHIPPED

STEP_MS = 300_000
# 23:00 in Shanghai: the steps of an hour's forecast are 23:05 ... 00:00
START_MS = int(datetime(2026, 12, 31, 15, 0, tzinfo=UTC).timestamp() * 1000)
STEPS_MS = [START_MS + (k + 1) * STEP_MS for k in range(12)]
SATURDAY = 229_000.0  # bund_people (counter passes per 5 minutes) that gives about 1.1 persons/m²


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_yaml(SHIPPED)


def base(id_: str, **extra: Any) -> dict[str, Any]:
    return {"id": id_, "name": {"zh": id_, "en": id_}, "category": "crowds", "unit": "n",
            "source": {"entityType": "CrowdFlowObserved", "attr": "peopleCount"}, "aggregation": "sum",
            "window": {"kind": "sliding", "duration": "5m"}, "scope": {"level": "unit"},
            "forecast": {"horizon": "1h"}, **extra}  # fmt: skip


def derived(id_: str, formula: str, **extra: Any) -> dict[str, Any]:
    return {"id": id_, "name": {"zh": f"{id_}中文", "en": f"{id_} in English"}, "category": "crowds", "unit": "u",
            "formula": formula, "scope": {"level": "unit"}, **extra}  # fmt: skip


def test_the_bund_at_saturday_inflow_plus_150_percent_reaches_red(shipped: Catalogue) -> None:
    tracks = whatif.run(shipped, "bund_people", [SATURDAY] * 12, 1.5, 12, unit_id=BUND)
    people, density = tracks
    assert [t.indicator for t in tracks] == ["bund_people", "bund_crowd_density"]
    assert all(b == pytest.approx(1.1, abs=0.05) for b in density.baseline)  # what the description promises
    assert density.baseline_levels == [0] * 12
    assert people.scenario == pytest.approx([SATURDAY * 2.5] * 12) and people.scenario_levels == [0] * 12
    assert density.scenario_levels == [4] * 12  # "about 2.5 times that inflow reaches red"
    peak = whatif.peak(shipped, tracks)
    assert peak is not None and (peak.indicator, peak.level, peak.step) == ("bund_crowd_density", 4, 0)
    assert peak.value >= 5
    text = whatif.summary(shipped, "bund_people", 1.5, 60, peak, STEPS_MS)
    assert text["zh"] == (f"外滩客流计数在未来60分钟增加150%时，外滩人群密度将于23:05达到红色预警"
                          f"（{whatif.fmt(peak.value)} 人/平方米）")  # fmt: skip
    assert text["en"] == (f"With People counted at the Bund 150% higher for the next 60 minutes, Crowd density at "
                          f"the Bund reaches red at 23:05 ({whatif.fmt(peak.value)} persons/m²)")  # fmt: skip
    # when the forecast alone already reaches that level, the sentence says the change is not the cause
    also = whatif.summary(shipped, "bund_people", 1.5, 60, peak, STEPS_MS, baseline_level=4)
    assert also["zh"].endswith("；不加变化的预测也会达到该级别")
    assert also["en"].endswith("; the forecast without the change reaches it too")


def test_half_again_the_inflow_for_half_an_hour_is_blue_then_back(shipped: Catalogue) -> None:
    tracks = whatif.run(shipped, "bund_people", [SATURDAY] * 12, 0.5, 6, unit_id=BUND)
    density = tracks[1]
    assert density.scenario_levels == [1] * 6 + [0] * 6  # Fruin's 2 persons/m², then the baseline again
    assert density.scenario[6:] == density.baseline[6:]
    peak = whatif.peak(shipped, tracks)
    assert peak is not None and peak.level == 1 and peak.step == 0
    text = whatif.summary(shipped, "bund_people", 0.5, 30, peak, STEPS_MS)
    assert "增加50%" in text["zh"] and "蓝色预警" in text["zh"] and "reaches blue at 23:05" in text["en"]


def test_a_crowd_that_builds_up_is_reported_when_it_first_reaches_its_worst_level(shipped: Catalogue) -> None:
    rising = [SATURDAY * (1 + k / 10) for k in range(12)]
    tracks = whatif.run(shipped, "bund_people", rising, 1.0, 12, unit_id=BUND)
    levels = tracks[1].scenario_levels
    assert levels == sorted(levels) and levels[-1] == 4
    peak = whatif.peak(shipped, tracks)
    assert peak is not None and peak.step == levels.index(4) and peak.level == 4


def test_fewer_people_stay_below_every_level(shipped: Catalogue) -> None:
    tracks = whatif.run(shipped, "bund_people", [SATURDAY] * 12, -0.5, 12, unit_id=BUND)
    assert tracks[1].scenario_levels == [0] * 12 and tracks[1].scenario[0] < tracks[1].baseline[0]
    peak = whatif.peak(shipped, tracks)
    assert peak is not None and peak.level == 0 and peak.indicator == "bund_crowd_density"
    text = whatif.summary(shipped, "bund_people", -0.5, 60, peak, STEPS_MS)
    assert "减少50%" in text["zh"] and text["zh"].endswith("未达预警") and "below every warning level" in text["en"]


def test_the_units_inputs_indicators_and_what_they_affect_in_the_shipped_catalogue(shipped: Catalogue) -> None:
    assert whatif.affected(shipped, "bund_people") == ["bund_crowd_density"]
    assert whatif.affected(shipped, "streetlight_faults") == ["streetlight_fault_share"]
    assert whatif.affected(shipped, "bund_crowd_density") == []
    assert whatif.affected(shipped, "bund_people", NANJING_ROAD) == []  # the density is the Bund's only
    inputs = {ind.id: affects for ind, affects in whatif.what_if_inputs(shipped, BUND)}
    assert inputs == {"bund_people": ["bund_crowd_density"], "hotspot_people": []}  # walking speed: no forecast
    assert [i.id for i in whatif.unit_indicators(shipped, NANJING_ROAD)] == ["hotspot_people", "hotspot_walking_speed"]
    assert {i.id for i in whatif.unit_indicators(shipped, BUND)} >= {"bund_people", "bund_crowd_density"}
    assert whatif.unit_indicators(shipped, "urn:ngsi-ld:ManagementUnit:tianzifang") == []


def test_a_change_travels_through_a_chain_of_derived_indicators_and_held_inputs() -> None:
    cat = load_catalogue([
        base("aa"),
        base("xx", scope={"level": "district"}),
        derived("bb", "aa * 2"),
        derived("cc", "bb / xx + kk", constants={"kk": 1}, thresholds={"direction": "above", "yellow": 5, "red": 9}),
        derived("other", "xx * 3", scope={"level": "district"}),
    ])  # fmt: skip
    assert whatif.affected(cat, "aa") == ["bb", "cc"]
    assert whatif.outside_inputs(cat, "aa") == ["xx"]
    tracks = whatif.run(cat, "aa", [1.0, 2.0, None, 2.0], 1.0, 2, others={"xx": 2.0})
    b, c = tracks[1], tracks[2]
    assert b.baseline == [2.0, 4.0, None, 4.0] and b.scenario == [4.0, 8.0, None, 4.0]
    assert c.baseline == [2.0, 3.0, None, 3.0] and c.scenario == [3.0, 5.0, None, 3.0]
    assert c.scenario_levels == [0, 2, 0, 0] and b.scenario_levels == [0, 0, 0, 0]  # b has no thresholds
    peak = whatif.peak(cat, tracks)
    assert peak is not None and (peak.indicator, peak.step, peak.value, peak.level) == ("cc", 1, 5.0, 2)
    missing = whatif.run(cat, "aa", [1.0], 1.0, 1)  # xx unknown: nothing to divide by
    assert missing[2].scenario == [None] and missing[2].scenario_levels == [0]
    assert whatif.peak(cat, missing) is None
    assert "no value" in whatif.summary(cat, "aa", 1.0, 60, None, STEPS_MS)["en"]


def test_without_thresholds_downstream_the_input_itself_peaks() -> None:
    cat = load_catalogue([base("aa", thresholds={"direction": "below", "blue": 10, "red": 2}), derived("bb", "aa + 1")])
    tracks = whatif.run(cat, "aa", [20.0, 14.0, 16.0], -0.5, 3)
    assert tracks[0].scenario == [10.0, 7.0, 8.0] and tracks[0].scenario_levels == [1, 1, 1]
    peak = whatif.peak(cat, tracks)
    assert peak is not None and (peak.indicator, peak.level, peak.step) == ("aa", 1, 0)
    calm = whatif.run(cat, "aa", [40.0, 30.0, 35.0], -0.5, 3)
    low = whatif.peak(cat, calm)
    assert low is not None and (low.level, low.step, low.value) == (0, 1, 15.0)  # "below": the lowest is worst
    assert "最低约15" in whatif.summary(cat, "aa", -0.5, 15, low, STEPS_MS)["zh"]


def test_steps_within_and_the_changed_baseline() -> None:
    assert whatif.steps_within(60, STEP_MS, 12) == 12
    assert whatif.steps_within(7, STEP_MS, 12) == 2
    assert whatif.steps_within(240, STEP_MS, 12) == 12
    assert whatif.changed([10.0, None, 10.0, 10.0], 0.5, 3) == [15.0, None, 15.0, 10.0]
    assert whatif.fmt(5.2991) == "5.3" and whatif.fmt(12.04) == "12" and whatif.fmt(229000.4) == "229000"
    assert whatif.fmt(0.126) == "0.13" and whatif.fmt(-3.0) == "-3"
