"""The demo's first minutes (issue 23): one simulator of its devices at a time, its history kept two
days raw by default and compacted while it runs, the admin token printed as a line to paste, the
dead-letter table whole in a log, the simulator's progress line in a log while it runs."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Api, wait_for
from rich.console import Console
from sqlalchemy import func, insert, select
from typer.testing import CliRunner

from cityos.auth import create_token
from cityos.cli import app
from cityos.config import Settings, get_settings
from cityos.context import Policy, core_term_map, retention_policies, set_policy
from cityos.context.tables import attr_history, attr_rollups
from cityos.demo.devices import DemoDevice, provision_demo_devices
from cityos.demo.district import build_district
from cityos.demo.load import upsert_entities
from cityos.demo.onewriter import drive_devices
from cityos.demo.retention import Compactor, demo_retention
from cityos.demo.run import LiveSimulation, print_token
from cityos.demo.simulator import LocalSink, Simulator
from cityos.iot import IngestRunner
from cityos.runtime import Runtime

README = Path(__file__).resolve().parents[2] / "README.md"
DAY_MS = 86_400_000


@pytest.fixture
def cli_env(rt: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Runtime]:
    """The CLI pointed at the test database through the environment (settings are cached: cleared)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITYOS_DATABASE_URL", rt.db.url)
    monkeypatch.setenv("CITYOS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CITYOS_BUS_URL", "memory://")
    get_settings.cache_clear()
    yield rt
    get_settings.cache_clear()


def load(rt: Runtime, sensors: int = 30) -> list[DemoDevice]:
    entities = build_district(sensors=sensors)
    upsert_entities(rt, "default", entities)
    return provision_demo_devices(rt, entities)


def history_rows(rt: Runtime) -> int:
    with rt.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(attr_history)).scalar_one()


def test_simulate_refuses_the_devices_a_running_demo_drives(cli_env: Runtime) -> None:
    rt = cli_env
    load(rt)
    before = history_rows(rt)  # the district's own
    lease = drive_devices(rt.db)  # what `cityos demo` takes before its simulator starts
    assert lease is not None
    args = ["simulate", "--sensors", "30", "--rate", "50", "--duration", "1"]
    try:
        refused = CliRunner().invoke(app, args)
        assert refused.exit_code == 1, refused.output
        assert "driven by" in refused.output and "--force" in refused.output
        assert history_rows(rt) == before
        assert drive_devices(rt.db) is None  # still the demo's
    finally:
        lease.release()
    ran = CliRunner().invoke(app, args)  # the demo stopped: the devices are free
    assert ran.exit_code == 0, ran.output
    assert "sent" in ran.output and history_rows(rt) > before
    again = drive_devices(rt.db)  # and the simulator gave them back when it ended
    assert again is not None
    again.release()


def test_simulate_force_drives_them_anyway(cli_env: Runtime) -> None:
    rt = cli_env
    load(rt)
    before = history_rows(rt)
    lease = drive_devices(rt.db)
    assert lease is not None
    try:
        forced = CliRunner().invoke(app, ["simulate", "--sensors", "30", "--rate", "50", "--duration", "1", "--force"])
    finally:
        lease.release()
    assert forced.exit_code == 0, forced.output
    assert history_rows(rt) > before


