"""The tables of policy matching (政策找人 · 免申即享): the runs of a policy over a registry, the notices they put in
persons' and enterprises' portal inboxes (one per policy version and subject: the unique key that keeps a
rerun, or a run interrupted and run again, from notifying anyone twice), and the benefits granted when a
person confirms a grant-mode notice (意愿确认), with the matching inputs."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from cityos.store import JSONDoc, metadata

policy_runs = Table(
    "onestop_policy_runs",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("policy_code", String(64), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("department", String(64), nullable=False),  # reads the registry as this department
    Column("by", String(256), nullable=False),
    Column("state", String(16), nullable=False),  # running | done | failed
    Column("subjects", Integer, nullable=False),  # the registry's subjects evaluated
    Column("read", Integer, nullable=False, server_default="0"),  # records read so far (progress; every entry's)
    # the process working on it (the onestop role's runner; None: not taken yet), and how many times one took
    # it: a run left by a process that died is taken again by the next, and failed after MAX_ATTEMPTS
    Column("holder", String(32), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("matched", Integer, nullable=False),
    Column("notified", Integer, nullable=False),  # notices this run wrote (the others were notified before)
    Column("audit_seqs", JSONDoc, nullable=False),  # the audit records of the reads
    Column("error", Text, nullable=True),
    Column("started_at_ms", BigInteger, nullable=False),
    Column("finished_at_ms", BigInteger, nullable=True),
)
Index("ix_onestop_policy_runs_policy", policy_runs.c.tenant, policy_runs.c.policy_code, policy_runs.c.started_at_ms)

policy_notices = Table(
    "onestop_policy_notices",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("policy_code", String(64), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("subject_kind", String(16), nullable=False),  # person | enterprise
    Column("subject_id", String(256), nullable=False),  # the registry entity's id
    Column("run_id", String(32), nullable=False),
    Column("mode", String(16), nullable=False),  # notify | grant
    Column("state", String(16), nullable=False),  # notified | granted | declined
    Column("inputs", JSONDoc, nullable=False),  # the column values that made the condition true
    Column("created_at_ms", BigInteger, nullable=False),
    Column("decided_at_ms", BigInteger, nullable=True),
    Column("decided_by", String(256), nullable=True),
)
Index("ux_onestop_policy_notices_subject", policy_notices.c.tenant, policy_notices.c.policy_code,
      policy_notices.c.policy_version, policy_notices.c.subject_id, unique=True)  # fmt: skip
Index("ix_onestop_policy_notices_inbox", policy_notices.c.tenant, policy_notices.c.subject_id)

policy_grants = Table(
    "onestop_policy_grants",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("notice_id", String(32), primary_key=True),
    Column("policy_code", String(64), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("subject_id", String(256), nullable=False),
    Column("department", String(64), nullable=False),
    Column("benefit", Text, nullable=False),
    Column("inputs", JSONDoc, nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("confirmed_by", String(256), nullable=False),
    Column("granted_at_ms", BigInteger, nullable=False),
)
