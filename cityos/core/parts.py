"""Per-process parts, typed: caches and live helpers a package keeps between calls (the device directory,
the ingest writer, the cases settings …), one of each class per owner, made on first use and closed
with the owner in the reverse order of their making.

The class is the key, so ``parts.get(Directory, make)`` is typed ``Directory`` and no two packages can
collide on a name. Whatever a part holds dies with its owner (a runtime, a database), so tests that
open a new owner start clean without resetting anything by hand.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
P = TypeVar("P")


class Parts:
    """One instance per class, made on first use; :meth:`close` closes those that have a ``close()``."""

    def __init__(self) -> None:
        self._items: dict[type, Any] = {}
        self._lock = threading.RLock()
        self._making: dict[type, threading.Lock] = {}  # one per class: a slow make (a broker connect) holds up no other

    def get(self, kind: type[P], make: Callable[[], P]) -> P:
        """The part of this class, made by ``make()`` the first time (once, whatever the threads)."""
        found: P | None = self._items.get(kind)
        if found is not None:
            return found
        with self._lock:
            making = self._making.setdefault(kind, threading.Lock())
        with making:
            found = self._items.get(kind)
            if found is None:
                made = make()
                with self._lock:
                    found = self._items[kind] = made
            return found

    def find(self, kind: type[P]) -> P | None:
        """The part of this class if it was made, without making it."""
        return self._items.get(kind)

    def put(self, kind: type[P], part: P) -> None:
        """Use ``part`` from now on (the one it replaces is not closed: the caller decides)."""
        with self._lock:
            self._items[kind] = part

    def pop(self, kind: type[P]) -> P | None:
        """Take the part out (it is not closed here): the next :meth:`get` makes a new one."""
        with self._lock:
            return self._items.pop(kind, None)

    def close(self) -> None:
        """Close every part that can be closed, the newest first; a failing close is logged, not raised."""
        with self._lock:
            items = list(self._items.values())
            self._items.clear()
        for part in reversed(items):
            close = getattr(part, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:
                    log.exception("closing %s failed", type(part).__name__)
