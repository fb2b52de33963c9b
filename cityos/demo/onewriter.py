"""One writer of the demo's devices at a time: `cityos demo` (its simulator) and `cityos simulate`
hold a lease on the devices while they drive them, so a second simulator on the same database is
refused instead of alternating readings with the first (the demo's engine would not even see its
writes: the in-process bus carries no other process's events)."""

from __future__ import annotations

from cityos.store.engine import Database
from cityos.store.lease import FileLease, Lease, open_lease

DEVICES_LEASE = "demo-devices"


def drive_devices(db: Database) -> Lease | None:
    """The devices' lease, taken for this process; None when another process drives them."""
    lease = open_lease(db, DEVICES_LEASE)
    return lease if lease.acquire() else None


def who_drives(db: Database) -> str:
    """Words for the process that holds the devices' lease (its pid when the lease file tells it)."""
    lease = open_lease(db, DEVICES_LEASE)
    if isinstance(lease, FileLease):
        try:
            pid = lease.path.read_text().strip()
        except OSError:
            pid = ""
        if pid:
            return f"process {pid} (lease file {lease.path})"
    return "another process (a running `cityos demo` or `cityos simulate`)"
