"""The two-level case taxonomy (大类 / 小类): validated data loaded from ``taxonomy.yaml``.

A sub-category's code is also its Open311 ``service_code``; its time limit is either calendar hours
("2h") or working days on the Chinese working-day calendar ("3wd"). Every error names the entry and field.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cityos.cases.errors import InvalidCasesConfig
from cityos.cases.timelimits import parse_time_limit
from cityos.core.yamltext import parse_yaml

DEFAULT_PATH = Path(__file__).with_name("taxonomy.yaml")

Priority = Literal["urgent", "high", "normal", "low"]
TimeUnit = Literal["h", "wd"]

_CODE = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"

M = TypeVar("M", bound=BaseModel)


class LocalText(BaseModel):
    """A text in Chinese and English; Chinese first, as the dashboard is zh-CN first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class MainCategory(BaseModel):
    """A main category (大类), e.g. 市容环境."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=_CODE)
    name: LocalText


class SubCategory(BaseModel):
    """A sub-category (小类): what a case is about, who handles it by default and how fast."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=_CODE)
    main: str = Field(pattern=_CODE)
    name: LocalText
    description: LocalText
    keywords: tuple[str, ...] = Field(min_length=1)
    time_limit: str
    priority: Priority
    department: str = Field(pattern=_CODE)

    @field_validator("time_limit")
    @classmethod
    def _time_limit_format(cls, value: str) -> str:
        try:
            unit = parse_time_limit(value).unit
        except InvalidCasesConfig:
            unit = None
        if unit not in ("h", "wd"):  # working hours are for office clocks, not a category's limit
            raise ValueError(f"must be '<N>h' (calendar hours) or '<N>wd' (working days), got {value!r}")
        return value

    @field_validator("keywords")
    @classmethod
    def _keywords_not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not k.strip() for k in value):
            raise ValueError("keywords must not be blank")
        return value

    @property
    def time_limit_parts(self) -> tuple[int, TimeUnit]:
        """The time limit as (amount, unit), e.g. (2, "h") or (3, "wd")."""
        limit = parse_time_limit(self.time_limit)
        unit: TimeUnit = "h" if limit.unit == "h" else "wd"  # the validator allows no other
        return limit.amount, unit


class Taxonomy(BaseModel):
    """The whole set, checked as a whole whenever one is built. :func:`load_taxonomy` and :meth:`from_data` check
    each entry first, so that an error names the entry and field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    mains: tuple[MainCategory, ...] = Field(min_length=1)
    subs: tuple[SubCategory, ...] = Field(min_length=1)

    _sub_index: dict[str, SubCategory] = PrivateAttr(default_factory=dict)
    _main_index: dict[str, MainCategory] = PrivateAttr(default_factory=dict)

    def sub(self, code: str) -> SubCategory:
        """The sub-category with this code; KeyError if there is none."""
        return self._sub_index[code]

    def main(self, code: str) -> MainCategory:
        """The main category with this code; KeyError if there is none."""
        return self._main_index[code]

    def main_of(self, sub_code: str) -> MainCategory:
        """The main category a sub-category belongs to; KeyError for an unknown sub."""
        return self._main_index[self.sub(sub_code).main]

    def subs_of(self, main_code: str) -> list[SubCategory]:
        """The sub-categories of a main category, in file order; KeyError for an unknown main."""
        self.main(main_code)
        return [s for s in self.subs if s.main == main_code]

    def has_sub(self, code: str) -> bool:
        return code in self._sub_index

    @model_validator(mode="after")
    def _check_the_set(self, info: ValidationInfo) -> Taxonomy:
        # Raised as InvalidCasesConfig, not ValueError, so pydantic passes it through untouched.
        source = (info.context or {}).get("source", "taxonomy")
        seen: dict[str, str] = {}  # code -> where it was first used; mains and subs share one namespace
        codes = (("mains", [m.code for m in self.mains]), ("subs", [s.code for s in self.subs]))
        for kind, entries in codes:
            for i, code in enumerate(entries):
                where = f"{kind}[{i}]"
                if code in seen:
                    raise InvalidCasesConfig(
                        f"{source}: {where} field 'code': duplicate code {code!r} (already used by {seen[code]})"
                    )
                seen[code] = where
        main_codes = {m.code for m in self.mains}
        for i, s in enumerate(self.subs):
            if s.main not in main_codes:
                raise InvalidCasesConfig(
                    f"{source}: subs[{i}] ({s.code}) field 'main': unknown main category {s.main!r}"
                )
        used = {s.main for s in self.subs}
        for i, m in enumerate(self.mains):
            if m.code not in used:
                raise InvalidCasesConfig(f"{source}: mains[{i}] ({m.code}) has no sub-categories")
        return self

    def model_post_init(self, context: Any, /) -> None:
        # Lookup indexes, kept as private attributes so they stay out of dumps and equality.
        self._sub_index = {s.code: s for s in self.subs}
        self._main_index = {m.code: m for m in self.mains}

    @classmethod
    def from_data(cls, data: Any, source: str = "taxonomy") -> Taxonomy:
        """Validate raw data (as parsed from YAML) entry by entry, then the set as a whole."""
        if not isinstance(data, dict):
            raise InvalidCasesConfig(f"{source}: expected a mapping with 'mains' and 'subs'")
        unknown = sorted(set(data) - {"version", "mains", "subs"})
        if unknown:
            raise InvalidCasesConfig(f"{source}: unknown top-level field(s) {', '.join(map(repr, unknown))}")
        version = data.get("version", 1)
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidCasesConfig(f"{source}: field 'version' must be an integer")
        mains = _entries(data, "mains", MainCategory, source)
        subs = _entries(data, "subs", SubCategory, source)
        return cls.model_validate({"version": version, "mains": mains, "subs": subs}, context={"source": source})


def _entries(data: dict[str, Any], key: str, model: type[M], source: str) -> list[M]:
    raw = data.get(key)
    if not isinstance(raw, list) or not raw:
        raise InvalidCasesConfig(f"{source}: field '{key}' must be a non-empty list")
    out = []
    for i, item in enumerate(raw):
        label = f"{key}[{i}]"
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            label += f" ({item['code']})"
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "entry"
            message = err["msg"].removeprefix("Value error, ")
            raise InvalidCasesConfig(f"{source}: {label} field '{field}': {message}") from exc
    return out


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """The taxonomy at ``path``, or the shipped one (read once per process) when no path is given."""
    if path is None:
        return _default_taxonomy()
    return _read(Path(path))


@cache
def _default_taxonomy() -> Taxonomy:
    return _read(DEFAULT_PATH)


def _read(path: Path) -> Taxonomy:
    return Taxonomy.from_data(read_yaml(path, "the taxonomy"), source=str(path))


def read_yaml(path: Path, what: str) -> Any:
    """A cases configuration file's YAML; a missing file or bad YAML is an error naming the file."""
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidCasesConfig(f"{path}: cannot read {what} ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise InvalidCasesConfig(f"{path}: not valid YAML ({exc})") from None
