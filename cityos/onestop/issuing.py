"""统一发证: an approved application's e-certificate issued into its applicant's wallet, sealed by the
department that decided it, and the application moved to certificate-issued. The clerk gives the claims the
certificate type asks for (its JSON Schema: GET /onestop/schemas/{type}.json); an item whose certificate is not
issued as an e-certificate (a CN- type, see data/items.yaml) moves on with no credential."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cityos.onestop import applications, certificate_types, wallet
from cityos.onestop.applications import Actor, ItemApplication
from cityos.onestop.credential_errors import InvalidCredentialRequest
from cityos.onestop.evidence import WalletLookup
from cityos.onestop.items import item
from cityos.onestop.models import ApplicantKind
from cityos.onestop.workflow import Action
from cityos.runtime import Runtime


@dataclass(frozen=True)
class Issued:
    """The application after the action, and the e-certificate issued (None: the item's certificate is not an
    e-certificate cityos issues)."""

    application: ItemApplication
    credential: wallet.IssuedCredential | None


def issue_certificate(rt: Runtime, tenant: str, app_id: str, actor: Actor, claims: Mapping[str, Any] | None,
                      *, by: str) -> Issued:  # fmt: skip
    """Issue the approved application's certificate with ``claims`` and record it on the application (the
    action issue-certificate, allowed by the transition table before anything is signed)."""
    app = applications.get(rt, tenant, app_id, actor)
    applications.check_action(app, Action.ISSUE_CERTIFICATE, actor)  # refused (409/403) before a seal is used
    code = item(rt, app.item_code, app.item_version, tenant=tenant).certificate_type
    credential = None
    if code is not None and code in certificate_types.catalogue():
        if claims is None:
            raise InvalidCredentialRequest(f"claims: the {code} certificate needs its claims (GET /onestop/schemas/"
                                           f"{code}.json names them)", field="claims")  # fmt: skip
        holder = wallet.holder_id(rt, app.applicant.kind, app.applicant.key)
        credential = wallet.issue(rt, code, holder, claims, app.department, tenant=tenant, by=by)
    reason = f"电子证照 {credential.id}" if credential is not None else None
    done = applications.act(rt, tenant, app_id, Action.ISSUE_CERTIFICATE, actor, reason)
    return Issued(done, credential)


def wallet_lookup(rt: Runtime, tenant: str, kind: ApplicantKind) -> WalletLookup:
    """The applicant's wallet as once-only evidence reads it: the newest active credential of a type that the
    applicant (its ID number or credit code; ``kind`` person or enterprise) holds, issued by the type's own office
    and still within its validity."""

    def lookup(holder: str, certificate_type: str) -> dict[str, Any] | None:
        held = wallet.wallet(rt, wallet.holder_id(rt, kind, holder), tenant=tenant)
        office = certificate_types.catalogue().get(certificate_type)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        found = next((c for c in held if c.certificate_type == certificate_type and c.state == "active"
                      and office is not None and c.issuer == office.department
                      and (c.valid_until is None or c.valid_until > now)), None)  # fmt: skip
        return found.document if found is not None else None

    return lookup
