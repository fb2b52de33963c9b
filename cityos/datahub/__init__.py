"""The public data resource system (公共数据资源体系): the data resource catalogue with one source per data
item, classification levels, grants for named application scenarios enforced on every read, masking, and
a hash-chained, signed audit log of every read of governed data, and data quality rules (YAML) with a pure
evaluator that scores a dataset's records per rule, dimension and dataset.

Other packages use it through what this module exports.
"""

from cityos.datahub.access import decide
from cityos.datahub.audit import (
    Appended,
    AuditRead,
    Seal,
    SubjectRead,
    Verification,
    append,
    chain_length,
    reads_of_subject,
    seal,
    subject_hash,
    verify,
)
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
from cityos.datahub.datasets import Reader, RecordsRead, read_records
from cityos.datahub.errors import EntryExists, EntryNotFound, InvalidEntry, InvalidQualityRules, SecondSource
from cityos.datahub.grants import (
    GrantRecord,
    count_grants,
    get_grant,
    grants_for,
    list_grants,
    move_grant,
    request_grant,
)
from cityos.datahub.levels import dataset_level, level_scale, load_scale
from cityos.datahub.masking import mask_attribute, mask_entity, mask_record, mask_value
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
from cityos.datahub.quality import Failure, QualityReport, RuleOutcome, evaluate
from cityos.datahub.quality_rules import DIMENSIONS, RuleSet, load_rules, parse_rules, read_rules
from cityos.datahub.schemas import GrantMove, GrantPublic, GrantRequest
from cityos.datahub.seed import CatalogueFile, Seeded, load_catalogue, read_catalogue
from cityos.datahub.workflow import MOVES, TRANSITIONS, GrantAction, Narrowing, allowed_moves, in_force, state_at

__all__ = [
    "DIMENSIONS",
    "MOVES",
    "TRANSITIONS",
    "Access",
    "Appended",
    "AuditRead",
    "Backing",
    "CatalogueEntry",
    "CatalogueFile",
    "ClassNode",
    "DataItem",
    "EntryExists",
    "EntryNotFound",
    "EntryVersion",
    "EntryView",
    "Failure",
    "Filters",
    "Grant",
    "GrantAction",
    "GrantMove",
    "GrantPublic",
    "GrantRecord",
    "GrantRequest",
    "GrantState",
    "InvalidEntry",
    "InvalidQualityRules",
    "ItemSource",
    "Level",
    "LevelScale",
    "Narrowing",
    "OpeningType",
    "Page",
    "QualityReport",
    "Reader",
    "RecordsRead",
    "RuleOutcome",
    "RuleSet",
    "Seal",
    "SecondSource",
    "Seeded",
    "SharingType",
    "SubjectRead",
    "Verification",
    "allowed_moves",
    "append",
    "backing_index",
    "chain_length",
    "change_entry",
    "classification_tree",
    "component",
    "count_grants",
    "dataset_level",
    "decide",
    "entry_versions",
    "evaluate",
    "get_entry",
    "get_grant",
    "grants_for",
    "in_force",
    "item_sources",
    "level_scale",
    "list_entries",
    "list_grants",
    "load_catalogue",
    "load_rules",
    "load_scale",
    "mask_attribute",
    "mask_entity",
    "mask_record",
    "mask_value",
    "move_grant",
    "parse_rules",
    "read_catalogue",
    "read_records",
    "read_rules",
    "reads_of_subject",
    "register_entry",
    "request_grant",
    "seal",
    "state_at",
    "subject_hash",
    "verify",
    "view_entry",
]
