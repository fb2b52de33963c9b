"""The data quality evaluator over columns, a chunk at a time: the same report as the record-at-a-time
:func:`cityos.datahub.quality.evaluate_records`, in a fraction of the time and in memory flat in the records.

A run is fed chunks of columns (item -> the chunk's values, e.g. a page of a table read by key); what a rule
carries from chunk to chunk is its counts, its failures and, for ``unique``, the values seen with the key of
the first record that had each. The references of ``agrees-with`` rules are indexed once per run.

Each check is vectorised over a chunk's column when the column holds text only (read into Arrow: RE2 regular
expressions, set membership, the check digits of ID numbers and credit codes in numpy) as a *screen*: the
values it passes are those the record-at-a-time check passes, and every value it does not pass is checked
again by the per-value function of :mod:`cityos.datahub.quality`, which gives the reason, or passes it. A
column that holds anything else than text and None (numbers, datetimes) is checked value by value. So the
semantics are those of the per-value functions, reasons included (the property test compares both on
generated records). Text is ``str``: a subclass of ``str`` is read as its characters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import compress, islice, repeat
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cityos.core.identifiers import CREDIT_CHARSET, CREDIT_WEIGHTS, ID_CHECK, ID_WEIGHTS, PROVINCES
from cityos.datahub.quality import (
    _FEMALE,
    _MALE,
    Failure,
    QualityReport,
    Records,
    RuleOutcome,
    _show,
    agrees_reason,
    card_reason,
    check_references,
    format_reason,
    fresh_reason,
    one_of_reason,
    pattern_reason,
    range_reason,
    reference_index,
    report_of,
)
from cityos.datahub.quality_rules import (
    AgreesWith,
    Fresh,
    IdCardAgrees,
    OneOf,
    PatternRule,
    Present,
    RangeRule,
    RuleSet,
    Unique,
)
from cityos.datahub.quality_rules import FormatRule as FormatCheck

CHUNK = 65_536  # records per chunk when records are given as dicts
Columns = Mapping[str, Sequence[Any]]
Mask = np.ndarray  # of bool, one per record of a chunk

# The characters str.isspace() answers True for (tests/datahub check the list against Python's own).
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"  # noqa: E501
_BLANK_RE = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]*$"
_ID_RE = "^[0-9]{17}[0-9X]$"
_CREDIT_RE = f"^[{CREDIT_CHARSET}]{{2}}[0-9]{{6}}[{CREDIT_CHARSET}]{{10}}$"
_MOBILE_RE = "^1[3-9][0-9]{9}$"
_CARD_RE = "^[0-9]{17}(?s:.)$"
_DATE_RE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_UTC_SECOND_RE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_ID_W = np.array(ID_WEIGHTS, dtype=np.int64)
_ID_CHECK = np.frombuffer(ID_CHECK.encode(), dtype=np.uint8)
_CREDIT_W = np.array(CREDIT_WEIGHTS, dtype=np.int64)
_CREDIT_CHARS = np.frombuffer(CREDIT_CHARSET.encode(), dtype=np.uint8)
_CREDIT_VALUE = np.zeros(256, dtype=np.int64)
_CREDIT_VALUE[_CREDIT_CHARS] = np.arange(len(CREDIT_CHARSET))
_PROVINCES = np.array(sorted(PROVINCES))


class Chunk:
    """One chunk's columns, with each column's text form (Arrow) and blanks made once and shared by the rules."""

    def __init__(self, columns: Columns, key: str) -> None:
        self.columns = columns
        self.n = len(next(iter(columns.values()))) if columns else 0
        self.key = key
        self._texts: dict[str, pa.StringArray | None] = {}
        self._blanks: dict[str, Mask] = {}
        self._keys: list[str] | None = None

    def column(self, item: str) -> Sequence[Any]:
        found = self.columns.get(item)
        return [None] * self.n if found is None else found

    def keys(self) -> list[str]:
        if self._keys is None:
            raw = self.column(self.key)
            self._keys = list(raw) if self.text(self.key) is not None and None not in raw else [str(k) for k in raw]
        return self._keys

    def text(self, item: str) -> pa.StringArray | None:
        """The column as Arrow text when it holds text and None only; else None (checked value by value)."""
        if item not in self._texts:
            try:
                array = pa.array(self.column(item))
            except (pa.ArrowException, UnicodeError, TypeError, ValueError, OverflowError):
                array = None
            if array is not None and array.type == pa.null():
                array = pa.nulls(self.n, pa.string())
            self._texts[item] = array if array is not None and array.type == pa.string() else None
        return self._texts[item]

    def blank(self, item: str | None) -> Mask:
        """Whether each record's ``item`` is None, empty or whitespace (all are when ``item`` is None)."""
        if item is None:
            return np.ones(self.n, dtype=bool)
        if item not in self._blanks:
            text = self.text(item)
            if text is None:
                values = self.column(item)
                self._blanks[item] = np.fromiter(
                    (v is None or (isinstance(v, str) and (not v or v.isspace())) for v in values), bool, self.n
                )
            else:
                self._blanks[item] = _np(pc.match_substring_regex(text, _BLANK_RE)) | _np(text.is_null())
        return self._blanks[item]


