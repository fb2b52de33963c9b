"""`cityos` command line: serve, worker, ingest, demo, simulate, feed, db, token, account, history, deadletters,
audit, vc; thin over service functions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cityos.config import Settings, get_settings
from cityos.demo.patterns import SCENARIOS
from cityos.tuning import freeze_startup_objects, tune_process

if TYPE_CHECKING:  # the commands import what they use when they run: `cityos --help` stays quick
    from cityos.auth import ProfilePublic

SCENARIO_NAMES = tuple(SCENARIOS)

app = typer.Typer(help="cityos: the city digital base (城市数字底座).", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for the API.", no_args_is_help=True)
history_app = typer.Typer(help="Attribute history: retention and compaction.", no_args_is_help=True)
deadletters_app = typer.Typer(help="Rejected telemetry (dead letters): list, show, replay.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
account_app = typer.Typer(help="Staff accounts that log in with a password.", no_args_is_help=True)
app.add_typer(account_app, name="account")
app.add_typer(history_app, name="history")
app.add_typer(deadletters_app, name="deadletters")
vitals_app = typer.Typer(help="City vital signs: indicators, warnings, forecasts.", no_args_is_help=True)
app.add_typer(vitals_app, name="vitals")
cases_app = typer.Typer(help="Incident cases: the classifier.", no_args_is_help=True)
app.add_typer(cases_app, name="cases")
audit_app = typer.Typer(help="The audit chain of reads of governed data: verify, seal.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
return_app = typer.Typer(help="District return (数据属地返还): grants that return city records to a district.",
                         no_args_is_help=True)  # fmt: skip
app.add_typer(return_app, name="return")
vc_app = typer.Typer(help="E-certificates (电子证照, W3C Verifiable Credentials): verify one offline.",
                     no_args_is_help=True)  # fmt: skip
app.add_typer(vc_app, name="vc")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the schema of CITYOS_DATABASE_URL to the newest revision."""
    from cityos.store.engine import Database
    from cityos.store.migrate import current, upgrade

    db = Database(get_settings().resolved_database_url)
    upgrade(db, revision)
    typer.echo(f"database at revision {current(db)}", err=True)


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Argument(help="What the migration does, e.g. 'datahub catalogue'.")],
) -> None:
    """Write a new migration for the tables the components declare beyond the schema (for developers)."""
    from cityos.components import load_tables
    from cityos.store.engine import Database
    from cityos.store.migrate import revision

    path = revision(Database(get_settings().resolved_database_url), load_tables(), message)
    typer.echo(f"wrote {path}: read it before committing", err=True)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="Principal name, e.g. 'traffic-police' or 'ops-centre'.")],
    role: Annotated[
        str, typer.Option(help="admin | operator | department | reader | reporter (an app filing reports)")
    ] = "reader",
    kind: Annotated[str, typer.Option(help="department | staff | device | service")] = "service",
    tenant: Annotated[str | None, typer.Option(help="Limit the token to one tenant.")] = None,
) -> None:
    """Create a bearer token and print it alone on stdout (it is shown only once)."""
    from cityos.auth import create_token
    from cityos.errors import CityError
    from cityos.store.engine import Database
    from cityos.store.migrate import upgrade

    db = Database(get_settings().resolved_database_url)
    upgrade(db)
    try:
        secret = create_token(db, name, role=role, kind=kind, tenant=tenant)
    except CityError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    typer.echo(secret)


Password = Annotated[
    str,
    typer.Option(
        envvar="CITYOS_ACCOUNT_PASSWORD",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        show_envvar=True,
        help="At least 10 characters; asked for (twice, hidden) when not given.",
    ),
]


@account_app.command("create")
def account_create(
    name: Annotated[str, typer.Argument(help="Account name the person logs in with, e.g. 'li.wei'.")],
    role: Annotated[str, typer.Option(help="admin | operator | department | reader")],
    password: Password,
    department: Annotated[
        str | None, typer.Option(help="The department it acts for (needed with --role department).")
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="The name the dashboard shows, e.g. '李伟'.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Limit the account to one tenant.")] = None,
) -> None:
    """Create a staff account that logs in with a password (or set the password of that staff principal)."""
    from cityos.auth import create_account, profile

    with _account_database() as db:
        p = create_account(
            db, name, role=role, password=password, department=department, display_name=display_name, tenant=tenant
        )
    _print_account("ready", profile(p))


