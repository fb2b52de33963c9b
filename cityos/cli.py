"""`cityos` command line: serve, worker, demo, db, token, history. Thin over the same service functions as the API."""

from __future__ import annotations

from typing import Annotated

import typer

from cityos.config import Settings, get_settings

app = typer.Typer(help="cityos: the city digital base (城市数字底座).", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for the API.", no_args_is_help=True)
history_app = typer.Typer(help="Attribute history: retention and compaction.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(history_app, name="history")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the schema of CITYOS_DATABASE_URL to the newest revision."""
    from cityos.store.engine import Database
    from cityos.store.migrate import current, upgrade

    db = Database(get_settings().resolved_database_url)
    upgrade(db, revision)
    typer.echo(f"database at revision {current(db)}", err=True)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="Principal name, e.g. 'traffic-police' or 'ops-centre'.")],
    role: Annotated[str, typer.Option(help="admin | operator | department | reader")] = "reader",
    kind: Annotated[str, typer.Option(help="department | staff | device | service")] = "service",
    tenant: Annotated[str | None, typer.Option(help="Limit the token to one tenant.")] = None,
) -> None:
    """Create a bearer token and print it alone on stdout (it is shown only once)."""
    from cityos.auth.service import create_token
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


@history_app.command("retention")
def history_retention(
    entity_type: Annotated[str, typer.Argument(help="Entity type, e.g. AirQualityObserved (core @context terms).")],
    raw_days: Annotated[int, typer.Option(help="Days raw instances are kept.")] = 30,
    hourly_days: Annotated[int, typer.Option(help="Days hourly rollups are kept.")] = 365,
    daily_days: Annotated[int | None, typer.Option(help="Days daily rollups are kept (default: forever).")] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant (default: the default tenant).")] = None,
) -> None:
    """Set how long the history of one entity type is kept, raw and rolled up."""
    from cityos.context.jsonld import core_term_map
    from cityos.context.retention import Policy, set_policy
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

    from cityos.context.retention import compact
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


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
) -> None:
    """Run the API server."""
    import uvicorn

    from cityos.store.engine import Database
    from cityos.store.migrate import upgrade

    settings = get_settings()
    if workers > 1 and settings.bus_in_process:
        typer.echo(
            "error: --workers > 1 needs a shared bus: set CITYOS_BUS_URL=nats://host:4222 and run `cityos worker` "
            "for notifications (with memory:// each process would see only its own events)",
            err=True,
        )
        raise typer.Exit(2)
    upgrade(Database(settings.resolved_database_url))
    uvicorn.run(
        "cityos.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="info",
    )


@app.command()
def worker() -> None:
    """Match subscriptions and send notifications, fed by the NATS bus (CITYOS_BUS_URL=nats://...).

    Stops on SIGTERM or Ctrl-C; what was not yet delivered stays in the outbox for the next start.
    """
    import logging
    import signal
    import threading

    from cityos.context.notify import Notifier
    from cityos.runtime import Runtime
    from cityos.store.migrate import upgrade

    settings = get_settings()
    if settings.bus_in_process:
        typer.echo(
            "error: `cityos worker` needs CITYOS_BUS_URL=nats://host:4222; with memory:// the API "
            "process sends notifications itself",
            err=True,
        )
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        rt = Runtime.open(settings)
    except RuntimeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    upgrade(rt.db)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    notifier = Notifier(rt)
    notifier.start()
    typer.echo("cityos worker: delivering notifications", err=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        notifier.close()
        rt.close()


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port for the dashboard and API.")] = 8000,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False,
    sensors: Annotated[int, typer.Option(help="Observed things to create.")] = 5200,
) -> None:
    """Load the demo district (Huangpu-like) into ./var and serve it on 127.0.0.1."""
    from cityos.demo.run import run_demo

    run_demo(Settings(demo_mode=True), port=port, open_browser=not no_browser, sensors=sensors)


if __name__ == "__main__":
    app()
