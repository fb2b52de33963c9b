"""The district sensor simulator: its payloads decode to what it meant, each spoiled message is
rejected for the reason it was spoiled for, and a run ends up in the data hub, in process and
through the local Mosquitto."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from brokers import BROKER, end_session
from conftest import wait_for
from sqlalchemy import func, select
from typer.testing import CliRunner

from cityos.bus.memory import MemoryBus
from cityos.cli import app as cli
from cityos.config import Settings, get_settings
from cityos.context.tables import attr_history
from cityos.core.timefmt import now_iso
from cityos.demo import simulator
from cityos.demo.devices import DEPARTMENTS, DemoDevice, group_key, provision_demo_devices
from cityos.demo.district import SENSOR_TYPES, build_district
from cityos.demo.load import upsert_entities
from cityos.demo.patterns import BAD_MESSAGES, DEVICE_PROFILES, reading
from cityos.demo.simulator import LocalSink, MqttSink, Simulator, encode, spoil
from cityos.iot import service
from cityos.iot.decoders import decode_json, decode_ul, typed_value
from cityos.iot.ingest import ingest
from cityos.iot.models import Message
from cityos.iot.runner import IngestRunner
from cityos.runtime import Runtime
from cityos.store.engine import Database

SENSORS = 30  # observed things in the test district: every type at least once
NOON = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def load(rt: Runtime) -> list[DemoDevice]:
    entities = build_district(sensors=SENSORS)
    upsert_entities(rt, "default", entities)
    return provision_demo_devices(rt, entities)


@pytest.fixture
def district(sqlite_db: Database) -> Iterator[tuple[Runtime, list[DemoDevice]]]:
    rt = Runtime(Settings(database_url=sqlite_db.url), sqlite_db, MemoryBus())
    yield rt, load(rt)
    rt.bus.close()


def history_rows(rt: Runtime) -> int:
    with rt.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(attr_history)).scalar_one()


def test_every_observed_type_gets_a_device_in_its_department_group(district: tuple[Runtime, list]) -> None:
    rt, devices = district
    assert {d.entity_type for d in devices} == set(SENSOR_TYPES) == set(DEVICE_PROFILES)
    assert len(devices) == SENSORS
    rows, total = service.list_devices(rt, limit=1000, offset=0)
    assert total == SENSORS
    for device, _health in rows:
        assert device.department == DEPARTMENTS[device.entity_type][0]
        assert device.apikey == group_key(device.department)
        assert device.entity_id.startswith(f"urn:ngsi-ld:{device.entity_type}:HP-")
    # provisioning again finds them all and adds nothing
    assert len(provision_demo_devices(rt, build_district(sensors=SENSORS))) == SENSORS
    assert service.list_devices(rt, limit=1, offset=0)[1] == SENSORS


@pytest.mark.parametrize("entity_type", sorted(DEVICE_PROFILES))
def test_payloads_decode_to_the_reading_they_encode(entity_type: str) -> None:
    profile = DEVICE_PROFILES[entity_type]
    values = reading(entity_type, "HP-T-1", NOON, "faults", random.Random(1))
    payload = encode(profile.protocol, values)
    [got] = decode_json(payload) if profile.protocol == "json" else decode_ul(payload)
    assert got.observed_at is None
    decoded = {k: typed_value(k, v, profile.measures[k].kind) for k, v in got.measures.items()}
    assert decoded == values


@pytest.mark.parametrize("kind", [k for k, _ in BAD_MESSAGES])
def test_each_spoiled_message_is_rejected_for_its_kind(district: tuple[Runtime, list], kind: str) -> None:
    rt, devices = district
    rng = random.Random(5)
    for protocol in ("json", "ul"):
        device = next(d for d in devices if d.protocol == protocol)
        values = reading(device.entity_type, device.device_id, datetime.now(UTC), "normal", rng)
        t = spoil(kind, device, values, rng)
        assert t.spoiled == kind
        [outcome] = ingest(rt, [Message("local", t.apikey, t.device_id, t.fmt, t.payload, now_iso())])  # type: ignore[arg-type]
        assert (outcome.accepted, outcome.reason_code) == (False, kind), (protocol, outcome.reason)
    assert service.list_dead_letters(rt, reason_code=kind, limit=10, offset=0)[1] == 2


def test_an_in_process_run_lands_in_the_hub_with_its_dead_letters(district: tuple[Runtime, list]) -> None:
    rt, devices = district
    runner = IngestRunner(rt, mqtt=False)
    runner.start()
    try:
        before = history_rows(rt)
        sim = Simulator(devices, LocalSink(rt), rate=1000, bad_share=0.05, seed=3)
        stats = sim.run(count=600)
        sim.stop()
        assert stats.sent == 600
        assert stats.spoiled > 0
        assert (stats.accepted, stats.rejected) == (600 - stats.spoiled, stats.spoiled)
        assert service.list_dead_letters(rt, limit=1, offset=0)[1] == stats.spoiled
        assert history_rows(rt) - before >= stats.accepted  # every accepted message holds a measure or more
        online = wait_for(lambda: service.health_summary(rt).total.online == SENSORS)
        assert online
    finally:
        runner.close()


def test_a_run_outlasts_a_store_that_stalls_longer_than_the_sink_waits(district: tuple[Runtime, list]) -> None:
    """The demo's simulator once stopped sending for good on a loaded machine: its sink gave up on a batch
    the store had not taken within 60 s with an exception that ended the simulator's thread (its status
    line froze). Now it waits as long as the store takes, counting each ``stall_warning`` it waited."""
    rt, devices = district
    runner = IngestRunner(rt, mqtt=False)
    runner.start()
    release, holding = threading.Event(), threading.Event()

    def hold(_conn: object) -> None:  # the store's one writer thread, busy until released
        holding.set()
        release.wait(30)

    holder = threading.Thread(target=lambda: rt.db.run_write(hold))
    try:
        holder.start()
        assert holding.wait(10)
        sink = LocalSink(rt, max_pending=1, stall_warning=0.05)
        sim = Simulator(devices, sink, rate=1000, bad_share=0.0, seed=5)
        sim.start(count=300)
        # the sink has waited for the store longer than it waits between warnings, twice: the old sink
        # raised here, and the simulator's thread died
        wait_for(lambda: sim.stats.stalls >= 2, what=lambda: sim.stats)
        assert sim._thread is not None and sim._thread.is_alive()
        release.set()
        sim.wait()
        sim.stop()
        assert (sim.stats.sent, sim.stats.failed) == (300, 0)
        assert sim.stats.accepted == 300
    finally:
        release.set()
        holder.join(10)
        runner.close()


def test_the_pattern_clock_starts_where_told_and_runs_at_speed(
    district: tuple[Runtime, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, devices = district
    wall = [1_800_000_000.0]  # the simulator's wall clock, moved by the test instead of waited for
    monkeypatch.setattr(simulator, "time", SimpleNamespace(**{**vars(time), "time": lambda: wall[0]}))
    start = datetime.now(UTC) - timedelta(hours=5)
    sim = Simulator(devices, LocalSink(rt), start=start, speed=60)
    assert sim.pattern_time() == start
    wall[0] += 0.2
    ahead = (sim.pattern_time() - start).total_seconds()
    assert 60 * 0.2 <= ahead < 60 * 2
    assert ahead == pytest.approx(60 * 0.2)
    sim.stop()


@pytest.mark.mqtt
def test_a_run_through_the_broker_is_taken_in_by_the_consumer(sqlite_db: Database) -> None:
    client_id = f"cityos-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(database_url=sqlite_db.url, mqtt_url=BROKER, mqtt_client_id=client_id)
    rt = Runtime(settings, sqlite_db, MemoryBus())
    devices = load(rt)
    runner = IngestRunner(rt, mqtt=True)
    runner.start()
    try:
        assert runner.consumer is not None and runner.consumer.connected.wait(5)
        sim = Simulator(devices, MqttSink(BROKER), rate=1000, bad_share=0.05, seed=4)
        stats = sim.run(count=400)
        sim.stop()  # waits for the broker's acknowledgements
        assert stats.acked == stats.sent == 400
        wait_for(lambda: service.list_dead_letters(rt, limit=1, offset=0)[1] == stats.spoiled)
        assert wait_for(lambda: service.health_summary(rt).total.online == SENSORS)
        transports = {x.transport for x in service.list_dead_letters(rt, limit=100, offset=0)[0]}
        assert transports == {"mqtt"}
    finally:
        runner.close()
        rt.bus.close()
        end_session(client_id)


def test_cli_simulate_runs_for_its_duration_and_refuses_an_unknown_scenario(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYOS_DATABASE_URL", f"sqlite:///{tmp_path / 'cityos.db'}")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        bad = runner.invoke(cli, ["simulate", "--scenario", "carnival"])
        assert bad.exit_code == 2 and "unknown scenario 'carnival'" in bad.output
        args = ["simulate", "--sensors", "20", "--rate", "200", "--duration", "1.5", "--clock", "20:30"]
        ok = runner.invoke(cli, args)
        assert ok.exit_code == 0, ok.output
        assert "sent " in ok.output and "accepted " in ok.output
        sent = int(ok.output.split("sent ")[-1].split(" ")[0])
        # paced to the rate: it never sends more than 1.5 s at 200/s allow (how many fewer a busy machine
        # manages is a matter of speed, not of the test)
        assert 0 < sent <= 320
    finally:
        get_settings.cache_clear()
