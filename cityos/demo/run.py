"""`cityos demo`: a fresh SQLite district under ./var, an admin token, the server on 127.0.0.1 and
the sensor simulator in the same process; `cityos simulate`: the simulator on its own."""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.progress import Progress
from rich.text import Text

from cityos import datahub
from cityos.auth import create_account, create_token
from cityos.config import Settings
from cityos.core.timefmt import from_ms, now_ms
from cityos.demo.devices import DemoDevice, demo_devices, provision_demo_devices
from cityos.demo.district import build_district, district_summary
from cityos.demo.feeding import DemoFeeding
from cityos.demo.feeds import PERSONS
from cityos.demo.load import upsert_entities
from cityos.demo.onewriter import drive_devices, who_drives
from cityos.demo.people import build_residents
from cityos.demo.retention import Compactor, demo_retention
from cityos.demo.sharing import load_sharing
from cityos.demo.simulator import LocalSink, MqttSink, SimStats, Simulator, status_line
from cityos.demo.warm import WarmReport, sampled_devices, warm_start
from cityos.iot import IngestRunner, existing_device_ids
from cityos.runtime import Runtime
from cityos.store.migrate import upgrade
from cityos.tuning import tune_process


def run_demo(
    settings: Settings,
    *,
    port: int = 8000,
    open_browser: bool = True,
    sensors: int = 5200,
    simulate: bool = True,
    rate: float = 200.0,
    scenario: str = "normal",
    clock: datetime | None = None,
    speed: float = 1.0,
    persons: int = PERSONS,
    warm_days: float | None = None,
) -> None:
    import uvicorn

    from cityos.app import SHUTDOWN_GRACE_SECONDS, access_log_config, create_app

    console = Console(stderr=True)
    tune_process()
    rt = Runtime.open(settings)
    upgrade(rt.db)
    entities = build_district(sensors=sensors)
    devices = load_district(rt, console, sensors, entities)
    kept = demo_retention(rt, {d.entity_type for d in devices})
    load_history(rt, console, entities, settings.demo_warm_days if warm_days is None else warm_days)
    raw = sorted({p.raw_days for p in kept})
    console.print(
        f"历史保留 History kept: raw {'/'.join(map(str, raw))} d, then hourly rollups "
        "(CITYOS_DEMO_RAW_DAYS, CITYOS_DEMO_HOURLY_DAYS to change)",
        soft_wrap=True,
        highlight=False,
    )
    token = create_token(rt.db, "demo-admin", role="admin", kind="staff")
    url = f"http://127.0.0.1:{port}"
    console.print(f"控制台 Dashboard: [bold]{url}[/]   API docs: {url}/docs", soft_wrap=True)
    for name, zh, en, password in demo_accounts(rt):
        console.print(f"  {zh} {en}: [bold]{name}[/] / [bold]{password}[/]", soft_wrap=True, highlight=False)
    print_token(console, token, url)
    lease = drive_devices(rt.db) if simulate else None
    if simulate and lease is None:
        console.print(
            f"[yellow]另一模拟器正在驱动示范设备 Another simulator drives the demo's devices[/]: "
            f"{who_drives(rt.db)}; this demo runs without its own (stop that one and start the demo again)",
            soft_wrap=True,
        )
        simulate = False
    # the department feeds run once the API is up (about 30 s for 100,000 persons): the dashboard need not wait
    avoid = {r.id_card for r in build_residents()}  # the residents are entities of their own
    companions: list[DemoFeeding | Compactor | LiveSimulation] = [
        DemoFeeding(rt, persons, avoid, say=lambda text: console.print(text, highlight=False, soft_wrap=True)),
        Compactor(rt),
    ]
    if simulate:

        def make() -> Simulator:  # called once the API's ingest runs, so that it feeds that runner's writer
            return Simulator(devices, LocalSink(rt), rate=rate, scenario=scenario, start=clock, speed=speed)

        companions.append(LiveSimulation(make, console))
    if open_browser and _has_display():
        threading.Timer(1.5, lambda: webbrowser.open(url)).start()
    app = create_app(settings, runtime=rt, companions=companions)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        log_config=access_log_config(),
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


