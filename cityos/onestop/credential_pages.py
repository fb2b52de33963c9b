"""The public verify page of e-certificates (电子证照核验, ``GET /onestop/verify``): paste or upload a credential,
see each check, zh-CN first. One HTML shell whose module posts to the JSON twin (``POST /onestop/verify``); it
uses the dashboard's typeface and is held to the same Content-Security-Policy (no inline script, no other host)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from cityos.auth import PublicContext, public

STATIC = Path(__file__).parent / "static"

router = APIRouter(tags=["onestop"])
Anyone = Annotated[PublicContext, public("the e-certificate verify page and its files: nothing personal")]


@router.get("/onestop/verify", response_class=HTMLResponse, include_in_schema=False)
def verify_page(_: Anyone) -> HTMLResponse:
    html = (STATIC / "verify.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})
