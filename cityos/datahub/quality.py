"""The data quality evaluator: a pure function from records and a dataset's rules to a report.

A run reads each item a rule needs once, as a column, then runs each rule as one tight loop over its
columns. Per rule it counts the values checked and those that failed, and lists the failing records by
their key with the reason.

The score (0 to 1) is the share of checks that pass:

* a rule's score is ``1 - failed / checked``;
* a dimension's score pools its rules' checks: ``sum(checked - failed) / sum(checked)``, so a rule that
  looks at more values weighs more;
* the dataset's score is the mean of its dimensions' scores weighted by the rule set's ``weights``
  (1 unless given). A rule, dimension or dataset with nothing checked has no score (None).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cityos.core.identifiers import credit_code_problem, date_problem, id_card_problem, mobile_problem
from cityos.core.patterns import utf8_searcher
from cityos.datahub.errors import QualityReferenceMissing
from cityos.datahub.quality_rules import (
    DIMENSIONS,
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

Records = Iterable[Mapping[str, Any]]
_MALE, _FEMALE = frozenset(("男", "M", "male", "1")), frozenset(("女", "F", "female", "2"))


@dataclass(frozen=True)
class Failure:
    """A record that failed a rule: its key and why, in words a person can act on."""

    key: str
    reason: str


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    dimension: str
    checked: int
    failed: int
    failures: list[Failure]

    @property
    def score(self) -> float | None:
        return 1 - self.failed / self.checked if self.checked else None


@dataclass(frozen=True)
class QualityReport:
    dataset: str
    records: int
    outcomes: list[RuleOutcome]
    dimensions: dict[str, float]  # dimension -> score, for the dimensions with something checked
    score: float | None

    def outcome(self, rule: str) -> RuleOutcome:
        return next(o for o in self.outcomes if o.rule == rule)


class _Run:
    """One run's records, read as columns on demand, and the references' indexes."""

    def __init__(self, rows: list[Mapping[str, Any]], rules: RuleSet, references: Mapping[str, Records],
                 as_of: datetime) -> None:  # fmt: skip
        self.rows = rows
        self.as_of = as_of
        self.references = references
        self.columns: dict[str, list[Any]] = {}
        self.filled: dict[str, list[tuple[str, Any]]] = {}
        self.blanks: dict[str, list[bool]] = {}
        self.indexes: dict[tuple[str, str, str], dict[Any, Any]] = {}
        self.keys = [str(k) for k in self.column(rules.key)]

    def column(self, item: str) -> list[Any]:
        if item not in self.columns:
            self.columns[item] = [r.get(item) for r in self.rows]
        return self.columns[item]

    def blank(self, item: str | None) -> list[bool]:
        """Whether each record's ``item`` is blank (all are when ``item`` is None)."""
        if item is None:
            return [True] * len(self.rows)
        if item not in self.blanks:
            # _blank written out: a call per value costs more than the test itself
            self.blanks[item] = [
                v is None or (isinstance(v, str) and (not v or v.isspace())) for v in self.column(item)
            ]
        return self.blanks[item]

    def present(self, item: str) -> list[tuple[str, Any]]:
        """(key, value) of the records whose ``item`` is not blank."""
        if item not in self.filled:
            triples = zip(self.keys, self.column(item), self.blank(item), strict=True)
            self.filled[item] = [(k, v) for k, v, blank in triples if not blank]
        return self.filled[item]

    def index(self, rule: AgreesWith) -> dict[Any, Any]:
        at = (rule.reference, rule.by, rule.other_item)
        if at not in self.indexes:
            self.indexes[at] = reference_index(self.references[rule.reference], rule)
        return self.indexes[at]


def reference_index(records: Records, rule: AgreesWith) -> dict[Any, Any]:
    """The referenced dataset's ``referenceItem`` by its ``by`` item, blank keys and values left out (the last
    record of a key wins)."""
    pairs = ((r.get(rule.by), r.get(rule.other_item)) for r in records)
    return {
        by: other
        for by, other in pairs
        if by is not None and other is not None and not (isinstance(other, str) and (not other or other.isspace()))
    }


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and (value == "" or value.isspace()))


Outcome = tuple[int, list[Failure]]


def _present(run: _Run, rule: Present) -> Outcome:
    blanks = run.blank(rule.item)
    failures = [Failure(k, f"{rule.item} is missing") for k, blank in zip(run.keys, blanks, strict=True) if blank]
    return len(run.rows), failures


