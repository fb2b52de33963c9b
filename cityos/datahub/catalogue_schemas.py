"""API shapes of the catalogue: what /datahub/catalogue takes and answers (camelCase on the wire)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cityos.datahub.catalogue import ClassNode, EntryVersion, EntryView, ItemSource
from cityos.datahub.entries import FORMATS, UPDATE_CYCLES
from cityos.datahub.models import ITEM_KINDS, Backing, CatalogueEntry, DataItem, Level, OpeningType, SharingType


class Shape(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# --- what the routes take --------------------------------------------------------------------------------


class ItemIn(Shape):
    name: str = Field(..., max_length=128, description="the item's name in the dataset (attribute or column)")
    zh: str = Field(..., max_length=128, description="its Chinese name, e.g. 户籍地址")
    kind: str = Field(..., max_length=32, description=f"what the value is, for masking: {', '.join(ITEM_KINDS)}")
    level: str = Field(..., max_length=64, description="a level name of the scale (GET /datahub/levels)")
    description: str = Field("", max_length=4000)
    source: str | None = Field(None, max_length=128, description="the source department; default: the provider")
    key: str | None = Field(
        None,
        max_length=256,
        description="the item across the catalogue (一数一源), e.g. person.registeredAddress; "
        "default: <code>.<name>, an item of this entry alone",
    )


class BackingIn(Shape):
    entity_types: list[str] = Field(default_factory=list, max_length=50, description="NGSI-LD entity types")
    q: str | None = Field(None, max_length=4000, description="an NGSI-LD q filter narrowing them")
    table: str | None = Field(None, max_length=128, description="or a table the datahub package owns")


class EntryIn(Shape):
    """A catalogue entry as registered or changed (the national catalogue's fields)."""

    code: str = Field(..., max_length=64, description="resource code: prefix, classification code, sequence "
                                                      "(HP-01-02-0001)")  # fmt: skip
    name: str = Field(..., max_length=200)
    abstract: str = Field(..., max_length=4000)
    provider: str = Field(..., max_length=128, description="the providing department")
    classification: list[str] = Field(..., max_length=4, description="类/项/目/细目, from the top")
    format: str = Field(..., max_length=32, description=" | ".join(FORMATS))
    items: list[ItemIn] = Field(..., max_length=500)
    sharing: SharingType
    opening: OpeningType
    update_cycle: str = Field(..., max_length=32, description=" | ".join(UPDATE_CYCLES))
    published: str = Field(..., max_length=10, description="ISO date the entry was published")
    sharing_conditions: str = Field("", max_length=4000, description="required unless sharing is unconditional")
    sharing_method: str = Field("", max_length=32, description="api | file | database | stream")
    opening_conditions: str = Field("", max_length=4000)
    related: list[str] = Field(default_factory=list, max_length=50, description="codes of related entries")
    source_system: str = Field("", max_length=200, description="the system the data comes from (lineage)")
    backing: BackingIn = Field(default_factory=BackingIn)

    def to_entry(self) -> CatalogueEntry:
        return CatalogueEntry(
            code=self.code, name=self.name, abstract=self.abstract, provider=self.provider,
            classification=tuple(self.classification), format=self.format,
            items=tuple(DataItem(name=i.name, zh=i.zh, kind=i.kind, level=i.level, description=i.description,
                                 source=i.source, key=i.key) for i in self.items),
            sharing=self.sharing, opening=self.opening, update_cycle=self.update_cycle, published=self.published,
            sharing_conditions=self.sharing_conditions, sharing_method=self.sharing_method,
            opening_conditions=self.opening_conditions, related=tuple(self.related),
            source_system=self.source_system,
            backing=Backing(tuple(self.backing.entity_types), self.backing.q, self.backing.table),
        )  # fmt: skip


class EntryChange(EntryIn):
    """The entry as it is to be (its next version) and why it changes."""

    reason: str = Field(..., min_length=1, max_length=1000, description="why it changes: kept with the version")


# --- what the routes answer -------------------------------------------------------------------------------


class LevelPublic(Shape):
    name: str
    rank: int = Field(description="the higher, the more protected")
    zh: str
    en: str

    @classmethod
    def of(cls, level: Level) -> LevelPublic:
        return cls(name=level.name, rank=level.rank, zh=level.zh, en=level.en)


class ItemPublic(Shape):
    name: str
    zh: str
    kind: str
    level: str
    description: str
    key: str = Field(description="the item across the catalogue")
    source: str = Field(description="the item's source department (一数一源)")
    source_entry: str | None = Field(description="the entry that registered the source; null: not registered yet")


class BackingPublic(Shape):
    entity_types: list[str]
    q: str | None
    table: str | None


class EntryPublic(Shape):
    code: str
    version: int
    name: str
    abstract: str
    provider: str
    classification: list[str]
    format: str
    level: LevelPublic | None = Field(description="the dataset's level: its most protected item's")
    items: list[ItemPublic]
    sharing: SharingType
    sharing_conditions: str
    sharing_method: str
    opening: OpeningType
    opening_conditions: str
    update_cycle: str
    published: str
    related: list[str]
    source_system: str
    backing: BackingPublic
    updated_at: str | None = None

    @classmethod
    def of(cls, entry: CatalogueEntry, level: Level | None, sources: dict[str, ItemSource],
           updated_at: str | None = None) -> EntryPublic:  # fmt: skip
        items = [
            ItemPublic(name=i.name, zh=i.zh, kind=i.kind, level=i.level, description=i.description,
                       key=entry.key_of(i), source=entry.source_of(i),
                       source_entry=s.code if (s := sources.get(i.name)) else None)
            for i in entry.items
        ]  # fmt: skip
        b = entry.backing
        return cls(
            code=entry.code, version=entry.version, name=entry.name, abstract=entry.abstract,
            provider=entry.provider, classification=list(entry.classification), format=entry.format,
            level=LevelPublic.of(level) if level else None, items=items, sharing=entry.sharing,
            sharing_conditions=entry.sharing_conditions, sharing_method=entry.sharing_method,
            opening=entry.opening, opening_conditions=entry.opening_conditions, update_cycle=entry.update_cycle,
            published=entry.published, related=list(entry.related), source_system=entry.source_system,
            backing=BackingPublic(entity_types=list(b.entity_types), q=b.q, table=b.table), updated_at=updated_at,
        )  # fmt: skip

    @classmethod
    def of_view(cls, view: EntryView) -> EntryPublic:
        return cls.of(view.entry, view.level, view.sources, view.updated_at)


class VersionPublic(Shape):
    version: int
    changed_by: str
    changed_at: str
    reason: str
    entry: EntryPublic = Field(description="the entry as this version had it (sources as registered now)")

    @classmethod
    def of(cls, v: EntryVersion, level: Level | None) -> VersionPublic:
        return cls(version=v.entry.version, changed_by=v.changed_by, changed_at=v.changed_at, reason=v.reason,
                   entry=EntryPublic.of(v.entry, level, {}))  # fmt: skip


class ClassNodePublic(Shape):
    name: str
    path: str = Field(description="the path from the top, '/' between levels: the classification filter")
    count: int = Field(description="entries at this node and below it")
    children: list[ClassNodePublic]

    @classmethod
    def of(cls, node: ClassNode) -> ClassNodePublic:
        return cls(name=node.name, path=node.path, count=node.count, children=[cls.of(c) for c in node.children])


class ItemSourcePublic(Shape):
    key: str
    department: str
    code: str = Field(description="the entry that registered the source")
    item: str = Field(description="the item's name in that entry")
