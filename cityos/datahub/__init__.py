"""The public data resource system (公共数据资源体系): the data resource catalogue with one source per data
item, classification levels, grants for named application scenarios enforced on every read, masking, and
a hash-chained, signed audit log of every read of governed data.

Other packages use it through what this module exports.
"""

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
from cityos.datahub.component import component
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

__all__ = [
    "Access",
    "Appended",
    "AuditRead",
    "Backing",
    "CatalogueEntry",
    "DataItem",
    "Grant",
    "GrantState",
    "Level",
    "LevelScale",
    "OpeningType",
    "Seal",
    "SharingType",
    "SubjectRead",
    "Verification",
    "append",
    "chain_length",
    "component",
    "mask_attribute",
    "mask_entity",
    "mask_record",
    "mask_value",
    "reads_of_subject",
    "seal",
    "subject_hash",
    "verify",
]
