"""The status of an issued e-certificate as a transition table: the issuing office suspends (暂停), reinstates
(恢复) or revokes (撤销/吊销) it; a revoked credential stays revoked. One function judges every move."""

from __future__ import annotations

from typing import Literal

CredentialState = Literal["active", "suspended", "revoked"]
StatusAction = Literal["revoke", "suspend", "reinstate"]

TRANSITIONS: dict[tuple[CredentialState, StatusAction], CredentialState] = {
    ("active", "suspend"): "suspended",
    ("active", "revoke"): "revoked",
    ("suspended", "reinstate"): "active",
    ("suspended", "revoke"): "revoked",
}
# the purpose of the status list each state sets a bit in
LISTED: dict[str, tuple[CredentialState, ...]] = {"revocation": ("revoked",), "suspension": ("suspended",)}


def next_state(state: CredentialState, action: StatusAction) -> CredentialState | None:
    """The state ``action`` moves a credential in ``state`` to; None when the table does not allow it."""
    return TRANSITIONS.get((state, action))


def allowed(state: CredentialState) -> list[StatusAction]:
    return [a for (s, a) in TRANSITIONS if s == state]
