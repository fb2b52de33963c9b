"""One-stop services (一网通办, issues 20 and 21): service items (事项) with their guides, 一件事 bundles with
one merged form, applications on the legal clock, once-only evidence fetched from the base registries with
the applicant's consent (两个免于提交), and e-certificates (电子证照) issued as W3C Verifiable Credentials.

Other packages use it through what this module exports.
"""

from cityos.onestop.application_catalogue import Resolver, install_catalogue, static_catalogue
from cityos.onestop.applications import ItemApplication, Submission
from cityos.onestop.component import component
from cityos.onestop.evidence import (
    EvidenceSummary,
    EvidenceTotals,
    WalletLookup,
    evidence_summary,
    evidence_totals,
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
    "EvidenceSource",
    "EvidenceSummary",
    "EvidenceTotals",
    "HandlingMode",
    "ItemApplication",
    "Material",
    "Resolver",
    "ServiceItem",
    "Submission",
    "WalletLookup",
    "component",
    "evidence_summary",
    "evidence_totals",
    "install_catalogue",
    "static_catalogue",
]
