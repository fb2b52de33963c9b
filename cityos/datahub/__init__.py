"""The public data resource system (公共数据资源体系): the data resource catalogue with one source per data
item, classification levels, grants for named application scenarios enforced on every read, masking, and
a hash-chained, signed audit log of every read of governed data.

Other packages use it through what this module exports.
"""

from cityos.datahub.catalogue import (
    ClassNode,
    EntryVersion,
    EntryView,
    ItemSource,
    Page,
    backing_index,
    change_entry,
    classification_tree,
    entry_versions,
    get_entry,
    item_sources,
    list_entries,
    register_entry,
    view_entry,
)
from cityos.datahub.catalogue_store import Filters
from cityos.datahub.component import component
from cityos.datahub.errors import EntryExists, EntryNotFound, InvalidEntry, SecondSource
from cityos.datahub.levels import dataset_level, level_scale
from cityos.datahub.models import (
    Access,
    Backing,
    CatalogueEntry,
    DataItem,
    Grant,
    GrantState,
    Level,
    LevelScale,
    OpeningType,
    SharingType,
)
from cityos.datahub.seed import CatalogueFile, Seeded, load_catalogue, read_catalogue

__all__ = [
    "Access",
    "Backing",
    "CatalogueEntry",
    "CatalogueFile",
    "ClassNode",
    "DataItem",
    "EntryExists",
    "EntryNotFound",
    "EntryVersion",
    "EntryView",
    "Filters",
    "Grant",
    "GrantState",
    "InvalidEntry",
    "ItemSource",
    "Level",
    "LevelScale",
    "OpeningType",
    "Page",
    "SecondSource",
    "Seeded",
    "SharingType",
    "backing_index",
    "change_entry",
    "classification_tree",
    "component",
    "dataset_level",
    "entry_versions",
    "get_entry",
    "item_sources",
    "level_scale",
    "list_entries",
    "load_catalogue",
    "read_catalogue",
    "register_entry",
    "view_entry",
]
