"""Data quality rules as data (数据质量检测): a YAML file per dataset, validated into the models here when it
is loaded, so that a mistake is refused at start with the file, the rule and the field named.

A file holds ``dataset`` (the catalogue code), ``key`` (the item that names a record in the results;
``id`` unless given), optional ``weights`` (dimension -> weight in the dataset's score) and ``rules``. Each
rule has an ``id``, a ``dimension`` and a ``check``, and the fields its check needs:

========================  ==================  ==========================================================
check                     dimension           fields
========================  ==================  ==========================================================
``present``               completeness        ``item``: present and not blank
``unique``                uniqueness          ``items``: the value (or combination) appears once
``format``                validity            ``item``, ``format``: id-card, credit-code, mobile or date
``pattern``               validity            ``item``, ``pattern`` (RE2 syntax, searched: anchor it)
``one-of``                validity            ``item``, ``values``
``range``                 validity            ``item``, ``min`` and/or ``max`` (numbers)
``fresh``                 timeliness          ``item`` (a timestamp), ``within`` (a duration: 90d, P90D)
``id-card-agrees``        consistency         ``item`` (an ID number), ``birth`` and/or ``gender`` items
``agrees-with``           consistency,        ``item``, ``reference`` (a dataset passed to the run),
                          accuracy            ``by`` (the item joining both), ``referenceItem``
========================  ==================  ==========================================================

Checks other than ``present`` look only at values present: a blank value counts against completeness once,
not against every rule on its item.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cityos.core.durations import parse_duration
from cityos.core.patterns import UnsupportedPattern, compile_pattern
from cityos.core.yamltext import parse_yaml
from cityos.datahub.errors import InvalidQualityRules

RULES_DIR = Path(__file__).parent / "data" / "quality"
Dimension = Literal["completeness", "uniqueness", "validity", "timeliness", "consistency", "accuracy"]
DIMENSIONS: tuple[Dimension, ...] = ("completeness", "uniqueness", "validity", "timeliness", "consistency", "accuracy")
Format = Literal["id-card", "credit-code", "mobile", "date"]
CHECKS = "present, unique, format, pattern, one-of, range, fresh, id-card-agrees, agrees-with"
_NAME = r"^[A-Za-z][A-Za-z0-9_.-]*$"
Item = Annotated[str, Field(pattern=_NAME, max_length=200)]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    allowed: ClassVar[tuple[str, ...]] = ()

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)
    dimension: Dimension
    description: str = ""

    @model_validator(mode="after")
    def _dimension_fits(self) -> _Rule:
        if self.dimension not in self.allowed:
            raise ValueError(f"a {self.check_name()} check measures {' or '.join(self.allowed)}, not {self.dimension}")
        return self

    def check_name(self) -> str:
        return str(getattr(self, "check", "?"))


class Present(_Rule):
    allowed = ("completeness",)
    check: Literal["present"]
    item: Item


class Unique(_Rule):
    allowed = ("uniqueness",)
    check: Literal["unique"]
    items: list[Item] = Field(min_length=1, max_length=10)


class FormatRule(_Rule):
    allowed = ("validity",)
    check: Literal["format"]
    item: Item
    format: Format


class PatternRule(_Rule):
    allowed = ("validity",)
    check: Literal["pattern"]
    item: Item
    pattern: str = Field(min_length=1, max_length=1000)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compile_pattern(value)
        except UnsupportedPattern as exc:
            raise ValueError(f"pattern {value!r} cannot be used: {exc}") from None
        return value


class OneOf(_Rule):
    allowed = ("validity",)
    check: Literal["one-of"]
    item: Item
    values: list[str] = Field(min_length=1)


class RangeRule(_Rule):
    allowed = ("validity",)
    check: Literal["range"]
    item: Item
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> RangeRule:
        if self.min is None and self.max is None:
            raise ValueError("a range check needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Fresh(_Rule):
    allowed = ("timeliness",)
    check: Literal["fresh"]
    item: Item
    within: str

    @field_validator("within")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)  # its ValueError says what is wrong and what is accepted
        return value

    @property
    def period(self) -> timedelta:
        return parse_duration(self.within)


class IdCardAgrees(_Rule):
    allowed = ("consistency",)
    check: Literal["id-card-agrees"]
    item: Item
    birth: Item | None = None
    gender: Item | None = None

    @model_validator(mode="after")
    def _compares(self) -> IdCardAgrees:
        if self.birth is None and self.gender is None:
            raise ValueError("an id-card-agrees check needs birth, gender or both")
        return self


class AgreesWith(_Rule):
    allowed = ("consistency", "accuracy")
    check: Literal["agrees-with"]
    item: Item
    reference: str = Field(min_length=1, max_length=100)
    by: Item
    reference_item: Item | None = Field(default=None, alias="referenceItem")

    @property
    def other_item(self) -> str:
        return self.reference_item or self.item


Rule = Annotated[
    Present | Unique | FormatRule | PatternRule | OneOf | RangeRule | Fresh | IdCardAgrees | AgreesWith,
    Field(discriminator="check"),
]


class RuleSet(BaseModel):
    """The quality rules of one dataset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str = Field(min_length=1, max_length=100)
    key: Item = "id"
    weights: dict[Dimension, float] = Field(default_factory=dict)
    rules: list[Rule] = Field(min_length=1)

    @field_validator("weights")
    @classmethod
    def _positive(cls, value: dict[Dimension, float]) -> dict[Dimension, float]:
        for dimension, weight in value.items():
            if weight < 0:
                raise ValueError(f"the weight of {dimension} is {weight}; weights are 0 or more")
        return value

    def weight(self, dimension: str) -> float:
        return self.weights.get(dimension, 1.0)  # type: ignore[call-overload]

    def references(self) -> set[str]:
        """The datasets the rules compare with: a run is given their records."""
        return {r.reference for r in self.rules if isinstance(r, AgreesWith)}


