"""Automatic decisions (无人干预自动办理) as data: an item version's decision rules, their evaluation and their
tests. Pure: no I/O.

An item's ``decision`` document::

    rules:                      # evaluated in order, every one (the trace shows each)
      - id: too-old             # stable within the item
        when: {JsonLogic}       # over the facts (below); a rule over facts it cannot read does not hold
        then: refuse            # refuse: any refuse rule that holds refuses the application
        reason: [中文理由, English reason]
      - id: mother-applies
        when: {...}
        then: approve           # approve: the application is approved when every approve rule holds
        reason: [..., ...]
    claims: {claim: JsonLogic}  # the certificate's claims when approved (an item that issues an e-certificate)
    tests: [case, ...]          # see :func:`parse_cases`

Anything else — an approve rule that does not hold and no refuse rule that does — is *undecided*: a clerk
decides, with the trace in front of them. A fact that is missing never decides on its own: a rule that reads
a missing fact does not hold, unless its ``var`` gives a default (``{"var": ["answers.x", ""]}``: the rule
deals with the fact's absence itself).

The facts a rule reads: ``answers.<question>`` (the merged form's cleaned answers), ``applicant.kind`` and
``applicant.key`` (the ID number or credit code), ``evidence.<material>`` (a material's values as fetched and
confirmed by the applicant: a registry record's items, or an e-certificate as a credential),
``application.id`` and ``today`` (YYYY-MM-DD, Shanghai). One operation beyond JsonLogic's:
``{"days_since": [date]}``, the whole days from a YYYY-MM-DD date to ``today`` (null for no date);
``{"years_since": [date]}``, the whole years (an age); ``{"id_birth_date": [id]}``, the birth date a
citizen's ID number carries (YYYY-MM-DD; null for another key).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, get_args

from json_logic import jsonLogic
from json_logic.builtins import BUILTINS, to_bool

Outcome = Literal["approve", "refuse", "undecided"]
Then = Literal["approve", "refuse"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
FACT_ROOTS = frozenset({"answers", "applicant", "evidence", "application", "today"})
# the JsonLogic operations a decision may use: plain conditions and arithmetic, no logging
OPERATIONS = frozenset(
    {"==", "!=", "===", "!==", "<", ">", "<=", ">=", "!", "!!", "and", "or", "if", "in", "var", "missing",
     "missing_some", "some", "all", "none", "+", "-", "*", "/", "%", "min", "max", "cat", "substr", "merge",
     "days_since", "years_since", "id_birth_date"}
)  # fmt: skip
MAX_RULES = 50
MAX_CASES = 200


class RulesProblem(ValueError):
    """Decision data that does not parse: ``where`` names the rule, claim or case and the field."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


@dataclass(frozen=True)
class Rule:
    id: str
    when: dict[str, Any]
    then: Then
    reason: str  # zh-CN
    reason_en: str


@dataclass(frozen=True)
class Case:
    """One test: the facts in, the outcome and reasons (rule ids) expected, and claims expected (a subset)."""

    name: str
    facts: dict[str, Any]
    expect: Outcome
    reasons: tuple[str, ...] | None = None
    claims: dict[str, Any] | None = None


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    claims: dict[str, Any]
    cases: tuple[Case, ...]


@dataclass(frozen=True)
class Step:
    """One rule in the trace: whether it held, and the facts it read (path -> value as read)."""

    rule: str
    then: Then
    holds: bool
    inputs: dict[str, Any]
    reason: str
    reason_en: str


@dataclass(frozen=True)
class Decision:
    """The outcome, the rules that made it (for an undecided one: the approve rules that did not hold), the
    whole trace, and the certificate's claims (approved only)."""

    outcome: Outcome
    reasons: tuple[Step, ...]
    trace: tuple[Step, ...]
    claims: dict[str, Any] | None = None

    def reason_text(self) -> str:
        return "；".join(s.reason for s in self.reasons)


