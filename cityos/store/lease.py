"""Leases: which process of a deployment runs a singleton role (the vital signs engine, the case timers).

A lease is a lock the database's host keeps for a process for as long as that process lives:

* PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) taken on a connection of its own. The
  server releases it when the connection ends, so a process that dies or loses the database loses
  its leases, and another process takes them over.
* SQLite: an exclusive ``flock`` on a file beside the database file (``cityos.db.role-vitals.lease``),
  which the kernel releases when the process ends. Processes on one machine share one SQLite file,
  so this is the same deployment-wide guarantee.

Whoever asks first gets the lease; the others ask again every few seconds (``cityos.component``).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text

from cityos.store.engine import Database

log = logging.getLogger(__name__)


class Lease(Protocol):
    name: str

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; True when this process holds it now."""

    def held(self) -> bool:
        """Whether this process still holds the lease (False once its connection or file is gone)."""

    def release(self) -> None:
        """Give the lease up (safe when not held)."""


def open_lease(db: Database, name: str) -> Lease:
    """The lease named ``name`` in the deployment that shares ``db``."""
    if not db.is_sqlite:
        return AdvisoryLease(db, name)
    path = db.url.split("///", 1)[-1] if "///" in db.url else ""
    if not path or path == ":memory:":
        return ProcessLease(name)  # a database no other process can open: the lease is this process's
    return FileLease(Path(f"{path}.{name}.lease"), name)


def lock_key(name: str) -> int:
    """The 64-bit advisory lock key of a lease name (signed, as PostgreSQL's bigint)."""
    return int.from_bytes(hashlib.sha256(f"cityos:{name}".encode()).digest()[:8], "big", signed=True)


class AdvisoryLease:
    """A PostgreSQL session advisory lock held on a connection of its own."""

    def __init__(self, db: Database, name: str) -> None:
        self.db, self.name, self.key = db, name, lock_key(name)
        self._conn: Any = None

    def acquire(self) -> bool:
        if self._conn is not None:
            return self.held()
        conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        except Exception:
            conn.close()
            raise
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
        except Exception:
            log.warning("lease %s: its database connection is gone", self.name, exc_info=True)
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except Exception:  # the connection is gone, and the server released the lock with it
            log.debug("lease %s: unlock failed", self.name, exc_info=True)
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        try:
            conn.invalidate()  # never back into the pool: the lock belongs to this session
        except Exception:
            log.debug("lease %s: closing its connection failed", self.name, exc_info=True)


class FileLease:
    """An exclusive ``flock`` on a file beside the SQLite database."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for a person looking
        self._fd = fd
        return True

    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class ProcessLease:
    """The lease of a database only this process can open (in memory): always this process's."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._held = False

    def acquire(self) -> bool:
        self._held = True
        return True

    def held(self) -> bool:
        return self._held

    def release(self) -> None:
        self._held = False
