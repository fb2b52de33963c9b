"""One merged form per bundle (一表申请): the union of its items' questions, each asked once, and the skip logic
that leaves out the items and questions that do not apply. Pure functions over data:

- :func:`form_for` builds a bundle's form: the bundle's own questions first (they decide which items apply),
  then each item's questions in the bundle's order, each once;
- :func:`applicable_items` evaluates each item's ``applies_when`` (JsonLogic) over the answers;
- :func:`visible_questions` the questions shown for the answers given: a question is shown when it is the
  bundle's own or an applicable item needs it, and its ``show_when`` holds over the answers before it;
- :func:`validate_answers` the cleaned answers of the shown questions, or :class:`InvalidAnswers` (400)
  naming every field of the wrong type or required and missing. Answers to hidden questions are dropped.

A rule reads the cleaned answers only (an answer of the wrong type counts as not given), so an answer can
never make a rule fail.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from json_logic import jsonLogic
from json_logic.builtins import to_bool

from cityos.core.identifiers import credit_code_problem, id_card_problem, mobile_problem
from cityos.onestop.catalogue import Question, rule_vars, shipped
from cityos.onestop.catalogue_errors import InvalidAnswers, InvalidServiceData
from cityos.onestop.models import Bundle, BundleItem, ServiceItem

MAX_ANSWERS = 500  # more answers than any form has questions: refused before any is looked at


@dataclass(frozen=True)
class Form:
    """A bundle's merged form: its questions in order, the bundle's own (``gates``) first, and for each of the
    others the items that need it."""

    bundle: Bundle
    questions: tuple[Question, ...]
    owners: Mapping[str, tuple[str, ...]]  # question code -> the item codes that need it (empty: a gate)

    @property
    def gates(self) -> tuple[str, ...]:
        return self.bundle.questions

    def question(self, code: str) -> Question | None:
        return next((q for q in self.questions if q.code == code), None)


@dataclass(frozen=True)
class FieldError:
    field: str  # the question's code
    message: str


@dataclass(frozen=True)
class Checked:
    """What a set of answers makes of a form: the items that apply, the questions shown, the answers
    cleaned, and what is wrong with them (nothing: the answers can be submitted)."""

    items: tuple[BundleItem, ...]
    questions: tuple[Question, ...]
    answers: dict[str, Any]
    errors: tuple[FieldError, ...]


def form_for(bundle: Bundle, items: Mapping[str, ServiceItem] | None = None,
             questions: Mapping[str, Question] | None = None) -> Form:  # fmt: skip
    """A bundle's merged form over ``items`` (code -> the version to use; default the shipped ones) and
    ``questions`` (default the shipped ones). A ``show_when`` that reads a question not asked before it is an
    error: the form is answered top-down."""
    items = shipped().items if items is None else items
    questions = shipped().questions if questions is None else questions
    owners: dict[str, list[str]] = {q: [] for q in bundle.questions}
    for part in bundle.items:
        item = items.get(part.item)
        if item is None:
            raise InvalidServiceData(f"bundle {bundle.code}: no service item {part.item!r}")
        for q in item.questions:
            owners.setdefault(q, []).append(item.code)
    ordered: list[Question] = []
    for code in owners:
        question = questions.get(code)
        if question is None:
            raise InvalidServiceData(f"bundle {bundle.code}: no question {code!r}")
        if question.show_when is not None:
            before = {q.code for q in ordered}
            where = f"bundle {bundle.code}: question {code}.show_when"
            if stray := sorted(rule_vars(question.show_when, where) - before):
                raise InvalidServiceData(f"{where} reads {stray}, not asked before it")
        ordered.append(question)
    return Form(bundle, tuple(ordered), {k: tuple(v) for k, v in owners.items()})


def holds(rule: dict[str, Any] | None, answers: Mapping[str, Any]) -> bool:
    """Whether a JsonLogic rule holds over the answers (JsonLogic's truthiness); None always holds."""
    if rule is None:
        return True
    try:
        return to_bool(jsonLogic(rule, dict(answers)))
    except (TypeError, ValueError, ArithmeticError, KeyError, IndexError):
        return False  # a rule over answers it cannot compare does not hold


def applicable_items(bundle: Bundle, answers: Mapping[str, Any]) -> tuple[BundleItem, ...]:
    """The bundle's items whose ``applies_when`` holds over the answers (to the bundle's own questions)."""
    return tuple(part for part in bundle.items if holds(part.applies_when, answers))


def check(form: Form, answers: Mapping[str, Any]) -> Checked:
    """The whole judgement of a set of answers: items that apply, questions shown, cleaned answers, errors."""
    errors: list[FieldError] = []
    if len(answers) > MAX_ANSWERS:
        raise InvalidAnswers(f"{len(answers)} answers; a form has at most {MAX_ANSWERS} questions")
    known = {q.code for q in form.questions}
    errors += [FieldError(str(k), "not a question of this form") for k in answers if k not in known]
    cleaned: dict[str, Any] = {}
    shown: list[Question] = []
    applicable: tuple[BundleItem, ...] | None = None
    for q in form.questions:
        if q.code not in form.gates and applicable is None:  # the gates are all answered: judge the items
            applicable = applicable_items(form.bundle, cleaned)
        if applicable is not None and not _needed(form.owners[q.code], applicable):
            continue
        if not holds(q.show_when, cleaned):
            continue
        shown.append(q)
        value, problem = clean(q, answers.get(q.code))
        if problem is not None:
            errors.append(FieldError(q.code, problem))
        elif value is not None:
            cleaned[q.code] = value
    if applicable is None:
        applicable = applicable_items(form.bundle, cleaned)
    return Checked(applicable, tuple(shown), cleaned, tuple(errors))


def _needed(owners: tuple[str, ...], applicable: tuple[BundleItem, ...]) -> bool:
    return any(part.item in owners for part in applicable)


def visible_questions(form: Form, answers: Mapping[str, Any]) -> tuple[Question, ...]:
    """The questions shown for these answers, in the form's order."""
    return check(form, answers).questions


def validate_answers(form: Form, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The cleaned answers to the shown questions; :class:`InvalidAnswers` naming each wrong field."""
    checked = check(form, answers)
    if checked.errors:
        fields = "; ".join(f"{e.field}: {e.message}" for e in checked.errors)
        raise InvalidAnswers(f"form answers of {form.bundle.code}: {fields}",
                             errors=[{"field": e.field, "message": e.message} for e in checked.errors])  # fmt: skip
    return checked.answers


# --- one answer ---------------------------------------------------------------------------------------------


def clean(q: Question, value: Any) -> tuple[Any, str | None]:
    """An answer cleaned to its question's type, or why it cannot be; (None, None): not given and not
    required."""
    if value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value):
        return None, ("required" if q.required else None)
    try:
        return _CLEANERS[q.type](q, value), None
    except _Wrong as exc:
        return None, str(exc)


class _Wrong(Exception):
    pass


def _text(q: Question, value: Any) -> str:
    if not isinstance(value, str):
        raise _Wrong(f"expected text, found {_kind(value)}")
    value = value.strip()
    if q.max_length is not None and len(value) > q.max_length:
        raise _Wrong(f"at most {q.max_length} characters, found {len(value)}")
    return value


def _number(q: Question, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Wrong(f"expected a number, found {_kind(value)}")
    if q.type == "integer" and not isinstance(value, int):
        if not value.is_integer():
            raise _Wrong(f"expected a whole number, found {value}")
        value = int(value)
    if q.min is not None and value < q.min:
        raise _Wrong(f"at least {q.min:g}, found {value}")
    if q.max is not None and value > q.max:
        raise _Wrong(f"at most {q.max:g}, found {value}")
    return value


def _boolean(_: Question, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Wrong(f"expected true or false, found {_kind(value)}")
    return value


def _date(_: Question, value: Any) -> str:
    if not isinstance(value, str) or len(value) != 10:
        raise _Wrong(f"expected a date written YYYY-MM-DD, found {_kind(value)}")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise _Wrong(f"{value!r} is not a calendar date (YYYY-MM-DD)") from None


def _choice(q: Question, value: Any) -> str:
    if not isinstance(value, str) or value not in q.values:
        raise _Wrong(f"expected one of {', '.join(q.values)}, found {_kind(value)}")
    return value


def _multichoice(q: Question, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Wrong(f"expected a list of {', '.join(q.values)}, found {_kind(value)}")
    if stray := [v for v in value if v not in q.values]:
        raise _Wrong(f"{stray[0]!r} is not one of {', '.join(q.values)}")
    return [v for v in q.values if v in value]  # the options' order, each once


def _coded(problem: Any) -> Any:
    def cleaner(_: Question, value: Any) -> str:
        if not isinstance(value, str):
            raise _Wrong(f"expected text, found {_kind(value)}")
        value = value.strip().upper()
        if (why := problem(value)) is not None:
            raise _Wrong(why)
        return value

    return cleaner


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


_CLEANERS: dict[str, Any] = {
    "text": _text,
    "integer": _number,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
    "choice": _choice,
    "multichoice": _multichoice,
    "id-card": _coded(id_card_problem),
    "credit-code": _coded(credit_code_problem),
    "phone": _coded(mobile_problem),
}
