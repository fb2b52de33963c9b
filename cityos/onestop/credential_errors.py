"""Errors of e-certificates (电子证照), office seals (电子印章) and their status lists."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class InvalidCredentialRequest(CityError):
    """A certificate type that is not in the catalogue, a claim missing or of the wrong type: the detail names
    the field."""

    type = PROBLEM_BASE + "invalid-credential-request"
    title = "Invalid e-certificate request"
    status = 400


class CredentialNotFound(CityError):
    type = PROBLEM_BASE + "credential-not-found"
    title = "No such e-certificate"
    status = 404


class StatusMoveRefused(CityError):
    """A revoke, suspend or reinstate the credential's state does not allow: the detail names both."""

    type = PROBLEM_BASE + "credential-status-refused"
    title = "Status change not allowed in this state"
    status = 409


class NotTheIssuer(CityError):
    type = PROBLEM_BASE + "credential-not-issuer"
    title = "Not the credential's issuing office"
    status = 403


class SealSecretMissing(CityError):
    """No CITYOS_SEAL_SECRET outside demo mode: the seal keys are neither made nor opened without it."""

    type = PROBLEM_BASE + "seal-secret-missing"
    title = "The office seals' secret is not set"
    status = 503


class SealUnreadable(CityError):
    """A seal key the secret does not open: CITYOS_SEAL_SECRET changed since the key was made."""

    type = PROBLEM_BASE + "seal-unreadable"
    title = "An office seal cannot be opened"
    status = 503