def test_the_demo_keeps_two_days_of_raw_history_by_default(rt: Runtime) -> None:
    assert (Settings().demo_raw_days, Settings().demo_hourly_days) == (2, 90)
    devices = load(rt)
    tm = core_term_map()
    other = tm.expand("Building")  # no device of the demo drives it: its policy is left alone
    set_policy(rt, Policy("default", other, 7, 30, None))
    types = {d.entity_type for d in devices}
    kept = demo_retention(rt, types)
    assert {p.entity_type for p in kept} == {tm.expand(t) for t in types} and other not in types
    assert {(p.raw_days, p.hourly_days, p.daily_days) for p in kept} == {(2, 90, None)}
    in_force = {p.entity_type: (p.raw_days, p.hourly_days) for p in retention_policies(rt, "default")}
    assert in_force == {**{p.entity_type: (2, 90) for p in kept}, other: (7, 30)}
    # the settings a demo starts with are the ones it keeps: CITYOS_DEMO_RAW_DAYS=0 on a later start
    fewer = Runtime(rt.settings.model_copy(update={"demo_raw_days": 0}), rt.db, rt.bus)
    demo_retention(fewer, types)
    assert {(p.raw_days, p.hourly_days) for p in retention_policies(rt, "default") if p.entity_type != other} == {
        (0, 90)
    }
    demo_retention(rt, types)

    # the demo's compactor rolls up what is older than two days, and keeps the rest raw
    crowd_id = next(e["id"] for e in build_district(sensors=30) if e["type"] == "CrowdFlowObserved")
    now = int(time.time() * 1000)
    old = (now - 3 * DAY_MS) // 3_600_000 * 3_600_000  # both in one hour
    rows = [(old, 5), (old + 1000, 7), (now - 60_000, 9)]
    with rt.db.write() as conn:
        for ts, value in rows:
            conn.execute(insert(attr_history).values(
                tenant="default", entity_id=crowd_id, attr=tm.expand("peopleCount"), dataset_id="", ts=ts,
                seq=0, instance={"type": "Property", "value": value}, written_at="2026-01-01T00:00:00Z"))  # fmt: skip
    compactor = Compactor(rt)
    compactor.start()
    try:
        wait_for(lambda: compactor.runs >= 1, 30)
    finally:
        compactor.close()
    with rt.db.connect() as conn:
        left = set(conn.execute(select(attr_history.c.ts).where(attr_history.c.entity_id == crowd_id)).scalars())
        r = attr_rollups.c
        mine = (r.entity_id == crowd_id) & (r.attr == tm.expand("peopleCount")) & (r.start == old)
        rolled = conn.execute(select(r.n, r.total, r.period).where(mine)).all()
    assert now - 60_000 in left and not {old, old + 1000} & left
    assert [(r.n, r.total, r.period) for r in rolled] == [(2, 12, "hour")]


def test_make_demo_prints_the_token_the_readme_curl_uses(api: Api, rt: Runtime) -> None:
    token = create_token(rt.db, "demo-admin", role="admin", kind="staff")
    out = io.StringIO()
    print_token(Console(file=out, width=80), token, "http://127.0.0.1:8000")
    printed = out.getvalue()
    exported = re.search(r"^\s*export TOKEN=(\S+)$", printed, re.M)
    assert exported and exported.group(1) == token  # whole on one line, however narrow the terminal
    curl = re.search(r'curl -H "Authorization: Bearer \$TOKEN" "http://127\.0\.0\.1:8000(\S+)"', printed)
    assert curl
    r = api.get(curl.group(1), token=exported.group(1))
    assert r.status_code == 200, r.text
    readme = README.read_text()
    assert "export TOKEN=" in readme and 'curl -H "Authorization: Bearer $TOKEN"' in readme


def test_the_dead_letter_table_is_whole_in_a_log(api: Api, cli_env: Runtime) -> None:
    device = "HP-XX-a-device-nobody-provisioned-0404"
    letter = api.post(f"/iot/ul?k=nobody&i={device}", content=b"t|1", token=None).json()["deadLetterId"]
    listed = CliRunner().invoke(app, ["deadletters", "list"])  # not a terminal: Rich would assume 80 columns
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.output.splitlines() if letter in line)
    assert device in row and "…" not in listed.output


def test_the_simulators_progress_line_reaches_a_log_while_it_runs(rt: Runtime) -> None:
    devices = load(rt)
    runner = IngestRunner(rt, mqtt=False)
    runner.start()
    log = io.StringIO()
    console = Console(file=log, force_terminal=False)
    live = LiveSimulation(lambda: Simulator(devices, LocalSink(rt), rate=50, seed=1), console, log_every=0.05)
    live.start()
    try:
        wait_for(lambda: log.getvalue().count("simulating") >= 2, 30, what=log.getvalue)
        assert "\x1b" not in log.getvalue()  # plain lines, no cursor moves
    finally:
        live.close()
        runner.close()