def _unique(run: _Run, rule: Unique) -> Outcome:
    seen: dict[Any, str] = {}
    failures: list[Failure] = []
    named = " and ".join(rule.items)
    if len(rule.items) == 1:
        present = run.present(rule.items[0])
        for key, value in present:
            first = seen.setdefault(value, key)
            if first != key:
                failures.append(Failure(key, f"{named} {value} repeats that of record {first}"))
        return len(present), failures
    checked = 0
    for key, *values in zip(run.keys, *(run.column(i) for i in rule.items), strict=True):
        if any(_blank(v) for v in values):
            continue
        checked += 1
        value = values[0] if len(values) == 1 else tuple(values)
        first = seen.setdefault(value, key)
        if first != key:
            failures.append(Failure(key, f"{named} {_show(values)} repeats that of record {first}"))
    return checked, failures


def _show(values: Sequence[Any]) -> str:
    return " / ".join(str(v) for v in values)


def format_reason(rule: FormatCheck, as_of: datetime) -> Callable[[Any], str | None]:
    """Why a present value fails a format rule, or None: the check a run makes of each value."""
    today = as_of.date()
    checks: dict[str, Callable[[str], str | None]] = {
        "id-card": lambda v: id_card_problem(v, today),
        "credit-code": credit_code_problem,
        "mobile": mobile_problem,
        "date": date_problem,
    }
    check = checks[rule.format]

    def reason(value: Any) -> str | None:
        problem = check(str(value))
        return None if problem is None else f"{rule.item}: {problem}"

    return reason


def _format(run: _Run, rule: FormatCheck) -> Outcome:
    reason = format_reason(rule, run.as_of)
    present = run.present(rule.item)
    failures = []
    if rule.format == "date":  # the checks are pure and dates repeat (a million birth dates: some 40,000 days)
        # by type and value: 0 and 0.0 are equal but written differently in the reason
        problems = {(type(value), value): value for _, value in present}
        problems = {at: reason(value) for at, value in problems.items()}
        for key, value in present:
            problem = problems[type(value), value]
            if problem is not None:
                failures.append(Failure(key, problem))
        return len(present), failures
    return _each(run, rule.item, reason)


def _each(run: _Run, item: str, reason: Callable[[Any], str | None]) -> Outcome:
    """Each present value of ``item`` checked in turn: (how many, the failures)."""
    present = run.present(item)
    failures = []
    for key, value in present:
        problem = reason(value)
        if problem is not None:
            failures.append(Failure(key, problem))
    return len(present), failures


def pattern_reason(rule: PatternRule) -> Callable[[Any], str | None]:
    found = utf8_searcher(rule.pattern)

    def reason(value: Any) -> str | None:
        return None if found(str(value).encode()) else f"{rule.item} {value!r} does not match {rule.pattern}"

    return reason


def _pattern(run: _Run, rule: PatternRule) -> Outcome:
    return _each(run, rule.item, pattern_reason(rule))


def one_of_reason(rule: OneOf) -> Callable[[Any], str | None]:
    allowed = frozenset(rule.values)

    def reason(value: Any) -> str | None:
        return None if str(value) in allowed else f"{rule.item} {value!r} is not one of {', '.join(rule.values)}"

    return reason


def _one_of(run: _Run, rule: OneOf) -> Outcome:
    return _each(run, rule.item, one_of_reason(rule))


def range_reason(rule: RangeRule) -> Callable[[Any], str | None]:
    low = float("-inf") if rule.min is None else rule.min
    high = float("inf") if rule.max is None else rule.max

    def reason(value: Any) -> str | None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return f"{rule.item} {value!r} is not a number"
        return None if low <= number <= high else f"{rule.item} {value} is outside {_bounds(rule)}"

    return reason


def _range(run: _Run, rule: RangeRule) -> Outcome:
    return _each(run, rule.item, range_reason(rule))


def _bounds(rule: RangeRule) -> str:
    return f"[{'' if rule.min is None else f'{rule.min:g}'}, {'' if rule.max is None else f'{rule.max:g}'}]"


def fresh_reason(rule: Fresh, as_of: datetime) -> Callable[[Any], str | None]:
    oldest = as_of - rule.period

    def reason(value: Any) -> str | None:
        when = _moment(value)
        if when is None:
            return f"{rule.item} {value!r} is not a timestamp"
        return f"{rule.item} {value} is older than {rule.within}" if when < oldest else None

    return reason


