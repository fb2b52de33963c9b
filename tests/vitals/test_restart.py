"""A restart in the middle of a window: the windows are refilled from the history, no warning is
raised twice, and what the data crossed while the engine was down is raised once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import wait_for

from cityos.context import service as hub
from cityos.context.entity import parse_entity
from cityos.context.jsonld import core_term_map
from cityos.core.timefmt import format_ts, now_iso
from cityos.runtime import Runtime
from cityos.vitals import service
from cityos.vitals.runner import VitalsRunner
from cityos.vitals.schemas import WarningPublic

SQUARE = "urn:ngsi-ld:ManagementUnit:restart-square"
GATE = "urn:ngsi-ld:CrowdFlowObserved:restart-gate"
SUM: dict[str, Any] = {
    "name": {"zh": "广场十分钟客流", "en": "People through the square's gate in 10 minutes"},
    "category": "crowds",
    "unit": "persons",
    "source": {"entityType": "CrowdFlowObserved", "attr": "peopleCount"},
    "aggregation": "sum",
    "window": {"kind": "sliding", "duration": "10m"},
    "scope": {"level": "unit", "ids": [SQUARE]},
    "thresholds": {"blue": 100, "yellow": 200, "orange": 300, "red": 400},
}


def counted(rt: Runtime, n: int, at: datetime) -> None:
    body = {
        "id": GATE,
        "type": "CrowdFlowObserved",
        "refUnit": {"type": "Relationship", "object": SQUARE},
        "peopleCount": {"type": "Property", "value": n, "observedAt": format_ts(at)},
    }
    p = parse_entity(body, core_term_map(), now=now_iso())
    [outcome] = hub.apply(rt, "default", [(GATE, hub.m_append(p, create=True))], creates=True)
    assert outcome.error is None


def active(rt: Runtime) -> list[WarningPublic]:
    return service.list_warnings(
        rt, "default", active=True, indicator="square_sum", scope=None, min_level=None, limit=10, offset=0
    )[0]


def test_a_restart_mid_window_loses_nothing_and_doubles_nothing(rt: Runtime) -> None:
    service.ensure_definitions(rt, "default")
    service.put_definition(rt, "default", "square_sum", SUM, "test")
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    counted(rt, 0, t0 - timedelta(minutes=11))  # the gate reported before: its window is full from the start
    first = VitalsRunner(rt)
    first.start()
    try:
        counted(rt, 80, t0)
        counted(rt, 60, t0 + timedelta(minutes=1))  # 140 in the window: blue
        [w] = wait_for(lambda: active(rt))
        assert w.level == 1
    finally:
        first.close()
    counted(rt, 70, t0 + timedelta(minutes=2))  # while no engine runs: 210 in the window, yellow
    second = VitalsRunner(rt)
    second.start()  # refills the window from the history
    try:
        [again] = wait_for(lambda: [x for x in active(rt) if x.level == 2])
        assert again.id == w.id  # the same warning, escalated: not a second one
        history = service.get_warning(rt, "default", w.id).history
        assert [h.kind for h in history] == ["raised", "escalated"]
        counted(rt, 150, t0 + timedelta(minutes=3))  # 360: orange, counted with what came before
        wait_for(lambda: active(rt)[0].level == 3)
        assert len(service.list_warnings(rt, "default", active=None, indicator="square_sum", scope=None,
                                         min_level=None, limit=10, offset=0)[0]) == 1  # fmt: skip
    finally:
        second.close()
