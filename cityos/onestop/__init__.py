"""One-stop services (一网通办, issues 20 and 21): service items (事项) with their guides, 一件事 bundles with
one merged form, applications on the legal clock, once-only evidence fetched from the base registries with
the applicant's consent (两个免于提交), and e-certificates (电子证照) issued as W3C Verifiable Credentials.

Other packages use it through what this module exports.
"""

from cityos.onestop.component import component
from cityos.onestop.credential_verify import Check, OpenedList, Seal, Verification, open_list
from cityos.onestop.credential_verify import verify as verify_credential
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
from cityos.onestop.seals import published as published_seals
from cityos.onestop.seals import ring as seals_ring
from cityos.onestop.wallet import (
    IssuedCredential,
    IssueRequest,
    holder_id,
    issue_many,
    list_url,
    reinstate,
    revoke,
    status_list_credential,
    suspend,
)
from cityos.onestop.wallet import get as get_credential
from cityos.onestop.wallet import issue as issue_credential
from cityos.onestop.wallet import verify_here as verify_credential_here
from cityos.onestop.wallet import wallet as credential_wallet

__all__ = [
    "ApplicantKind",
    "ApplicationState",
    "Bundle",
    "BundleItem",
    "Check",
    "EvidenceSource",
    "HandlingMode",
    "IssueRequest",
    "IssuedCredential",
    "Material",
    "OpenedList",
    "Seal",
    "ServiceItem",
    "Verification",
    "component",
    "credential_wallet",
    "get_credential",
    "holder_id",
    "issue_credential",
    "issue_many",
    "list_url",
    "open_list",
    "published_seals",
    "reinstate",
    "revoke",
    "seals_ring",
    "status_list_credential",
    "suspend",
    "verify_credential",
    "verify_credential_here",
]
