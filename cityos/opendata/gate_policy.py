"""The de-identification policy (去标识化策略) as data: ``data/deidentify.yaml`` declares, once for every entry
and then per catalogue entry, what a release keeps, generalises and removes, which items are its
quasi-identifiers, the k of k-anonymity and the small-cell threshold of aggregates. Validated when it is
loaded, so that a mistake is refused with the file, the entry and the field named; what depends on an
entry's items (an item named, a rule fitting the item's kind) is checked when it is applied to the entry.

``defaults``
    ``k`` (5), ``smallCell`` (5), ``suppress`` (false), ``marker`` ("<5"), ``maxLevel`` (the highest level
    opened, per opening type), ``direct`` (kinds removed from every release), ``directOfPersons`` (kinds
    removed from a release about persons unless generalised), ``personCreditCodes`` (prefixes of credit
    codes that are a natural person's: 92 is 个体工商户).
``entries``: code -> any of
    ``subject`` (persons, organisations, things, aggregates; inferred when not declared), ``quasi`` (the
    quasi-identifiers; a release about persons that declares none is checked over all it releases),
    ``generalise`` (item -> rule), ``withhold`` (items not opened), ``public`` (item -> why it is published
    as it is, e.g. a river chief's name, which the law has posted), ``counts`` (an aggregate's count
    items), and ``k``, ``smallCell``, ``suppress``, ``marker``, ``maxLevel`` for this entry alone.

Rules: ``year`` and ``{years: 5}`` (a date: its year, its 5-year band), ``{band: 10, top: 90}`` (a number: its
band, everything from ``top`` up in one), ``street`` (an address: cut after its street, 街道 or 镇), ``{prefix:
3}`` (a code or text: its first characters, e.g. a postcode's 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from cityos.core.yamltext import parse_yaml
from cityos.datahub import CatalogueEntry, OpeningType
from cityos.opendata.gate_errors import InvalidPolicy

DEFAULT_PATH = Path(__file__).parent / "data" / "deidentify.yaml"


class Subject(StrEnum):
    """What one record of an entry describes: the k-anonymity check and the person-only identifiers follow it."""

    PERSONS = "persons"
    ORGANISATIONS = "organisations"
    THINGS = "things"
    AGGREGATES = "aggregates"  # counts per cell: the small-cell check, not k-anonymity


# rule -> (the item kinds it fits, its parameter or None, its optional parameters)
RULES: Mapping[str, tuple[tuple[str, ...], str | None, tuple[str, ...]]] = {
    "year": (("date",), None, ()),
    "years": (("date",), "years", ()),
    "band": (("number",), "band", ("top",)),
    "street": (("address",), None, ()),
    "prefix": (("code", "text"), "prefix", ()),
}


@dataclass(frozen=True)
class Rule:
    """One generalisation: ``name`` of RULES, its ``size`` (band width, years, prefix length) and ``top``."""

    name: str
    size: int | None = None
    top: int | None = None

    def describe(self) -> str:
        parts = [self.name] + [f"{k}={v}" for k, v in (("size", self.size), ("top", self.top)) if v is not None]
        return " ".join(parts)


@dataclass(frozen=True)
class EntryRules:
    """What one entry's policy declares (None: the default applies)."""

    subject: Subject | None = None
    quasi: tuple[str, ...] | None = None
    generalise: Mapping[str, Rule] = field(default_factory=dict)
    withhold: tuple[str, ...] = ()
    public: Mapping[str, str] = field(default_factory=dict)
    counts: tuple[str, ...] = ()
    k: int | None = None
    small_cell: int | None = None
    suppress: bool | None = None
    marker: str | None = None
    max_level: str | None = None


@dataclass(frozen=True)
class Policy:
    """The whole policy file: defaults and the entries' own rules."""

    source: str
    k: int
    small_cell: int
    suppress: bool
    marker: str
    max_level: Mapping[str, str]  # opening type -> the highest level opened
    direct: frozenset[str]
    direct_of_persons: frozenset[str]
    person_credit_codes: tuple[str, ...]
    entries: Mapping[str, EntryRules]


