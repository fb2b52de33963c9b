"""Releases of open datasets through the de-identification gate (issue 19 item 5), kept: each check of an
entry's records is stored as a release version with who checked it and when, the policy applied, the result
(passed, or blocked with the offending combinations and cells), the record count and a content hash of the
released records. The portal publishes an entry's latest passed release; a blocked one is fixed (a rule in
the policy, the records) and checked again, which makes the next version.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from cityos import datahub
from cityos.core.timefmt import now_iso
from cityos.opendata import release_store as store
from cityos.opendata.deidentify import Action, GateResult, Group, Record, SmallCell, Treatment, content_hash, deidentify
from cityos.opendata.gate_policy import Policy, load_policy, policy_for
from cityos.runtime import Runtime

MAX_KEPT = 1000  # offending combinations and small cells stored per release; the totals are stored too
_ATTEMPTS = 5  # two checks of one entry at once: the second takes the next version


@dataclass(frozen=True)
class Release:
    """One checked release of an entry: its findings as stored (at most MAX_KEPT combinations and cells, with
    their totals)."""

    code: str
    version: int
    entry_version: int
    at: str
    by: str
    passed: bool
    records: int
    content_hash: str
    policy: Mapping[str, Any]  # the entry's policy as applied (EntryPolicy.as_dict)
    treatments: tuple[Treatment, ...]
    k: int
    quasi: tuple[str, ...] | None
    groups: int
    offending: tuple[Group, ...]
    offending_total: int
    small_cells: tuple[SmallCell, ...]
    small_cells_total: int
    suppressed: int
    reasons: tuple[str, ...]

    @property
    def generalised(self) -> tuple[str, ...]:
        return tuple(t.item for t in self.treatments if t.action is Action.GENERALISED)

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(t.item for t in self.treatments if t.action is Action.REMOVED)


@dataclass(frozen=True)
class CheckedRelease:
    """A release as checked now, with its records: the records to publish when it passed, none when blocked."""

    release: Release
    records: list[Record]


def check_release(
    rt: Runtime, tenant: str, entry: datahub.CatalogueEntry | str, records: Iterable[Mapping[str, Any]], *,
    by: str, policy: Policy | None = None,
) -> CheckedRelease:  # fmt: skip
    """Pass ``records`` of ``entry`` (the entry, or its code: its current version) through the gate under the
    policy (``data/deidentify.yaml`` unless given), store the release and return it with the records to
    publish. A blocked release is stored too, with its reasons, and returns no records. InvalidPolicy when the
    policy does not fit the entry; EntryNotFound for a code the catalogue lacks."""
    if isinstance(entry, str):
        entry = datahub.get_entry(rt, tenant, entry)
    applied = policy_for(policy or load_policy(), entry)
    result = deidentify(entry, records, applied, datahub.level_scale(rt))
    row = _row(tenant, entry, by, applied.as_dict(), result)
    for attempt in range(_ATTEMPTS):
        try:
            version = rt.db.run_write(lambda conn: _insert(conn, row))
            break
        except IntegrityError:  # another check of the entry took this version first
            if attempt == _ATTEMPTS - 1:
                raise
    release = _release({**row, "version": version})
    return CheckedRelease(release, result.records if result.passed else [])


def _insert(conn: Connection, row: dict[str, Any]) -> int:
    version = store.next_version(conn, row["tenant"], row["code"])
    store.insert_release(conn, {**row, "version": version})
    return version


def _row(tenant: str, entry: datahub.CatalogueEntry, by: str, policy: dict[str, Any], r: GateResult) -> dict[str, Any]:
    found = {
        "treatments": [asdict(t) for t in r.treatments],
        "k": r.k,
        "quasi": None if r.quasi is None else list(r.quasi),
        "groups": r.groups,
        "offending": [asdict(g) for g in r.offending[:MAX_KEPT]],
        "offendingTotal": len(r.offending),
        "smallCells": [asdict(c) for c in r.small_cells[:MAX_KEPT]],
        "smallCellsTotal": len(r.small_cells),
        "suppressed": r.suppressed,
        "reasons": list(r.reasons),
    }
    return {"tenant": tenant, "code": entry.code, "entry_version": entry.version, "at": now_iso(),
            "at_ms": int(time.time() * 1000), "by": by, "passed": r.passed, "records": len(r.records),
            "content_hash": content_hash(r.records), "policy": _dumps(policy), "result": _dumps(found)}  # fmt: skip


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _release(row: Mapping[str, Any]) -> Release:
    found = json.loads(row["result"])
    treatments = tuple(Treatment(**{**t, "action": Action(t["action"])}) for t in found["treatments"])
    return Release(
        code=row["code"],
        version=row["version"],
        entry_version=row["entry_version"],
        at=row["at"],
        by=row["by"],
        passed=bool(row["passed"]),
        records=row["records"],
        content_hash=row["content_hash"],
        policy=json.loads(row["policy"]),
        treatments=treatments,
        k=found["k"],
        quasi=None if found["quasi"] is None else tuple(found["quasi"]),
        groups=found["groups"],
        offending=tuple(Group(**g) for g in found["offending"]),
        offending_total=found["offendingTotal"],
        small_cells=tuple(SmallCell(**c) for c in found["smallCells"]),
        small_cells_total=found["smallCellsTotal"],
        suppressed=found["suppressed"],
        reasons=tuple(found["reasons"]),
    )


def releases(
    rt: Runtime, tenant: str, code: str, *, passed: bool | None = None, limit: int = 20, offset: int = 0
) -> tuple[list[Release], int]:
    """A page of an entry's releases, newest first (only passed or only blocked ones, if told), and their total."""
    with rt.db.connect() as conn:
        rows = store.entry_releases(conn, tenant, code, passed, limit, offset)
        total = store.count_releases(conn, tenant, code, passed)
    return [_release(r) for r in rows], total


def latest_release(rt: Runtime, tenant: str, code: str, *, passed: bool | None = None) -> Release | None:
    """An entry's newest release (its newest passed one with ``passed=True``: what the portal may publish);
    None when it has none."""
    found, _total = releases(rt, tenant, code, passed=passed, limit=1)
    return found[0] if found else None
