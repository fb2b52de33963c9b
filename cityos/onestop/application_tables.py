"""The tables of submissions and applications (办件): one row per submission (a bundle's or a single item's),
one per item's application as it is now (its state and legal clock), and the applications' history, appended,
never changed. Times are epoch milliseconds."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from cityos.store import JSONDoc, metadata

submissions = Table(
    "onestop_submissions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("applicant_kind", String(16), nullable=False),  # person | enterprise
    Column("applicant", String(64), nullable=False),  # a person's registry key or an enterprise's credit code
    Column("bundle", String(64), nullable=True),  # the bundle's code; None: a single item's submission
    Column("item", String(64), nullable=True),  # the item's code of a single item's submission
    Column("answers", JSONDoc, nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # SHA-256 of what was submitted: a reused key must match
    Column("created_at_ms", BigInteger, nullable=False),
    # online: the applicant's own login (the portal); on-site: a counter's for them; null: made before it was kept
    Column("channel", String(16), nullable=True),
)
Index("ux_onestop_submissions_idempotency", submissions.c.tenant, submissions.c.applicant_kind,
      submissions.c.applicant, submissions.c.idempotency_key, unique=True)  # fmt: skip

applications = Table(
    "onestop_applications",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("submission_id", String(32), nullable=False),
    Column("position", Integer, nullable=False),  # the item's place in the submission
    Column("item_code", String(64), nullable=False),
    Column("item_version", Integer, nullable=False),
    Column("item_name", String(256), nullable=False),
    Column("department", String(64), nullable=False),  # where it is routed: the item's department
    Column("applicant_kind", String(16), nullable=False),
    Column("applicant", String(64), nullable=False),
    Column("state", String(32), nullable=False),
    Column("promised_days", Integer, nullable=False),
    Column("legal_days", Integer, nullable=False),
    Column("received_at_ms", BigInteger, nullable=True),
    Column("promised_due_ms", BigInteger, nullable=True),
    Column("legal_due_ms", BigInteger, nullable=True),
    Column("paused_ms", BigInteger, nullable=False),  # working time the clock stood still (补正, 中止)
    Column("paused_since_ms", BigInteger, nullable=True),
    Column("decided_at_ms", BigInteger, nullable=True),
    Column("reasons", Text, nullable=True),  # the last reason given (refusal, supplement, suspension, rejection)
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),  # the number of moves: a write expects the one it read
)
Index("ix_onestop_applications_queue", applications.c.tenant, applications.c.department, applications.c.state,
      applications.c.created_at_ms)  # fmt: skip
Index("ix_onestop_applications_submission", applications.c.tenant, applications.c.submission_id)

application_history = Table(
    "onestop_application_history",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("application_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("action", String(32), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("actor_department", String(64), nullable=True),
    Column("from_state", String(32), nullable=True),
    Column("to_state", String(32), nullable=False),
    Column("reason", Text, nullable=True),
)