@dataclass(frozen=True)
class Failure:
    case: str
    message: str


# --- evaluation ---------------------------------------------------------------------------------------------


def _days_since(today: date) -> Callable[..., Any]:
    def op(data: Any = None, value: Any = None, *_: Any) -> int | None:
        try:
            return (today - date.fromisoformat(value)).days if isinstance(value, str) else None
        except ValueError:
            return None

    return op


def _years_since(today: date) -> Callable[..., Any]:
    def op(data: Any = None, value: Any = None, *_: Any) -> int | None:
        try:
            born = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None
        return None if born is None else today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    return op


def _id_birth_date(data: Any = None, value: Any = None, *_: Any) -> str | None:
    if not isinstance(value, str) or len(value) != 18 or not value[6:14].isdigit():
        return None
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14])).isoformat()
    except ValueError:
        return None


def _operations(today: date) -> dict[str, Any]:
    return {**BUILTINS, "days_since": _days_since(today), "years_since": _years_since(today),
            "id_birth_date": _id_birth_date}  # fmt: skip


def _apply(logic: Any, facts: Mapping[str, Any], ops: dict[str, Any]) -> Any:
    try:
        return jsonLogic(logic, dict(facts), ops)
    except (TypeError, ValueError, ArithmeticError, KeyError, IndexError, AttributeError):
        return None  # over facts it cannot compare, a rule does not hold and a claim is not made


def var_paths(logic: Any, *, strict: bool = False) -> list[str]:
    """The fact paths a JsonLogic expression reads, in order, each once (``strict``: only those read with no
    default)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for part in node:
                walk(part)
        elif isinstance(node, dict) and len(node) == 1:
            op, args = next(iter(node.items()))
            if op == "var":
                name = args[0] if isinstance(args, list) and args else args
                defaulted = isinstance(args, list) and len(args) > 1
                if isinstance(name, str) and name not in found and not (strict and defaulted):
                    found.append(name)
            else:
                walk(args)

    walk(logic)
    return found


def _read(facts: Mapping[str, Any], path: str) -> Any:
    here: Any = facts
    for part in path.split("."):
        if not isinstance(here, Mapping) or part not in here:
            return None
        here = here[part]
    return here


def _holds(when: dict[str, Any], facts: Mapping[str, Any], ops: dict[str, Any]) -> bool:
    if any(_read(facts, p) is None for p in var_paths(when, strict=True)):
        return False  # a missing fact never decides
    return to_bool(_apply(when, facts, ops))


def today_of(facts: Mapping[str, Any]) -> date:
    try:
        return date.fromisoformat(str(facts.get("today")))
    except ValueError:
        raise RulesProblem("facts.today", "a date written YYYY-MM-DD") from None


def evaluate(rules: Rules, facts: Mapping[str, Any]) -> Decision:
    """The decision on ``facts`` (answers, applicant, evidence, application, today) and the trace of every rule."""
    ops = _operations(today_of(facts))
    trace = tuple(
        Step(r.id, r.then, _holds(r.when, facts, ops), {p: _read(facts, p) for p in var_paths(r.when)}, r.reason,
             r.reason_en)
        for r in rules.rules
    )  # fmt: skip
    refusing = tuple(s for s in trace if s.then == "refuse" and s.holds)
    if refusing:
        return Decision("refuse", refusing, trace)
    approving = tuple(s for s in trace if s.then == "approve")
    if approving and all(s.holds for s in approving):
        claims = {k: _apply(v, facts, ops) for k, v in rules.claims.items()}
        return Decision("approve", approving, trace, {k: v for k, v in claims.items() if v is not None})
    return Decision("undecided", tuple(s for s in approving if not s.holds), trace)


# --- parsing ------------------------------------------------------------------------------------------------


def check_logic(logic: Any, where: str) -> None:
    """That a JsonLogic expression uses only :data:`OPERATIONS` and reads only the facts' roots."""
    if isinstance(logic, list):
        for part in logic:
            check_logic(part, where)
        return
    if not isinstance(logic, dict):
        return
    if len(logic) != 1:
        raise RulesProblem(where, f"a JsonLogic expression is an object of one operation, found {sorted(logic)}")
    op, args = next(iter(logic.items()))
    if op not in OPERATIONS:
        raise RulesProblem(where, f"operation {op!r} is not one of {', '.join(sorted(OPERATIONS))}")
    if op == "var":
        name = args[0] if isinstance(args, list) and args else args
        if not isinstance(name, str) or name.split(".", 1)[0] not in FACT_ROOTS:
            raise RulesProblem(where, f"var {name!r} reads no fact: it starts with one of "
                                      f"{', '.join(sorted(FACT_ROOTS))}")  # fmt: skip
        return
    check_logic(args, where)


