"""One-stop services (一网通办, issues 20 and 21): service items (事项) with their guides, 一件事 bundles with
one merged form, applications on the legal clock, once-only evidence fetched from the base registries with
the applicant's consent (两个免于提交), and e-certificates (电子证照) issued as W3C Verifiable Credentials.

Other packages use it through what this module exports.
"""

from cityos.onestop.application_catalogue import Resolver, install_catalogue, static_catalogue
from cityos.onestop.applications import ItemApplication, Submission
from cityos.onestop.catalogue import Question
from cityos.onestop.catalogue_errors import (
    BundleNotFound,
    InvalidAnswers,
    InvalidServiceData,
    ItemNotFound,
    ItemVersionConflict,
)
from cityos.onestop.component import component
from cityos.onestop.evidence import (
    EvidenceSummary,
    EvidenceTotals,
    WalletLookup,
    evidence_summary,
    evidence_totals,
)
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
    Applicant,
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
    "Applicant",
    "ApplicantKind",
    "ApplicationState",
    "Bundle",
    "BundleItem",
    "BundleNotFound",
    "EvidenceSource",
    "EvidenceSummary",
    "EvidenceTotals",
    "Form",
    "HandlingMode",
    "InvalidAnswers",
    "InvalidServiceData",
    "ItemApplication",
    "ItemNotFound",
    "ItemVersion",
    "ItemVersionConflict",
    "Material",
    "Question",
    "Resolver",
    "ServiceItem",
    "Submission",
    "WalletLookup",
    "applicable_items",
    "bundle",
    "bundles",
    "component",
    "evidence_summary",
    "evidence_totals",
    "form_for",
    "install_catalogue",
    "item",
    "item_version",
    "items",
    "publish_item",
    "seed_items",
    "static_catalogue",
    "validate_answers",
    "visible_questions",
]
