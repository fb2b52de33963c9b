"""The de-identification gate in the path of every record served (issue 19 items 5 and 6): a dataset is
served only when the latest release check of its catalogue entry's current version passed, and every page of
records passes the entry's policy on its way out, so that no direct identifier leaves.

The release check (:func:`cityos.opendata.check_release`) runs over all the records the portal would serve
(each cut to the dataset's open items) the first time a version of the entry is served, again when an
administrator asks (``POST /opendata/releases/{name}/check``, after the policy or the records were fixed), and
again on a schedule while the same version is served (CITYOS_OPENDATA_RECHECK_SECONDS, hourly by default): live
records change within one catalogue version, and a new sensor or person can make a combination rare. A re-check
whose records, policy and result are those of the latest release stores nothing (the process notes when it
confirmed it); one that differs is stored as the next release, and a blocked one stops the dataset at once.
A blocked check stops the dataset's records (403, naming how many combinations or cells offend and where the
policy is) until a later check passes. One check per entry at a time in a process (the :class:`Gates` part).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cityos import datahub
from cityos.opendata.application_errors import ReleaseBlocked
from cityos.opendata.deidentify import Record, content_hash, deidentify
from cityos.opendata.gate_policy import DEFAULT_PATH, EntryPolicy, Policy, load_policy, policy_for
from cityos.opendata.models import Package
from cityos.opendata.releases import CheckedRelease, Release, check_release, latest_release
from cityos.runtime import Runtime

CHECK_ROUTE = "POST /opendata/releases/{name}/check"
# who reads the records a release check reads, as the audit chain records it
GATE_READER = datahub.Reader(principal="opendata-gate", department=None, city=False, scenario="公共数据开放",
                             purpose="de-identification release check")  # fmt: skip


@dataclass
class Gates:
    """What the gate keeps per process: a lock per entry, so that concurrent first reads check it once."""

    _locks: dict[tuple[str, str], threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # (tenant, code) -> (release version, when it was last confirmed by a re-check that found nothing new)
    confirmed: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)

    @contextmanager
    def entry(self, tenant: str, code: str) -> Iterator[None]:
        with self._lock:
            lock = self._locks.setdefault((tenant, code), threading.Lock())
        with lock:
            yield


@dataclass(frozen=True)
class Gate:
    """The policy of one served dataset, applied to each page of its records."""

    entry: datahub.CatalogueEntry
    policy: EntryPolicy
    scale: datahub.LevelScale
    release: Release

    def __call__(self, records: Iterable[Mapping[str, Any]]) -> list[Record]:
        """The page as released: items removed and generalised, small cells suppressed (the k-anonymity of
        the whole release was checked when it was published)."""
        return deidentify(self.entry, records, self.policy, self.scale).records

    @property
    def as_is(self) -> frozenset[str]:
        """The items served exactly as stored: the only ones a filter may compare (a filter on a generalised
        value would tell the value the release hides)."""
        treated = deidentify(self.entry, [], self.policy, self.scale).treatments
        return frozenset(t.item for t in treated if t.reason == "public" or t.detail == "kept as it is")


def policy(rt: Runtime) -> Policy:
    """The de-identification policy in force: CITYOS_OPENDATA_POLICY, else the one shipped."""
    path: Path = rt.settings.opendata_policy or DEFAULT_PATH
    return load_policy(path)


def all_records(rt: Runtime, tenant: str, package: Package, reader: datahub.Reader = GATE_READER) -> list[Record]:
    """Every record the portal would serve of ``package`` (each cut to its open items), read page by page."""
    items = tuple(c.id for c in package.resource.columns)
    page = min(rt.settings.max_limit, 1000)
    out: list[Record] = []
    while True:
        got = datahub.read_open_records(rt, tenant, package.code, items, limit=page, offset=len(out),
                                        route=CHECK_ROUTE, reader=reader)  # fmt: skip
        out.extend(got.records)
        if len(got.records) < page:
            return out


def check(rt: Runtime, tenant: str, package: Package, *, by: str) -> CheckedRelease:
    """Check a release of ``package`` now, over all its records, under the policy in force; kept as the
    entry's next release version."""
    entry = datahub.get_entry(rt, tenant, package.code)
    with rt.parts.get(Gates, Gates).entry(tenant, package.code):
        return check_release(rt, tenant, entry, all_records(rt, tenant, package), by=by, policy=policy(rt))


