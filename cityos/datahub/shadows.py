"""Governed records kept beside the state (影子值): a governed read's records, masked, and their audit subjects,
derived once from an entity's stored state and kept in its row, so that the reads after it take them as they are
instead of reading, rendering and decoding the state and masking 10,000 values a page.

The record a governed read shows of an entity depends only on its stored state, the items shown in full and the
items masked with their kinds (a mask depends only on its item's kind, :mod:`cityos.datahub.masking`, never on the
grant), and the audit record's subjects only on the values of the entry's subject items: both are functions of the
stored state. A governed read of an entry backed by entity types reads its rows with what is kept beside them
(``EntityRow.shadow``, :func:`cityos.context.keep_shadows`): a JSON object keyed by the read's *shadow key* (the
items shown in full, the masked items with their kinds, the subject items and ``MASKS_VERSION``: a grant that shows
or masks other items, or a mask convention changed, finds nothing), each holding ``[record, subjects]``: the record
as the read shows it (keyValues: ``id``, ``type``, the items shown, the masked ones masked, in stored order) and the
subject values of the row; the state only of the rows whose shadow does not name the key (``EntityQuery.kept_key``).
The rows that hold nothing are built and masked (:func:`cityos.datahub.pages.governed_page`), and what was made kept
after the read's audit append committed, in another thread, only while the row's version is still the one read. The
column is JSON text (``json`` on PostgreSQL): the database sends what was kept as it was written, and the driver's
parse of it is the record.

Why it cannot go stale: every write of an entity's state (create, update, merge, replace, delete, batch,
telemetry, the temporal API's writes: all go through the data hub's store) empties the row's shadow and moves its
version in the same statement; a kept doc is written only where the version is the one its values were read at.
Why it cannot lift a mask: a doc is found only under the key of the very items its read showed and masked, so an
item a read masks was masked in every doc under its key; and a kept record is taken only when it is of the row
(its ``id``) and holds nothing but ``id``, ``type`` and items the read shows (a doc of any other shape is made
again from the state).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter, itemgetter, methodcaller
from typing import TYPE_CHECKING, Any, cast

from cityos import context as hub
from cityos.datahub.pages import governed_page, page_subjects

if TYPE_CHECKING:
    from cityos.runtime import Runtime

log = logging.getLogger(__name__)

# moved whenever a mask convention (cityos.datahub.masking) or the shape of what is kept changes: the records
# kept before are then under another key and are made again (1: the masked values alone, before 0051)
MASKS_VERSION = 2
KEYS_KEPT = 8  # shadow keys kept per row (grants that mask different items); past that a row keeps only the last


def shadow_key(in_full: Sequence[str], masked: Mapping[str, str], subjects: Sequence[str]) -> str:
    """The key of what a read keeps: the items it shows in full, its masked items (name -> kind), its subject
    items, MASKS_VERSION."""
    return _key(tuple(sorted(in_full)), tuple(sorted(masked.items())), tuple(sorted(subjects)))


@lru_cache(maxsize=256)
def _key(in_full: tuple[str, ...], masked: tuple[tuple[str, str], ...], subjects: tuple[str, ...]) -> str:
    text = repr((MASKS_VERSION, in_full, masked, subjects)).encode()
    return "m" + hashlib.blake2b(text, digest_size=8).hexdigest()


@dataclass
class Looked:
    """A page's rows as their shadows hold them: per row the record kept, or None (nothing kept under ``key``),
    the audit subjects of the whole page, and the subjects of each row that held nothing (row index -> its
    subject values), for what is kept of it after the read."""

    key: str
    kept: list[dict[str, Any] | None]
    subjects: set[str]
    made: dict[int, list[str]] = field(default_factory=dict)


def look_up(
    rows: list[Any], tm: hub.TermMap, in_full: Sequence[str], masked: Mapping[str, str], subject_items: Sequence[str]
) -> Looked | None:
    """What the shadows of ``rows`` (read with ``shadows``) hold for a read showing ``in_full`` and masking
    ``masked``, with the subject items ``subject_items``. A row that holds nothing has its subjects taken from its
    state (read without it: none, and the page is to be read again with it); None when an item's IRI does not
    compact back to its name (the page is then governed from its keyValues records, as
    :func:`cityos.datahub.pages.page_subjects` says)."""
    key = shadow_key(in_full, masked, subject_items)
    names = {"id", "type", *in_full, *masked}
    whole = _whole(rows, key, names)
    if whole is not None:
        return whole
    kept: list[dict[str, Any] | None] = []
    subjects: set[str] = set()
    made: dict[int, list[str]] = {}
    for i, row in enumerate(rows):
        shadow = row.shadow
        got = shadow.get(key) if type(shadow) is dict else None
        # what is taken must be this row's record as this read shows it, and nothing else (else made again)
        if (type(got) is list and len(got) == 2 and type(got[0]) is dict and type(got[1]) is list
                and got[0].get("id") == row.id and got[0].keys() <= names):  # fmt: skip
            subjects.update(map(str, got[1]))
            kept.append(got[0])
            continue
        found = page_subjects([row], tm, subject_items)
        if found is None:
            return None
        made[i] = sorted(found)
        subjects |= found
        kept.append(None)
    return Looked(key, kept, subjects, made)


_DICT, _LIST, _STR = frozenset((dict,)), frozenset((list,)), frozenset((str,))


def _whole(rows: list[Any], key: str, names: set[str]) -> Looked | None:
    """The common page, every row keeping what the read asks, looked up with C-level maps over the page (about a
    third of a loop's cost); None when one row keeps nothing or another shape (the page is then done row by row)."""
    shadows = list(map(attrgetter("shadow"), rows))
    if set(map(type, shadows)) != _DICT:
        return None
    got = list(map(methodcaller("get", key), shadows))
    if set(map(type, got)) != _LIST or set(map(len, got)) != {2}:
        return None
    kept, subjects = list(map(itemgetter(0), got)), list(map(itemgetter(1), got))
    if set(map(type, kept)) != _DICT or set(map(type, subjects)) != _LIST:
        return None
    if list(map(methodcaller("get", "id"), kept)) != list(map(attrgetter("id"), rows)):  # each row's own record
        return None
    if not set().union(*kept) <= names:  # nothing but what this read shows is taken
        return None
    values: set[str] = set().union(*subjects)
    if values and set(map(type, values)) != _STR:
        return None
    return Looked(key, kept, values)


def shadowed_page(
    rows: list[Any], tm: hub.TermMap, in_full: Sequence[str], masked: Mapping[str, str], looked: Looked
) -> tuple[list[dict[str, Any]], list[tuple[int, int, Any]]]:
    """The records of ``rows`` in keyValues form with only ``id``, ``type`` and the items shown in full or masked,
    as their shadows keep them (``looked``), those of the rows that keep nothing built from their state and masked
    here (the rows must then have been read with it); and what to keep of those made here ((pk, version, shadow
    doc), for :func:`cityos.context.keep_shadows`)."""
    keep: list[tuple[int, int, Any]] = []
    if not looked.made:  # every row kept its record: the records are the ones the driver parsed for this read
        return cast(list[dict[str, Any]], looked.kept), keep
    records = cast(list[dict[str, Any]], list(looked.kept))  # each None replaced below
    missing = list(looked.made)
    for i, made in zip(missing, governed_page([rows[i] for i in missing], tm, in_full, masked), strict=True):
        records[i] = made
        row = rows[i]
        if row.pk is None or row.version is None:
            continue
        shadow = row.shadow
        doc = dict(shadow) if type(shadow) is dict and len(shadow) < KEYS_KEPT else {}
        doc[looked.key] = [dict(made), looked.made[i]]  # a copy: the answer's record may be flagged meanwhile
        keep.append((row.pk, row.version, doc))
    return records, keep


class ShadowWrites:
    """The last keep of masked values a runtime started (a part of the runtime: ``rt.parts``), for a test or a
    benchmark to wait on; nothing else waits on it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: Future[None] | None = None

    def started(self, future: Future[None]) -> None:
        future.add_done_callback(_logged)
        with self._lock:
            self._last = future

    def settle(self) -> None:
        """Wait for the last keep started (its error, if any, was logged)."""
        with self._lock:
            last = self._last
        if last is not None:
            last.exception()


def _logged(future: Future[None]) -> None:
    exc = future.exception()
    if exc is not None:  # a shadow not kept costs the next read its masking, nothing else
        log.warning("masked values not kept beside the state: %s", exc)


def shadow_writes(rt: Runtime) -> ShadowWrites:
    return rt.parts.get(ShadowWrites, ShadowWrites)


def keep(rt: Runtime, kept: list[tuple[int, int, Any]]) -> None:
    """Keep the records a read made beside the rows it read (another thread; nothing waits)."""
    if kept:
        shadow_writes(rt).started(hub.keep_shadows(rt, kept))
