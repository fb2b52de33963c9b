"""The operations dashboard (运行体征大屏): its page, static files and the live event stream.

The page is static HTML and JavaScript modules with no build step; it reads the same public API as
any other client (``/vitals``, ``/cases``, ``/twin``, ``/iot``) and listens to ``GET /web/events``.
ECharts, Swagger UI (``/docs``), ReDoc (``/redoc``) and the Noto Sans SC typeface come from npm
(``cityos/web/package.json``, installed by the Makefile) and are served as they are: the pages ask no other
site for anything, and read the same on a machine without Chinese fonts.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from cityos import __version__
from cityos.auth import PublicContext, RequestContext, public, signed_in
from cityos.core.timefmt import now_iso
from cityos.errors import NotFound, Unavailable, problem_responses
from cityos.web.errors import LibraryMissing
from cityos.web.headers import REDOC_POLICY
from cityos.web.live import LiveHub, frame

HERE = Path(__file__).parent
STATIC = HERE / "static"
MODULES = HERE / "node_modules"
VENDOR = {
    "echarts.min.js": MODULES / "echarts" / "dist" / "echarts.min.js",
    "swagger-ui-bundle.js": MODULES / "swagger-ui-dist" / "swagger-ui-bundle.js",
    "swagger-ui.css": MODULES / "swagger-ui-dist" / "swagger-ui.css",
    "redoc.standalone.js": MODULES / "redoc" / "bundles" / "redoc.standalone.js",
}
# What a library would ask another site for, and what it gets from here instead. ReDoc's menu shows its maker's
# logo from the maker's CDN: the bundle is served with an empty image there, and the logo hides itself.
LOCALISED: dict[str, list[tuple[bytes, bytes]]] = {
    "redoc.standalone.js": [(b'"https://cdn.redoc.ly/redoc/logo-mini.svg"', b'"data:,"')],
}
# The typeface as @fontsource ships it: a stylesheet per weight (400.css) naming, by relative URL, about a hundred
# files per weight, each cut to a unicode-range, of which a browser fetches only those of the characters it shows.
FONT = MODULES / "@fontsource" / "noto-sans-sc"
FONT_FILE = re.compile(r"[1-9]00\.css|files/noto-sans-sc-[0-9a-z-]+\.woff2?")  # no "/" or ".." beyond these
FONT_TYPES = {".css": "text/css", ".woff2": "font/woff2", ".woff": "font/woff"}
KEEP_ALIVE_SECONDS = 15.0

router = APIRouter(tags=["web"])
Page = Annotated[PublicContext, public("the dashboard's page and libraries: it asks for a login before any data")]
Docs = Annotated[PublicContext, public("the API's documentation, as public as /openapi.json")]
# Any valid token may listen: the stream carries only what the token may read (cityos.web.live.visible).
Watcher = Annotated[RequestContext, signed_in()]


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(_: Page) -> HTMLResponse:
    page = (STATIC / "index.html").read_text(encoding="utf-8").replace("{{version}}", __version__)
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.get("/static/vendor/{name}", include_in_schema=False)
def vendor(_: Page, name: str) -> Response:
    path = VENDOR.get(name)
    if path is None:
        raise NotFound(f"the dashboard has no library {name!r}: it serves {', '.join(VENDOR)}")
    if not path.is_file():
        raise _missing(name)
    media_type = "text/css" if name.endswith(".css") else "text/javascript"
    headers = {"Cache-Control": "max-age=86400"}
    if name in LOCALISED:
        return Response(_localised(path, path.stat().st_mtime_ns), media_type=media_type, headers=headers)
    return FileResponse(path, media_type=media_type, headers=headers)


@functools.lru_cache(maxsize=len(LOCALISED))
def _localised(path: Path, _version: int) -> bytes:
    """The library with its addresses on other sites replaced (cached per file and modification time)."""
    text = path.read_bytes()
    for there, here in LOCALISED[path.name]:
        text = text.replace(there, here)
    return text


@router.get("/static/vendor/noto-sans-sc/{name:path}", include_in_schema=False)
def font(_: Page, name: str) -> FileResponse:
    if not FONT.is_dir():
        raise _missing("the typeface Noto Sans SC")
    path = FONT / name
    if not FONT_FILE.fullmatch(name) or not path.is_file():
        raise NotFound(f"the typeface has no file {name!r}: it serves 400.css, 700.css and the files they name")
    return FileResponse(path, media_type=FONT_TYPES[path.suffix], headers={"Cache-Control": "max-age=86400"})


def _missing(name: str) -> LibraryMissing:
    return LibraryMissing(
        f"{name} is not installed: run 'make demo' or 'npm ci --prefix cityos/web' to install the dashboard's "
        "libraries from npm"
    )


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def api_docs(_: Docs) -> FileResponse:
    """Swagger UI over /openapi.json, from this server alone (no other site is asked for anything)."""
    return FileResponse(STATIC / "docs.html", media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get("/redoc", response_class=HTMLResponse, include_in_schema=False)
def api_redoc(_: Docs) -> FileResponse:
    """ReDoc over /openapi.json, from this server alone, like /docs."""
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": REDOC_POLICY}
    return FileResponse(STATIC / "redoc.html", media_type="text/html", headers=headers)


EVENT_STREAM = {
    "description": "Server-sent events (text/event-stream) that do not end: 'event: <kind>' and 'data: <JSON object>'",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


@router.get(
    "/web/events",
    summary="Live events for the dashboard (server-sent events)",
    response_class=StreamingResponse,
    # 503: the live hub is not running in this process yet (Retry-After says when to ask again)
    responses={200: EVENT_STREAM, **problem_responses(503)},
)
async def events(request: Request, ctx: Watcher) -> StreamingResponse:
    """``warning``, ``prewarning``, ``case`` and ``device`` events as they happen, ``sensors`` (the latest
    values, ``[[id, value], …]``) once a second, ``resync`` when the page fell behind. Each ``data`` is
    one JSON object. The token decides what comes: a department gets its own cases' events."""
    hub = request.app.state.runners.find(LiveHub)
    if hub is None:
        raise Unavailable("the live stream is not running in this process yet: try again in a moment", retryAfter=2)
    principal = ctx.principal
    page = hub.connect(principal, ctx.tenant)

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 2000\n" + frame("hello", {"principal": principal.name, "at": now_iso()})
            while True:
                try:
                    yield await asyncio.wait_for(page.queue.get(), timeout=KEEP_ALIVE_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield b": keep-alive\n\n"
        finally:
            hub.disconnect(page)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


def mount_static(app: FastAPI) -> None:
    """Serve the dashboard's own files under ``/static`` (the vendor route above comes first)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
