"""Entity resolution (实体识别, issue 18 item 1), pure: a department's record that carries no registry key (an
enterprise by name and address, a place by its address as written) is matched to the registry's entities,
Fellegi–Sunter style, and the decision keeps its evidence.

Candidates come by blocking keys (:func:`blocking_keys`: the normalised name's core, the address's road and
first number), never by comparing every pair. Each field of a candidate is compared at the first level of
its model that holds (exact, normalised, other-branch, similar, else; see ``data/resolution.yaml``), each
level weighing log2(m/u); the weights add up to the candidate's match weight, and :func:`decide` says
``matched`` (one candidate at or above the upper threshold and clearly ahead of the next), ``review``
(between the thresholds, or two too close) or ``new`` (none at or above the lower threshold), with each
field's level, weight and values compared, the total and the runner-up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from rapidfuzz.fuzz import ratio

from cityos.core.yamltext import parse_yaml
from cityos.datahub.errors import InvalidResolution, InvalidResolutionModel
from cityos.datahub.resolution_text import (
    address_stem,
    name_parts,
    normalise_address,
    normalise_name,
    normalise_text,
)

MODELS_FILE = Path(__file__).parent / "data" / "resolution.yaml"
Kind = Literal["name", "address", "text"]
LevelName = Literal["exact", "normalised", "other-branch", "similar", "else"]
Outcome = Literal["matched", "review", "new"]
OUTCOMES: tuple[Outcome, ...] = ("matched", "review", "new")
NULL = "null"  # the level of a value missing on either side: it weighs nothing
_NORMALISERS = {"name": normalise_name, "address": normalise_address, "text": normalise_text}


class _LevelDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    level: LevelName
    m: float = Field(gt=0, le=1)
    u: float = Field(gt=0, le=1)
    at: float | None = Field(None, gt=0, le=1)

    @model_validator(mode="after")
    def _at_for_similar(self) -> _LevelDoc:
        if (self.level == "similar") != (self.at is not None):
            raise ValueError("`at` (the similarity from 0 to 1) is given for a similar level, and only for it")
        return self


class _FieldDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    levels: list[_LevelDoc] = Field(min_length=1)

    @model_validator(mode="after")
    def _levels_fit(self) -> _FieldDoc:
        names = [lv.level for lv in self.levels]
        if names[-1] != "else" or names.count("else") != 1:
            raise ValueError("the last level, and only it, is `else` (it always holds)")
        if len(set(names)) != len(names):
            raise ValueError("a level is named twice")
        if "other-branch" in names and self.kind != "name":
            raise ValueError("other-branch compares enterprise names: it is a level of a field of kind name")
        return self


class _ModelDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    upper: float
    lower: float
    margin: float = Field(ge=0)
    blocking: list[str] = Field(min_length=1)
    fields: dict[str, _FieldDoc] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> _ModelDoc:
        if self.lower > self.upper:
            raise ValueError(f"lower ({self.lower}) is above upper ({self.upper})")
        unknown = [b for b in self.blocking if b not in self.fields or self.fields[b].kind == "text"]
        if unknown:
            raise ValueError(f"blocking names {unknown}: a blocking field is a name or address field of the model")
        return self


@dataclass(frozen=True)
class Level:
    name: LevelName
    m: float
    u: float
    at: float | None

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


@dataclass(frozen=True)
class FieldModel:
    field: str
    kind: Kind
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class Model:
    """A resolution model: the fields compared with their levels, the blocking fields and the thresholds."""

    name: str
    upper: float
    lower: float
    margin: float
    blocking: tuple[str, ...]
    fields: tuple[FieldModel, ...]


def parse_models(doc: Any, where: str) -> dict[str, Model]:
    """The models of a YAML document (``models:`` name -> model); InvalidResolutionModel names the file, the
    model and the field."""
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), dict) or not doc["models"]:
        raise InvalidResolutionModel(f"{where}: a resolution file is a mapping with `models:` (name -> model)")
    out = {}
    for name, body in doc["models"].items():
        try:
            m = _ModelDoc.model_validate(body)
        except ValidationError as e:
            first = e.errors()[0]
            at = ".".join(str(p) for p in first["loc"])
            field = f" field {at}" if at else ""
            raise InvalidResolutionModel(f"{where}: model {name!r}{field}: {first['msg']}") from e
        fields = tuple(FieldModel(f, d.kind, tuple(Level(lv.level, lv.m, lv.u, lv.at) for lv in d.levels))
                       for f, d in m.fields.items())  # fmt: skip
        out[str(name)] = Model(str(name), m.upper, m.lower, m.margin, tuple(m.blocking), fields)
    return out


@cache
def _default_models() -> dict[str, Model]:
    return load_models(MODELS_FILE)


def load_models(path: Path | None = None) -> dict[str, Model]:
    """The models of a YAML file (the package's ``data/resolution.yaml`` unless named)."""
    if path is None:
        return _default_models()
    try:
        doc = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise InvalidResolutionModel(f"{path}: cannot be read as YAML: {e}") from e
    return parse_models(doc, str(path))


def get_model(name: str) -> Model:
    """A model of the package's file by name; InvalidResolution names the models there are."""
    models = load_models()
    if name not in models:
        raise InvalidResolution(f"there is no resolution model {name!r}; the models: {', '.join(sorted(models))}")
    return models[name]


@dataclass(frozen=True)
class Candidate:
    """A registry entity as resolution sees it: its id and its values by the model's field names."""

    id: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class FieldEvidence:
    """How one field compared: the level it came out at, its weight, both values and their similarity."""

    field: str
    level: str
    weight: float
    offered: str | None
    held: str | None
    similarity: float | None = None


@dataclass(frozen=True)
class Score:
    """A candidate's match weight and the evidence of each field."""

    candidate: str
    total: float
    fields: tuple[FieldEvidence, ...]


@dataclass(frozen=True)
class Decision:
    """What resolution decided for one record: the outcome, the entity matched (``matched`` only), why, the
    best candidate's and the runner-up's scores, and every scored candidate's total, best first."""

    outcome: Outcome
    entity: str | None
    reason: str
    best: Score | None
    runner_up: Score | None
    scored: tuple[tuple[str, float], ...]


def _value(values: Mapping[str, Any], field: str) -> str | None:
    value = values.get(field)
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text or None


def blocking_keys(model: Model, values: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys under which a record's (or a candidate's) candidates are found: ``name:<core>`` of a name
    field, ``address:<road and first number>`` of an address field; none for a missing value."""
    kinds = {f.field: f.kind for f in model.fields}
    keys = []
    for field in model.blocking:
        value = _value(values, field)
        if value is None:
            continue
        key = name_parts(value).core if kinds[field] == "name" else address_stem(value)
        if key:
            keys.append(f"{kinds[field]}:{key}")
    return tuple(dict.fromkeys(keys))


def index_candidates(model: Model, candidates: Iterable[Candidate]) -> dict[str, list[Candidate]]:
    """The candidates by blocking key: the mapping :func:`decide`'s callers look records' keys up in."""
    index: dict[str, list[Candidate]] = {}
    for c in candidates:
        for key in blocking_keys(model, c.values):
            index.setdefault(key, []).append(c)
    return index


def _compare_field(fm: FieldModel, offered: str | None, held: str | None) -> FieldEvidence:
    if offered is None or held is None:
        return FieldEvidence(fm.field, NULL, 0.0, offered, held)
    normalise = _NORMALISERS[fm.kind]
    a, b = normalise(offered), normalise(held)
    similarity = None
    for level in fm.levels:
        if level.name == "exact":
            holds = offered == held
        elif level.name == "normalised":
            holds = a == b
        elif level.name == "other-branch":
            pa, pb = name_parts(offered), name_parts(held)
            holds = pa.core == pb.core and pa.branch != pb.branch
        elif level.name == "similar":
            similarity = round(ratio(a, b) / 100, 3) if similarity is None else similarity
            holds = similarity >= (level.at or 1.0)
        else:
            holds = True
        if holds:
            return FieldEvidence(fm.field, level.name, round(level.weight, 3), offered, held, similarity)
    raise AssertionError("a model's last level is else")  # the model's validation keeps it so


def compare(model: Model, record: Mapping[str, Any], candidate: Candidate) -> Score:
    """The match weight of ``candidate`` for ``record``, with each field's evidence."""
    fields = tuple(_compare_field(fm, _value(record, fm.field), _value(candidate.values, fm.field))
                   for fm in model.fields)  # fmt: skip
    return Score(candidate.id, round(sum(f.weight for f in fields), 3), fields)


def decide(model: Model, record: Mapping[str, Any], candidates: Iterable[Candidate]) -> Decision:
    """Score each candidate (each id once) and decide: matched, review or new (see the module)."""
    seen: dict[str, Candidate] = {}
    for c in candidates:
        seen.setdefault(c.id, c)
    scores = sorted((compare(model, record, c) for c in seen.values()), key=lambda s: (-s.total, s.candidate))
    scored = tuple((s.candidate, s.total) for s in scores)
    if not scores:
        return Decision("new", None, "no registry entity shares a blocking key with the record", None, None, ())
    best, runner = scores[0], scores[1] if len(scores) > 1 else None
    if best.total < model.lower:
        return Decision("new", None, f"the best candidate weighs {best.total:g}, below the lower threshold "
                        f"{model.lower:g}", best, runner, scored)  # fmt: skip
    gap = best.total - runner.total if runner is not None else math.inf
    if best.total >= model.upper and gap >= model.margin:
        return Decision("matched", best.candidate, f"the best candidate weighs {best.total:g}, at or above the "
                        f"upper threshold {model.upper:g}, {_gap(gap)}", best, runner, scored)  # fmt: skip
    if best.total >= model.upper:
        why = f"two candidates weigh {best.total:g} and {runner.total if runner else 0:g}: less than the margin " \
              f"{model.margin:g} apart"  # fmt: skip
    else:
        why = f"the best candidate weighs {best.total:g}, between the thresholds {model.lower:g} and {model.upper:g}"
    return Decision("review", None, why, best, runner, scored)


def _gap(gap: float) -> str:
    return "the only candidate" if math.isinf(gap) else f"{gap:g} ahead of the next"
