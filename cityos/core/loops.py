"""Event loops for the threads that run one of their own (notification delivery, the NATS bus)."""

from __future__ import annotations

import asyncio

try:  # a dependency of uvicorn[standard] where it builds (not on Windows)
    import uvloop
except ImportError:  # pragma: no cover - the platforms without it
    uvloop = None  # type: ignore[assignment]


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop's when installed, as the API's own under uvicorn, else asyncio's.

    A thread that sends thousands of HTTP requests or bus messages a second spends most of its time in the
    loop's scheduling and socket handling, which uvloop does in C.
    """
    return uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()
