"""Policies (政策找人 · 免申即享) as data: each a condition over named columns of the base registries (persons or
enterprises), shipped in ``data/policies.yaml`` and checked when read (a condition that does not parse, a
column no registry entry serves, a field missing: InvalidPolicy naming the policy and the field).

A column is one item of a catalogue entry backed by the registry's entities (read through the data hub as
the policy's department), as it is or derived from a date: ``years`` (completed years at the run's date: an
age) or ``days`` (days since). Building the columns from the records read is pure and vectorised
(:func:`build_columns`); the condition is evaluated by :mod:`cityos.onestop.policy_rules`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from cityos.core.yamltext import parse_yaml
from cityos.onestop.policy_errors import InvalidPolicy, PolicyNotFound
from cityos.onestop.policy_rules import Column, Kind, Node, RuleError, columns_of, make_column, parse

DATA = Path(__file__).parent / "data" / "policies.yaml"
Target = Literal["person", "enterprise"]
Mode = Literal["notify", "grant"]
TARGETS: tuple[Target, ...] = ("person", "enterprise")
MODES: tuple[Mode, ...] = ("notify", "grant")
DERIVED = ("years", "days")


@dataclass(frozen=True)
class ColumnSpec:
    """A column: the catalogue entry and item it is read from, its kind, and how it is derived (None: as is)."""

    name: str
    entry: str
    item: str
    kind: Kind
    derive: str | None = None  # years | days (from a date item)
    label: str = ""


@dataclass(frozen=True)
class Policy:
    code: str
    version: int
    name_zh: str
    name_en: str
    department: str
    target: Target
    condition: str
    mode: Mode
    benefit: str
    legal_basis: str
    rule: Node

    @property
    def columns(self) -> tuple[str, ...]:
        return columns_of(self.rule)


@dataclass(frozen=True)
class PolicySet:
    columns: dict[Target, dict[str, ColumnSpec]]
    policies: dict[str, Policy]

    def specs(self, policy: Policy) -> list[ColumnSpec]:
        """The columns ``policy`` reads, in the order its condition names them."""
        return [self.columns[policy.target][c] for c in policy.columns]

    def entries(self, policy: Policy) -> list[str]:
        """The catalogue entries ``policy`` reads, in order, each once."""
        return list(dict.fromkeys(s.entry for s in self.specs(policy)))


def _need(doc: Mapping[str, Any], name: str, where: str) -> Any:
    value = doc.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidPolicy(f"{where}: {name} is missing", field=name)
    return value


def _column(name: str, doc: Any, where: str) -> ColumnSpec:
    if not isinstance(doc, Mapping):
        raise InvalidPolicy(f"{where}: a column is a mapping of entry, item, kind (and derive)", field=name)
    derive = doc.get("derive")
    given = "number" if derive else doc.get("kind", "text")
    if given not in ("number", "text") or (derive is not None and derive not in DERIVED):
        raise InvalidPolicy(f"{where}: kind is number or text, derive one of {', '.join(DERIVED)}", field=name)
    kind: Kind = "number" if given == "number" else "text"
    return ColumnSpec(name, str(_need(doc, "entry", where)), str(_need(doc, "item", where)), kind, derive,
                      str(doc.get("label", "")))  # fmt: skip


def _policy(doc: Any, columns: Mapping[Target, Mapping[str, ColumnSpec]], n: int) -> Policy:
    where = f"policies.yaml: policies[{n}]"
    if not isinstance(doc, Mapping):
        raise InvalidPolicy(f"{where}: a policy is a mapping")
    code = str(_need(doc, "code", where))
    where = f"policies.yaml: {code}"
    target, mode = _need(doc, "target", where), _need(doc, "mode", where)
    if target not in TARGETS or mode not in MODES:
        raise InvalidPolicy(f"{where}: target is person or enterprise, mode notify or grant", field="target")
    kinds = {c.name: c.kind for c in columns[target].values()}
    condition = str(_need(doc, "condition", where))
    try:
        rule = parse(condition, kinds)
    except RuleError as exc:
        raise InvalidPolicy(f"{where}: condition {exc}", field="condition") from None
    version = doc.get("version", 1)
    if not isinstance(version, int) or version < 1:
        raise InvalidPolicy(f"{where}: version is a whole number from 1", field="version")
    return Policy(code, version, str(_need(doc, "nameZh", where)), str(_need(doc, "nameEn", where)),
                  str(_need(doc, "department", where)), target, condition, mode, str(_need(doc, "benefit", where)),
                  str(_need(doc, "legalBasis", where)), rule)  # fmt: skip


def parse_policies(doc: Any) -> PolicySet:
    """A policy file's content (columns by target, policies) checked; InvalidPolicy naming what is wrong."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("columns"), Mapping):
        raise InvalidPolicy("policies.yaml: expected 'columns' (by target) and 'policies'")
    columns: dict[Target, dict[str, ColumnSpec]] = {}
    for target in TARGETS:
        found = doc["columns"].get(target) or {}
        columns[target] = {str(k): _column(str(k), v, f"policies.yaml: columns.{target}.{k}") for k, v in found.items()}
    policies: dict[str, Policy] = {}
    for n, p in enumerate(doc.get("policies") or []):
        policy = _policy(p, columns, n)
        if policy.code in policies:
            raise InvalidPolicy(f"policies.yaml: {policy.code} is declared twice", field="code")
        policies[policy.code] = policy
    return PolicySet(columns, policies)