@dataclass(frozen=True)
class EntryPolicy:
    """The policy as it applies to one entry: the defaults, the entry's rules and what was inferred, resolved.
    Stored with every release, so that a release says exactly what was applied."""

    code: str
    subject: Subject
    k: int
    quasi: tuple[str, ...] | None  # None: all the release keeps (persons) or no k-anonymity check (others)
    generalise: Mapping[str, Rule]
    withhold: tuple[str, ...]
    public: Mapping[str, str]
    counts: tuple[str, ...]
    small_cell: int
    suppress: bool
    marker: str
    max_level: str | None  # None: the entry is not opened (不予开放)
    direct: frozenset[str]
    direct_of_persons: frozenset[str]
    person_credit_codes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["subject"] = self.subject.value
        out["generalise"] = {item: rule.describe() for item, rule in self.generalise.items()}
        out["direct"], out["direct_of_persons"] = sorted(self.direct), sorted(self.direct_of_persons)
        return out


_DEFAULT_FIELDS = ("k", "smallCell", "suppress", "marker", "maxLevel", "direct", "directOfPersons",
                   "personCreditCodes")  # fmt: skip
_ENTRY_FIELDS = ("subject", "quasi", "generalise", "withhold", "public", "counts", "k", "smallCell", "suppress",
                 "marker", "maxLevel")  # fmt: skip


def _fail(where: str, message: str) -> InvalidPolicy:
    return InvalidPolicy(f"{where}: {message}")