def _fresh(run: _Run, rule: Fresh) -> Outcome:
    return _each(run, rule.item, fresh_reason(rule, run.as_of))


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def card_reason(rule: IdCardAgrees, card: Any, birth: Any, no_birth: bool, gender: Any, no_gender: bool
                ) -> tuple[bool, str | None]:  # fmt: skip
    """Whether a record's ID number is checked against its birth date and gender, and why it disagrees (None
    when it agrees)."""
    card = "" if card is None else str(card)
    if len(card) != 18 or not card[:17].isdigit():
        return False, None  # not an ID number at all: validity says so
    stated, male = f"{card[6:10]}-{card[10:12]}-{card[12:14]}", int(card[16]) % 2 == 1
    problems = []
    # the reason names the items, not what the ID number says (a reader may see the number masked)
    if not no_birth and str(birth)[:10] != stated:
        problems.append(f"{rule.birth} {birth} disagrees with the birth date in the ID number")
    if not no_gender and gender in (_FEMALE if male else _MALE):
        problems.append(f"{rule.gender} {gender} disagrees with the sex the ID number's sequence gives")
    return True, "; ".join(problems) if problems else None


def _id_card_agrees(run: _Run, rule: IdCardAgrees) -> Outcome:
    none = [None] * len(run.rows)
    births = run.column(rule.birth) if rule.birth else none
    genders = run.column(rule.gender) if rule.gender else none
    columns = (run.keys, run.column(rule.item), births, run.blank(rule.birth), genders, run.blank(rule.gender))
    failures, checked = [], 0
    for key, card, birth, no_birth, gender, no_gender in zip(*columns, strict=True):
        if no_birth and no_gender:
            continue
        counted, problem = card_reason(rule, card, birth, no_birth, gender, no_gender)
        checked += counted
        if problem is not None:
            failures.append(Failure(key, problem))
    return checked, failures


def agrees_reason(rule: AgreesWith, value: Any, other: Any) -> str | None:
    """Why a present value disagrees with the referenced dataset's ``other`` (not None), or None."""
    if other != value and str(other) != str(value):
        return f"{rule.item} {value} disagrees with {rule.reference}'s {other}"
    return None


def _agrees_with(run: _Run, rule: AgreesWith) -> Outcome:
    get = run.index(rule).get
    failures, checked = [], 0
    columns = (run.keys, run.column(rule.by), run.column(rule.item), run.blank(rule.item))
    for key, by, value, blank in zip(*columns, strict=True):
        other = None if by is None else get(by)  # the index holds no blank key or value
        if other is None or blank:
            continue
        checked += 1
        problem = agrees_reason(rule, value, other)
        if problem is not None:
            failures.append(Failure(key, problem))
    return checked, failures


_CHECKS: dict[type, Callable[[_Run, Any], Outcome]] = {
    Present: _present,
    Unique: _unique,
    FormatCheck: _format,
    PatternRule: _pattern,
    OneOf: _one_of,
    RangeRule: _range,
    Fresh: _fresh,
    IdCardAgrees: _id_card_agrees,
    AgreesWith: _agrees_with,
}


def check_references(rules: RuleSet, given: Mapping[str, Any]) -> None:
    """QualityReferenceMissing naming a dataset an ``agrees-with`` rule compares with that is not given."""
    for rule in rules.rules:
        if isinstance(rule, AgreesWith) and rule.reference not in given:
            raise QualityReferenceMissing(
                f"rule {rule.id} of {rules.dataset} compares with dataset {rule.reference!r}, "
                "whose records the run was not given"
            )


def evaluate_records(
    records: Records, rules: RuleSet, *, as_of: datetime, references: Mapping[str, Records] | None = None
) -> QualityReport:
    """Run a dataset's rules over its records (dicts of item -> value), a record at a time: the reference
    semantics that the column-wise :func:`cityos.datahub.quality_columns.evaluate` reproduces faster. ``as_of``
    is the moment timeliness is measured from; ``references`` holds the records of the datasets ``agrees-with``
    rules compare with, by the name the rule gives (QualityReferenceMissing names one not given)."""
    given = references or {}
    check_references(rules, given)
    rows = list(records)
    run = _Run(rows, rules, given, as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC))
    outcomes = []
    for rule in rules.rules:
        checked, failures = _CHECKS[type(rule)](run, rule)
        outcomes.append(RuleOutcome(rule.id, rule.dimension, checked, len(failures), failures))
    return report_of(rules, len(rows), outcomes)


def report_of(rules: RuleSet, records: int, outcomes: list[RuleOutcome]) -> QualityReport:
    """The report of a run: the outcomes with the dimensions' and the dataset's scores."""
    dimensions = _dimension_scores(outcomes)
    total = sum(rules.weight(d) for d in dimensions)
    score = sum(rules.weight(d) * s for d, s in dimensions.items()) / total if total else None
    return QualityReport(rules.dataset, records, outcomes, dimensions, score)


def _dimension_scores(outcomes: list[RuleOutcome]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for dimension in DIMENSIONS:
        checked = sum(o.checked for o in outcomes if o.dimension == dimension)
        if checked:
            failed = sum(o.failed for o in outcomes if o.dimension == dimension)
            scores[dimension] = 1 - failed / checked
    return scores
