"""The public data resource system (公共数据资源体系): the data resource catalogue with one source per data
item, classification levels, grants for named application scenarios enforced on every read, masking, and
a hash-chained, signed audit log of every read of governed data, and data quality rules (YAML) with a pure
evaluator that scores a dataset's records per rule, dimension and dataset, run on demand, after each feed
and on a schedule, with scores per department; departments' feeds into the persons
base registry, each item from its one source, others' disagreeing values kept as conflicts.

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
    index_subjects,
    reads_of_subject,
    seal,
    seal_if_due,
    subject_hash,
    verify,
)
from cityos.datahub.audit_keys import rotate as rotate_seal_key
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
from cityos.datahub.errors import (
    AuditKeyInvalid,
    EntryExists,
    EntryNotFound,
    FeedRunNotFound,
    InvalidEntry,
    InvalidFeed,
    InvalidQualityRules,
    QualityReferenceMissing,
    QualityRulesNotFound,
    QualityRunNotFound,
    SecondSource,
)
from cityos.datahub.feed_files import FeedFile, read_feed_file
from cityos.datahub.feeds import Conflict, FeedRun, Rejection, feed_plan, feed_runs, get_feed_run, person_id, run_feed
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
from cityos.datahub.objection_clock import WorkingDays, install_working_days
from cityos.datahub.objection_workflow import ObjectionAction, ObjectionState
from cityos.datahub.objections import (
    Notice,
    ObjectionRecord,
    correction_notices,
    count_objections,
    get_objection,
    list_objections,
    move_objection,
    submit_objection,
)
from cityos.datahub.quality import Failure, QualityReport, RuleOutcome, evaluate
from cityos.datahub.quality_ops import DatasetScore, DepartmentScore
from cityos.datahub.quality_ops import run_due as run_due_quality
from cityos.datahub.quality_ops import scores as quality_scores
from cityos.datahub.quality_ops import start_run as start_quality_run
from cityos.datahub.quality_rules import DIMENSIONS, RuleSet, load_rules, parse_rules, read_rules
from cityos.datahub.quality_runs import Origin as QualityOrigin
from cityos.datahub.quality_runs import (
    QualityRun,
    RuleResult,
    get_quality_run,
    quality_runs,
    run_failures,
    run_quality,
)
from cityos.datahub.schemas import GrantMove, GrantPublic, GrantRequest
from cityos.datahub.seed import CatalogueFile, Seeded, load_catalogue, read_catalogue
from cityos.datahub.workflow import MOVES, TRANSITIONS, GrantAction, Narrowing, allowed_moves, in_force, state_at

__all__ = [
    "DIMENSIONS",
    "MOVES",
    "TRANSITIONS",
    "Access",
    "Appended",
    "AuditKeyInvalid",
    "AuditRead",
    "Backing",
    "CatalogueEntry",
    "CatalogueFile",
    "ClassNode",
    "Conflict",
    "DataItem",
    "DatasetScore",
    "DepartmentScore",
    "EntryExists",
    "EntryNotFound",
    "EntryVersion",
    "EntryView",
    "Failure",
    "FeedFile",
    "FeedRun",
    "FeedRunNotFound",
    "Filters",
    "Grant",
    "GrantAction",
    "GrantMove",
    "GrantPublic",
    "GrantRecord",
    "GrantRequest",
    "GrantState",
    "InvalidEntry",
    "InvalidFeed",
    "InvalidQualityRules",
    "ItemSource",
    "Level",
    "LevelScale",
    "Narrowing",
    "Notice",
    "ObjectionAction",
    "ObjectionRecord",
    "ObjectionState",
    "OpeningType",
    "Page",
    "QualityOrigin",
    "QualityReferenceMissing",
    "QualityReport",
    "QualityRulesNotFound",
    "QualityRun",
    "QualityRunNotFound",
    "Reader",
    "RecordsRead",
    "Rejection",
    "RuleOutcome",
    "RuleResult",
    "RuleSet",
    "Seal",
    "SecondSource",
    "Seeded",
    "SharingType",
    "SubjectRead",
    "Verification",
    "WorkingDays",
    "allowed_moves",
    "append",
    "backing_index",
    "chain_length",
    "change_entry",
    "classification_tree",
    "component",
    "correction_notices",
    "count_grants",
    "count_objections",
    "dataset_level",
    "decide",
    "entry_versions",
    "evaluate",
    "feed_plan",
    "feed_runs",
    "get_entry",
    "get_feed_run",
    "get_grant",
    "get_objection",
    "get_quality_run",
    "grants_for",
    "in_force",
    "index_subjects",
    "install_working_days",
    "item_sources",
    "level_scale",
    "list_entries",
    "list_grants",
    "list_objections",
    "load_catalogue",
    "load_rules",
    "load_scale",
    "mask_attribute",
    "mask_entity",
    "mask_record",
    "mask_value",
    "move_grant",
    "move_objection",
    "parse_rules",
    "person_id",
    "quality_runs",
    "quality_scores",
    "read_catalogue",
    "read_feed_file",
    "read_records",
    "read_rules",
    "reads_of_subject",
    "register_entry",
    "request_grant",
    "rotate_seal_key",
    "run_due_quality",
    "run_failures",
    "run_feed",
    "run_quality",
    "seal",
    "seal_if_due",
    "start_quality_run",
    "state_at",
    "subject_hash",
    "submit_objection",
    "verify",
    "view_entry",
]
