"""The data resource system's model (公共数据资源体系): catalogue entries, their data items, classification
levels, sharing and opening types, grants. Plain frozen dataclasses and enums, free of HTTP and SQL; the
catalogue, the grants, masking and the audit chain all speak these.

Terms (the plans' Chinese beside ours):

- catalogue entry (目录条目): one data resource a department provides, with the national catalogue's
  fields (GB/T 21063; the national government information resource catalogue guide);
- data item (数据项): one field of an entry (a person's name, a company's credit code, a sensor's level);
  each has one authoritative source department (一数一源) and one classification level (分级);
- classification path (分类: 类/项/目/细目): where the entry sits in the catalogue's tree;
- sharing type (共享类型): unconditional 无条件共享, conditional 有条件共享 (needs a grant), none 不予共享;
- opening type (开放类型): unconditional 无条件开放, conditional 有条件开放, none 不予开放;
- grant (授权): a department's right to read an entry (all or some items) for one named application
  scenario (应用场景), purpose and legal basis, for a period, approved by the provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class SharingType(StrEnum):
    UNCONDITIONAL = "unconditional"  # 无条件共享: every department reads it
    CONDITIONAL = "conditional"  # 有条件共享: a department reads it through a grant
    NONE = "none"  # 不予共享: only its provider reads it


class OpeningType(StrEnum):
    UNCONDITIONAL = "unconditional"  # 无条件开放
    CONDITIONAL = "conditional"  # 有条件开放
    NONE = "none"  # 不予开放


@dataclass(frozen=True)
class Level:
    """A classification level (分级). ``rank`` orders them: the higher, the more protected."""

    name: str  # e.g. "core", "important", "general-4"
    rank: int
    zh: str  # e.g. 核心数据
    en: str


@dataclass(frozen=True)
class LevelScale:
    """The configured levels, lowest first. The default is GB/T 43697's core / important / general, with
    general split into levels 1-4 (``levels.yaml``); a city may configure another scale."""

    levels: tuple[Level, ...]

    def get(self, name: str) -> Level | None:
        return next((lv for lv in self.levels if lv.name == name), None)

    def highest(self, names: list[str]) -> Level | None:
        """The most protected of the named levels (a dataset's level is that of its most protected item)."""
        found = [lv for lv in (self.get(n) for n in names) if lv is not None]
        return max(found, key=lambda lv: lv.rank, default=None)


# How an item's values are masked when a reader may not see them in full (cityos.datahub.masking).
ITEM_KINDS = ("text", "number", "date", "id-card", "mobile", "phone", "name", "address", "email", "credit-code",
              "geo", "code")  # fmt: skip


@dataclass(frozen=True)
class DataItem:
    """One data item (数据项) of an entry."""

    name: str  # the item's name in the dataset, e.g. "registeredAddress" (NGSI-LD attribute or column)
    zh: str  # its Chinese name, e.g. 户籍地址
    kind: str  # one of ITEM_KINDS: what the value is, for masking
    level: str  # a level name of the scale
    description: str = ""
    source: str | None = None  # the one authoritative department (一数一源); None: the entry's provider
    # what the item is across the catalogue (一数一源), e.g. "person.registeredAddress"; None: an item of this
    # entry alone, keyed "<entry code>.<name>" (CatalogueEntry.key_of)
    key: str | None = None


@dataclass(frozen=True)
class Backing:
    """Where an entry's records live: NGSI-LD entities of these types in the data hub (an optional q filter
    narrows them), or a table the datahub package owns (``table``)."""

    entity_types: tuple[str, ...] = ()
    q: str | None = None
    table: str | None = None


@dataclass(frozen=True)
class CatalogueEntry:
    """A data resource catalogue entry (数据资源目录条目), one version of it."""

    code: str  # resource code: classification code + sequence, e.g. "HP-01-02-03-0001"
    name: str
    abstract: str
    provider: str  # the providing department
    classification: tuple[str, ...]  # 类/项/目/细目, from the top
    format: str  # e.g. "database", "file", "api", "stream"
    items: tuple[DataItem, ...]
    sharing: SharingType
    opening: OpeningType
    update_cycle: str  # e.g. "real-time", "daily", "monthly", "yearly"
    published: str  # ISO date the entry was published
    sharing_conditions: str = ""
    sharing_method: str = ""  # e.g. "api", "file", "database"
    opening_conditions: str = ""
    related: tuple[str, ...] = ()  # codes of related entries
    source_system: str = ""  # the system the data comes from (lineage)
    backing: Backing = field(default_factory=Backing)
    version: int = 1

    def source_of(self, item: DataItem) -> str:
        return item.source or self.provider

    def key_of(self, item: DataItem) -> str:
        """The item's source key: its declared ``key``, else ``<entry code>.<item name>`` (an item of this
        entry alone, which no other entry can claim)."""
        return item.key or f"{self.code}.{item.name}"


class GrantState(StrEnum):
    REQUESTED = "requested"  # 待审批
    APPROVED = "approved"  # 已授权 (possibly narrowed: fewer items, a shorter period)
    REFUSED = "refused"  # 不予授权
    REVOKED = "revoked"  # 已撤销
    EXPIRED = "expired"  # 已到期


@dataclass(frozen=True)
class Grant:
    """A department's grant to read an entry for one application scenario (授权共享)."""

    id: str
    code: str  # the catalogue entry
    department: str  # who reads
    scenario: str  # the named application scenario (应用场景), e.g. "低保资格核验"
    purpose: str
    legal_basis: str
    items: tuple[str, ...] | None  # the items granted; None: the whole entry
    starts_at: str  # ISO instant
    ends_at: str  # ISO instant: the grant ends exactly then
    state: GrantState
    lifts: str | None = None  # the highest level the grant shows unmasked; None: levels above general-2 masked


@dataclass(frozen=True)
class Access:
    """What one read of an entry by one department may see (cityos.datahub.access): whether it may read at
    all, through which grant, which items in full and which masked. ``refusal`` says why not."""

    allowed: bool
    grant: str | None = None
    shown: tuple[str, ...] = ()
    masked: Mapping[str, str] = field(default_factory=dict)  # item name -> its kind
    refusal: str | None = None
