"""One-stop services (一网通办, issues 20 and 21): service items (事项) with their guides, 一件事 bundles with
one merged form, applications on the legal clock, once-only evidence fetched from the base registries with
the applicant's consent (两个免于提交), and e-certificates (电子证照) issued as W3C Verifiable Credentials.

Other packages use it through what this module exports.
"""

from cityos.onestop.application_catalogue import Resolver, install_catalogue, static_catalogue
from cityos.onestop.applications import Applicant, ItemApplication, Submission
from cityos.onestop.component import component
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
    "Applicant",
    "ApplicantKind",
    "ApplicationState",
    "Bundle",
    "BundleItem",
    "EvidenceSource",
    "HandlingMode",
    "ItemApplication",
    "Material",
    "Resolver",
    "ServiceItem",
    "Submission",
    "component",
    "install_catalogue",
    "static_catalogue",
]
