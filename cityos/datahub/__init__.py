"""The public data resource system (公共数据资源体系): the data resource catalogue with one source per data
item, classification levels, grants for named application scenarios enforced on every read, masking, and
a hash-chained, signed audit log of every read of governed data.

Other packages use it through what this module exports.
"""

from cityos.datahub.component import component
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

__all__ = [
    "Access",
    "Backing",
    "CatalogueEntry",
    "DataItem",
    "Grant",
    "GrantState",
    "Level",
    "LevelScale",
    "OpeningType",
    "SharingType",
    "component",
]
