"""The de-identification gate (去标识化, issue 19 item 5), pure: an entry's records made into the records of its
release under its policy (:mod:`cityos.opendata.gate_policy`), then checked.

Each item of the entry is, in this order:

1. removed when its level is above the highest the entry's opening type may open (or not on the scale);
2. removed when the policy withholds it;
3. kept as it is when the policy declares it public (with the reason why);
4. removed when its kind names a person directly (``direct``: ID number, name, mobile …);
5. in a release about persons, removed when its kind identifies a person there (``directOfPersons``: an
   exact address, a credit code, a phone …) unless the policy generalises it (an address to its street);
6. generalised by its rule, if it has one (a birth date to its year or 5-year band, an age to a band, a
   postcode to a prefix), else kept; a credit code of a natural person (个体工商户) is withheld wherever found.

A value a rule cannot read is withheld (None), never passed through. Columns that are no item of the entry
are removed. Then the checks: k-anonymity over the quasi-identifiers (every combination of their values
shared by fewer than k records is listed with its count), and for an aggregate the small cells (a count
below the threshold in any cell: listed, and replaced by a marker when the policy suppresses them). A
release passes when nothing is listed that blocks it; the result says what was kept, generalised and
removed. Time and memory are linear in the records (one pass to make them, one count of the groups).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from operator import itemgetter
from typing import Any

import orjson

from cityos.datahub import CatalogueEntry, DataItem, LevelScale
from cityos.opendata.gate_errors import InvalidPolicy
from cityos.opendata.gate_policy import EntryPolicy, Rule, Subject

Record = dict[str, Any]


class Action(StrEnum):
    KEPT = "kept"
    GENERALISED = "generalised"
    REMOVED = "removed"


@dataclass(frozen=True)
class Treatment:
    """What the release does with one item (or a column that is no item): ``reason`` is a stable code
    (level, withheld, public, direct, direct-of-person, rule, not-an-item, not-opened, kept), ``detail`` says
    it to a person; ``withheld`` counts the values a rule could not read or a filter took out."""

    item: str
    action: Action
    reason: str
    detail: str
    rule: str | None = None
    withheld: int = 0


@dataclass(frozen=True)
class Group:
    """A combination of quasi-identifier values and how many records share it."""

    values: Mapping[str, Any]
    count: int


@dataclass(frozen=True)
class SmallCell:
    """A count below the threshold: its record's position, the count item, the count and the record's other
    (non-count) values, which say which cell it is."""

    row: int
    item: str
    count: int
    cell: Mapping[str, Any]


@dataclass(frozen=True)
class GateResult:
    """A release made and checked: its records, what was done to each item, and the checks' findings."""

    passed: bool
    records: list[Record]
    treatments: tuple[Treatment, ...]
    k: int
    quasi: tuple[str, ...] | None  # None: no k-anonymity check (not about persons, none declared)
    groups: int  # how many distinct combinations of quasi-identifier values
    offending: tuple[Group, ...]  # the combinations of fewer than k records, fewest first
    small_cells: tuple[SmallCell, ...]
    suppressed: int  # the small cells replaced by the marker
    reasons: tuple[str, ...]  # why it is blocked; empty when it passed


# --- generalisation rules -------------------------------------------------------------------------------------

_YEAR = re.compile(r"([12]\d{3})(?:-\d{1,2}(?:-\d{1,2})?(?:[T ].*)?|年.*|\d{4})?")
_SUBDISTRICT = re.compile(r"街道|镇|乡")  # 街道 before 街: the sub-district the address lies in
_ROAD = re.compile(r"大道|路|街")
_DIGIT = re.compile(r"\d")


def _year(value: Any) -> int | None:
    # the common form first, without a regex: 1990-05-06
    if type(value) is str and len(value) == 10 and value[4] == value[7] == "-" and value[:4].isdecimal():
        return int(value[:4]) if value[0] in "12" and (value[5:7] + value[8:]).isdecimal() else None
    if isinstance(value, dict) and set(value) == {"@type", "@value"}:  # an NGSI-LD DateTime
        value = value["@value"]
    m = _YEAR.fullmatch(value.strip()) if isinstance(value, str) else None
    return int(m.group(1)) if m else None


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1e12
    return float(value) if ok else None


def by_year(value: Any) -> str | None:
    year = _year(value)
    return None if year is None else str(year)


def by_years(width: int) -> Callable[[Any], str | None]:
    def band(value: Any) -> str | None:
        year = _year(value)
        if year is None:
            return None
        start = year - year % width
        return f"{start}-{start + width - 1}" if width > 1 else str(start)

    return band


