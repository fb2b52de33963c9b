"""The open data portal (公共数据开放, issue 19): what the data resource catalogue marks 无条件开放 or 有条件开放,
published as CKAN datasets through a CKAN-compatible Action API (``/api/3/action/...``) that ``ckanapi``
drives unmodified, each dataset showing only the items whose classification level allows opening; and the
de-identification gate every release of a dataset passes before it is opened (direct identifiers removed,
quasi-identifiers generalised per a policy declared as data, k-anonymity and small-cell checks), the
releases kept with their checks.

Other packages use it through what this module exports.
"""

from cityos.opendata.application_errors import KeyRefused, ReleaseBlocked
from cityos.opendata.application_workflow import AppAction, AppState, Decision
from cityos.opendata.applications import Applicant, ApplicantKind, Application, Applied, apply, check_key, decide
from cityos.opendata.component import component
from cityos.opendata.deidentify import (
    Action,
    GateResult,
    SmallCell,
    Treatment,
    content_hash,
    deidentify,
    generaliser,
    k_anonymity,
    small_cells,
)
from cityos.opendata.deidentify import Group as Combination  # a quasi-identifier combination (CKAN has Group)
from cityos.opendata.downloads import Download, download, download_path, formats_of
from cityos.opendata.gate_errors import InvalidPolicy
from cityos.opendata.gate_policy import EntryPolicy, Policy, Rule, Subject, load_policy, parse_policy, policy_for
from cityos.opendata.mapping import PERSONAL_KINDS, item_opens, open_items, to_package
from cityos.opendata.models import Column, Group, License, Organization, Package, Resource
from cityos.opendata.releases import CheckedRelease, Release, check_release, latest_release, releases
from cityos.opendata.service import Snapshot, snapshot
from cityos.opendata.serving import Gate, gate

__all__ = [
    "PERSONAL_KINDS",
    "Action",
    "AppAction",
    "AppState",
    "Applicant",
    "ApplicantKind",
    "Application",
    "Applied",
    "CheckedRelease",
    "Column",
    "Combination",
    "Decision",
    "Download",
    "EntryPolicy",
    "Gate",
    "GateResult",
    "Group",
    "InvalidPolicy",
    "KeyRefused",
    "License",
    "Organization",
    "Package",
    "Policy",
    "Release",
    "ReleaseBlocked",
    "Resource",
    "Rule",
    "SmallCell",
    "Snapshot",
    "Subject",
    "Treatment",
    "apply",
    "check_key",
    "check_release",
    "component",
    "content_hash",
    "decide",
    "deidentify",
    "download",
    "download_path",
    "formats_of",
    "gate",
    "generaliser",
    "item_opens",
    "k_anonymity",
    "latest_release",
    "load_policy",
    "open_items",
    "parse_policy",
    "policy_for",
    "releases",
    "small_cells",
    "snapshot",
    "to_package",
]