def _np(mask: pa.Array) -> Mask:
    """An Arrow boolean array as numpy, null as False."""
    return np.asarray(mask.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _fixed(text: pa.Array, width: int) -> np.ndarray:
    """Strings of ``width`` ASCII characters each (no null) as a matrix of their bytes, one row a value."""
    if len(text) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[0] + width * len(text)].reshape(len(text), width)


def _digits(m: np.ndarray, start: int, stop: int) -> np.ndarray:
    out = np.zeros(len(m), dtype=np.int64)
    for i in range(start, stop):
        out = out * 10 + (m[:, i].astype(np.int64) - 48)
    return out


def _calendar_date(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> Mask:
    """Whether (year, month, day) is a date Python's ``date`` takes."""
    ok = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    return ok & (day <= days)


def _id_cards_valid(text: pa.StringArray, today: Any) -> Mask:
    """The values that are valid ID numbers (GB 11643), born from 1900 to ``today``."""
    at = np.flatnonzero(_np(pc.match_substring_regex(text, _ID_RE)))
    m = _fixed(pc.take(text, pa.array(at, pa.int64())), 18)
    d = m[:, :17].astype(np.int64) - 48
    year, month, day = _digits(m, 6, 10), _digits(m, 10, 12), _digits(m, 12, 14)
    born = year * 10_000 + month * 100 + day
    ok = np.isin(d[:, 0] * 10 + d[:, 1], _PROVINCES) & _calendar_date(year, month, day) & (born >= 19000101)
    if today is not None:
        ok &= born <= today.year * 10_000 + today.month * 100 + today.day
    ok &= _ID_CHECK[(d @ _ID_W) % 11] == m[:, 17]
    out = np.zeros(len(text), dtype=bool)
    out[at] = ok
    return out


def _credit_codes_valid(text: pa.StringArray) -> Mask:
    """The values that are valid unified social credit codes (GB 32100)."""
    at = np.flatnonzero(_np(pc.match_substring_regex(text, _CREDIT_RE)))
    m = _fixed(pc.take(text, pa.array(at, pa.int64())), 18)
    total = _CREDIT_VALUE[m[:, :17]] @ _CREDIT_W
    out = np.zeros(len(text), dtype=bool)
    out[at] = _CREDIT_CHARS[(31 - total % 31) % 31] == m[:, 17]
    return out


def _dates_valid(text: pa.StringArray) -> Mask:
    """The values written ``YYYY-MM-DD`` that are calendar dates."""
    at = np.flatnonzero(_np(pc.match_substring_regex(text, _DATE_RE)))
    m = _fixed(pc.take(text, pa.array(at, pa.int64())), 10)
    out = np.zeros(len(text), dtype=bool)
    out[at] = _calendar_date(_digits(m, 0, 4), _digits(m, 5, 7), _digits(m, 8, 10))
    return out


def _fresh_utc_seconds(text: pa.StringArray, oldest: datetime) -> Mask:
    """The values written ``YYYY-MM-DDTHH:MM:SSZ`` that are timestamps at or after ``oldest``: compared as
    text with ``oldest`` rounded up to its second, as the form sorts as time does."""
    at = np.flatnonzero(_np(pc.match_substring_regex(text, _UTC_SECOND_RE)))
    m = _fixed(pc.take(text, pa.array(at, pa.int64())), 20)
    ok = _calendar_date(_digits(m, 0, 4), _digits(m, 5, 7), _digits(m, 8, 10))
    ok &= (_digits(m, 11, 13) <= 23) & (_digits(m, 14, 16) <= 59) & (_digits(m, 17, 19) <= 59)
    bound = oldest.astimezone(UTC)
    if bound.microsecond:
        bound = bound.replace(microsecond=0) + timedelta(seconds=1)
    if bound.year < 1 or bound.year > 9999:  # pragma: no cover - a period beyond the calendar
        return np.zeros(len(text), dtype=bool)
    since = np.frombuffer(bound.strftime("%Y-%m-%dT%H:%M:%SZ").encode().rjust(20, b"0"), dtype=np.uint8)
    later = np.zeros(len(m), dtype=bool)
    undecided = np.ones(len(m), dtype=bool)
    for i in range(20):  # lexicographic: the first differing byte decides
        later |= undecided & (m[:, i] > since[i])
        undecided &= m[:, i] == since[i]
    out = np.zeros(len(text), dtype=bool)
    out[at] = ok & (later | undecided)
    return out


def _screen(rule: Any, as_of: datetime) -> Callable[[pa.StringArray], Mask] | None:
    """A vectorised pass of the rule's per-value check: True only where that check passes."""
    if isinstance(rule, FormatCheck):
        if rule.format == "id-card":
            today = as_of.date()
            return lambda text: _id_cards_valid(text, today)
        if rule.format == "credit-code":
            return _credit_codes_valid
        if rule.format == "mobile":
            return lambda text: _np(pc.match_substring_regex(text, _MOBILE_RE))
        return _dates_valid
    if isinstance(rule, PatternRule):
        return lambda text: _np(pc.match_substring_regex(text, rule.pattern))
    if isinstance(rule, OneOf):
        allowed = pa.array([str(v) for v in rule.values], pa.string())
        return lambda text: _np(pc.is_in(text, value_set=allowed))
    if isinstance(rule, Fresh):
        oldest = as_of - rule.period
        return lambda text: _fresh_utc_seconds(text, oldest)
    return None  # range: its values are numbers more often than text


def _reason(rule: Any, as_of: datetime) -> Callable[[Any], str | None]:
    if isinstance(rule, FormatCheck):
        return format_reason(rule, as_of)
    if isinstance(rule, PatternRule):
        return pattern_reason(rule)
    if isinstance(rule, OneOf):
        return one_of_reason(rule)
    if isinstance(rule, RangeRule):
        return range_reason(rule)
    return fresh_reason(rule, as_of)


class _Check:
    """A rule's running outcome over the chunks."""

    def __init__(self, rule: Any) -> None:
        self.rule = rule
        self.checked = 0
        self.failures: list[Failure] = []

    def add(self, chunk: Chunk) -> None:
        raise NotImplementedError

    def outcome(self) -> RuleOutcome:
        return RuleOutcome(self.rule.id, self.rule.dimension, self.checked, len(self.failures), self.failures)


class _Present(_Check):
    def add(self, chunk: Chunk) -> None:
        blank = chunk.blank(self.rule.item)
        self.checked += chunk.n
        keys = chunk.keys()
        why = f"{self.rule.item} is missing"
        self.failures += [Failure(keys[i], why) for i in np.flatnonzero(blank).tolist()]


class _Value(_Check):
    """A check of each present value of one item: screened column-wise, the rest checked one by one."""

    def __init__(self, rule: Any, as_of: datetime) -> None:
        super().__init__(rule)
        self.screen = _screen(rule, as_of)
        self.reason = _reason(rule, as_of)

    def add(self, chunk: Chunk) -> None:
        item = self.rule.item
        present = ~chunk.blank(item)
        self.checked += int(present.sum())
        text = chunk.text(item)
        if self.screen is not None and text is not None:
            present &= ~self.screen(text)
        values, keys = chunk.column(item), chunk.keys()
        for i in np.flatnonzero(present).tolist():
            problem = self.reason(values[i])
            if problem is not None:
                self.failures.append(Failure(keys[i], problem))


class _Unique(_Check):
    """The values seen (with the key of the first record that had each) are kept from chunk to chunk."""

    def __init__(self, rule: Unique) -> None:
        super().__init__(rule)
        self.seen: dict[Any, str] = {}
        self.named = " and ".join(rule.items)

    def add(self, chunk: Chunk) -> None:
        items = self.rule.items
        present = ~np.logical_or.reduce([chunk.blank(i) for i in items])
        keys = list(compress(chunk.keys(), present))
        if len(items) == 1:
            values = list(compress(chunk.column(items[0]), present))
        else:
            values = list(zip(*(compress(chunk.column(i), present) for i in items), strict=True))
        self.checked += len(values)
        seen = self.seen
        first = dict(zip(reversed(values), reversed(keys), strict=True))  # a value's first key in the chunk
        repeated = len(first) < len(values) or not seen.keys().isdisjoint(first)
        if not repeated:
            seen.update(first)
            return
        for key, value in zip(keys, values, strict=True):  # the chunk has a repeat: in order, as one record at a time
            earlier = seen.setdefault(value, key)
            if earlier != key:
                shown = value if len(items) == 1 else _show(value)
                self.failures.append(Failure(key, f"{self.named} {shown} repeats that of record {earlier}"))


class _CardAgrees(_Check):
    def add(self, chunk: Chunk) -> None:
        rule: IdCardAgrees = self.rule
        no_birth, no_gender = chunk.blank(rule.birth), chunk.blank(rule.gender)
        one_by_one = ~(no_birth & no_gender)  # the records that have something to compare
        cards = chunk.text(rule.item)
        births = chunk.text(rule.birth) if rule.birth else pa.nulls(chunk.n, pa.string())
        genders = chunk.text(rule.gender) if rule.gender else pa.nulls(chunk.n, pa.string())
        if cards is not None and births is not None and genders is not None:
            shaped = _np(pc.match_substring_regex(cards, _CARD_RE)) & _np(pc.equal(pc.binary_length(cards), 18))
            at = np.flatnonzero(one_by_one & shaped)  # 17 ASCII digits and one ASCII character
            take = pa.array(at, pa.int64())
            m = _fixed(pc.take(cards, take), 18)
            dash = np.full((len(m), 1), ord("-"), np.uint8)
            stated = np.ascontiguousarray(np.concatenate([m[:, 6:10], dash, m[:, 10:12], dash, m[:, 12:14]], axis=1))
            stated_text = pa.array(stated.view("S10").ravel(), pa.binary())
            head = pc.binary_slice(pc.take(births, take).view(pa.binary()), 0, 10)
            birth_ok = no_birth[at] | _np(pc.equal(head, stated_text))
            male = (m[:, 16] - ord("0")) % 2 == 1
            sex = pc.take(genders, take)
            wrong = np.where(male, _np(pc.is_in(sex, value_set=_SEXES[0])), _np(pc.is_in(sex, value_set=_SEXES[1])))
            agree = birth_ok & (no_gender[at] | ~wrong)
            self.checked += int(agree.sum())
            one_by_one[at[agree]] = False  # the others are checked again below, for their reasons
        keys, cards_v = chunk.keys(), chunk.column(rule.item)
        births_v = chunk.column(rule.birth) if rule.birth else None
        genders_v = chunk.column(rule.gender) if rule.gender else None
        for i in np.flatnonzero(one_by_one).tolist():
            counted, problem = card_reason(rule, cards_v[i], None if births_v is None else births_v[i],
                                           bool(no_birth[i]), None if genders_v is None else genders_v[i],
                                           bool(no_gender[i]))  # fmt: skip
            self.checked += counted
            if problem is not None:
                self.failures.append(Failure(keys[i], problem))


_SEXES = (pa.array(sorted(_FEMALE), pa.string()), pa.array(sorted(_MALE), pa.string()))


class _AgreesWith(_Check):
    def __init__(self, rule: AgreesWith, index: dict[Any, Any]) -> None:
        super().__init__(rule)
        self.index = index

    def add(self, chunk: Chunk) -> None:
        rule: AgreesWith = self.rule
        others = list(map(self.index.get, chunk.column(rule.by)))  # the index holds no None key
        blank, values, keys = chunk.blank(rule.item), chunk.column(rule.item), chunk.keys()
        try:
            other_text: pa.Array | None = pa.array(others)
        except (pa.ArrowException, UnicodeError, TypeError, ValueError, OverflowError):
            other_text = None
        if other_text is not None and other_text.type in (pa.string(), pa.null()):
            known = _np(other_text.is_valid()) & ~blank
        else:
            known = np.fromiter((o is not None for o in others), bool, chunk.n) & ~blank
        self.checked += int(known.sum())
        text = chunk.text(rule.item)
        suspect = known
        if text is not None and other_text is not None and other_text.type in (pa.string(), pa.null()):
            suspect = known & ~_np(pc.equal(text, other_text.cast(pa.string())))
        for i in np.flatnonzero(suspect).tolist():
            problem = agrees_reason(rule, values[i], others[i])
            if problem is not None:
                self.failures.append(Failure(keys[i], problem))


def _index(records: Records, rule: AgreesWith) -> dict[Any, Any]:
    """:func:`cityos.datahub.quality.reference_index`, the blanks found column-wise."""
    index: dict[Any, Any] = {}
    rows = iter(records)
    while part := list(islice(rows, CHUNK)):  # a chunk at a time: the records may be read as they come
        try:  # dict.get called by map: no Python frame per record
            get: Callable[[Any, str], Any] = dict.get
            keys = list(map(get, part, repeat(rule.by)))
            others = list(map(get, part, repeat(rule.other_item)))
        except TypeError:  # mappings other than dicts
            keys, others = [r.get(rule.by) for r in part], [r.get(rule.other_item) for r in part]
        chunk = Chunk({"other": others}, "other")
        if chunk.text("other") is None:
            index.update(reference_index(part, rule))
            continue
        keep = ~chunk.blank("other")
        if None in keys:
            keep &= np.fromiter((k is not None for k in keys), bool, len(keys))
        index.update(zip(compress(keys, keep), compress(others, keep), strict=True))
    return index


class Evaluation:
    """A run of a dataset's rules fed chunk by chunk (:meth:`add`), its report at the end (:meth:`report`)."""

    def __init__(self, rules: RuleSet, *, as_of: datetime, references: Mapping[str, Records] | None = None) -> None:
        given = references or {}
        check_references(rules, given)
        self.rules = rules
        self.as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
        self.records = 0
        indexes: dict[tuple[str, str, str], dict[Any, Any]] = {}
        self.checks: list[_Check] = []
        for rule in rules.rules:
            if isinstance(rule, Present):
                self.checks.append(_Present(rule))
            elif isinstance(rule, Unique):
                self.checks.append(_Unique(rule))
            elif isinstance(rule, IdCardAgrees):
                self.checks.append(_CardAgrees(rule))
            elif isinstance(rule, AgreesWith):
                at = (rule.reference, rule.by, rule.other_item)
                if at not in indexes:
                    indexes[at] = _index(given[rule.reference], rule)
                self.checks.append(_AgreesWith(rule, indexes[at]))
            else:
                self.checks.append(_Value(rule, self.as_of))

    def add(self, columns: Columns) -> None:
        """A chunk of records as columns (item -> values, all of one length; an item left out is None)."""
        chunk = Chunk(columns, self.rules.key)
        if chunk.n == 0:
            return
        self.records += chunk.n
        for check in self.checks:
            check.add(chunk)

    def report(self) -> QualityReport:
        return report_of(self.rules, self.records, [c.outcome() for c in self.checks])


def items_read(rules: RuleSet) -> list[str]:
    """The items a run of ``rules`` reads of each record (the key first)."""
    found = [rules.key]
    for rule in rules.rules:
        for name in ("item", "birth", "gender", "by"):
            value = getattr(rule, name, None)
            if value and value not in found:
                found.append(value)
        for value in getattr(rule, "items", ()) or ():
            if value not in found:
                found.append(value)
    return found


def as_columns(records: Records, items: Sequence[str], size: int = CHUNK) -> Iterator[dict[str, list[Any]]]:
    """Records (mappings) as chunks of columns of ``items``, ``size`` records a chunk."""
    rows = iter(records)
    while chunk := list(islice(rows, size)):
        yield {item: [r.get(item) for r in chunk] for item in items}


def evaluate_columns(
    chunks: Iterable[Columns], rules: RuleSet, *, as_of: datetime, references: Mapping[str, Records] | None = None
) -> QualityReport:
    """Run a dataset's rules over its records given as chunks of columns (see :class:`Evaluation`)."""
    run = Evaluation(rules, as_of=as_of, references=references)
    for columns in chunks:
        run.add(columns)
    return run.report()


def evaluate(
    records: Records, rules: RuleSet, *, as_of: datetime, references: Mapping[str, Records] | None = None
) -> QualityReport:
    """Run a dataset's rules over its records (dicts of item -> value), as columns a chunk at a time. ``as_of``
    is the moment timeliness is measured from; ``references`` holds the records of the datasets ``agrees-with``
    rules compare with, by the name the rule gives (QualityReferenceMissing names one not given). The report
    is that of :func:`cityos.datahub.quality.evaluate_records`."""
    return evaluate_columns(as_columns(records, items_read(rules)), rules, as_of=as_of, references=references)
