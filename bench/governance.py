"""Benchmark of reads through the data resource system's rules. Prints figures; asserts nothing.

On SQLite and on PostgreSQL: 1,000 records of a personal dataset of 20 items (10 of them above the level the
grant lifts, so masked: ID number, names, mobiles, addresses, dates, e-mail, location), read in one page:
  - plain: the data hub's query of the entity type and the keyValues build of its records (no governance: what
    ``datahub.datasets.fetch`` does);
  - governed: ``datahub.datasets.read_records`` by a department through a grant for its scenario (the decision
    kept per runtime, the page built in one pass with only the items shown and the masked ones masked, the audit
    append started before the build in another thread and waited for before the answer, the open objections'
    flags);
  the two interleaved over the same page (plain, governed, plain, ...), --repeats of each, in wall time and in the
  process's CPU time (every thread: the append's too);
  - the TARGET line (issue 17: a governed read adds at most 2 ms p95): governed p95 - plain p95, the median of
    the paired differences (each governed read less the plain read before it) and the difference of the p50s;
  - server: on PostgreSQL the CPU time of the database's backends serving the bench (every connection of its
    database: the read's, the append's; from /proc/<pid>/schedstat), per read, and what governance adds counting
    both processes (the server strips, renders and commits what the process no longer does);
  - cold: governed reads with nothing kept (no decision, no masked value): a process's first read of a page;
  - after write: the first read after a write, the plain read and the governed one, paired: every row's shadow
    emptied and its version moved before each pair, as every write of the state does, so that the governed read
    reads the page whole, masks it and keeps what it masked (the keep, in another thread, waited for after);
  - commit: one durable commit of one small row in the same database, the floor of any audited read;
  - parts, each on its own in this thread's CPU time (warm): the decision, the audit record's subjects taken from
    the stored rows, the plain build and the governed build of the same rows (and their difference), the append
    with its commit run here (not overlapped; its wall time too), the flags, the way a page was governed
    before the one-pass build (the plain build's records cut, then masked in place), for comparison, and what a
    governed read does now (:mod:`cityos.datahub.shadows`): the plain query (the rows with their state, decoded)
    against the kept query (the rows without their state, with the records kept beside them, decoded), and the
    look-up of the kept records and subjects in them (on PostgreSQL the server's part of a query is not in these).
On a loaded machine the wall figures vary by tens of ms from one read to the next and say nothing of 2 ms; the
CPU figures and their paired differences move much less. The process is tuned as every cityos server process is
(``cityos.tuning``). The headline also runs on a checkout from before the one-pass build (its parts are then not
measured), for a before/after in one sitting: copy this file into a bench/ directory beside that checkout's
bench/context.py and run it with PYTHONPATH set to the checkout.

Run: .venv/bin/python bench/governance.py [--records N] [--repeats N] [--db sqlite|postgresql|both] [--no-parts]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.context import PG_ADMIN, fresh_database, runtime
from cityos import context as hub
from cityos.datahub import (
    Backing,
    CatalogueEntry,
    DataItem,
    OpeningType,
    SharingType,
    move_grant,
    register_entry,
    request_grant,
)
from cityos.datahub.audit import AuditRead, append
from cityos.datahub.datasets import Reader, cut_records, decision_of, read_records
from cityos.datahub.decisions import decisions
from cityos.datahub.masking import forget_masked, mask_records
from cityos.datahub.objections import OpenObjections, flag_records
from cityos.runtime import Runtime
from cityos.store.engine import null_pool_engine
from cityos.tuning import tune_process

try:  # the one-pass build (this bench also runs on a checkout from before it, for a before/after in one sitting)
    from cityos.datahub.datasets import subject_items
    from cityos.datahub.pages import governed_page, page_subjects
except ImportError:
    governed_page = None  # type: ignore[assignment]
try:  # the masked values kept beside the state (a checkout from before them measures without)
    from cityos.datahub.shadows import look_up, shadow_key, shadow_writes, shadowed_page
except ImportError:
    look_up = None  # type: ignore[assignment]

TARGET_MS = 2.0
# (item, kind, level): the first ten are above general-1, the level the bench's grant lifts
ITEMS = (
    ("idNumber", "id-card", "important"), ("name", "name", "important"), ("mobile", "mobile", "important"),
    ("registeredAddress", "address", "important"), ("residentialAddress", "address", "important"),
    ("birthDate", "date", "important"), ("email", "email", "important"), ("contactName", "name", "important"),
    ("contactMobile", "mobile", "important"), ("location", "geo", "important"),
    ("gender", "code", "general-1"), ("ethnicity", "text", "general-1"), ("education", "text", "general-1"),
    ("maritalStatus", "code", "general-1"), ("householdType", "code", "general-1"), ("street", "text", "general-1"),
    ("community", "text", "general-1"), ("age", "number", "general-1"), ("registeredAt", "date", "general-1"),
    ("remark", "text", "general-1"),
)  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗欧阳"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
ROADS = ("南京东路", "延安东路", "淮海中路", "西藏南路", "河南中路", "中山东一路", "复兴中路", "人民路")
STREETS = (
    "南京东路街道",
    "外滩街道",
    "半淞园路街道",
    "小东门街道",
    "豫园街道",
    "老西门街道",
    "五里桥街道",
    "打浦桥街道",
)


def _entry() -> CatalogueEntry:
    items = tuple(DataItem(name, f"数据项{name}", kind, level) for name, kind, level in ITEMS)
    return CatalogueEntry(
        code="HP-01-01-0099", name="基准测试人口数据", abstract="bench", provider="public-security",
        classification=("基础信息", "人口"), format="database", items=items, sharing=SharingType.CONDITIONAL,
        opening=OpeningType.NONE, update_cycle="daily", published="2026-01-01", sharing_conditions="bench",
        backing=Backing(entity_types=("BenchPerson",)),
    )  # fmt: skip


def _name(n: int) -> str:
    return SURNAMES[n % 21] + GIVEN[n % 23] + (GIVEN[n // 23 % 23] if n % 3 else "")


def _value(item: str, kind: str, n: int) -> object:
    """A fictitious but well-formed value of ``kind`` for person ``n``."""
    if kind == "id-card":
        return f"310101{1950 + n % 60}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}{'0123456789X'[n % 11]}"
    if kind == "name":
        return _name(n if item == "name" else n + 7)
    if kind == "mobile":
        return f"1{'3578'[n % 4]}{n * 7919 % 10**9:09d}"
    if kind == "address":
        return f"上海市黄浦区{ROADS[n % 8]}{1 + n % 400}弄{1 + n % 30}号{101 + n % 600}室"
    if kind == "date":
        return f"{1950 + n % 60}-{1 + n % 12:02d}-{1 + n % 28:02d}"
    if kind == "email":
        return f"user{n}@example.org"
    if kind == "geo":
        return {"type": "Point", "coordinates": [121.47 + n % 100 / 10000, 31.22 + n % 97 / 10000]}
    if kind == "number":
        return 18 + n % 70
    if item == "street":
        return STREETS[n % 8]
    return f"{item}-{n % 7}"


def _load(rt: Runtime, entry: CatalogueEntry, n: int) -> None:
    tm = hub.core_term_map()
    ops = []
    for k in range(n):
        body = {"id": f"urn:ngsi-ld:BenchPerson:{k}", "type": "BenchPerson"}
        body |= {
            i.name: {"type": "GeoProperty" if i.kind == "geo" else "Property", "value": _value(i.name, i.kind, k)}
            for i in entry.items
        }
        ops.append((body["id"], hub.m_create(hub.parse_entity(body, tm, now="2026-01-01T00:00:00Z"))))
    for start in range(0, n, 500):
        hub.apply(rt, "default", ops[start : start + 500], creates=True)


def _p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]


def _line(label: str, xs: list[float]) -> str:
    return f"  {label:10s} p50 {statistics.median(xs):7.2f} ms  p95 {_p95(xs):7.2f} ms"


def _commit_ms(rt: Runtime) -> float:
    """One durable commit of one small row (through the store's writer, as the audit append's is)."""

    def job(conn: object) -> None:
        conn.execute(text("INSERT INTO bench_commit (n) VALUES (1)"))  # type: ignore[attr-defined]

    t = time.perf_counter()
    rt.db.run_write(job)
    return (time.perf_counter() - t) * 1000


PARTS = (
    "decision",
    "subjects",
    "build",
    "governed build",
    "append",
    "flag",
    "cut+mask (before)",
    "plain query",
    "kept query",
    "look-up",
)


def _plain(rt: Runtime, query: hub.EntityQuery, tm: hub.TermMap) -> list[dict[str, Any]]:
    """The read without governance: the hub's query and the keyValues build of its records (what a dataset read
    of an ungoverned entry does: ``datahub.datasets.fetch``)."""
    result = hub.query_entities(rt, "default", query, tm)
    if not hasattr(hub, "key_values_page"):  # a checkout from before the page build: entity by entity
        return [hub.key_values(r.id, r.types, r.attrs, tm) for r in result.rows]
    return hub.key_values_page(result.rows, tm)


def _parts(rt: Runtime, code: str, reader: Reader, rows: list[Any], query: hub.EntityQuery, tm: hub.TermMap,
           route: str, into: dict[str, list[float]]) -> None:  # fmt: skip
    """The governed read's parts, each on its own (ms of this thread's CPU time, warm): the decision, the audit
    record's subjects from the stored rows, the plain build and the governed (cut and masked) build of the same
    rows, the append with its commit (run here, not overlapped: its wall time too), the flags, and the way the page
    was governed before (the plain build's records cut, then masked in place)."""
    clock = time.thread_time
    marks = [clock()]
    decided = decision_of(rt, "default", code, reader, datetime.now(UTC))
    marks.append(clock())
    subjects = page_subjects(rows, tm, subject_items(decided.entry))
    marks.append(clock())
    plain = hub.key_values_page(rows, tm)
    marks.append(clock())
    records = governed_page(rows, tm, decided.access.shown, decided.access.masked)
    marks.append(clock())
    read = AuditRead(principal=reader.principal, code=code, route=route, records=tuple(r.id for r in rows),
                     subjects=tuple(subjects or ()), department=reader.department, grant=decided.access.grant,
                     scenario=reader.scenario, purpose=reader.purpose)  # fmt: skip
    t = time.perf_counter()
    appended = append(rt, "default", [read], stamp=decided.stamp)
    into["append wall"].append((time.perf_counter() - t) * 1000)
    marks.append(clock())
    flag_records(rt, "default", records, stamp=appended.objections if appended is not None else None)
    marks.append(clock())
    cut_records(plain, decided.access)
    mask_records(plain, decided.access.masked)
    marks.append(clock())
    assert plain == records, "the governed build differs from the plain build cut and masked"
    if look_up is not None:  # the read as it is now: records and subjects from what the rows keep
        hub.query_entities(rt, "default", query, tm)
        marks.append(clock())
        in_full = [n for n in decided.access.shown if n not in decided.access.masked]
        key = shadow_key(in_full, decided.access.masked, subject_items(decided.entry))
        kept = hub.query_entities(rt, "default", dataclasses.replace(query, shadows=True, kept_key=key), tm).rows
        marks.append(clock())
        looked = look_up(kept, tm, in_full, decided.access.masked, subject_items(decided.entry))
        marks.append(clock())
        assert looked is not None and not looked.made, "the rows keep nothing: the kept parts are not warm"
        shadowed, _kept = shadowed_page(kept, tm, in_full, decided.access.masked, looked)
        assert shadowed == records, "the kept records differ from the governed build"
    for name, a, b in zip(PARTS, marks, marks[1:], strict=False):
        into[name].append((b - a) * 1000)


class Backends:
    """The CPU time of the PostgreSQL backends of one database (its connections' server processes, on this
    machine), read from /proc/<pid>/schedstat (ns); nothing on SQLite, whose work is in the process."""

    def __init__(self, db: Any) -> None:
        self.name = None if db.is_sqlite else db.engine.url.database
        self.pids: list[int] = []

    def refresh(self) -> None:
        """List the database's backends again (the pool may have opened a connection), from another database."""
        if self.name is None:
            return
        admin = null_pool_engine(PG_ADMIN)
        try:
            with admin.connect() as conn:
                found = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :n"), {"n": self.name})
                self.pids = [r[0] for r in found]
        finally:
            admin.dispose()

    def cpu_ms(self) -> float:
        total = 0
        for pid in self.pids:
            try:
                with open(f"/proc/{pid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError):  # a backend that ended: its time is lost from here on
                continue
        return total / 1e6


def _timed(fn: Any, wall: list[float], cpu: list[float], server: list[float] | None = None,
           backends: Backends | None = None) -> Any:  # fmt: skip
    """``fn()``, its wall time, the process's CPU time (every thread: the audit append's writer thread too) and,
    with ``backends``, the database server's CPU time for it (into ``server``)."""
    s = backends.cpu_ms() if backends is not None else 0.0
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    wall.append((time.perf_counter() - t) * 1000)
    cpu.append((time.process_time() - c) * 1000)
    if backends is not None and server is not None:
        server.append(backends.cpu_ms() - s)
    return out


def _empty_shadows(rt: Runtime) -> None:
    """What every write of an entity's state does to what is kept beside it (shadow emptied, version moved), to
    every row at once: the next governed read finds nothing kept."""
    sql = "UPDATE context_entities SET shadow = NULL, version = version + 1"
    rt.db.run_write(lambda conn: conn.execute(text(sql)))


def run(kind: str, records: int, repeats: int, parts_wanted: bool = True) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db, drop = fresh_database(kind, Path(tmp))
        rt = runtime(db, Path(tmp))
        try:
            entry = _entry()
            register_entry(rt, "default", entry, by="bench")
            _load(rt, entry, records)
            rt.db.run_write(lambda conn: conn.execute(text("CREATE TABLE bench_commit (n INTEGER)")))
            now = datetime.now(UTC)
            items = [i.name for i in entry.items]
            asked = request_grant(rt, "default", entry, "civil-affairs", "bench", "bench", "bench", items, None,
                                  now + timedelta(days=1), "general-1", "bench")  # fmt: skip
            move_grant(rt, "default", entry, asked.grant.id, "approve", "bench", "public-security")
            reader = Reader("bench", "civil-affairs", False, "bench", "bench")
            tm = hub.core_term_map()
            query = hub.EntityQuery(type="BenchPerson", limit=records, count=True)
            route = "GET /datahub/datasets/{code}/records"
            pg = not rt.db.is_sqlite
            keys = ("plain", "governed", "plain cpu", "governed cpu", "plain server", "governed server", "cold",
                    "cold cpu", "after write plain", "after write", "after write cpu", "after write server",
                    "commit")  # fmt: skip
            figures: dict[str, list[float]] = {k: [] for k in keys}
            parts: dict[str, list[float]] = {k: [] for k in (*PARTS, "append wall")}
            for _ in range(3):  # warm: the decision, the masked values, the connections
                _plain(rt, query, tm)
                read_records(rt, "default", entry.code, reader, limit=records)
            if look_up is not None:
                shadow_writes(rt).settle()
            backends = Backends(rt.db) if pg else None
            for _ in range(repeats):  # interleaved, the same page: plain, governed, plain, governed ...
                if backends is not None:
                    backends.refresh()
                rows = _timed(lambda: _plain(rt, query, tm), figures["plain"], figures["plain cpu"],
                              figures["plain server"], backends)  # fmt: skip
                read = _timed(lambda: read_records(rt, "default", entry.code, reader, limit=records),
                              figures["governed"], figures["governed cpu"], figures["governed server"],
                              backends)  # fmt: skip
                figures["commit"].append(_commit_ms(rt))
            for _ in range(max(3, repeats // 3)):  # the first read after a write: nothing kept
                _empty_shadows(rt)
                if backends is not None:
                    backends.refresh()
                _timed(lambda: _plain(rt, query, tm), figures["after write plain"], [])
                _timed(lambda: read_records(rt, "default", entry.code, reader, limit=records),
                       figures["after write"], figures["after write cpu"], figures["after write server"],
                       backends)  # fmt: skip
                if look_up is not None:
                    shadow_writes(rt).settle()
            for _ in range(max(3, repeats // 3)):  # cold: nothing kept (a process's first read of a page)
                forget_masked()
                decisions(rt).forget()
                rt.parts.get(OpenObjections, OpenObjections).forget()
                _timed(lambda: read_records(rt, "default", entry.code, reader, limit=records), figures["cold"],
                       figures["cold cpu"])  # fmt: skip
            if look_up is not None:
                shadow_writes(rt).settle()
                query = dataclasses.replace(query, shadows=True)
            stored = hub.query_entities(rt, "default", query, tm).rows
            for _ in range(repeats if governed_page is not None and parts_wanted else 0):
                _parts(rt, entry.code, reader, stored, dataclasses.replace(query, shadows=False), tm, route, parts)
            assert len(rows) == len(read.records) == records
            assert read.records[0]["idNumber"].count("*") == 8, "the governed read is not masked"
            masked = len(read.access.masked)
            print(f"{kind:10s} {records} records x {len(entry.items)} items ({masked} masked), {repeats} reads each, "
                  f"plain and governed interleaved, load average {os.getloadavg()[0]:.1f} at the end")  # fmt: skip
            for label, xs in figures.items():
                if xs:
                    print(_line(label, xs))
            plain, governed = figures["plain"], figures["governed"]
            paired = [g - p for p, g in zip(plain, governed, strict=True)]
            paired_cpu = [g - p for p, g in zip(figures["plain cpu"], figures["governed cpu"], strict=True)]
            adds, p50s = _p95(governed) - _p95(plain), statistics.median(governed) - statistics.median(plain)
            verdict = "met" if adds <= TARGET_MS and statistics.median(paired) <= TARGET_MS else "NOT met"
            print(f"  TARGET governance adds: p95 {adds:+.2f} ms (governed p95 - plain p95), paired median "
                  f"{statistics.median(paired):+.2f} ms, p50 {p50s:+.2f} ms; target <= {TARGET_MS} ms: "
                  f"{verdict}")  # fmt: skip
            cpu95 = _p95(figures["governed cpu"]) - _p95(figures["plain cpu"])
            ratio = statistics.median(governed) / statistics.median(plain)
            print(
                f"  CPU (every thread) the governed read adds: paired median "
                f"{statistics.median(paired_cpu):+.2f} ms, p95 {cpu95:+.2f} ms; governed / plain p50 {ratio:.3f}"
            )
            if pg:
                both = [g - p + gs - ps for p, g, ps, gs in zip(figures["plain cpu"], figures["governed cpu"],
                        figures["plain server"], figures["governed server"], strict=True)]  # fmt: skip
                server = statistics.median(figures["governed server"]) - statistics.median(figures["plain server"])
                print(f"  CPU of the process and the database server the governed read adds: paired median "
                      f"{statistics.median(both):+.2f} ms (the server's alone: p50 {server:+.2f} ms)")  # fmt: skip
            after = [g - p for p, g in zip(figures["after write plain"], figures["after write"], strict=True)]
            after_ms = statistics.median(after)
            print(f"  the first read after a write, beyond the plain read: paired median {after_ms:+.2f} ms")
            if governed_page is None or not parts_wanted:
                print("  parts: not measured (--no-parts, or a checkout from before the one-pass build)")
                return
            got = {k: v for k, v in parts.items() if v}
            print("  parts, us of CPU p50 (p95): " + ", ".join(
                f"{k} {statistics.median(v) * 1000:.0f} ({_p95(v) * 1000:.0f})" for k, v in got.items()))  # fmt: skip
            extra = [g - b for g, b in zip(parts["governed build"], parts["build"], strict=True)]
            print(f"  the governed build beyond the plain one: p50 {statistics.median(extra) * 1000:.0f} us")
        finally:
            rt.close()
            drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--no-parts", action="store_true", help="the headline only (e.g. on an older checkout)")
    args = parser.parse_args()
    tune_process()  # the collector's thresholds of every cityos server process
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        run(kind, args.records, args.repeats, not args.no_parts)


if __name__ == "__main__":
    main()