@cache
def shipped() -> PolicySet:
    """The policies shipped with cityos (``data/policies.yaml``), read once."""
    return parse_policies(parse_yaml(DATA.read_text(encoding="utf-8")))


def policy(code: str, policies: PolicySet | None = None) -> Policy:
    """The policy ``code``; PolicyNotFound (404) naming the known ones."""
    found = (policies or shipped()).policies
    if code not in found:
        raise PolicyNotFound(f"no policy {code!r}; the policies are {', '.join(sorted(found))}")
    return found[code]


# --- columns from records -----------------------------------------------------------------------------------------


def _day(text: str) -> np.datetime64 | None:
    try:
        return np.datetime64(text, "D")
    except ValueError:
        return None


def _dates(values: Sequence[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """ISO dates (YYYY-MM-DD…) as datetime64[D] and which are present: anything else is missing."""
    text = np.array([v[:10] if isinstance(v, str) and len(v) >= 10 else "" for v in values], dtype="<U10")
    ok = (np.strings.str_len(text) == 10) & np.strings.isdigit(np.strings.replace(text, "-", ""))
    days = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[D]")
    try:
        days[ok] = text[ok].astype("datetime64[D]")
    except ValueError:  # a date that does not exist (2021-02-30): one at a time, the bad ones missing
        for at in np.flatnonzero(ok):
            found = _day(str(text[at]))
            ok[at] = found is not None
            days[at] = found if found is not None else np.datetime64("NaT")
    return days, ok


def _derived(spec: ColumnSpec, values: Sequence[Any], on: date) -> Column:
    days, ok = _dates(values)
    if spec.derive == "years":  # completed years: this year's birthday passed or not
        safe = np.where(ok, days, np.datetime64("2000-01-01", "D"))
        year, month = safe.astype("datetime64[Y]"), safe.astype("datetime64[M]")
        packed = ((year.astype(np.int64) + 1970) * 10000 + ((month - year).astype(np.int64) + 1) * 100
                  + (safe - month).astype(np.int64) + 1)  # fmt: skip
        today = on.year * 10000 + on.month * 100 + on.day
        years = (today // 10000 - packed // 10000) - ((today % 10000) < (packed % 10000))
        return Column("number", np.where(ok, years, np.nan).astype(np.float64), ok)
    since = (np.datetime64(on.isoformat(), "D") - days).astype(np.float64)
    return Column("number", np.where(ok, since, np.nan), ok)


def build_column(spec: ColumnSpec, values: Sequence[Any], on: date) -> Column:
    """The column ``spec`` from one value per row (None: missing), derived at the date ``on``."""
    if spec.derive:
        return _derived(spec, values, on)
    if spec.kind == "number":
        return make_column("number", [_number(v) for v in values])
    return make_column("text", values)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def build_columns(specs: Sequence[ColumnSpec], rows: Sequence[Mapping[str, Any]], on: date) -> dict[str, Column]:
    """Every column of ``specs`` from ``rows`` (one per subject: item -> value as read)."""
    return {s.name: build_column(s, [r.get(s.item) for r in rows], on) for s in specs}


def build_columns_of(specs: Sequence[ColumnSpec], values: Mapping[str, Sequence[Any]], on: date) -> dict[str, Column]:
    """Every column of ``specs`` from ``values`` (item -> one value per subject, as read), as :func:`build_columns`."""
    size = len(next(iter(values.values()))) if values else 0
    return {s.name: build_column(s, values.get(s.item) or [None] * size, on) for s in specs}


def row_values(specs: Sequence[ColumnSpec], columns: Mapping[str, Column], at: int) -> dict[str, Any]:
    """Row ``at``'s values of the columns (None where missing): what made a condition true, for the record."""
    out: dict[str, Any] = {}
    for s in specs:
        col = columns[s.name]
        if not col.present[at]:
            out[s.name] = None
        elif col.kind == "number":
            number = float(col.values[at])
            out[s.name] = int(number) if number.is_integer() else number
        else:
            out[s.name] = str(col.values[at])
    return out