def parse_rules(data: Any, source: str) -> RuleSet:
    """The rule set ``data`` declares; errors name ``source``, the rule (by index and id) and the field."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise InvalidQualityRules(f"{source}: expected a mapping with 'dataset' and a list of 'rules'")
    rules = data["rules"]
    for i, raw in enumerate(rules):
        where = f"{source}: rules[{i}]" + (f" ({raw.get('id')})" if isinstance(raw, dict) and raw.get("id") else "")
        try:
            RuleSet.model_validate({"dataset": "-", "rules": [raw]})
        except ValidationError as exc:
            raise InvalidQualityRules(f"{where} {_say(exc, skip=2)}") from None
        if any(isinstance(other, dict) and other.get("id") == raw.get("id") for other in rules[:i]):
            raise InvalidQualityRules(f"{where} repeats the id {raw.get('id')!r}; rule ids are unique in a file")
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        raise InvalidQualityRules(f"{source}: {_say(exc, skip=0)}") from None


def _say(exc: ValidationError, skip: int) -> str:
    first = exc.errors()[0]
    if first["type"] in {"union_tag_invalid", "union_tag_not_found"}:
        tag = first.get("ctx", {}).get("tag")
        return f"field check: {'is missing' if tag is None else f'{tag!r} is not a check'}; the checks are {CHECKS}"
    loc = [str(p) for p in first["loc"][skip:]]
    if loc and loc[0] in CHECKS.split(", "):
        loc = loc[1:]  # the discriminator's tag: the rule's own check
    msg = first["msg"].removeprefix("Value error, ")
    return f"field {'.'.join(loc)}: {msg}" if loc else msg


def read_rules(path: Path) -> RuleSet:
    """The rule set in a YAML file, validated."""
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidQualityRules(f"{path}: cannot read the quality rules ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise InvalidQualityRules(f"{path}: not valid YAML ({exc})") from None
    return parse_rules(data, str(path))


def load_rules(directory: Path = RULES_DIR) -> dict[str, RuleSet]:
    """The rule sets of every ``*.yaml`` file in ``directory``, by dataset code (one file per dataset)."""
    found: dict[str, tuple[Path, RuleSet]] = {}
    for path in sorted(directory.glob("*.yaml")):
        rules = read_rules(path)
        if rules.dataset in found:
            raise InvalidQualityRules(f"{path}: dataset {rules.dataset} has rules in {found[rules.dataset][0]} too")
        found[rules.dataset] = (path, rules)
    return {code: rules for code, (_, rules) in found.items()}