@account_app.command("password")
def account_password(
    name: Annotated[str, typer.Argument(help="Account name.")],
    password: Password,
) -> None:
    """Change an account's password; this ends the sessions its logins opened (a lockout passes by itself)."""
    from cityos.auth import profile, set_password

    with _account_database() as db:
        p = set_password(db, name, password)
    _print_account("has a new password", profile(p))


@contextmanager
def _account_database() -> Iterator[Any]:
    """The migrated database of CITYOS_DATABASE_URL; a CityError raised inside ends the command with exit 2."""
    from cityos.errors import CityError
    from cityos.store.engine import Database
    from cityos.store.migrate import upgrade

    db = Database(get_settings().resolved_database_url)
    try:
        upgrade(db)
        yield db
    except CityError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()


def _print_account(what: str, me: ProfilePublic) -> None:
    from rich.console import Console
    from rich.markup import escape

    scope = ", ".join(x for x in (me.role, me.department, me.tenant and f"tenant {me.tenant}") if x)
    Console().print(f"account [bold]{escape(me.name)}[/bold] ({escape(me.displayName)}; {escape(scope)}) {what}")


@history_app.command("retention")
def history_retention(
    entity_type: Annotated[str, typer.Argument(help="Entity type, e.g. AirQualityObserved (core @context terms).")],
    raw_days: Annotated[int, typer.Option(help="Days raw instances are kept.")] = 30,
    hourly_days: Annotated[int, typer.Option(help="Days hourly rollups are kept.")] = 365,
    daily_days: Annotated[int | None, typer.Option(help="Days daily rollups are kept (default: forever).")] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant (default: the default tenant).")] = None,
) -> None:
    """Set how long the history of one entity type is kept, raw and rolled up."""
    from cityos.context import Policy, core_term_map, set_policy
    from cityos.errors import CityError
    from cityos.runtime import Runtime
    from cityos.store.migrate import upgrade

    rt = Runtime.open()
    upgrade(rt.db)
    policy = Policy(
        tenant or rt.settings.default_tenant, core_term_map().expand(entity_type), raw_days, hourly_days, daily_days
    )
    try:
        set_policy(rt, policy)
    except CityError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"{entity_type}: raw {raw_days} d, hourly {hourly_days} d, daily "
        f"{'forever' if daily_days is None else f'{daily_days} d'}",
        err=True,
    )


@history_app.command("compact")
def history_compact(tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None) -> None:
    """Roll up and drop history past its retention. Safe to interrupt and run again."""
    from rich.progress import Progress

    from cityos.context import compact
    from cityos.runtime import Runtime
    from cityos.store.migrate import upgrade

    rt = Runtime.open()
    upgrade(rt.db)
    with Progress(transient=True) as progress:
        task = progress.add_task("压缩历史 Compacting history", total=None)
        report = compact(
            rt, tenant=tenant, progress=lambda done, total: progress.update(task, completed=done, total=total)
        )
    typer.echo(
        f"rolled up {report.raw_rolled} raw instances and {report.hourly_rolled} hourly rollups, dropped "
        f"{report.daily_dropped} daily rollups ({report.chunks} chunks)",
        err=True,
    )


