"""The ingest service on SQLite and PostgreSQL: measures become entity state and history, replays
change nothing, bad messages become dead letters that can be replayed, health follows the timeout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from iot_district import APIKEY, AQ, AQ_ENTITY, FLOOD, FLOOD_ENTITY, provision_district
from sqlalchemy import func, select

from cityos.bus import Event
from cityos.context import service as hub
from cityos.context.jsonld import core_term_map
from cityos.context.tables import attr_history
from cityos.core.timefmt import format_ts, now_iso
from cityos.iot import service
from cityos.iot.health import tracker
from cityos.iot.ingest import ingest
from cityos.iot.models import Message
from cityos.iot.schemas import DeviceUpdate, MeasureIn
from cityos.runtime import Runtime

T0 = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)


def _ts(dt: datetime) -> str:
    return format_ts(dt)


def msg(payload: bytes, *, device: str = AQ, fmt: str = "json", key: str = APIKEY) -> Message:
    return Message("mqtt", key, device, fmt, payload, now_iso(), f"cityos/{key}/{device}/attrs")  # type: ignore[arg-type]


def attr(rt: Runtime, entity_id: str, term: str) -> dict:
    row = hub.get_entity(rt, "default", entity_id)
    return row.attrs[core_term_map().expand(term)][0]


def history_count(rt: Runtime, entity_id: str) -> int:
    """Measured instances kept (the refDevice link written at provisioning is left out)."""
    ref = core_term_map().expand("refDevice")
    with rt.db.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(attr_history)
            .where(attr_history.c.entity_id == entity_id, attr_history.c.attr != ref)
        ).scalar_one()


@pytest.fixture
def district(rt: Runtime) -> Runtime:
    provision_district(rt)
    return rt


def test_json_and_ultralight_become_state_and_history(district: Runtime) -> None:
    rt = district
    out = ingest(
        rt,
        [
            msg(b'{"pm25": 38, "t": 15.5, "observedAt": "%s"}' % _ts(T0).encode()),
            msg(b'[{"pm25": 41, "TimeInstant": "%s"}, {"pm25": 44}]' % _ts(T0 + timedelta(minutes=5)).encode()),
            msg(b"%s|lvl|1.25|bat|0.8#lvl|1.3" % _ts(T0).encode(), device=FLOOD, fmt="ul"),
        ],
    )
    assert [o.accepted for o in out] == [True, True, True]
    assert [o.measures for o in out] == [2, 2, 3]
    pm25 = attr(rt, AQ_ENTITY, "pm25")
    assert pm25["value"] == 44 and pm25["unitCode"] == "GQ"  # the reading without a time is the newest
    assert attr(rt, AQ_ENTITY, "temperature")["value"] == 15.5
    assert attr(rt, FLOOD_ENTITY, "currentLevel")["value"] == 1.3
    assert history_count(rt, AQ_ENTITY) == 4  # 3 pm25 + 1 temperature
    # the device's NGSI-LD mirror exists with its location
    mirror = hub.get_entity(rt, "default", f"urn:ngsi-ld:Device:{AQ}")
    assert mirror.attrs[core_term_map().expand("location")][0]["value"]["coordinates"] == [121.49, 31.24]


def test_a_replayed_message_changes_nothing(district: Runtime) -> None:
    rt = district
    events: list[Event] = []
    rt.bus.subscribe("entity.>", events.append)
    payload = b'{"pm25": 50, "t": 12, "observedAt": "%s"}' % _ts(T0).encode()
    assert ingest(rt, [msg(payload)])[0].accepted
    before = hub.get_entity(rt, "default", AQ_ENTITY)
    n_events, n_history = len(events), history_count(rt, AQ_ENTITY)
    assert ingest(rt, [msg(payload)])[0].accepted
    after = hub.get_entity(rt, "default", AQ_ENTITY)
    assert after.attrs == before.attrs and after.modified_at == before.modified_at
    assert len(events) == n_events and history_count(rt, AQ_ENTITY) == n_history


def test_a_late_message_fills_history_but_not_current_state(district: Runtime) -> None:
    rt = district
    ingest(rt, [msg(b'{"pm25": 60, "observedAt": "%s"}' % _ts(T0).encode())])
    ingest(rt, [msg(b'{"pm25": 20, "observedAt": "%s"}' % _ts(T0 - timedelta(hours=1)).encode())])
    assert attr(rt, AQ_ENTITY, "pm25")["value"] == 60
    assert history_count(rt, AQ_ENTITY) == 2


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"payload": b'{"pm25": 5}', "device": "HP-AQ-9999"}, "unknown-device"),
        ({"payload": b'{"pm25": 5}', "key": "stolen"}, "wrong-apikey"),
        ({"payload": b'{"pm25": '}, "unparseable"),
        ({"payload": b"pm25|abc", "fmt": "ul"}, "unparseable"),
        ({"payload": b'{"pm25": 5, "co2": 400}'}, "unknown-measure"),
        ({"payload": b'{"pm25": 1500}'}, "out-of-range"),
        ({"payload": b'{"pm25": 5, "observedAt": "2099-01-01T00:00:00Z"}'}, "future-timestamp"),
    ],
)
def test_bad_messages_become_dead_letters_with_their_reason(district: Runtime, kwargs: dict, code: str) -> None:
    rt = district
    kwargs = dict(kwargs)
    payload = kwargs.pop("payload")
    out = ingest(rt, [msg(payload, **kwargs)])[0]
    assert not out.accepted and out.reason_code == code
    letter = service.get_dead_letter(rt, out.dead_letter_id or "")
    assert letter.reason_code == code and letter.payload == payload
    assert letter.reason  # says what is wrong and what to do
    assert history_count(rt, AQ_ENTITY) == 0  # nothing of it was stored


def test_one_bad_message_does_not_stop_the_good_ones_of_its_batch(district: Runtime) -> None:
    out = ingest(district, [msg(b'{"pm25": 5}'), msg(b"garbage"), msg(b'{"t": 9}')])
    assert [o.accepted for o in out] == [True, False, True]
    assert attr(district, AQ_ENTITY, "temperature")["value"] == 9


def test_replay_after_the_range_is_fixed(district: Runtime) -> None:
    rt = district
    out = ingest(rt, [msg(b'{"pm25": 1500, "observedAt": "%s"}' % _ts(T0).encode())])[0]
    assert service.replay(rt, out.dead_letter_id or "").accepted is False  # still out of range: a new letter
    measures = {
        "pm25": MeasureIn(attr="pm25", unitCode="GQ", min=0, max=2000),
        "t": MeasureIn(attr="temperature", unitCode="CEL"),
    }
    service.update_device(rt, AQ, DeviceUpdate(measures=measures))
    again = service.replay(rt, out.dead_letter_id or "")
    assert again.accepted
    assert attr(rt, AQ_ENTITY, "pm25")["value"] == 1500
    assert service.get_dead_letter(rt, out.dead_letter_id or "").replayed_at is not None
    pending, _ = service.list_dead_letters(rt, reason_code="out-of-range")
    assert len(pending) == 1  # the one the first replay left


def test_health_online_then_offline_with_events(district: Runtime) -> None:
    rt = district
    events: list[Event] = []
    rt.bus.subscribe("device.>", events.append)
    health = tracker(rt)
    ingest(rt, [msg(b"lvl|1.1|bat|0.35|rssi|-97", device=FLOOD, fmt="ul")])
    assert health.flush() == [FLOOD]
    _, h = service.get_device(rt, FLOOD)
    assert h.online is True and h.battery == 0.35 and h.signal == -97
    assert [(e.subject, e.key) for e in events] == [("device.online", FLOOD)]
    # 10 s later nothing changes; 31 s later the flood sensor (timeout 30 s) is offline, the station never seen
    assert health.check(format_ts(datetime.now(UTC) + timedelta(seconds=10))) == []
    assert health.check(format_ts(datetime.now(UTC) + timedelta(seconds=31))) == [FLOOD]
    assert events[-1].subject == "device.offline" and events[-1].data["grid"] == "urn:ngsi-ld:Grid:HP-WT-02"
    mirror = hub.get_entity(rt, "default", f"urn:ngsi-ld:Device:{FLOOD}")
    assert mirror.attrs[core_term_map().expand("deviceState")][0]["value"] == "offline"
    summary = service.health_summary(rt)
    assert summary.byType["flood-sensor"].offline == 1
    assert summary.byType["air-quality-station"].neverSeen == 1
    ingest(rt, [msg(b"lvl|1.2", device=FLOOD, fmt="ul")])
    assert health.flush() == [FLOOD] and events[-1].subject == "device.online"


def test_of_two_readings_at_one_time_history_keeps_the_one_the_entity_holds(district: Runtime) -> None:
    rt = district
    at = _ts(T0 + timedelta(minutes=30))
    first = msg(b'{"pm25": 11, "observedAt": "%s"}' % at.encode())
    second = msg(b'{"pm25": 12, "observedAt": "%s"}' % at.encode())
    assert all(o.accepted for o in ingest(rt, [first, second]))
    assert attr(rt, AQ_ENTITY, "pm25")["value"] == 12  # the later of equal times wins
    with rt.db.connect() as conn:
        kept = conn.execute(
            select(attr_history.c.instance).where(
                attr_history.c.entity_id == AQ_ENTITY, attr_history.c.attr == core_term_map().expand("pm25")
            )
        ).scalar_one()
    kept = kept if isinstance(kept, dict) else orjson.loads(kept)
    assert kept["value"] == 12


def test_every_observation_of_a_batch_reaches_the_events_and_a_replay_none(district: Runtime) -> None:
    rt = district
    events: list[Event] = []
    rt.bus.subscribe("entity.>", events.append)
    pm25 = core_term_map().expand("pm25")
    two = [
        msg(b'{"pm25": %d, "observedAt": "%s"}' % (v, _ts(T0 + timedelta(minutes=m)).encode()))
        for v, m in ((10, 1), (20, 2))
    ]
    assert all(o.accepted for o in ingest(rt, two))
    (ev,) = [e for e in events if e.key == AQ_ENTITY]
    assert [i["value"] for i in ev.data["attrs"][pm25]] == [20]  # the state shows the newer one
    assert [i["value"] for i in ev.data["observed"][pm25]] == [10, 20]  # the engine gets both, in time order
    assert history_count(rt, AQ_ENTITY) == 2
    late = msg(b'{"pm25": 5, "observedAt": "%s"}' % _ts(T0).encode())
    ingest(rt, [late])
    assert events[-1].subject == "entity.updated" and events[-1].data["attrs"] == {}
    assert [i["value"] for i in events[-1].data["observed"][pm25]] == [5]
    assert attr(rt, AQ_ENTITY, "pm25")["value"] == 20 and history_count(rt, AQ_ENTITY) == 3
    n = len(events)
    ingest(rt, [*two, late])  # the whole thing again (a redelivery): nothing new, no event
    assert len(events) == n and history_count(rt, AQ_ENTITY) == 3


def test_a_telemetry_update_tells_the_previous_value_as_every_write_of_the_hub_does(district: Runtime) -> None:
    """Subscriptions tell attributeCreated from attributeUpdated, and showChanges sends the value before, from
    the event's ``previous``."""
    rt = district
    events: list[Event] = []
    rt.bus.subscribe("entity.>", events.append)
    pm25 = core_term_map().expand("pm25")
    ingest(rt, [msg(b'{"pm25": 10, "observedAt": "%s"}' % _ts(T0).encode())])
    ingest(rt, [msg(b'{"pm25": 20, "observedAt": "%s"}' % _ts(T0 + timedelta(minutes=1)).encode())])
    first, then = [e for e in events if e.key == AQ_ENTITY]
    assert then.subject == "entity.updated"
    assert [i["value"] for i in then.data["previous"][pm25]] == [10]
    assert [i["value"] for i in then.data["attrs"][pm25]] == [20]
    assert then.data["createdAt"] == first.data["createdAt"] <= then.data["modifiedAt"]


def test_a_crash_at_the_dead_letter_write_leaves_nothing_so_the_redelivery_keeps_each_once(
    district: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = district
    batch = [msg(b'{"pm25": 7, "observedAt": "%s"}' % _ts(T0).encode()), msg(b'{"pm25": 5000}')]

    def crash(*_a: object) -> None:
        raise OSError("the process died here")

    with monkeypatch.context() as m:
        m.setattr("cityos.iot.store.insert_dead_letters", crash)
        with pytest.raises(OSError):
            ingest(rt, batch)
    # the hub's write and the dead letter are one transaction: neither was kept
    assert history_count(rt, AQ_ENTITY) == 0 and service.list_dead_letters(rt)[0] == []
    out = ingest(rt, batch)  # the broker sends the unacknowledged batch again
    assert [o.accepted for o in out] == [True, False]
    assert history_count(rt, AQ_ENTITY) == 1 and len(service.list_dead_letters(rt)[0]) == 1
