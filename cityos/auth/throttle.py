"""Rate limits of the routes anyone may call, and the login lockout, counted in this process.

Counts are kept in memory (the ``limits`` library's moving windows), one set per process: with several
API processes behind a balancer, each allows its own share. The client address is the one the server
sees; behind a reverse proxy, uvicorn takes it from ``X-Forwarded-For`` when the proxy is trusted
(``FORWARDED_ALLOW_IPS``), see docs/deployment.md.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from cityos.errors import TooManyRequests


def parse_rate(text: str) -> RateLimitItem:
    """A rate such as ``20/minute`` or ``5 per 5 minutes``; ValueError names what is wrong."""
    try:
        return parse(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a rate: write it as N/second, N/minute, N/hour or 'N per M minutes'"
        ) from None


class Windows:
    """Moving windows of events per key; a part of its owner (a runtime, a database), closed with it."""

    def __init__(self) -> None:
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)

    def take(self, rate: RateLimitItem, *key: str) -> bool:
        """Count one event for ``key``; False (and not counted) when the window holds ``rate`` already."""
        return self._limiter.hit(rate, *key)

    def full(self, rate: RateLimitItem, *key: str) -> bool:
        """Whether the window of ``key`` holds ``rate`` events already (nothing is counted)."""
        return not self._limiter.test(rate, *key)

    def retry_after(self, rate: RateLimitItem, *key: str) -> int:
        """Whole seconds until the window of ``key`` has room again (at least 1)."""
        reset = self._limiter.get_window_stats(rate, *key).reset_time
        return max(1, math.ceil(reset - time.time()))

    def clear(self, rate: RateLimitItem, *key: str) -> None:
        """Forget the events of ``key``."""
        self._limiter.clear(rate, *key)

    def close(self) -> None:
        self._storage.timer.cancel()


def too_many(windows: Windows, rate: RateLimitItem, what: str, *key: str) -> TooManyRequests:
    """The 429 for a full window: ``what`` says whose requests, and the answer says when to try again."""
    wait = windows.retry_after(rate, *key)
    return TooManyRequests(
        f"too many {what} (at most {rate.amount} per {_span(rate)}): try again in {wait} seconds",
        retryAfter=wait,
    )


def _span(rate: RateLimitItem) -> str:
    unit = rate.GRANULARITY.name
    return unit if rate.multiples == 1 else f"{rate.multiples} {unit}s"
