"""Security headers on every answer of the app: pages, static files, the API's JSON, errors and streams.

The Content-Security-Policy lets a page run only the scripts this server serves as files (no inline script,
no ``eval``, no other origin), talk only to this server and be framed by no one; so even a value that
slipped through the page's escaping (``cityos/web/static/js/dom.js``) could not run, nor send the token
away. ``nosniff`` keeps a browser from reading JSON or an uploaded text as a script or a page.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # 'unsafe-inline' for styles only: ECharts' tooltips (and Swagger UI on /docs) are HTML with style=""
        # attributes, which a policy without it blocks. A style cannot run script; every script stays 'self'.
        "style-src 'self' 'unsafe-inline'",
        # data: for the favicon and Swagger UI's icons, blob: for a chart saved as an image
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# /redoc: ReDoc searches in a worker that its own script (a file of this server) makes from a blob. Only a script
# the policy already let run can make one, so this lets nothing else in.
REDOC_POLICY = CONTENT_SECURITY_POLICY + "; worker-src blob:"

# The same on every answer: a JSON answer opened in a browser tab is held to the page's rules too.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # the dashboard uses none of these powerful features: no script may ask for them
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware that adds :data:`SECURITY_HEADERS` to every HTTP answer; a header a route set itself
    is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
