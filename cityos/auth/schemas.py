"""API shapes of the auth package: what logging in takes, and who a token belongs to."""

from __future__ import annotations

from pydantic import BaseModel, Field

from cityos.auth.models import MAX_LOGIN_HOURS
from cityos.core.iris import Name


class LoginCreate(BaseModel):
    username: Name = Field(..., min_length=1, max_length=128)
    password: str = Field(..., min_length=1, max_length=4096)
    hours: int | None = Field(None, ge=1, le=MAX_LOGIN_HOURS)


class ProfilePublic(BaseModel):
    """Who a principal is and what it may do, for a client deciding what to offer."""

    name: str
    displayName: str = Field(..., description="The name to show: the account's display name, else its name.")
    kind: str = Field(..., description="department, staff, device, service, citizen or enterprise.")
    role: str
    department: str | None = Field(..., description="The one department it acts for; null when not limited to one.")
    tenant: str | None = Field(..., description="The one tenant it is limited to; null for every tenant.")
    permissions: list[str] = Field(..., description="The actions its role allows, sorted ('*' too for admin).")


class LoginPublic(BaseModel):
    """A bearer token for the account, and who it is."""

    token: str = Field(..., description="Send it as 'Authorization: Bearer <token>'.")
    expiresAt: str
    principal: ProfilePublic
