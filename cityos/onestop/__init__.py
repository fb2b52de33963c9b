"""One-stop services (一网通办, issues 20 and 21): service items (事项) with their guides, 一件事 bundles with
one merged form, applications on the legal clock, once-only evidence fetched from the base registries with
the applicant's consent (两个免于提交), and e-certificates (电子证照) issued as W3C Verifiable Credentials.

Other packages use it through what this module exports.
"""

from cityos.onestop.catalogue import Question
from cityos.onestop.catalogue_errors import (
    BundleNotFound,
    InvalidAnswers,
    InvalidServiceData,
    ItemNotFound,
    ItemVersionConflict,
)
from cityos.onestop.component import component
from cityos.onestop.forms import Form, applicable_items, form_for, validate_answers, visible_questions
from cityos.onestop.items import (
    ItemVersion,
    bundle,
    bundles,
    item,
    item_version,
    items,
    publish_item,
    seed_items,
)
from cityos.onestop.models import (
    ApplicantKind,
    ApplicationState,
    Bundle,
    BundleItem,
    EvidenceSource,
    HandlingMode,
    Material,
    ServiceItem,
)

__all__ = [
    "ApplicantKind",
    "ApplicationState",
    "Bundle",
    "BundleItem",
    "BundleNotFound",
    "EvidenceSource",
    "Form",
    "HandlingMode",
    "InvalidAnswers",
    "InvalidServiceData",
    "ItemNotFound",
    "ItemVersion",
    "ItemVersionConflict",
    "Material",
    "Question",
    "ServiceItem",
    "applicable_items",
    "bundle",
    "bundles",
    "component",
    "form_for",
    "item",
    "item_version",
    "items",
    "publish_item",
    "seed_items",
    "validate_answers",
    "visible_questions",
]
