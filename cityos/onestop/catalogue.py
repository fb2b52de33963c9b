"""The service items, bundles and form questions shipped with the package (``data/items.yaml``,
``data/bundles.yaml``, ``data/questions.yaml``): read, turned into the shared domain types and checked to hold
together (departments, the data resource catalogue's entries and items, certificate types, question codes,
the JsonLogic of ``applies_when`` and ``show_when``). Errors name the file, the entry and the field.

Pure: no database. The versions of items published since live in the database (:mod:`cityos.onestop.items`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from cityos import datahub
from cityos.core.yamltext import parse_yaml
from cityos.onestop.catalogue_errors import InvalidServiceData
from cityos.onestop.decision_checks import rules_of
from cityos.onestop.models import ApplicantKind, Bundle, BundleItem, EvidenceSource, HandlingMode, Material, ServiceItem

DATA = Path(__file__).parent / "data"
QuestionType = Literal[
    "text", "integer", "number", "boolean", "date", "choice", "multichoice", "id-card", "credit-code", "phone"
]
QUESTION_TYPES: tuple[str, ...] = get_args(QuestionType)
REGISTRIES = ("person", "organization", "building")  # Material.registry: the base registry holding a material
# the JsonLogic operations a rule may use (the others of the library are left out: a rule is a plain condition)
OPERATIONS = frozenset(
    {"==", "!=", "===", "!==", "<", ">", "<=", ">=", "!", "!!", "and", "or", "if", "in", "var", "missing",
     "missing_some", "some", "all", "none", "+", "-", "*", "/", "%", "min", "max", "cat"}
)  # fmt: skip


@dataclass(frozen=True)
class Question:
    """A question of the merged forms, asked once per bundle however many items need it."""

    code: str
    type: QuestionType
    label: str  # zh-CN
    label_en: str
    required: bool = True  # while shown
    options: tuple[tuple[str, str, str], ...] = ()  # (value, zh-CN, English) of a choice or multichoice
    show_when: dict[str, Any] | None = None  # JsonLogic over the answers before it; None: always shown
    min: float | None = None
    max: float | None = None
    max_length: int | None = None

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(o[0] for o in self.options)


@dataclass(frozen=True)
class Shipped:
    """What the package ships: items (version 1), bundles, questions, and the names of departments and
    certificate types the items use."""

    items: Mapping[str, ServiceItem]
    bundles: Mapping[str, Bundle]
    questions: Mapping[str, Question]
    departments: Mapping[str, str]  # department principal name -> its Chinese name
    certificates: Mapping[str, tuple[str, str]]  # certificate type code -> (zh-CN, English)


# --- JsonLogic ----------------------------------------------------------------------------------------------


def rule_vars(rule: Any, where: str) -> set[str]:
    """The answers a JsonLogic rule reads (its ``var`` names); an operation outside :data:`OPERATIONS` or a
    malformed ``var`` is an error naming ``where``."""
    found: set[str] = set()
    if isinstance(rule, list):
        for part in rule:
            found |= rule_vars(part, where)
        return found
    if not isinstance(rule, dict):
        return found
    if len(rule) != 1:
        raise InvalidServiceData(f"{where}: a JsonLogic rule is an object of one operation, found {sorted(rule)}")
    op, args = next(iter(rule.items()))
    if op not in OPERATIONS:
        raise InvalidServiceData(f"{where}: JsonLogic operation {op!r} is not one of {sorted(OPERATIONS)}")
    if op == "var":
        name = args[0] if isinstance(args, list) and args else args
        if not isinstance(name, str) or not name:
            raise InvalidServiceData(f"{where}: a var names an answer by its question code, found {args!r}")
        found.add(name.split(".", 1)[0])
        return found
    return found | rule_vars(args, where)


# --- parsing ------------------------------------------------------------------------------------------------


def _strs(raw: Any, where: str, *, empty: bool = False) -> tuple[str, ...]:
    if not isinstance(raw, (list, tuple)) or not all(isinstance(s, str) and s.strip() for s in raw):
        raise InvalidServiceData(f"{where}: expected a list of non-empty texts, found {raw!r}")
    if not raw and not empty:
        raise InvalidServiceData(f"{where}: expected at least one entry")
    return tuple(raw)


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidServiceData(f"{where}: {key} is required (a non-empty text)")
    return value


def _int(raw: Mapping[str, Any], key: str, where: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidServiceData(f"{where}: {key} is required (a whole number of working days, at least 1)")
    return value


def _choice(raw: Mapping[str, Any], key: str, where: str, allowed: Sequence[str], default: Any = None) -> Any:
    value = raw.get(key, default)
    if value not in allowed:
        raise InvalidServiceData(f"{where}: {key} is {value!r}; expected one of {', '.join(allowed)}")
    return value


def parse_material(raw: Any, where: str) -> Material:
    if not isinstance(raw, dict):
        raise InvalidServiceData(f"{where}: a material is a mapping, found {raw!r}")
    known = {"code", "name", "source", "required", "registry", "entry", "items", "certificate_type"}
    if extra := sorted(set(raw) - known):
        raise InvalidServiceData(f"{where}: unknown field(s) {', '.join(extra)}")
    source: EvidenceSource = _choice(raw, "source", where, get_args(EvidenceSource))
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise InvalidServiceData(f"{where}: required is true or false, found {required!r}")
    items = raw.get("items") or []
    return Material(code=_text(raw, "code", where), name=_text(raw, "name", where), source=source,
                    required=required, registry=raw.get("registry"), entry=raw.get("entry"),
                    items=_strs(items, f"{where}.items", empty=True),
                    certificate_type=raw.get("certificate_type"))  # fmt: skip


ITEM_FIELDS = {
    "code", "version", "name", "name_en", "department", "applicant_kinds", "legal_basis", "conditions",
    "materials", "legal_limit_days", "promised_limit_days", "fee", "handling", "certificate_type", "questions",
    "decision",
}  # fmt: skip


def parse_item(raw: Any, where: str, *, version: int = 1) -> ServiceItem:
    """A service item from its mapping (the YAML's or a stored version's JSON), checked in shape only; see
    :func:`check_item` for what it refers to."""
    if not isinstance(raw, dict):
        raise InvalidServiceData(f"{where}: an item is a mapping, found {type(raw).__name__}")
    if extra := sorted(set(raw) - ITEM_FIELDS):
        raise InvalidServiceData(f"{where}: unknown field(s) {', '.join(extra)}")
    materials = raw.get("materials")
    if not isinstance(materials, (list, tuple)):
        raise InvalidServiceData(f"{where}: materials is a list")
    kinds = _strs(raw.get("applicant_kinds"), f"{where}.applicant_kinds")
    for kind in kinds:
        _choice({"applicant_kinds": kind}, "applicant_kinds", where, get_args(ApplicantKind))
    handling: HandlingMode = _choice(raw, "handling", where, get_args(HandlingMode))
    cert = raw.get("certificate_type")
    if cert is not None and not isinstance(cert, str):
        raise InvalidServiceData(f"{where}: certificate_type is a certificate type code or absent")
    decision = raw.get("decision")
    if decision is not None and not isinstance(decision, dict):
        raise InvalidServiceData(f"{where}: decision is a mapping of rules, claims and tests, or absent")
    return ServiceItem(
        code=_text(raw, "code", where),
        version=int(raw.get("version", version)),
        name=_text(raw, "name", where),
        name_en=_text(raw, "name_en", where),
        department=_text(raw, "department", where),
        applicant_kinds=kinds,  # type: ignore[arg-type]  # checked just above
        legal_basis=_strs(raw.get("legal_basis"), f"{where}.legal_basis"),
        conditions=_strs(raw.get("conditions"), f"{where}.conditions"),
        materials=tuple(parse_material(m, f"{where}.materials[{i}]") for i, m in enumerate(materials)),
        legal_limit_days=_int(raw, "legal_limit_days", where),
        promised_limit_days=_int(raw, "promised_limit_days", where),
        fee=_text(raw, "fee", where),
        handling=handling,
        certificate_type=cert,
        questions=_strs(raw.get("questions") or [], f"{where}.questions", empty=True),
        decision=decision,
    )


def item_json(item: ServiceItem) -> dict[str, Any]:
    """An item as the JSON a version row keeps (lists for tuples); :func:`parse_item` reads it back."""
    return asdict(item)


def parse_question(code: str, raw: Any, where: str) -> Question:
    if not isinstance(raw, dict):
        raise InvalidServiceData(f"{where}: a question is a mapping, found {raw!r}")
    known = {"type", "label", "required", "options", "show_when", "min", "max", "max_length"}
    if extra := sorted(set(raw) - known):
        raise InvalidServiceData(f"{where}: unknown field(s) {', '.join(extra)}")
    qtype: QuestionType = _choice(raw, "type", where, QUESTION_TYPES)
    label = _strs(raw.get("label"), f"{where}.label")
    if len(label) != 2:
        raise InvalidServiceData(f"{where}.label: expected [zh-CN, English]")
    options_raw = raw.get("options") or {}
    if (qtype in ("choice", "multichoice")) != bool(options_raw):
        raise InvalidServiceData(f"{where}: options are given for a choice or multichoice question, and only then")
    options = []
    for value, names in options_raw.items():
        names = _strs(names, f"{where}.options.{value}")
        if len(names) != 2:
            raise InvalidServiceData(f"{where}.options.{value}: expected [zh-CN, English]")
        options.append((str(value), names[0], names[1]))
    show_when = raw.get("show_when")
    if show_when is not None:
        rule_vars(show_when, f"{where}.show_when")
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise InvalidServiceData(f"{where}: required is true or false")
    return Question(code=code, type=qtype, label=label[0], label_en=label[1], required=required,
                    options=tuple(options), show_when=show_when, min=raw.get("min"), max=raw.get("max"),
                    max_length=raw.get("max_length"))  # fmt: skip


def parse_bundle(raw: Any, where: str) -> Bundle:
    if not isinstance(raw, dict):
        raise InvalidServiceData(f"{where}: a bundle is a mapping")
    items = raw.get("items")
    if not isinstance(items, list) or not items:
        raise InvalidServiceData(f"{where}: items lists at least one item")
    parts = []
    for i, entry in enumerate(items):
        if not isinstance(entry, dict) or not isinstance(entry.get("item"), str):
            raise InvalidServiceData(f"{where}.items[{i}]: expected {{item: CODE, applies_when: RULE}}")
        rule = entry.get("applies_when")
        if rule is not None and not isinstance(rule, dict):
            raise InvalidServiceData(f"{where}.items[{i}].applies_when: a JsonLogic rule (an object)")
        parts.append(BundleItem(item=entry["item"], applies_when=rule))
    return Bundle(code=_text(raw, "code", where), name=_text(raw, "name", where),
                  name_en=_text(raw, "name_en", where),
                  applicant_kind=_choice(raw, "applicant_kind", where, get_args(ApplicantKind)),
                  items=tuple(parts), lead_department=_text(raw, "lead_department", where),
                  description=str(raw.get("description", "")), tags=tuple(raw.get("tags") or ()),
                  questions=_strs(raw.get("questions") or [], f"{where}.questions", empty=True))  # fmt: skip


# --- checks -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class References:
    """What items may refer to: departments, certificate types, questions, and the data resource catalogue's
    entries with their data items."""

    departments: Mapping[str, str]
    certificates: Mapping[str, tuple[str, str]]
    questions: Mapping[str, Question]
    entries: Mapping[str, frozenset[str]]


def check_item(item: ServiceItem, refs: References, where: str) -> None:
    """That an item refers only to what exists and that its time limits hold (promised ≤ legal)."""
    if item.department not in refs.departments:
        raise InvalidServiceData(f"{where}: department {item.department!r} is not a known department")
    if item.promised_limit_days > item.legal_limit_days:
        raise InvalidServiceData(f"{where}: promised_limit_days ({item.promised_limit_days}) exceeds "
                                 f"legal_limit_days ({item.legal_limit_days})")  # fmt: skip
    if item.certificate_type is not None and item.certificate_type not in refs.certificates:
        raise InvalidServiceData(f"{where}: certificate_type {item.certificate_type!r} is not a known type")
    if len({m.code for m in item.materials}) != len(item.materials):
        raise InvalidServiceData(f"{where}: two materials share a code")
    for i, m in enumerate(item.materials):
        _check_material(m, refs, f"{where}.materials[{i}] ({m.code})")
    for q in item.questions:
        if q not in refs.questions:
            raise InvalidServiceData(f"{where}.questions: {q!r} is not a question of questions.yaml")
    rules_of(item)  # the decision rules parse (their tests run when a version is published)


def _check_material(m: Material, refs: References, where: str) -> None:
    if m.source == "registry":
        if m.registry not in REGISTRIES:
            raise InvalidServiceData(f"{where}: registry is one of {', '.join(REGISTRIES)}, found {m.registry!r}")
        if m.entry is None or m.entry not in refs.entries:
            raise InvalidServiceData(f"{where}: entry {m.entry!r} is not in the data resource catalogue")
        if not m.items or (missing := sorted(set(m.items) - refs.entries[m.entry])):
            what = f"has no items {missing}" if m.items else "needs the items the material is made of"
            raise InvalidServiceData(f"{where}: entry {m.entry} {what}")
    elif m.source == "certificate" and m.certificate_type not in refs.certificates:
        raise InvalidServiceData(f"{where}: certificate_type {m.certificate_type!r} is not a known type")


def check_bundle(bundle: Bundle, items: Mapping[str, ServiceItem], refs: References, where: str) -> None:
    """That a bundle's items exist and accept its kind of applicant, its department is known, and its rules
    read only its own questions (asked first)."""
    if bundle.lead_department not in refs.departments:
        raise InvalidServiceData(f"{where}: lead_department {bundle.lead_department!r} is not a known department")
    codes = [p.item for p in bundle.items]
    if len(set(codes)) != len(codes):
        raise InvalidServiceData(f"{where}: an item is listed twice")
    for q in bundle.questions:
        if q not in refs.questions:
            raise InvalidServiceData(f"{where}.questions: {q!r} is not a question of questions.yaml")
    for i, part in enumerate(bundle.items):
        found = items.get(part.item)
        if found is None:
            raise InvalidServiceData(f"{where}.items[{i}]: no service item {part.item!r}")
        if bundle.applicant_kind not in found.applicant_kinds:
            raise InvalidServiceData(f"{where}.items[{i}]: {part.item} does not serve a {bundle.applicant_kind}")
        if part.applies_when is not None:
            read = rule_vars(part.applies_when, f"{where}.items[{i}].applies_when")
            if stray := sorted(read - set(bundle.questions)):
                raise InvalidServiceData(f"{where}.items[{i}].applies_when reads {stray}: only the bundle's own "
                                         "questions decide which items apply")  # fmt: skip


# --- the shipped files --------------------------------------------------------------------------------------


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidServiceData(f"{path.name}: cannot read it ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidServiceData(f"{path.name}: expected a mapping")
    return data


def with_decision(raw: Any) -> Any:
    """A shipped item with its decision rules and their tests, kept beside items.yaml in
    ``data/decision_rules/<code>.yaml`` and ``data/decision_tests/<code>.yaml``."""
    code = raw.get("code") if isinstance(raw, dict) else None
    path = DATA / "decision_rules" / f"{code}.yaml"
    if not isinstance(code, str) or not path.exists():
        return raw
    decision = _yaml(path)
    tests = DATA / "decision_tests" / f"{code}.yaml"
    return {**raw, "decision": {**decision, "tests": _yaml(tests) if tests.exists() else []}}


@functools.cache
def references() -> References:
    """The departments, certificate types, questions and catalogue entries the shipped items may name."""
    items_doc, questions_doc = _yaml(DATA / "items.yaml"), _yaml(DATA / "questions.yaml")
    catalogue = datahub.read_catalogue()
    departments = {**catalogue.departments, **{str(k): str(v) for k, v in items_doc["departments"].items()}}
    certificates = {str(k): (str(v[0]), str(v[1])) for k, v in items_doc["certificates"].items()}
    questions = {str(k): parse_question(str(k), v, f"questions.yaml: {k}")
                 for k, v in questions_doc["questions"].items()}  # fmt: skip
    entries = {e.code: frozenset(i.name for i in e.items) for e in catalogue.entries}
    return References(departments, certificates, questions, entries)


@functools.cache
def shipped() -> Shipped:
    """The items (version 1), bundles and questions the package ships, checked."""
    refs = references()
    items: dict[str, ServiceItem] = {}
    for i, raw in enumerate(_yaml(DATA / "items.yaml")["items"]):
        where = f"items.yaml: items[{i}] ({raw.get('code') if isinstance(raw, dict) else '?'})"
        item = parse_item(with_decision(raw), where)
        if item.code in items:
            raise InvalidServiceData(f"{where}: code {item.code} is listed twice")
        check_item(item, refs, where)
        items[item.code] = item
    bundles: dict[str, Bundle] = {}
    for i, raw in enumerate(_yaml(DATA / "bundles.yaml")["bundles"]):
        where = f"bundles.yaml: bundles[{i}] ({raw.get('code') if isinstance(raw, dict) else '?'})"
        bundle = parse_bundle(raw, where)
        check_bundle(bundle, items, refs, where)
        bundles[bundle.code] = bundle
    return Shipped(items, bundles, refs.questions, refs.departments, refs.certificates)
