"""One-stop services (一网通办, issues 20 and 21): service items (事项) with their guides, 一件事 bundles with
one merged form, applications on the legal clock, once-only evidence fetched from the base registries with
the applicant's consent (两个免于提交), e-certificates (电子证照) issued as W3C Verifiable Credentials, and 好差评
ratings with their follow-ups (``satisfaction_figures``: the 好评率 and its counts).

Other packages use it through what this module exports.
"""

from cityos.onestop.application_catalogue import Resolver, install_catalogue, static_catalogue
from cityos.onestop.applications import ItemApplication, Submission
from cityos.onestop.assistant import Answer as AssistantAnswer
from cityos.onestop.assistant import ask as ask_assistant
from cityos.onestop.catalogue import Question
from cityos.onestop.catalogue_errors import (
    BundleNotFound,
    InvalidAnswers,
    InvalidServiceData,
    ItemNotFound,
    ItemVersionConflict,
)
from cityos.onestop.component import component
from cityos.onestop.credential_verify import Check, OpenedList, Seal, Verification, open_list
from cityos.onestop.credential_verify import verify as verify_credential
from cityos.onestop.evidence import (
    EvidenceSummary,
    EvidenceTotals,
    WalletLookup,
    evidence_summary,
    evidence_totals,
)
from cityos.onestop.figures import ServiceFigures, service_figures
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
from cityos.onestop.rating_figures import satisfaction_figures
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
    "Applicant",
    "ApplicantKind",
    "ApplicationState",
    "AssistantAnswer",
    "Bundle",
    "BundleItem",
    "BundleNotFound",
    "Check",
    "EvidenceSource",
    "EvidenceSummary",
    "EvidenceTotals",
    "Form",
    "HandlingMode",
    "InvalidAnswers",
    "InvalidServiceData",
    "IssueRequest",
    "IssuedCredential",
    "ItemApplication",
    "ItemNotFound",
    "ItemVersion",
    "ItemVersionConflict",
    "Material",
    "OpenedList",
    "Question",
    "Resolver",
    "Seal",
    "ServiceFigures",
    "ServiceItem",
    "Submission",
    "Verification",
    "WalletLookup",
    "applicable_items",
    "ask_assistant",
    "bundle",
    "bundles",
    "component",
    "credential_wallet",
    "evidence_summary",
    "evidence_totals",
    "form_for",
    "get_credential",
    "holder_id",
    "install_catalogue",
    "issue_credential",
    "issue_many",
    "item",
    "item_version",
    "items",
    "list_url",
    "open_list",
    "publish_item",
    "published_seals",
    "reinstate",
    "revoke",
    "satisfaction_figures",
    "seals_ring",
    "seed_items",
    "service_figures",
    "static_catalogue",
    "status_list_credential",
    "suspend",
    "validate_answers",
    "verify_credential",
    "verify_credential_here",
    "visible_questions",
]
