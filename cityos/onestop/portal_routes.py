"""The one-stop portal's pages (一网通办): ``/onestop/login`` (the demo identity provider's page) and
``/onestop/`` (the home of a logged-in person or enterprise: services, applications, certificates, who used my
data, objections). Each page is a static shell whose one module reads the /onestop JSON routes with the token
the login left in the tab; the pages use the dashboard's typeface and escaping module, offline, and are held to
the same Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from cityos.auth import PublicContext, public
from cityos.errors import NotFound

STATIC = Path(__file__).parent / "static" / "portal"
JS = "text/javascript"
FILES = {
    "portal.js": JS,
    "portal.css": "text/css",
    "api.js": JS,
    "apply.js": JS,
    "submission.js": JS,
    "wallet.js": JS,
    "rating.js": JS,
    "notices.js": JS,  # 我的消息 · 政策推送 (policy matching)
}
# and the shells, login.html and index.html

router = APIRouter(tags=["onestop"])
Anyone = Annotated[PublicContext, public("the one-stop portal's page shells and files: no data, which needs a token")]


def _shell(name: str) -> HTMLResponse:
    return HTMLResponse((STATIC / name).read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"})


@router.get("/onestop/static/portal/{name}", include_in_schema=False)
def static(_: Anyone, name: str) -> FileResponse:
    if name not in FILES:
        raise NotFound(f"the portal has no file {name!r}: it serves {', '.join(FILES)}")
    return FileResponse(STATIC / name, media_type=FILES[name], headers={"Cache-Control": "no-cache"})


@router.get("/onestop/", response_class=HTMLResponse, include_in_schema=False)
def home(_: Anyone) -> HTMLResponse:
    return _shell("index.html")


@router.get("/onestop/login", response_class=HTMLResponse, include_in_schema=False)
def login(_: Anyone) -> HTMLResponse:
    return _shell("login.html")
