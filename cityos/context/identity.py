"""Who this Context Source is (NGSI-LD clause 5.2.40, Retrieve Context Source Identity Information 5.15.1):
an id and an alias that stay the same across restarts and API nodes, how long this process has been up, and
its clock. The alias names a tenant too (Table 5.2.40-1: in the multi-tenancy use case it identifies one
tenant of the source), so that a federation between two tenants of one server is not taken for a loop.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime

_STARTED = time.monotonic()  # the process's start, near enough: this module loads with the API's routes
_NAMESPACE = uuid.UUID("6f1d1e8e-3c55-4d6a-9a52-6e2b3f0c1a7d")  # cityos's own, for the uuid5 below


def source_identity(rt: Runtime, tenant: str) -> dict[str, Any]:
    """The ContextSourceIdentity of this server as seen from ``tenant``."""
    # the database is what every node of one deployment shares: its URL (hashed, never shown) names it
    base = uuid.uuid5(_NAMESPACE, rt.settings.resolved_database_url)
    alias = f"cityos-{base.hex[:12]}"
    if tenant != rt.settings.default_tenant:
        alias = f"{alias}:{tenant}"
    return {
        "id": f"urn:ngsi-ld:ContextSource:{base}",
        "type": "ContextSourceIdentity",
        "contextSourceAlias": alias,
        "contextSourceUptime": iso_duration(time.monotonic() - _STARTED),
        "contextSourceTimeAt": now_iso(),
    }


def iso_duration(seconds: float) -> str:
    """``seconds`` as an ISO 8601 duration in days, hours, minutes and whole seconds (P1DT2H3M4S, PT0S)."""
    left = int(seconds)
    days, left = divmod(left, 86400)
    hours, left = divmod(left, 3600)
    minutes, secs = divmod(left, 60)
    clock = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M")) if n) + (
        f"{secs}S" if secs or not (hours or minutes) else ""
    )
    return f"P{days}DT{clock}" if days else f"PT{clock}"
