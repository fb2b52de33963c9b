"""The open data portal's model (公共数据开放): what the catalogue marks for opening, as CKAN sees a data
portal: datasets (packages) with their organisation (the providing department), groups (themes), tags, a
licence and one resource of records. Plain frozen dataclasses, free of HTTP and SQL; :mod:`mapping` makes
them from catalogue entries, :mod:`ckan` renders them as the Action API answers them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Organization:
    """A providing department as a CKAN organisation: its id in the catalogue and its Chinese name."""

    name: str  # e.g. "ecology-environment"
    title: str  # e.g. 区生态环境局 (the id when the catalogue's departments do not name it)


@dataclass(frozen=True)
class Group:
    """A theme (主题) as a CKAN group, from the classification code's first level (HP-06 -> 生态环境)."""

    code: str  # "06"
    name: str  # stable slug, e.g. "environment"
    title: str  # 生态环境
    en: str


@dataclass(frozen=True)
class License:
    id: str
    title: str
    url: str
    od_conformance: str
    osd_conformance: str

    @property
    def is_open(self) -> bool:
        return self.od_conformance == "approved"


@dataclass(frozen=True)
class Column:
    """One open item as a datastore field: its name, CKAN type, Chinese label and description."""

    id: str
    type: str  # "text", "numeric", "json"
    label: str
    notes: str = ""


@dataclass(frozen=True)
class Resource:
    """The one resource of a dataset: its records in the datastore, downloadable at ``path``."""

    id: str  # stable: made from the resource code
    name: str
    description: str
    path: str  # the download URL's path, e.g. /opendata/datasets/hp-06-01-0001/records.csv
    format: str
    mimetype: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Package:
    """One open dataset (a CKAN package) made from one catalogue entry."""

    id: str  # stable: made from the resource code
    name: str  # the resource code as a lowercase slug
    code: str  # the resource code, e.g. HP-06-01-0001
    title: str  # the entry's Chinese name
    notes: str  # its abstract
    organization: Organization
    groups: tuple[Group, ...]
    tags: tuple[str, ...]  # the classification path, then the open items' Chinese names
    license_id: str
    opening: str  # "unconditional" (无条件开放) or "conditional" (有条件开放)
    update_cycle: str
    open_conditions: str
    created: str  # ISO: the entry's publish date
    modified: str  # ISO: when its current version was made (never before ``created``)
    version: int
    open_level: str  # the highest classification level an open item may have
    withheld: tuple[str, ...]  # the Chinese names of the items not opened
    resource: Resource
    entities: bool  # its records are data hub entities (NGSI-LD q filters them); else a table's rows
    datastore: bool  # its records are served (the entry is backed by entity types or a table)

    @property
    def conditional(self) -> bool:
        return self.opening == "conditional"