def _checked_at(gates: Gates, tenant: str, release: Release) -> float:
    """When ``release`` was last found to hold (epoch seconds): stored, or confirmed by a re-check since."""
    version, at = gates.confirmed.get((tenant, release.code), (0, 0.0))
    stored = datetime.fromisoformat(release.at).timestamp()
    return max(stored, at) if version == release.version else stored


def _due(rt: Runtime, gates: Gates, tenant: str, entry: datahub.CatalogueEntry, latest: Release | None) -> bool:
    """Whether the entry's records must pass the gate now: never checked at its version, or last checked longer
    ago than the schedule allows."""
    if latest is None or latest.entry_version != entry.version:
        return True
    every = rt.settings.opendata_recheck_seconds
    return every > 0 and time.time() - _checked_at(gates, tenant, latest) >= every


def recheck(rt: Runtime, tenant: str, entry: datahub.CatalogueEntry, package: Package, latest: Release | None,
            gates: Gates) -> Release:  # fmt: skip
    """Pass the records through the gate again: the latest release when nothing changed (records, policy,
    result: nothing stored, the confirmation noted), else the new release as stored."""
    records = all_records(rt, tenant, package)
    applied = policy(rt)
    if latest is not None and latest.entry_version == entry.version:
        entry_policy = policy_for(applied, entry)
        result = deidentify(entry, records, entry_policy, datahub.level_scale(rt))
        same_policy = json.loads(json.dumps(entry_policy.as_dict(), default=str)) == json.loads(
            json.dumps(latest.policy, default=str)
        )
        if same_policy and result.passed == latest.passed and content_hash(result.records) == latest.content_hash:
            gates.confirmed[(tenant, entry.code)] = (latest.version, time.time())
            return latest
    return check_release(rt, tenant, entry, records, by="opendata-gate", policy=applied).release


def published(rt: Runtime, tenant: str, package: Package) -> tuple[datahub.CatalogueEntry, Release]:
    """The entry and its latest release for the entry's current version, checked now if it has none or the
    schedule says its live records are due a re-check."""
    entry = datahub.get_entry(rt, tenant, package.code)
    latest = latest_release(rt, tenant, package.code)
    gates = rt.parts.get(Gates, Gates)
    if _due(rt, gates, tenant, entry, latest):
        with gates.entry(tenant, package.code):
            latest = latest_release(rt, tenant, package.code)  # another request may have checked it meanwhile
            if _due(rt, gates, tenant, entry, latest):
                latest = recheck(rt, tenant, entry, package, latest, gates)
    assert latest is not None
    return entry, latest


def blocked(package: Package, release: Release, source: str) -> ReleaseBlocked:
    """Why a blocked release is not served, and how to fix it."""
    found = []
    if release.offending_total:
        quasi = ", ".join(release.quasi or ())
        found.append(f"{release.offending_total} combination(s) of ({quasi}) shared by fewer than {release.k} "
                     "records")  # fmt: skip
    if release.small_cells_total:
        found.append(f"{release.small_cells_total} small cell(s)")
    what = "; ".join(found) or "; ".join(release.reasons)
    return ReleaseBlocked(
        f"{package.name} ({package.title}) is not served: its release check (version {release.version}, "
        f"{release.at}) was blocked by the de-identification gate: {what}. Fix the policy in {source} "
        f"(entries.{package.code}: generalise, withhold an item, suppress small cells), then check it again "
        f"with POST /opendata/releases/{package.name}/check; GET /opendata/releases/{package.name} lists the "
        "combinations",
        code=package.code,
        offending=release.offending_total,
        smallCells=release.small_cells_total,
    )


def gate(rt: Runtime, tenant: str, package: Package) -> Gate:
    """The gate of a dataset about to be served; ReleaseBlocked (403) when its latest check was blocked."""
    entry, release = published(rt, tenant, package)
    applied = policy(rt)
    if not release.passed:
        raise blocked(package, release, applied.source)
    return Gate(entry, policy_for(applied, entry), datahub.level_scale(rt), release)


def policy_path(rt: Runtime | None = None) -> Path:
    """The policy file in force (the shipped one without a runtime)."""
    return (rt.settings.opendata_policy if rt is not None else None) or DEFAULT_PATH