def _mapping(raw: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _fail(where, "must be a mapping")
    if unknown := sorted(set(map(str, raw)) - set(allowed)):
        raise _fail(where, f"unknown field(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}")
    return raw


def _dict(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _fail(where, "must be a mapping")
    return {str(k): v for k, v in raw.items()}


def _positive(raw: Any, where: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise _fail(where, f"must be a whole number of at least 1, not {raw!r}")
    return raw


def _names(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(n, str) and n.strip() for n in raw):
        raise _fail(where, "must be a list of names")
    return tuple(raw)


def _text(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _fail(where, "must be a non-empty string")
    return raw


def _flag(raw: Any, where: str) -> bool:
    if not isinstance(raw, bool):
        raise _fail(where, f"must be true or false, not {raw!r}")
    return raw


def parse_rule(raw: Any, where: str) -> Rule:
    """A rule as the file writes it: ``year``, ``{years: 5}``, ``{band: 10, top: 90}``, ``street``, ``{prefix: 3}``."""
    names = ", ".join(RULES)
    if isinstance(raw, str):
        if raw not in RULES or RULES[raw][1] is not None:
            raise _fail(where, f"{raw!r} is not a rule without a size; rules: {names}")
        return Rule(raw)
    if not isinstance(raw, dict) or not raw:
        raise _fail(where, f"must be a rule ({names}) or a mapping such as {{years: 5}}")
    name = next((n for n in raw if n in RULES and RULES[n][1] is not None), None)
    if name is None:
        raise _fail(where, f"names no rule with a size (years, band, prefix): {raw!r}")
    optional = RULES[name][2]
    _mapping(raw, where, (name, *optional))
    top = _positive(raw["top"], f"{where}.top") if "top" in raw else None
    return Rule(name, _positive(raw[name], f"{where}.{name}"), top)


def _entry(raw: Any, where: str) -> EntryRules:
    data = _mapping(raw, where, _ENTRY_FIELDS)
    subject = None
    if "subject" in data:
        if data["subject"] not in set(Subject):
            raise _fail(f"{where}.subject", f"must be one of {', '.join(Subject)}, not {data['subject']!r}")
        subject = Subject(data["subject"])
    rules = _dict(data.get("generalise", {}), f"{where}.generalise")
    generalise = {item: parse_rule(rule, f"{where}.generalise.{item}") for item, rule in rules.items()}
    public = _dict(data.get("public", {}), f"{where}.public")
    return EntryRules(
        subject=subject,
        quasi=_names(data["quasi"], f"{where}.quasi") if "quasi" in data else None,
        generalise=generalise,
        withhold=_names(data.get("withhold", []), f"{where}.withhold"),
        public={item: _text(why, f"{where}.public.{item}") for item, why in public.items()},
        counts=_names(data.get("counts", []), f"{where}.counts"),
        k=_positive(data["k"], f"{where}.k") if "k" in data else None,
        small_cell=_positive(data["smallCell"], f"{where}.smallCell") if "smallCell" in data else None,
        suppress=_flag(data["suppress"], f"{where}.suppress") if "suppress" in data else None,
        marker=_text(data["marker"], f"{where}.marker") if "marker" in data else None,
        max_level=_text(data["maxLevel"], f"{where}.maxLevel") if "maxLevel" in data else None,
    )


def parse_policy(data: Any, source: str) -> Policy:
    """The policy a mapping of ``defaults`` and ``entries`` declares; InvalidPolicy naming the field. The
    defaults must name ``maxLevel``, ``direct`` and ``directOfPersons``: what a release may show is never
    left to a default of the code."""
    top = _mapping(data, source, ("defaults", "entries"))
    d = _mapping(top.get("defaults"), f"{source}: defaults", _DEFAULT_FIELDS)
    for required in ("maxLevel", "direct", "directOfPersons"):
        if required not in d:
            raise _fail(f"{source}: defaults.{required}", "is required")
    opened = (OpeningType.UNCONDITIONAL.value, OpeningType.CONDITIONAL.value)
    levels = _mapping(d["maxLevel"], f"{source}: defaults.maxLevel", opened)
    if missing := [o for o in opened if o not in levels]:
        raise _fail(f"{source}: defaults.maxLevel", f"names no level for {', '.join(missing)}")
    entries = _dict(top.get("entries") or {}, f"{source}: entries")
    return Policy(
        source=source,
        k=_positive(d.get("k", 5), f"{source}: defaults.k"),
        small_cell=_positive(d.get("smallCell", 5), f"{source}: defaults.smallCell"),
        suppress=_flag(d.get("suppress", False), f"{source}: defaults.suppress"),
        marker=_text(d.get("marker", "<5"), f"{source}: defaults.marker"),
        max_level={str(o): _text(lv, f"{source}: defaults.maxLevel.{o}") for o, lv in levels.items()},
        direct=frozenset(_names(d["direct"], f"{source}: defaults.direct")),
        direct_of_persons=frozenset(_names(d["directOfPersons"], f"{source}: defaults.directOfPersons")),
        person_credit_codes=_names(d.get("personCreditCodes", []), f"{source}: defaults.personCreditCodes"),
        entries={code: _entry(raw, f"{source}: entries.{code}") for code, raw in entries.items()},
    )


@lru_cache(maxsize=8)
def load_policy(path: Path = DEFAULT_PATH) -> Policy:
    """The policy in a YAML file (read once per path)."""
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidPolicy(f"{path}: cannot read the de-identification policy ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise InvalidPolicy(f"{path}: not valid YAML ({exc})") from None
    return parse_policy(data, str(path))


def _inferred_subject(policy: Policy, entry: CatalogueEntry) -> Subject:
    # an entry with an item that names a person directly, or an item of the persons registry, is about persons
    if any(i.kind in policy.direct or (i.key or "").startswith("person.") for i in entry.items):
        return Subject.PERSONS
    return Subject.THINGS


def policy_for(policy: Policy, entry: CatalogueEntry) -> EntryPolicy:
    """The policy resolved for ``entry``; InvalidPolicy when the entry's rules name an item it does not have,
    a rule that does not fit the item's kind, or generalise a direct identifier."""
    own = policy.entries.get(entry.code, EntryRules())
    where = f"{policy.source}: entries.{entry.code}"
    kinds = {item.name: item.kind for item in entry.items}
    named = [("quasi", n) for n in own.quasi or ()] + [("generalise", n) for n in own.generalise]
    named += [("withhold", n) for n in own.withhold] + [("public", n) for n in own.public]
    named += [("counts", n) for n in own.counts]
    for part, name in named:
        if name not in kinds:
            raise _fail(f"{where}.{part}", f"{entry.code} has no item {name!r}; its items: {', '.join(kinds)}")
    for name, rule in own.generalise.items():
        fits, kind, at = RULES[rule.name][0], kinds[name], f"{where}.generalise.{name}"
        if kind in policy.direct:
            raise _fail(at, f"a {kind} is a direct identifier: removed, never generalised")
        if kind not in fits:
            raise _fail(at, f"{rule.name} fits items of kind {', '.join(fits)}, not {kind}")
    subject = own.subject or _inferred_subject(policy, entry)
    if subject is Subject.AGGREGATES and not own.counts:
        raise _fail(f"{where}.counts", "an aggregate entry names its count items")
    max_level = None if entry.opening is OpeningType.NONE else own.max_level or policy.max_level.get(entry.opening)
    return EntryPolicy(
        code=entry.code,
        subject=subject,
        k=own.k or policy.k,
        quasi=own.quasi,
        generalise=dict(own.generalise),
        withhold=own.withhold,
        public=dict(own.public),
        counts=own.counts,
        small_cell=own.small_cell or policy.small_cell,
        suppress=policy.suppress if own.suppress is None else own.suppress,
        marker=own.marker or policy.marker,
        max_level=max_level,
        direct=policy.direct,
        direct_of_persons=policy.direct_of_persons,
        person_credit_codes=policy.person_credit_codes,
    )
