"""define_missing on SQLite and PostgreSQL: a package's indicators are defined for a tenant that never had them,
after the shipped ones, once; an operator's later version or retirement stands; a set that does not hold
together is refused whole, naming the indicator."""

from __future__ import annotations

from typing import Any

import pytest

from cityos.bus import Event
from cityos.runtime import Runtime
from cityos.vitals import service
from cityos.vitals.errors import InvalidDefinition

T = "default"
FIGURE: dict[str, Any] = {
    "id": "test_plan_figure", "name": {"zh": "测试指标", "en": "A test figure"}, "category": "plan",
    "unit": "devices", "description": "A figure of the test, written by the test.",
    "source": {"entityType": "TestFigures", "attr": "count"}, "aggregation": "avg",
    "window": {"kind": "sliding", "duration": "10m"}, "scope": {"level": "district"},
}  # fmt: skip
SHARE = {**FIGURE, "id": "test_plan_share", "unit": "share (0–1)", "formula": "test_plan_figure / 10",
         "source": None, "aggregation": None, "window": None}  # fmt: skip


def docs(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in d.items() if v is not None} for d in items]


def test_missing_indicators_are_defined_once_after_the_shipped_ones(rt: Runtime) -> None:
    heard: list[Event] = []
    rt.bus.subscribe("vitals.definitions.changed", heard.append)
    assert service.define_missing(rt, T, docs(FIGURE, SHARE), "test") == ["test_plan_figure", "test_plan_share"]
    cat = service.catalogue(rt, T)
    assert "bund_crowd_density" in cat.by_id  # the shipped set came first, not instead
    assert cat.by_id["test_plan_share"].category == "plan" and cat.by_id["test_plan_share"].version == 1
    assert [e.data["ids"] for e in heard] == [["test_plan_figure", "test_plan_share"]]
    assert service.define_missing(rt, T, docs(FIGURE, SHARE), "test") == []


def test_an_operators_version_stands(rt: Runtime) -> None:
    service.define_missing(rt, T, docs(FIGURE), "test")
    service.put_definition(rt, T, "test_plan_figure", {**docs(FIGURE)[0], "unit": "sensors"}, "operator")
    assert service.define_missing(rt, T, docs(FIGURE), "test") == []
    assert service.catalogue(rt, T).by_id["test_plan_figure"].unit == "sensors"


def test_a_set_that_does_not_hold_together_is_refused_whole(rt: Runtime) -> None:
    with pytest.raises(InvalidDefinition, match="test_plan_share"):
        service.define_missing(rt, T, docs(SHARE), "test")  # its formula reads a figure that is not defined
    with pytest.raises(InvalidDefinition, match="category"):
        service.define_missing(rt, T, docs({**FIGURE, "category": "nothing"}), "test")
    assert "test_plan_share" not in service.catalogue(rt, T).by_id
