"""Errors of the data resource system."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError


class EntryNotFound(CityError):
    type = PROBLEM_BASE + "catalogue-entry-not-found"
    title = "Catalogue entry not found"
    status = 404


class InvalidEntry(CityError):
    """An entry or a data item the catalogue cannot take; the detail names the field and what is allowed."""

    type = PROBLEM_BASE + "invalid-catalogue-entry"
    title = "Invalid catalogue entry"
    status = 400


class SecondSource(CityError):
    """A data item registered by a second department: each item has one source (一数一源); the detail names it."""

    type = PROBLEM_BASE + "second-source"
    title = "The data item has its source already"
    status = 409


class GrantNotFound(CityError):
    type = PROBLEM_BASE + "grant-not-found"
    title = "Grant not found"
    status = 404


class GrantMoveRefused(CityError):
    """A grant workflow move the transition table does not allow now; the detail names the allowed moves."""

    type = PROBLEM_BASE + "grant-move-refused"
    title = "Grant move refused"
    status = 409


class NoGrant(CityError):
    """A read of governed data outside the reader's grants; the detail names the catalogue code and what
    grant would allow it."""

    type = PROBLEM_BASE + "no-grant"
    title = "No grant for this data"
    status = 403


class AuditChainBroken(CityError):
    """The audit chain does not verify; the detail names the first record that was edited, removed or moved."""

    type = PROBLEM_BASE + "audit-chain-broken"
    title = "Audit chain broken"
    status = 500


class AuditKeyInvalid(CityError):
    """The configured audit seal key cannot be read or is not an Ed25519 private key; the detail names the file."""

    type = PROBLEM_BASE + "audit-key-invalid"
    title = "Audit seal key invalid"
    status = 500
