"""The public data resource system (公共数据资源体系): the data resource catalogue with one source per data
item, classification levels, grants for named application scenarios enforced on every read, masking, and
a hash-chained, signed audit log of every read of governed data.

Other packages use it through what this module exports.
"""

from cityos.datahub.access import decide
from cityos.datahub.component import component
from cityos.datahub.grants import (
    GrantRecord,
    default_scale,
    get_grant,
    grants_for,
    list_grants,
    move_grant,
    request_grant,
)
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
from cityos.datahub.schemas import GrantMove, GrantPublic, GrantRequest
from cityos.datahub.workflow import MOVES, TRANSITIONS, GrantAction, Narrowing, allowed_moves, in_force, state_at

__all__ = [
    "MOVES",
    "TRANSITIONS",
    "Access",
    "Backing",
    "CatalogueEntry",
    "DataItem",
    "Grant",
    "GrantAction",
    "GrantMove",
    "GrantPublic",
    "GrantRecord",
    "GrantRequest",
    "GrantState",
    "Level",
    "LevelScale",
    "Narrowing",
    "OpeningType",
    "SharingType",
    "allowed_moves",
    "component",
    "decide",
    "default_scale",
    "get_grant",
    "grants_for",
    "in_force",
    "list_grants",
    "move_grant",
    "request_grant",
    "state_at",
]