# Staff accounts of the demo: the operations centre's duty officer and one department's desk.
DEMO_ACCOUNTS = (
    ("duty", "operator", None, "值班长", "Duty officer"),
    ("police", "department", "public-security", "公安黄浦分局 处置席", "Public Security desk"),
)


def print_token(console: Console, token: str, url: str) -> None:
    """The admin token as a line to paste into a shell, then the README's first call, which uses it."""
    console.print(f"管理员令牌 Admin token (paste into your shell):\n  export TOKEN={token}", soft_wrap=True,
                  highlight=False, markup=False)  # fmt: skip
    console.print(
        f'  curl -H "Authorization: Bearer $TOKEN" "{url}/ngsi-ld/v1/entities?type=Grid&limit=2"',
        soft_wrap=True,
        highlight=False,
        markup=False,
    )


def demo_accounts(rt: Runtime) -> list[tuple[str, str, str, str]]:
    """Create the demo's staff accounts with new passwords: (name, 中文, English, password) each."""
    out = []
    for name, role, department, zh, en in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        create_account(rt.db, name, role=role, password=password, department=department, display_name=zh)
        out.append((name, f"{zh}账号", f"{en} account", password))
    return out


def load_district(
    rt: Runtime, console: Console, sensors: int, entities: list[dict[str, Any]] | None = None
) -> list[DemoDevice]:
    """Write the demo district's entities (replacing what is there) and provision its devices."""
    entities = build_district(sensors=sensors) if entities is None else entities
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("载入示范区 Loading the demo district", total=len(entities))
        upsert_entities(rt, rt.settings.default_tenant, entities, progress=lambda n: progress.advance(task, n))
    with console.status("登记设备 Provisioning the district's devices"):
        devices = provision_demo_devices(rt, entities)
    with console.status("载入数据资源目录 Loading the data resource catalogue"):
        seeded = datahub.load_catalogue(rt, rt.settings.default_tenant, by="cityos-demo")
    with console.status("载入户籍人口、授权、使用记录与数据异议 Loading residents, grants, reads and objections"):
        shared = load_sharing(rt, rt.settings.default_tenant)
    summary = district_summary(entities)
    console.print(
        f"[green]示范区已就绪 demo district ready[/]: {len(entities)} entities "
        f"({', '.join(f'{t} {n}' for t, n in sorted(summary.items()))}), {len(devices)} devices provisioned, "
        f"{seeded.registered + seeded.kept} catalogue entries ({seeded.registered} new), "
        f"{shared.people} residents ({shared.people_new} new), {shared.grants} grants ({shared.grants_new} new), "
        f"{shared.reads_new} new governed reads, {shared.objections_new} new objections"
    )
    return devices


