"""A deployment of several processes on PostgreSQL and NATS, as docs/deployment.md lays it out:
`cityos serve --workers 2 --roles none` answers the API, two `cityos worker --role vitals` share the
vitals role. One computes the vital signs, the other stands by; killed, the first is replaced by the
second, which goes on computing them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from brokers import free_port
from conftest import PG_ADMIN_URL, _pg_url, answers_health, wait_for
from sqlalchemy import text
from test_nats import NATS_URL, _nats_server_is_up, names  # noqa: F401 (fixtures)

from cityos.auth import create_token
from cityos.core.timefmt import format_ts
from cityos.store.engine import Database, null_pool_engine
from cityos.store.lease import lock_key
from cityos.store.migrate import upgrade

pytestmark = [pytest.mark.postgres, pytest.mark.nats]

UNIT = "urn:ngsi-ld:ManagementUnit:deploy-square"
GATE = "urn:ngsi-ld:CrowdFlowObserved:deploy-gate"
PEAK = {
    "name": {"zh": "部署测试广场峰值客流", "en": "Peak count at the deployment square"},
    "category": "crowds",
    "unit": "persons",
    "source": {"entityType": "CrowdFlowObserved", "attr": "peopleCount"},
    "aggregation": "max",
    "window": {"kind": "sliding", "duration": "30s"},
    "scope": {"level": "unit", "ids": [UNIT]},
    "thresholds": {"blue": 100, "yellow": 200, "orange": 300, "red": 400},
}
WAIT = 60.0  # processes start on two busy cores


@pytest.fixture
def database() -> Iterator[str]:
    """A PostgreSQL database of this test alone (the cluster's processes share it)."""
    admin = null_pool_engine(PG_ADMIN_URL)
    name = f"cityos_deploy_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Cluster:
    """The processes of the deployment, with their logs."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env, self.tmp = env, tmp
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.tmp / f"{name}.log").open("ab") as out:
            proc = subprocess.Popen([sys.executable, "-m", "cityos.cli", *args], env=self.env, stdout=out, stderr=out)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _vitals_leases(db: Database) -> int:
    """Sessions holding the vitals role's advisory lock."""
    with db.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = :low "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"low": lock_key("role-vitals") & 0xFFFFFFFF},
            ).scalar_one()
        )


def test_one_worker_computes_the_vital_signs_and_a_standby_takes_over(
    database: str,
    names: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    db = Database(database)
    upgrade(db)
    token = create_token(db, "deploy-admin", role="admin", kind="staff")
    bus_url = f"{NATS_URL}?{urlencode({'stream': names['stream'], 'subject_prefix': names['subject_prefix']})}"
    env = dict(os.environ, CITYOS_DATABASE_URL=database, CITYOS_BUS_URL=bus_url, CITYOS_DATA_DIR=str(tmp_path))
    port = free_port()
    cluster = Cluster(env, tmp_path)
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"})
    try:
        cluster.start("serve", "serve", "--port", str(port), "--workers", "2", "--roles", "none")
        assert answers_health(f"http://127.0.0.1:{port}", WAIT), cluster.log("serve")
        assert api.get("/health").json()["roles"] == []  # the API processes compute nothing themselves
        assert api.put("/vitals/indicators/deploy_square_peak", json=PEAK).status_code == 200

        cluster.start("first", "worker", "--role", "vitals")
        wait_for(lambda: "running vitals" in cluster.log("first"), WAIT)
        cluster.start("second", "worker", "--role", "vitals")
        wait_for(lambda: "standing by for vitals" in cluster.log("second"), WAIT)
        assert _vitals_leases(db) == 1

        for doc in (
            {"id": UNIT, "type": "ManagementUnit"},
            {"id": GATE, "type": "CrowdFlowObserved", "refUnit": {"type": "Relationship", "object": UNIT}},
        ):
            assert api.post("/ngsi-ld/v1/entities", json=doc).status_code == 201
        now = datetime.now(UTC)
        count(api, 0, now)  # the gate reports: a window warns once it has covered its 30 s since then
        count(api, 150, now + timedelta(seconds=31))
        assert wait_for(lambda: level(api) == 1, WAIT)

        cluster.procs["first"].kill()  # SIGKILL: its database session, and the lease, end with it
        cluster.procs["first"].wait(10)
        wait_for(lambda: "role vitals: running in this process" in cluster.log("second"), WAIT)
        assert _vitals_leases(db) == 1
        count(api, 450, max(now + timedelta(seconds=45), datetime.now(UTC)))  # its window holds the 0 or follows it
        assert wait_for(lambda: level(api) == 4, WAIT)
    finally:
        api.close()
        cluster.stop()
        db.dispose()


def count(api: httpx.Client, people: int, at: datetime) -> None:
    body = {"peopleCount": {"type": "Property", "value": people, "observedAt": format_ts(at)}}
    r = api.post(f"/ngsi-ld/v1/entities/{GATE}/attrs", json=body)
    assert r.status_code == 204, r.text


def level(api: httpx.Client) -> int:
    """The level of the square's active warning (0: none)."""
    found = api.get("/vitals/warnings", params={"indicator": "deploy_square_peak"}).json()
    return max((w["level"] for w in found), default=0)