def by_band(width: int, top: int | None) -> Callable[[Any], str | None]:
    def band(value: Any) -> str | None:
        number = _number(value)
        if number is None:
            return None
        if top is not None and number >= top:
            return f"{top}+"
        start = int(number // width) * width
        return f"{start}-{start + width - 1}" if width > 1 else str(start)

    return band


def by_street(value: Any) -> str | None:
    """An address cut after its sub-district (街道, 镇, 乡), else after its first road (路, 街, 大道); None when
    it has neither or what is left has a digit (a house number never shows)."""
    if not isinstance(value, str):
        return None
    m = _SUBDISTRICT.search(value) if "街道" in value or "镇" in value or "乡" in value else None
    m = m or _ROAD.search(value)
    kept = value[: m.end()].strip() if m else ""
    return kept if kept and not _DIGIT.search(kept) else None


def by_prefix(length: int) -> Callable[[Any], str | None]:
    def prefix(value: Any) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        # a value no longer than the prefix would show whole
        return value[:length] if isinstance(value, str) and len(value.strip()) > length else None

    return prefix


def generaliser(rule: Rule) -> Callable[[Any], Any]:
    """The function of a rule: a value to its generalised form, None for a value it cannot read (and None)."""
    size = rule.size or 1
    makers: dict[str, Callable[[], Callable[[Any], Any]]] = {
        "year": lambda: by_year,
        "years": lambda: by_years(size),
        "band": lambda: by_band(size, rule.top),
        "street": lambda: by_street,
        "prefix": lambda: by_prefix(size),
    }
    return makers[rule.name]()


MEMO_SIZE = 200_000  # distinct values remembered per item in one release: birth dates repeat, memory stays flat
_MISS = object()


def _memo(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``fn`` remembering its answers for text values within one release (type-checked: 1, 1.0 and True are
    equal keys of a dict but not equal inputs of a rule)."""
    cache: dict[str, Any] = {}

    def call(value: Any) -> Any:
        if type(value) is not str:
            return fn(value)
        out = cache.get(value, _MISS)
        if out is _MISS:
            out = fn(value)
            if len(cache) < MEMO_SIZE:
                cache[value] = out
        return out

    return call


def _not_of_persons(prefixes: tuple[str, ...]) -> Callable[[Any], Any]:
    def keep(value: Any) -> Any:
        return None if isinstance(value, str) and value.strip().upper().startswith(prefixes) else value

    return keep


# --- what each item becomes ----------------------------------------------------------------------------------


Treated = tuple[Treatment, Callable[[Any], Any] | None]


def _treat(item: DataItem, policy: EntryPolicy, scale: LevelScale, top_rank: int) -> Treated:
    """The treatment of one item and the function its values go through (None: as they are)."""
    name, kind, rule = item.name, item.kind, policy.generalise.get(item.name)
    level = scale.get(item.level)
    if level is None or level.rank > top_rank:
        why = f"level {item.level} is above {policy.max_level}, the highest this entry opens"
        return Treatment(name, Action.REMOVED, "level", why), None
    if name in policy.withhold:
        return Treatment(name, Action.REMOVED, "withheld", "the policy withholds it"), None
    if name in policy.public:
        return Treatment(name, Action.KEPT, "public", policy.public[name]), None
    if kind in policy.direct:
        return Treatment(name, Action.REMOVED, "direct", f"a {kind} names a person directly"), None
    if rule is not None:
        why = f"generalised by {rule.describe()}"
        return Treatment(name, Action.GENERALISED, "rule", why, rule.describe()), generaliser(rule)
    if policy.subject is Subject.PERSONS and kind in policy.direct_of_persons:
        why = f"a {kind} identifies a person in a release about persons, and no rule generalises it"
        return Treatment(name, Action.REMOVED, "direct-of-person", why), None
    if kind == "credit-code" and policy.person_credit_codes:
        why = f"kept; codes of natural persons (starting {', '.join(policy.person_credit_codes)}) withheld"
        return Treatment(name, Action.KEPT, "kept", why), _not_of_persons(policy.person_credit_codes)
    return Treatment(name, Action.KEPT, "kept", "kept as it is"), None


def _top_rank(policy: EntryPolicy, scale: LevelScale) -> int:
    if policy.max_level is None:
        return 0
    level = scale.get(policy.max_level)
    if level is None:
        names = ", ".join(lv.name for lv in scale.levels)
        raise InvalidPolicy(f"{policy.code}: maxLevel {policy.max_level!r} is no level of the scale ({names})")
    return level.rank


# --- the checks ----------------------------------------------------------------------------------------------


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:  # a geometry, a list: grouped by its JSON
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return value


def k_anonymity(records: Sequence[Mapping[str, Any]], quasi: Sequence[str], k: int) -> tuple[int, list[Group]]:
    """How many combinations of the ``quasi`` items' values the records hold, and those shared by fewer than
    ``k`` records with their counts, fewest first (in the order first met among equals). A missing value
    counts as None."""
    names = tuple(quasi)
    if not names:
        counts: Counter[tuple[Any, ...]] = Counter({(): len(records)} if records else {})
    else:
        counts = _counts(records, names)
    small = sorted(((key, c) for key, c in counts.items() if c < k), key=itemgetter(1))
    return len(counts), [Group(dict(zip(names, key, strict=True)), c) for key, c in small]


def _counts(records: Sequence[Mapping[str, Any]], names: tuple[str, ...]) -> Counter[tuple[Any, ...]]:
    try:  # the common case at C speed: every record has every item, every value hashable
        fast: Counter[Any] = Counter(map(itemgetter(*names), records))
    except (KeyError, TypeError):
        return Counter(tuple(_hashable(r.get(n)) for n in names) for r in records)
    if len(names) == 1:  # itemgetter of one name gives the value itself
        return Counter({(value,): c for value, c in fast.items()})
    return fast


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value == int(value) else None


def small_cells(records: Sequence[Mapping[str, Any]], counts: Sequence[str], threshold: int) -> list[SmallCell]:
    """The cells whose count is above 0 and below ``threshold``: a zero tells of no one, a 1 to 4 of a few people
    whom the cell's other values may single out."""
    found = []
    for row, record in enumerate(records):
        for item in counts:
            n = _count(record.get(item))
            if n is not None and 0 < n < threshold:
                cell = {k: v for k, v in record.items() if k not in counts}
                found.append(SmallCell(row, item, n, cell))
    return found


# --- the gate ------------------------------------------------------------------------------------------------


def deidentify(entry: CatalogueEntry, records: Iterable[Mapping[str, Any]], policy: EntryPolicy,
               scale: LevelScale) -> GateResult:  # fmt: skip
    """The release of ``records`` of ``entry`` under ``policy``, checked (see the module's description)."""
    top = _top_rank(policy, scale)
    if policy.max_level is None:
        closed = tuple(Treatment(i.name, Action.REMOVED, "not-opened", "the entry is not opened (不予开放)")
                       for i in entry.items)  # fmt: skip
        reason = f"{entry.code} is not for opening (不予开放): the catalogue marks it so"
        return GateResult(False, [], closed, policy.k, None, 0, (), (), 0, (reason,))
    treated = [(item.name, *_treat(item, policy, scale, top)) for item in entry.items]
    kept = [name for name, t, fn in treated if t.action is not Action.REMOVED and fn is None]
    changed = [(name, _memo(fn)) for name, t, fn in treated if fn is not None]
    items = {item.name for item in entry.items}
    withheld: Counter[str] = Counter()
    columns: set[str] = set()
    released: list[Record] = []
    for record in records:
        columns.update(record)
        get = record.get
        out = {name: get(name) for name in kept}
        for name, fn in changed:
            value = get(name)
            out[name] = new = fn(value)
            if new is None and value is not None:
                withheld[name] += 1
        released.append(out)
    treatments = [t if not withheld[name] else _with(t, withheld[name]) for name, t, _fn in treated]
    treatments += [Treatment(c, Action.REMOVED, "not-an-item", f"{entry.code} has no item {c!r}")
                   for c in sorted(columns - items)]  # fmt: skip
    return _check(policy, released, tuple(treatments))


def _with(t: Treatment, withheld: int) -> Treatment:
    return Treatment(t.item, t.action, t.reason, t.detail, t.rule, withheld)


def _check(policy: EntryPolicy, released: list[Record], treatments: tuple[Treatment, ...]) -> GateResult:
    opened = [t.item for t in treatments if t.action is not Action.REMOVED and t.reason != "not-an-item"]
    reasons: list[str] = []
    quasi: tuple[str, ...] | None = None
    if policy.quasi is not None:
        quasi = tuple(q for q in policy.quasi if q in opened)
    elif policy.subject is Subject.PERSONS:  # no declared quasi-identifiers: the whole record is one
        quasi = tuple(opened)
    groups, offending = 0, list[Group]()
    if quasi is not None and policy.subject is not Subject.AGGREGATES:
        groups, offending = k_anonymity(released, quasi, policy.k)
        if offending:
            worst = ", ".join(_describe(g) for g in offending[:3])
            more = f" and {len(offending) - 3} more" if len(offending) > 3 else ""
            of = ", ".join(quasi) or "no items"
            reasons.append(f"{len(offending)} combination(s) of {of} are shared by fewer than {policy.k} records: "
                           f"{worst}{more}; generalise further or withhold an item")  # fmt: skip
    cells, suppressed = [], 0
    if policy.subject is Subject.AGGREGATES:
        counts = [c for c in policy.counts if c in opened]
        cells = small_cells(released, counts, policy.small_cell)
        if cells and policy.suppress:
            for cell in cells:
                released[cell.row][cell.item] = policy.marker
            suppressed = len(cells)
        elif cells:
            reasons.append(f"{len(cells)} cell(s) count fewer than {policy.small_cell}, e.g. "
                           f"{cells[0].item}={cells[0].count} at {_values(cells[0].cell)}; suppress them "
                           f"(suppress: true) or aggregate further")  # fmt: skip
    return GateResult(not reasons, released, treatments, policy.k, quasi, groups, tuple(offending), tuple(cells),
                      suppressed, tuple(reasons))  # fmt: skip


def _values(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items()) or "(all records)"


def _describe(group: Group) -> str:
    return f"({_values(group.values)}): {group.count}"


def content_hash(records: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 of the records as released, in order, each as JSON with sorted keys on a line of its own."""
    h = hashlib.sha256()
    for record in records:
        h.update(orjson.dumps(record, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str))
        h.update(b"\n")
    return h.hexdigest()
