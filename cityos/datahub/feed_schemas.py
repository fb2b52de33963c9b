"""API shapes of the feeds (数据归集): the batch a department pushes and the run reports (camelCase on the wire)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from cityos.datahub.feeds import Conflict, FeedRun, Rejection
from cityos.datahub.schemas import Shape

MAX_BATCH = 10_000  # records per request: a larger feed is pushed in batches (each run is idempotent by key)


class FeedBatch(Shape):
    """A batch of records of one catalogue entry, each keyed by item name, with its registry's record key (the
    ID number, the unified social credit code or the building code). A record that is malformed (not an
    object, no key, an invalid key) is rejected on its own."""

    model_config = ConfigDict(extra="forbid")

    records: list[Any] = Field(..., min_length=1, max_length=MAX_BATCH)


class ConflictPublic(Shape):
    record: str = Field(description="the record key (the ID number, credit code or building code)")
    entity_id: str = Field(description="the registry's entity (a Person, Organization or Building)")
    item: str
    source: str = Field(description="the item's one source: the department the stored value comes from")
    offered: Any = Field(description="the value the feed offered (not applied)")

    @classmethod
    def of(cls, c: Conflict) -> ConflictPublic:
        return cls(record=c.record, entity_id=c.entity_id, item=c.item, source=c.source, offered=c.offered)


class RejectionPublic(Shape):
    line: int = Field(description="the record's line in its file, or its index (from 0) in the batch")
    record: str | None = Field(description="its key, when it had one")
    reason: str

    @classmethod
    def of(cls, r: Rejection) -> RejectionPublic:
        return cls(line=r.line, record=r.record, reason=r.reason)


class FeedRunPublic(Shape):
    """A run's report: each record counted once (rejected, conflicting, new, changed or unchanged)."""

    id: str
    code: str
    department: str
    by: str
    at: str
    records: int
    new: int
    changed: int
    unchanged: int
    conflicting: int
    rejected: int
    quality: str | None = Field(
        None,
        description="the quality run of the run's records, made in the background "
        "after the feed: pending | done | failed (null: the entry has no quality rules)",
    )
    quality_run: str | None = Field(None, description="that quality run once done: GET /datahub/quality/runs/{id}")
    quality_taken_up: str | None = Field(
        None,
        description="when a live process took the pending quality run up, the process that took the feed having "
        "stopped before making it (null: made by that process); it compares with the registry as it is then",
    )
    conflicts: list[ConflictPublic] | None = Field(None, description="a run read alone, or just made: its conflicts")
    rejections: list[RejectionPublic] | None = Field(None, description="likewise, the records it rejected")

    @classmethod
    def of(cls, run: FeedRun, *, detail: bool = True) -> FeedRunPublic:
        return cls(
            id=run.id, code=run.code, department=run.department, by=run.by, at=run.at, records=run.records,
            new=run.new, changed=run.changed, unchanged=run.unchanged, conflicting=run.conflicting,
            rejected=run.rejected, quality=run.quality, quality_run=run.quality_run,
            quality_taken_up=run.quality_taken_up,
            conflicts=[ConflictPublic.of(c) for c in run.conflicts] if detail else None,
            rejections=[RejectionPublic.of(r) for r in run.rejections] if detail else None,
        )  # fmt: skip