def load_history(rt: Runtime, console: Console, entities: list[dict[str, Any]], days: float) -> WarmReport:
    """The warm start (cityos.demo.warm) with a progress bar: the first start loads ``days`` of history,
    a later one tops up the gap since it stopped."""
    began = time.monotonic()
    with Progress(console=console, transient=True) as bar:

        def progress(label: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(label, total=total)
            return lambda n: bar.advance(task, n)

        report = warm_start(rt, sampled_devices(entities), days=days, now_ms=now_ms(), progress=progress)
    if report.values_from_ms is None:
        console.print("历史已是最新 History up to date (no gap to fill)", highlight=False)
    else:
        console.print(
            f"[green]历史已载入 history loaded[/] from {from_ms(report.values_from_ms)[:16]} UTC in "
            f"{time.monotonic() - began:.0f} s: {report.values:,} indicator values "
            f"(from {report.sampled:,} devices, sampled or tallied), "
            f"{report.readings:,} recent readings of every device (CITYOS_DEMO_WARM_DAYS, --warm-days to change)",
            soft_wrap=True,
            highlight=False,
        )
    return report


def district_devices(rt: Runtime, console: Console, sensors: int) -> list[DemoDevice]:
    """The demo devices, loading the district first if this database does not hold it yet."""
    entities = build_district(sensors=sensors)
    devices = [d for d, _ in demo_devices(entities)]
    if len(existing_device_ids(rt, [d.device_id for d in devices])) == len(devices):
        return devices
    return load_district(rt, console, sensors)


class LiveSimulation:
    """The simulator with its live progress line; a companion of the demo's API, or run in front.

    On a terminal the line is redrawn in place; into a file or pipe (a log) it is written as a new line
    every ``log_every`` seconds, since a redrawn line reaches a log only when the run ends.
    """

    def __init__(self, make: Callable[[], Simulator], console: Console, *, log_every: float = 30.0) -> None:
        self._make, self._console, self._log_every = make, console, log_every
        self.sim: Simulator | None = None
        self._live: Live | None = None
        self._logger: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, **limits: Any) -> None:
        sim = self.sim = self._make()
        if self._console.is_terminal:
            self._live = Live(console=self._console, refresh_per_second=4, get_renderable=lambda: _line(sim))
            self._live.start()
        else:
            self._logger = threading.Thread(target=self._log_lines, args=(sim,), name="simulator-log", daemon=True)
            self._logger.start()
        sim.start(**limits)

    def _log_lines(self, sim: Simulator) -> None:
        while not self._stop.wait(self._log_every):
            self._say(sim)

    def _say(self, sim: Simulator) -> None:
        self._console.print(_line(sim), soft_wrap=True)
        self._console.file.flush()

    def close(self) -> None:
        if self.sim is not None:
            self.sim.stop()
        if self._live is not None:
            self._live.stop()
        if self._logger is not None:
            self._stop.set()
            self._logger.join(timeout=5)
            if self.sim is not None:
                self._say(self.sim)  # the last figures


def _line(sim: Simulator) -> Text:
    return Text.from_markup(status_line(sim))


def run_simulation(
    settings: Settings,
    *,
    rate: float,
    scenario: str,
    mqtt: str | None,
    bad_share: float,
    clock: datetime | None,
    speed: float,
    duration: float | None,
    sensors: int,
    force: bool = False,
) -> SimStats:
    """`cityos simulate`: drive the demo district's devices in this process, or through a broker.

    Raises DevicesDriven when a running demo (or another `cityos simulate`) drives them, unless ``force``.
    """
    console = Console(stderr=True)
    tune_process()
    rt = Runtime.open(settings)
    upgrade(rt.db)
    runner = None
    lease = drive_devices(rt.db)
    if lease is None and not force:
        holder = who_drives(rt.db)
        rt.close()
        raise DevicesDriven(holder)
    try:
        devices = district_devices(rt, console, sensors)
        if mqtt is None:  # in-process: this process stores what it sends and watches device health
            runner = IngestRunner(rt, mqtt=False)
            runner.start()

        sink = LocalSink(rt) if mqtt is None else MqttSink(mqtt)
        sim = Simulator(devices, sink, rate=rate, scenario=scenario, bad_share=bad_share, start=clock, speed=speed)
        live = LiveSimulation(lambda: sim, console)
        live.start(duration=duration)
        try:
            sim.wait()
        except KeyboardInterrupt:
            pass
        finally:
            live.close()
        return sim.stats
    finally:
        if runner is not None:
            runner.close()
        if lease is not None:
            lease.release()
        rt.close()


class DevicesDriven(Exception):
    """Another process drives the demo's devices: a second simulator would interleave its readings with it."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        super().__init__(
            f"the demo's devices are driven by {holder}: a second simulator would alternate its readings with that "
            "one's, and a demo's engine does not see this process's writes. Switch the demo's scenario by starting "
            "it again with --scenario, or stop it first; --force runs anyway"
        )


def _has_display() -> bool:
    """A graphical session to open a browser in (on a headless server a text browser would take the terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
