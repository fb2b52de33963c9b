"""Load NGSI-LD entities through the hub's own batch upsert (the same path as the API)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cityos import context as svc
from cityos.context import parse_entity
from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime


def upsert_entities(
    rt: Runtime,
    tenant: str,
    entities: Sequence[dict[str, Any]],
    *,
    batch: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Create or replace entities (core @context) in batches; returns how many were written.

    Raises the first entity error: demo data is ours and must be valid.
    """
    tm = svc.term_map(rt)
    written = 0
    for start in range(0, len(entities), batch):
        chunk = entities[start : start + batch]
        now = now_iso()
        parsed = [parse_entity(e, tm, now=now) for e in chunk]
        outcomes = svc.apply(rt, tenant, [(p.id or "", svc.m_replace(p, create=True)) for p in parsed], creates=True)
        for o in outcomes:
            if o.error is not None:
                raise o.error
        written += len(chunk)
        if progress:
            progress(len(chunk))
    return written
