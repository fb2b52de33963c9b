"""The tables of one-stop services: each part declares its own in a ``*_tables`` module imported here, so
that the migrations' metadata holds them all."""

from __future__ import annotations

from cityos.onestop import (
    application_tables,  # noqa: F401  (submissions, applications, their history)
    credential_tables,  # noqa: F401  (e-certificates, seals)
    evidence_tables,  # noqa: F401  (once-only evidence)
    items_tables,  # noqa: F401  (service item versions)
    policy_tables,  # noqa: F401  (policy matching: runs, notices, grants)
)
