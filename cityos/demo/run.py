"""`cityos demo`: a fresh SQLite district under ./var, an admin token, the server on 127.0.0.1."""

from __future__ import annotations

import os
import sys
import threading
import webbrowser

from rich.console import Console
from rich.progress import Progress

from cityos.auth.service import create_token
from cityos.config import Settings
from cityos.demo.district import build_district, district_summary
from cityos.demo.load import upsert_entities
from cityos.runtime import Runtime
from cityos.store.migrate import upgrade
from cityos.tuning import tune_process


def run_demo(settings: Settings, *, port: int = 8000, open_browser: bool = True, sensors: int = 5200) -> None:
    import uvicorn

    from cityos.app import create_app

    console = Console(stderr=True)
    tune_process()
    rt = Runtime.open(settings)
    upgrade(rt.db)
    entities = build_district(sensors=sensors)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("载入示范区 Loading the demo district", total=len(entities))
        upsert_entities(rt, settings.default_tenant, entities, progress=lambda n: progress.advance(task, n))
    summary = district_summary(entities)
    console.print(
        f"[green]示范区已就绪 demo district ready[/]: {len(entities)} entities "
        f"({', '.join(f'{t} {n}' for t, n in sorted(summary.items()))})"
    )
    token = create_token(rt.db, "demo-admin", role="admin", kind="staff")
    url = f"http://127.0.0.1:{port}"
    console.print(f"控制台 Dashboard: [bold]{url}[/]   API docs: {url}/docs", soft_wrap=True)
    console.print(f"管理员令牌 Admin token: [bold]{token}[/]", soft_wrap=True)
    console.print(
        f'  curl -H "Authorization: Bearer {token}" "{url}/ngsi-ld/v1/entities?type=Grid&limit=2"',
        soft_wrap=True,
        highlight=False,
    )
    if open_browser and _has_display():
        threading.Timer(1.5, lambda: webbrowser.open(url)).start()
    uvicorn.run(create_app(settings, runtime=rt), host="127.0.0.1", port=port, log_level="warning")


def _has_display() -> bool:
    """A graphical session to open a browser in (on a headless server a text browser would take the terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
