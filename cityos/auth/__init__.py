"""Identity and access (城市数治): tenants, principals, roles, bearer tokens, staff accounts, and the one
request context every route resolves (who calls, for which tenant, within which scope).

Other packages use auth through what this module exports.
"""

from cityos.auth.component import component
from cityos.auth.deps import (
    TENANT_HEADER,
    PublicContext,
    RequestContext,
    allow,
    context_of,
    guarded,
    public,
    route_guard,
    signed_in,
)
from cityos.auth.models import EVERYTHING, PERMISSIONS, ROLES, SUBJECT_ROLES, Principal, Scope, Subject, allows
from cityos.auth.schemas import ProfilePublic
from cityos.auth.service import (
    authenticate,
    authorize,
    create_account,
    create_principal,
    create_token,
    ensure_tenant,
    forget_tokens,
    issue_token,
    profile,
    set_password,
    sign_in_subject,
    tenant_exists,
)

__all__ = [
    "EVERYTHING",
    "PERMISSIONS",
    "ROLES",
    "SUBJECT_ROLES",
    "TENANT_HEADER",
    "Principal",
    "ProfilePublic",
    "PublicContext",
    "RequestContext",
    "Scope",
    "Subject",
    "allow",
    "allows",
    "authenticate",
    "authorize",
    "component",
    "context_of",
    "create_account",
    "create_principal",
    "create_token",
    "ensure_tenant",
    "forget_tokens",
    "guarded",
    "issue_token",
    "profile",
    "public",
    "route_guard",
    "set_password",
    "sign_in_subject",
    "signed_in",
    "tenant_exists",
]