def _reason(raw: Any, where: str) -> tuple[str, str]:
    if (not isinstance(raw, (list, tuple)) or len(raw) != 2
            or not all(isinstance(s, str) and s.strip() for s in raw)):  # fmt: skip
        raise RulesProblem(f"{where}.reason", "expected [中文理由, English reason]")
    return raw[0], raw[1]


def parse_rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, Mapping):
        raise RulesProblem(where, "a rule is a mapping of id, when, then and reason")
    if extra := sorted(set(raw) - {"id", "when", "then", "reason"}):
        raise RulesProblem(where, f"unknown field(s) {', '.join(extra)}")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip() or len(rule_id) > 64:
        raise RulesProblem(f"{where}.id", "a rule's id is a text of 1 to 64 characters")
    where = f"{where} ({rule_id})"
    when = raw.get("when")
    if not isinstance(when, dict):
        raise RulesProblem(f"{where}.when", "a JsonLogic condition (an object)")
    check_logic(when, f"{where}.when")
    then = raw.get("then")
    if then not in get_args(Then):
        raise RulesProblem(f"{where}.then", f"approve or refuse, found {then!r}")
    zh, en = _reason(raw.get("reason"), where)
    return Rule(rule_id, when, "approve" if then == "approve" else "refuse", zh, en)


def parse_case(raw: Any, where: str, today: str | None = None) -> Case:
    """A test case: ``name``, ``expect`` (approve | refuse | undecided), ``reasons`` (the rule ids expected, in
    order; absent: not checked), ``claims`` (expected among the claims made), and the facts: ``answers``,
    ``applicant``, ``evidence``, ``application``, ``today`` (default the file's)."""
    if not isinstance(raw, Mapping):
        raise RulesProblem(where, "a test case is a mapping")
    known = {"name", "expect", "reasons", "claims", *FACT_ROOTS}
    if extra := sorted(set(raw) - known):
        raise RulesProblem(where, f"unknown field(s) {', '.join(extra)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        raise RulesProblem(f"{where}.name", "a case's name is a text of 1 to 128 characters")
    where = f"{where} ({name})"
    expect = raw.get("expect")
    if expect not in OUTCOMES:
        raise RulesProblem(f"{where}.expect", f"one of {', '.join(OUTCOMES)}, found {expect!r}")
    reasons = raw.get("reasons")
    if reasons is not None and (not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons)):
        raise RulesProblem(f"{where}.reasons", "a list of rule ids")
    claims = raw.get("claims")
    if claims is not None and not isinstance(claims, dict):
        raise RulesProblem(f"{where}.claims", "a mapping of claim -> value")
    facts = {
        "answers": dict(raw.get("answers") or {}),
        "applicant": dict(raw.get("applicant") or {}),
        "evidence": dict(raw.get("evidence") or {}),
        "application": dict(raw.get("application") or {"id": "test"}),
        "today": str(raw.get("today") or today or ""),
    }
    try:
        today_of(facts)  # a case says what day it is, or its file does
    except RulesProblem:
        raise RulesProblem(f"{where}.today", "the day of the case, YYYY-MM-DD (or the file's today)") from None
    return Case(name, facts, expect, tuple(reasons) if reasons is not None else None, claims)