RolesOption = Annotated[
    str | None,
    typer.Option(
        "--roles",
        help="Roles to take beside the API: ingest, vitals, cases, notify, onestop, comma-separated, or none "
        "(default CITYOS_ROLES). One process of a deployment runs each role at a time.",
    ),
]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
    roles: RolesOption = None,
) -> None:
    """Run the API server, with the roles CITYOS_ROLES (or --roles) gives it."""
    import os

    import uvicorn

    from cityos.store.engine import Database
    from cityos.store.migrate import upgrade

    settings = get_settings()
    if roles is not None:
        if roles.strip() != "auto":
            _roles(roles)
        os.environ["CITYOS_ROLES"] = roles  # uvicorn's worker processes read the settings anew
        settings = settings.model_copy(update={"roles": roles})
    if workers > 1 and settings.bus_in_process:
        typer.echo(
            "error: --workers > 1 needs a shared bus: set CITYOS_BUS_URL=nats://host:4222 and run `cityos worker` "
            "for notifications (with memory:// each process would see only its own events)",
            err=True,
        )
        raise typer.Exit(2)
    from cityos.app import SHUTDOWN_GRACE_SECONDS, access_log_config

    upgrade(Database(settings.resolved_database_url))
    uvicorn.run(
        "cityos.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="info",
        log_config=access_log_config(),
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


def _roles(text: str) -> tuple[str, ...]:
    from cityos.core.roles import parse_roles

    try:
        return parse_roles(text)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def worker(
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            help="A role to take: ingest, vitals, cases or notify (repeat, or comma-separate, for several). "
            "Default: notify.",
        ),
    ] = None,
    mqtt: Annotated[str | None, typer.Option(help="Broker URL for the ingest role; default CITYOS_MQTT_URL.")] = None,
) -> None:
    """Run roles without the API: the vital signs engine, case timers, MQTT ingest, notifications.

    Each role runs in one process of the deployment at a time: a worker given a role another process holds
    stands by and takes it over when that process stops. Stops on SIGTERM or Ctrl-C; notifications not yet
    delivered stay in the outbox, telemetry not yet stored stays with the broker.
    """
    taken = _roles(",".join(role or ["notify"]))
    if not taken:
        typer.echo("error: give a role: --role ingest|vitals|cases|notify", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    if mqtt:
        settings = settings.model_copy(update={"mqtt_url": mqtt})
    if settings.bus_in_process and set(taken) & {"vitals", "cases", "notify"}:
        typer.echo(
            f"error: `cityos worker --role {','.join(taken)}` needs the events of the other processes: set "
            "CITYOS_BUS_URL=nats://host:4222 (with memory:// `cityos serve` takes these roles itself)",
            err=True,
        )
        raise typer.Exit(2)
    if "ingest" in taken and settings.ingest_transport == "nats" and not settings.ingest_nats:
        typer.echo("error: the nats ingest transport needs CITYOS_INGEST_NATS_URL (or a NATS CITYOS_BUS_URL)", err=True)
        raise typer.Exit(2)
    if "ingest" in taken and settings.ingest_transport == "mqtt" and not settings.mqtt_url:
        typer.echo("error: the ingest role needs a broker: --mqtt mqtt://host:1883 or CITYOS_MQTT_URL", err=True)
        raise typer.Exit(2)
    _run_worker(settings, taken)


@app.command()
def ingest(
    mqtt: Annotated[str | None, typer.Option(help="Broker URL; default CITYOS_MQTT_URL.")] = None,
) -> None:
    """Consume MQTT telemetry into the data hub, watch device health and expire commands (the ingest role).

    Messages are acknowledged only once stored: after a kill, the broker sends the rest again. With
    CITYOS_MQTT_SESSIONS above 1 several ingest processes share the telemetry (docs/deployment.md). With
    CITYOS_INGEST_TRANSPORT=nats it pulls the devices' messages from a JetStream stream, any number of
    processes sharing one durable consumer.
    """
    worker(role=["ingest"], mqtt=mqtt)


def _run_worker(settings: Settings, roles: tuple[str, ...]) -> None:
    import logging
    import signal
    import threading

    from cityos import iot
    from cityos.component import describe, process_runners
    from cityos.components import COMPONENTS
    from cityos.runtime import Runtime
    from cityos.store.migrate import upgrade

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    tune_process(ingest="ingest" in roles)
    try:
        rt = Runtime.open(settings)
    except (RuntimeError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    upgrade(rt.db)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if "ingest" in roles:
        iot.device_directory(rt)  # every device in memory before the first message, then out of the collector's way
    freeze_startup_objects()
    runners = process_runners(rt, COMPONENTS, api=False, roles=roles)
    runners.start()
    held = describe(runners)
    source = settings.mqtt_url
    if settings.ingest_transport == "nats":
        from urllib.parse import urlsplit

        at = urlsplit((settings.ingest_nats or "").split(",")[0])  # no credentials in the log
        source = f"JetStream stream {settings.ingest_nats_stream} at {at.hostname}:{at.port or 4222}"
    doing = {"ingest": f"ingest (consuming telemetry from {source})"}
    typer.echo(
        f"cityos worker: running {', '.join(doing.get(r, r) for r in held['roles']) or 'no role yet'}"
        + (f"; standing by for {', '.join(held['standby'])}" if held["standby"] else ""),
        err=True,
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        runners.close()
        rt.close()


def _open_runtime() -> Any:
    from cityos.runtime import Runtime
    from cityos.store.migrate import upgrade

    rt = Runtime.open(get_settings())
    upgrade(rt.db)
    return rt


@cases_app.command("retrain")
def cases_retrain() -> None:
    """Train the case classifier again with the categories dispatchers confirmed; saved in the data directory."""
    from rich.console import Console

    from cityos import cases as cases

    rt = _open_runtime()
    try:
        with Console().status("training the classifier (a few seconds) …"):
            out = cases.retrain(rt)
    finally:
        rt.close()
    typer.echo(
        f"learnt from {out.corrections} confirmed corrections; held-out main top-1 {out.before.main:.3f} → "
        f"{out.after.main:.3f}, sub {out.before.sub:.3f} → {out.after.sub:.3f}; saved {out.path}"
    )


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the whole audit chain: recompute every hash, check every seal; name the first bad record (exit 1)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cityos import datahub

    rt = _open_runtime()
    try:
        columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("verify", total=datahub.chain_length(rt))
            out = datahub.verify(rt, progress=lambda n: bar.update(task, completed=n))
    finally:
        rt.close()
    if not out.ok:
        typer.echo(f"broken at seq {out.seq}: {out.problem} ({out.records:,} records verified before it)", err=True)
        raise typer.Exit(1)
    typer.echo(f"intact: {out.records:,} records, {out.seals:,} seals verified in {out.seconds:.1f} s")


@app.command()
def feed(
    code: Annotated[str, typer.Argument(help="The catalogue entry the records are records of.")],
    file: Annotated[Path, typer.Argument(help="A .csv (header row of item names) or .json file of records.")],
    department: Annotated[str, typer.Option(help="The feeding department (its items are applied).")],
    tenant: Annotated[str | None, typer.Option(help="The tenant; default CITYOS_DEFAULT_TENANT.")] = None,
) -> None:
    """Feed a file of records into the entry's base registry (自然人库, 法人库 or 空间地理库); print the report."""
    from dataclasses import replace

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cityos import datahub
    from cityos.errors import CityError

    tune_process()  # a feed allocates per record as a server's batch writes do: collected as seldom
    rt = _open_runtime()
    try:
        where = tenant or rt.settings.default_tenant
        loaded = datahub.read_feed_file(file)
        columns = (TextColumn("feeding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("feed", total=len(loaded.records))
            run = datahub.feed_and_settle(rt, where, code, department, loaded.records, by=f"cli:{department}",
                                          lines=loaded.lines,
                                          progress=lambda n: bar.update(task, completed=n))  # fmt: skip
        if run.quality is not None:  # made in the background: the command ends once it is
            with Console(stderr=True).status("the quality run of the records …"):
                checked = datahub.wait_for_quality(rt, where, run.id)
            run = replace(run, quality=checked.quality, quality_run=checked.quality_run)
    except CityError as exc:
        typer.echo(exc.detail, err=True)
        raise typer.Exit(1) from exc
    finally:
        rt.close()
    typer.echo(f"run {run.id}: {run.records:,} records: {run.new:,} new, {run.changed:,} changed, "
               f"{run.unchanged:,} unchanged, {run.conflicting:,} conflicting, {run.rejected:,} rejected")  # fmt: skip
    if run.quality is not None:
        typer.echo(f"quality run: {run.quality_run or run.quality} (GET /datahub/quality/runs?feedRun={run.id})")
    for r in run.rejections[:20]:
        typer.echo(f"rejected line {r.line}: {r.reason}")
    for c in run.conflicts[:20]:
        typer.echo(f"conflict: {c.item} of {c.entity_id}: its source is {c.source}; offered {c.offered!r}")
    if len(run.rejections) > 20 or len(run.conflicts) > 20:
        typer.echo(f"… the rest: GET /datahub/feeds/runs/{run.id}")


@audit_app.command("rotate-key")
def audit_rotate_key() -> None:
    """Seal the head with the current seal key, keep its public key among the retired (verify checks the seals it
    made) and write a new seal key in its place. Restart the API processes to seal with the new key."""
    from cityos import datahub

    settings = get_settings()
    rt = _open_runtime()  # a seal made and then a refused rotation do no harm: a seal may be made at any time
    try:
        done = datahub.seal(rt)
    finally:
        rt.close()
    try:
        old, new = datahub.rotate_seal_key(settings)
    except datahub.AuditKeyInvalid as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    sealed = f"sealed seq {done.seq} with it, " if done else ""
    typer.echo(f"retired the seal key {old} ({sealed}its public key kept for verify); the new seal key is {new}")


@audit_app.command("seal")
def audit_seal() -> None:
    """Seal the audit chain's head now (an Ed25519 signature of its seq and hash)."""
    from cityos import datahub

    rt = _open_runtime()
    try:
        done = datahub.seal(rt)
    finally:
        rt.close()
    if done is None:
        typer.echo("the audit chain is empty: nothing to seal", err=True)
        return
    typer.echo(f"sealed seq {done.seq} (hash {done.hash}) with key {done.key_id}")


@vitals_app.command("backtest")
def vitals_backtest(
    indicator: str,
    scope: Annotated[str | None, typer.Option(help="Only this group (a unit, grid or street id, or district).")] = None,
) -> None:
    """MASE of the indicator's forecasts against seasonal naive over its stored history (below 1: better)."""
    import time

    from rich.console import Console
    from rich.table import Table

    from cityos import vitals as vitals
    from cityos.errors import CityError

    rt = _open_runtime()
    try:
        rows = vitals.backtest(rt, rt.settings.default_tenant, vitals.catalogue(rt, rt.settings.default_tenant),
                               indicator, scope, int(time.time() * 1000))  # fmt: skip
    except CityError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    finally:
        rt.close()
    table = Table("scope", "points", "step (s)", "MASE")
    for r in rows:
        score = "too little history" if r.mase is None else f"{r.mase:.3f}"
        table.add_row(r.scope, str(r.points), str(r.step_seconds), score)
    Console().print(table)
    if not rows:
        typer.echo(f"no stored values of {indicator} yet", err=True)


@deadletters_app.command("list")
def deadletters_list(
    reason: Annotated[str | None, typer.Option(help="Only this reason code, e.g. out-of-range.")] = None,
    device: Annotated[str | None, typer.Option(help="Only this device id.")] = None,
    replayed: Annotated[bool, typer.Option(help="Also those replayed already.")] = False,
    limit: int = 50,
) -> None:
    """The newest dead letters with their reasons."""
    from rich.console import Console
    from rich.table import Table

    from cityos import iot as service

    rt = _open_runtime()
    try:
        rows, total = service.list_dead_letters(
            rt, reason_code=reason, device_id=device, include_replayed=replayed, limit=limit
        )
    finally:
        rt.close()
    table = Table(title=f"dead letters: {len(rows)} of {total}")
    # the id is what `show` and `replay` take, and the reason a code to filter on: never cut them
    # (piped output is 80 columns wide, which is too narrow for all five)
    table.add_column("id", no_wrap=True, min_width=36)
    table.add_column("received")
    table.add_column("device")
    table.add_column("reason", no_wrap=True)
    table.add_column("replayed")
    for x in rows:
        table.add_row(x.id, x.received_at, x.device_id, x.reason_code, x.replayed_at or "")
    console = Console()
    if not console.is_terminal:  # piped or logged: as wide as the rows need, not the 80 columns Rich assumes
        wide = console.measure(table, options=console.options.update_width(1000)).maximum
        console = Console(width=max(console.width, wide))
    console.print(table)


@deadletters_app.command("show")
def deadletters_show(letter_id: str) -> None:
    """One dead letter with its reason and raw payload, as JSON."""
    import orjson

    from cityos import iot as service
    from cityos.errors import CityError

    rt = _open_runtime()
    try:
        letter = service.DeadLetterPayloadPublic.with_payload(service.get_dead_letter(rt, letter_id))
    except CityError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    finally:
        rt.close()
    typer.echo(orjson.dumps(letter.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode())


@deadletters_app.command("replay")
def deadletters_replay(
    letter_ids: Annotated[list[str] | None, typer.Argument(help="Dead letter ids, or none with --reason.")] = None,
    reason: Annotated[str | None, typer.Option(help="Replay all not yet replayed with this reason.")] = None,
    device: Annotated[str | None, typer.Option(help="Replay all not yet replayed of this device.")] = None,
) -> None:
    """Take dead letters in again (after provisioning the device or fixing its range)."""
    from rich.progress import track

    from cityos import iot as service
    from cityos.errors import CityError

    if not letter_ids and not reason and not device:
        typer.echo("error: give dead letter ids, or --reason / --device to pick them", err=True)
        raise typer.Exit(2)
    rt = _open_runtime()
    accepted = rejected = 0
    try:
        ids = list(letter_ids or [])
        if not ids:
            rows, _ = service.list_dead_letters(rt, reason_code=reason, device_id=device, limit=100_000)
            ids = [x.id for x in rows]
        for letter_id in track(ids, description="replaying", transient=True):
            try:
                outcome = service.replay(rt, letter_id)
            except CityError as exc:
                typer.echo(f"{letter_id}: {exc.detail}", err=True)
                rejected += 1
                continue
            if outcome.accepted:
                accepted += 1
            else:
                rejected += 1
                typer.echo(f"{letter_id}: rejected again ({outcome.reason_code}): {outcome.reason}", err=True)
    finally:
        rt.close()
    typer.echo(f"replayed {accepted} accepted, {rejected} rejected again")
    if rejected:
        raise typer.Exit(1)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port for the dashboard and API.")] = 8000,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False,
    sensors: Annotated[int, typer.Option(help="Observed things to create.")] = 5200,
    simulate: Annotated[bool, typer.Option(help="Run the sensor simulator in the same process.")] = True,
    rate: Annotated[float, typer.Option(help="Simulated messages per second, all devices together.")] = 200.0,
    scenario: Annotated[str, typer.Option(help="Simulated scenario: " + ", ".join(SCENARIO_NAMES))] = "normal",
    clock: Annotated[
        str | None, typer.Option(help="Shanghai time of day the simulated patterns start from, HH:MM; default now.")
    ] = None,
    speed: Annotated[float, typer.Option(min=0.01, help="How much faster than real time the patterns run.")] = 1.0,
    persons: Annotated[
        int, typer.Option(min=0, help="Persons the departments' demo feeds put in the persons registry (0: none).")
    ] = 100_000,
    warm_days: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Days of simulated history the first start loads (default 14, CITYOS_DEMO_WARM_DAYS; "
            "0: start cold); a later start tops up the gap.",
        ),
    ] = None,
) -> None:
    """Load the demo district (Huangpu-like) into ./var and serve it on 127.0.0.1, its sensors simulated."""
    from cityos.demo.run import run_demo

    _check_scenario(scenario)
    run_demo(
        Settings(demo_mode=True),
        port=port,
        open_browser=not no_browser,
        sensors=sensors,
        simulate=simulate,
        rate=rate,
        scenario=scenario,
        clock=_clock(clock),
        speed=speed,
        persons=persons,
        warm_days=warm_days,
    )


@app.command()
def simulate(
    rate: Annotated[float, typer.Option(min=0.1, help="Messages per second, all devices together.")] = 200.0,
    scenario: Annotated[str, typer.Option(help="One of: " + ", ".join(SCENARIO_NAMES))] = "normal",
    mqtt: Annotated[
        str | None, typer.Option(help="Publish to this broker (mqtt://host:1883); default: store in this process.")
    ] = None,
    bad: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of messages spoiled on purpose.")] = 0.005,
    clock: Annotated[
        str | None, typer.Option(help="Shanghai time of day the patterns start from, HH:MM; default now.")
    ] = None,
    speed: Annotated[float, typer.Option(min=0.01, help="How much faster than real time the patterns run.")] = 1.0,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds; default: Ctrl-C.")] = None,
    sensors: Annotated[int, typer.Option(help="Observed things in the demo district (as for `cityos demo`).")] = 5200,
    force: Annotated[
        bool, typer.Option("--force", help="Drive the devices even while a running demo (or simulator) drives them.")
    ] = False,
) -> None:
    """Drive the demo district's devices with daily patterns and a few bad messages.

    Provisions the devices (and loads the district) in the configured database if they are missing.
    Without --mqtt the messages are stored by this process; with --mqtt they go to the broker,
    for `cityos ingest` or `cityos serve` with CITYOS_MQTT_URL to take in. Refused while a running
    `cityos demo` (or another `cityos simulate`) drives the same database's devices, unless --force.
    """
    from cityos.demo.run import DevicesDriven, run_simulation

    _check_scenario(scenario)
    try:
        stats = run_simulation(
            get_settings(),
            rate=rate,
            scenario=scenario,
            mqtt=mqtt,
            bad_share=bad,
            clock=_clock(clock),
            speed=speed,
            duration=duration,
            sensors=sensors,
            force=force,
        )
    except DevicesDriven as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"sent {stats.sent} messages ({stats.spoiled} spoiled on purpose); "
        f"accepted {stats.accepted}, rejected {stats.rejected}, broker acknowledged {stats.acked}",
        err=True,
    )


def _check_scenario(name: str) -> None:
    if name not in SCENARIO_NAMES:
        typer.echo(f"error: unknown scenario {name!r}: use one of {', '.join(SCENARIO_NAMES)}", err=True)
        raise typer.Exit(2)


def _clock(text: str | None) -> Any:
    """HH:MM in Shanghai today, as a UTC datetime."""
    from datetime import UTC, datetime, timedelta

    if text is None:
        return None
    try:
        hh, mm = (int(x) for x in text.split(":"))
        local = datetime.now(UTC) + timedelta(hours=8)
        start = local.replace(hour=hh, minute=mm, second=0, microsecond=0) - timedelta(hours=8)
    except ValueError:
        typer.echo(f"error: --clock {text!r} is not a time of day such as 20:30", err=True)
        raise typer.Exit(2) from None
    return start


def _return_echo(run: Any) -> None:
    typer.echo(f"run {run.id} ({'full' if run.full else 'since ' + str(run.since)}): {run.read:,} city records read; "
               f"{run.new:,} new, {run.changed:,} changed, {run.removed:,} removed, {run.unchanged:,} unchanged "
               f"in {run.seconds:.1f} s; watermark {run.watermark}")  # fmt: skip


@return_app.command("make")
def return_make(
    tenant: Annotated[str, typer.Argument(help="The district's tenant the records go to.")],
    district: Annotated[str, typer.Argument(help="The district's name as addresses write it, e.g. 黄浦区.")],
    codes: Annotated[list[str], typer.Argument(help="The city catalogue entries returned.")],
    area_entity: Annotated[
        str | None, typer.Option(help="The city entity whose location is the district's polygon.")
    ] = None,
) -> None:
    """Make a standing return grant in the city tenant (CITYOS_CITY_TENANT) and print its id."""
    from cityos import datahub
    from cityos.errors import CityError

    rt = _open_runtime()
    try:
        grant = datahub.make_return(rt, tenant, district, codes, by="cli", area_entity=area_entity)
    except CityError as exc:
        typer.echo(exc.detail, err=True)
        raise typer.Exit(1) from exc
    finally:
        rt.close()
    typer.echo(f"return grant {grant.id}: {', '.join(grant.codes)} to {grant.district_tenant} ({grant.district})")


@return_app.command("run")
def return_run(
    grant: Annotated[str | None, typer.Argument(help="The return grant; leave out to run every standing one.")] = None,
    full: Annotated[bool, typer.Option(help="Read every record (and remove those gone from the city).")] = False,
) -> None:
    """Run return grants now (incrementally from their watermarks unless --full) and print each run's counts."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from cityos import datahub
    from cityos.errors import CityError

    rt = _open_runtime()
    try:
        ids = [grant] if grant else [g.id for g in datahub.list_returns(rt, state="standing", limit=100)[0]]
        for grant_id in ids:
            columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
            with Progress(*columns, transient=True) as bar:
                task = bar.add_task(f"returning {grant_id}", total=None)  # pulsing: what changed is not known ahead

                def shown(n: int, t: Any = task, g: str = grant_id) -> None:
                    bar.update(t, description=f"returning {g}: {n:,} city records read")

                run = datahub.run_return(rt, grant_id, by="cli", full=full, progress=shown)
            _return_echo(run)
    except CityError as exc:
        typer.echo(exc.detail, err=True)
        raise typer.Exit(1) from exc
    finally:
        rt.close()


@return_app.command("list")
def return_list() -> None:
    """The return grants, newest first, with their state and watermark."""
    from cityos import datahub

    rt = _open_runtime()
    try:
        grants, total = datahub.list_returns(rt, limit=100)
    finally:
        rt.close()
    for g in grants:
        typer.echo(f"{g.id}  {g.state:8}  {g.district_tenant} ({g.district})  {', '.join(g.codes)}  "
                   f"watermark {g.watermark or '-'}")  # fmt: skip
    typer.echo(f"{total} return grants")


def _read_json(path: Path, what: str) -> Any:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {what} {path} is not a JSON file that can be read: {exc}", err=True)
        raise typer.Exit(2) from None


VC_SEALS_HELP = "The offices' seals: a saved answer of GET /onestop/seals."
VC_STATUS_HELP = "A saved status list credential (GET /onestop/status/{issuer}/{purpose}); repeat for each list."
VC_BASE_HELP = "Read the seals and status lists from this cityos (e.g. https://zwfw.example.gov.cn); nothing else."


@vc_app.command("verify")
def vc_verify(
    file: Annotated[Path, typer.Argument(help="The credential (JSON), as downloaded from a wallet.")],
    seals: Annotated[Path | None, typer.Option(help=VC_SEALS_HELP)] = None,
    status: Annotated[list[Path] | None, typer.Option(help=VC_STATUS_HELP)] = None,
    base_url: Annotated[str | None, typer.Option(help=VC_BASE_HELP)] = None,
) -> None:
    """Verify an e-certificate: signature, period of validity, office seal, status. Offline with --seals and
    --status files; or from one cityos with --base-url (only status lists under it are read). Exit 0 when every
    check passes, 1 when one fails, 2 for unusable input."""
    from datetime import UTC, datetime

    import httpx

    from cityos import onestop

    credential = _read_json(file, "the credential")
    if base_url is None and seals is None:
        typer.echo("error: give the seals (--seals FILE, with --status FILE for each list) or --base-url", err=True)
        raise typer.Exit(2)
    base = (base_url or "").rstrip("/")
    raw_seals = httpx.get(f"{base}/onestop/seals", timeout=10).json() if seals is None else _read_json(seals, "seals")
    known = {s["publicKeyMultibase"]: onestop.Seal(s["department"], s["name"], s["publicKeyMultibase"])
             for s in raw_seals if isinstance(s, dict) and "publicKeyMultibase" in s}  # fmt: skip
    lists = {doc.get("id"): doc for doc in (_read_json(p, "the status list") for p in status or [])}

    def lookup(url: str) -> Any:
        if url in lists:
            return onestop.open_list(lists[url], known)
        if base and url.startswith(f"{base}/onestop/status/"):
            answer = httpx.get(url, timeout=10)
            return answer.json() if answer.status_code == 200 else None
        return None

    found = onestop.verify_credential(credential, known, lookup, datetime.now(UTC))
    for check in found.checks:
        mark = "✔" if check.ok else "✘"
        reason = f": {check.reason_zh} ({check.reason_en})" if not check.ok else ""
        typer.echo(f"{mark} {check.label_zh} {check.label_en}{reason}")
    typer.echo(f"状态 status: {found.status}")
    if not found.ok:
        raise typer.Exit(1)
    typer.echo("核验通过 verified")


if __name__ == "__main__":
    app()
