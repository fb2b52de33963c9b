"""The tables of one-stop services: each part declares its own in a ``*_tables`` module imported here, so
that the migrations' metadata holds them all."""

from __future__ import annotations

from cityos.onestop import (
    application_tables,  # noqa: F401  (submissions, applications, their history)
    assistant_tables,  # noqa: F401  (the assistant's handovers to a person)
    credential_tables,  # noqa: F401  (e-certificates, seals)
    decision_tables,  # noqa: F401  (automatic decisions)
    evidence_tables,  # noqa: F401  (once-only evidence)
    items_tables,  # noqa: F401  (service item versions)
    policy_tables,  # noqa: F401  (policy matching: runs, notices, grants)
    rating_tables,  # noqa: F401  (好差评 ratings and their follow-ups)
)