def parse_cases(raw: Any, where: str = "tests") -> tuple[Case, ...]:
    """Cases from a list, or from a tests file's mapping (``today`` for every case, ``cases``)."""
    today = None
    if isinstance(raw, Mapping):
        today = raw.get("today")
        raw = raw.get("cases")
    if not isinstance(raw, list):
        raise RulesProblem(where, "a list of test cases")
    if len(raw) > MAX_CASES:
        raise RulesProblem(where, f"at most {MAX_CASES} cases")
    cases = tuple(parse_case(c, f"{where}[{i}]", str(today) if today else None) for i, c in enumerate(raw))
    names = [c.name for c in cases]
    if dup := sorted({n for n in names if names.count(n) > 1}):
        raise RulesProblem(where, f"two cases are named {dup[0]!r}")
    return cases


def parse_rules(raw: Any, where: str = "decision") -> Rules:
    """An item's decision document (rules, claims, tests), or :class:`RulesProblem` naming the part at fault."""
    if not isinstance(raw, Mapping):
        raise RulesProblem(where, "a decision is a mapping of rules, claims and tests")
    if extra := sorted(set(raw) - {"rules", "claims", "tests"}):
        raise RulesProblem(where, f"unknown field(s) {', '.join(extra)}")
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw or len(rules_raw) > MAX_RULES:
        raise RulesProblem(f"{where}.rules", f"a list of 1 to {MAX_RULES} rules")
    rules = tuple(parse_rule(r, f"{where}.rules[{i}]") for i, r in enumerate(rules_raw))
    ids = [r.id for r in rules]
    if dup := sorted({i for i in ids if ids.count(i) > 1}):
        raise RulesProblem(f"{where}.rules", f"two rules have the id {dup[0]!r}")
    if not any(r.then == "approve" for r in rules) and not any(r.then == "refuse" for r in rules):
        raise RulesProblem(f"{where}.rules", "no rule approves or refuses")
    claims = raw.get("claims") or {}
    if not isinstance(claims, dict):
        raise RulesProblem(f"{where}.claims", "a mapping of claim -> JsonLogic expression")
    for name, logic in claims.items():
        check_logic(logic, f"{where}.claims.{name}")
    cases = parse_cases(raw.get("tests") or [], f"{where}.tests")
    return Rules(rules, dict(claims), cases)


# --- tests --------------------------------------------------------------------------------------------------


def run_case(rules: Rules, case: Case) -> str | None:
    """Why a case fails (None: it passes)."""
    got = evaluate(rules, case.facts)
    if got.outcome != case.expect:
        why = ", ".join(s.rule for s in got.reasons) or "no rule"
        return f"expected {case.expect}, the rules decide {got.outcome} ({why})"
    if case.reasons is not None and tuple(s.rule for s in got.reasons) != case.reasons:
        return f"expected the reasons {list(case.reasons)}, found {[s.rule for s in got.reasons]}"
    for claim, value in (case.claims or {}).items():
        made = (got.claims or {}).get(claim)
        if made != value:
            return f"expected claim {claim} = {value!r}, found {made!r}"
    return None


def run_cases(rules: Rules, cases: Sequence[Case]) -> list[Failure]:
    """Every failing case, and a rule that no case makes hold (a rule nobody tested)."""
    failures = [Failure(c.name, why) for c in cases if (why := run_case(rules, c)) is not None]
    held = {s.rule for c in cases for s in evaluate(rules, c.facts).trace if s.holds}
    failures += [Failure(f"rule {r.id}", f"no test case makes rule {r.id} hold: add one")
                 for r in rules.rules if r.id not in held]  # fmt: skip
    return failures
