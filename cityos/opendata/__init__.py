"""The open data portal (公共数据开放, issue 19): the de-identification gate that every release of a dataset
passes before it is opened (direct identifiers removed, quasi-identifiers generalised per a policy declared
as data, k-anonymity and small-cell checks), and the releases kept with their checks.

Other packages use it through what this module exports.
"""

from cityos.opendata.component import component
from cityos.opendata.deidentify import (
    Action,
    GateResult,
    Group,
    SmallCell,
    Treatment,
    content_hash,
    deidentify,
    generaliser,
    k_anonymity,
    small_cells,
)
from cityos.opendata.gate_errors import InvalidPolicy
from cityos.opendata.gate_policy import EntryPolicy, Policy, Rule, Subject, load_policy, parse_policy, policy_for
from cityos.opendata.releases import CheckedRelease, Release, check_release, latest_release, releases

__all__ = [
    "Action",
    "CheckedRelease",
    "EntryPolicy",
    "GateResult",
    "Group",
    "InvalidPolicy",
    "Policy",
    "Release",
    "Rule",
    "SmallCell",
    "Subject",
    "Treatment",
    "check_release",
    "component",
    "content_hash",
    "deidentify",
    "generaliser",
    "k_anonymity",
    "latest_release",
    "load_policy",
    "parse_policy",
    "policy_for",
    "releases",
    "small_cells",
]
