"""The open data portal (公共数据开放): what the data resource catalogue marks 无条件开放 or 有条件开放,
published as CKAN datasets through a CKAN-compatible Action API (``/api/3/action/...``) that ``ckanapi``
drives unmodified; each dataset shows only the items whose classification level allows opening.

Other packages use it through what this module exports.
"""

from cityos.opendata.component import component
from cityos.opendata.mapping import PERSONAL_KINDS, item_opens, open_items, to_package
from cityos.opendata.models import Column, Group, License, Organization, Package, Resource
from cityos.opendata.service import Snapshot, snapshot

__all__ = [
    "PERSONAL_KINDS",
    "Column",
    "Group",
    "License",
    "Organization",
    "Package",
    "Resource",
    "Snapshot",
    "component",
    "item_opens",
    "open_items",
    "snapshot",
    "to_package",
]
