"""Process roles: work that runs in one process of a deployment at a time (see ``cityos.component``)."""

from __future__ import annotations

ROLES = ("ingest", "vitals", "cases", "notify", "plans", "onestop")
# stores what comes in (telemetry; the plans' figures): starts after the others listen, stops before them
PRODUCER_ROLES = ("ingest", "plans")
# in the order they start: cases hears what vitals raises, onestop the ratings cases record
CONSUMER_ROLES = ("notify", "onestop", "cases", "vitals")


def parse_roles(text: str) -> tuple[str, ...]:
    """Roles named in ``text`` (comma-separated; ``none`` or nothing for none), in ROLES order;
    ValueError naming the roles for an unknown one."""
    names = [r.strip() for r in text.split(",") if r.strip() and r.strip() != "none"]
    unknown = [r for r in names if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown role {unknown[0]!r}: roles are {', '.join(ROLES)} (or none)")
    return tuple(r for r in ROLES if r in names)
