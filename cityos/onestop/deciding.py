"""Automatic decisions over the runtime (无人干预自动办理): the item version's decision rules asked about an
application at submission, at receipt, when its applicant confirms once-only evidence, or when its applicant
or a clerk asks.

The rules read the facts the application already has — the merged form's answers, the applicant, the
materials the applicant confirmed (values fetched from a base registry or an e-certificate from the wallet) —
and every time they are asked the outcome and the whole rule trace are recorded (``onestop_decisions``). An
approval or a refusal then goes through the workflow with no clerk, as the ``rules`` party (系统自动): received
(when it was not yet), then approved — and its certificate issued through :func:`issuing.issue_certificate`
with the claims the rules make — or rejected with the rules' reasons. An undecided application waits for its
clerk, who sees the trace.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cityos.errors import CityError
from cityos.onestop import application_store, applications
from cityos.onestop import decision_store as store
from cityos.onestop.applications import Actor, ItemApplication, Submission, now_ms
from cityos.onestop.catalogue_errors import ItemNotFound
from cityos.onestop.decision_checks import rules_of
from cityos.onestop.decision_errors import DecisionNotPossible
from cityos.onestop.decisions import Decision, Outcome, Step, evaluate
from cityos.onestop.evidence import application_evidence
from cityos.onestop.evidence_workflow import EvidenceState
from cityos.onestop.issuing import issue_certificate
from cityos.onestop.items import item
from cityos.onestop.workflow import Action
from cityos.runtime import Runtime

Stage = Literal["submission", "receipt", "request", "evidence"]
RULES_ACTOR = "rules"  # the history's actor of what the rules do (the pages show it as 系统自动)
DECIDABLE = frozenset({"submitted", "received"})
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recorded:
    """One time the rules were asked about an application: what they decided, why, and the whole trace."""

    application_id: str
    seq: int
    at: datetime
    stage: Stage
    item_code: str
    item_version: int
    outcome: Outcome
    reasons: tuple[str, ...]  # the rule ids that made the outcome (undecided: the approve rules not met)
    trace: tuple[Step, ...]


def rules_actor(department: str) -> Actor:
    return Actor(name=RULES_ACTOR, department=department, decides=True)


def _answers(rt: Runtime, tenant: str, app: ItemApplication) -> dict[str, Any]:
    with rt.db.connect() as conn:
        row = application_store.get_submission(conn, tenant, app.submission_id)
    return dict(row["answers"] or {}) if row else {}


def facts_of(rt: Runtime, tenant: str, app: ItemApplication, answers: Mapping[str, Any], now: datetime
             ) -> dict[str, Any]:  # fmt: skip
    """What the rules may read about ``app``: the answers, the applicant, the confirmed evidence, today."""
    evidence = {m.material_code: m.values for m in application_evidence(rt, tenant, app.id)
                if m.state == EvidenceState.CONFIRMED and m.values is not None}  # fmt: skip
    return {"answers": dict(answers), "applicant": {"kind": app.applicant.kind, "key": app.applicant.key},
            "evidence": evidence, "application": {"id": app.id, "item": app.item_code},
            "today": now.astimezone(applications.TZ).date().isoformat()}  # fmt: skip


def _record(rt: Runtime, tenant: str, app: ItemApplication, stage: Stage, got: Decision, now: datetime) -> Recorded:
    row = {"tenant": tenant, "application_id": app.id, "at_ms": int(now.timestamp() * 1000), "stage": stage,
           "item_code": app.item_code, "item_version": app.item_version, "outcome": got.outcome,
           "reasons": [s.rule for s in got.reasons], "trace": [_step_json(s) for s in got.trace]}  # fmt: skip
    with rt.db.write() as conn:
        row = store.append(conn, row)
    return _recorded(row)


def _step_json(s: Step) -> dict[str, Any]:
    return {"rule": s.rule, "then": s.then, "holds": s.holds, "inputs": s.inputs, "reason": s.reason,
            "reasonEn": s.reason_en}  # fmt: skip


def _recorded(row: Mapping[str, Any]) -> Recorded:
    trace = tuple(Step(t["rule"], t["then"], t["holds"], dict(t.get("inputs") or {}), t["reason"], t["reasonEn"])
                  for t in row["trace"])  # fmt: skip
    return Recorded(row["application_id"], row["seq"], datetime.fromtimestamp(row["at_ms"] / 1000, applications.TZ),
                    row["stage"], row["item_code"], row["item_version"], row["outcome"], tuple(row["reasons"]),
                    trace)  # fmt: skip


def decide(rt: Runtime, tenant: str, app_id: str, stage: Stage, *, viewer: Actor | None = None,
           answers: Mapping[str, Any] | None = None, now: datetime | None = None) -> Recorded | None:  # fmt: skip
    """Ask the rules of the application's item version about it and carry out what they decide (see the module);
    None when the item has no rules. DecisionNotPossible (409) when the application is past deciding;
    ``viewer``: who asks (404/403 as for reading the application)."""
    app = applications.get(rt, tenant, app_id, viewer)
    try:
        it = item(rt, app.item_code, app.item_version, tenant=tenant)
    except ItemNotFound:  # an item of a catalogue the runtime was given (install_catalogue), not published
        return None
    rules = rules_of(it)
    if rules is None:
        return None
    if app.state not in DECIDABLE:
        raise DecisionNotPossible(f"application {app_id} is {app.state}: the rules decide an application only while "
                                  "it is submitted or received", state=app.state)  # fmt: skip
    now = now or now_ms()
    got = evaluate(rules, facts_of(rt, tenant, app, _answers(rt, tenant, app) if answers is None else answers, now))
    recorded = _record(rt, tenant, app, stage, got, now)
    if got.outcome != "undecided":
        _carry_out(rt, tenant, app, got, it.certificate_type is not None)
    return recorded


def _carry_out(rt: Runtime, tenant: str, app: ItemApplication, got: Decision, issues: bool) -> None:
    actor, why = rules_actor(app.department), got.reason_text()
    if app.state == "submitted":
        applications.act(rt, tenant, app.id, Action.RECEIVE, actor, "系统自动受理")
    if got.outcome == "refuse":
        applications.act(rt, tenant, app.id, Action.REJECT, actor, f"系统自动不予许可：{why}")
        return
    applications.act(rt, tenant, app.id, Action.APPROVE, actor, f"系统自动准予许可：{why}")
    if issues:
        issue_certificate(rt, tenant, app.id, actor, got.claims or {}, by=RULES_ACTOR)


def decide_submission(rt: Runtime, tenant: str, submission: Submission) -> bool:
    """Ask the rules about each application of a new submission; True when any was decided (read it again).
    The submission stands whatever happens here: an application the rules could not carry through (e.g. no
    seal to issue its certificate with) is left where it got to, for a clerk, and the error is logged."""
    decided = False
    for app in submission.applications:
        try:
            found = decide(rt, tenant, app.id, "submission", answers=submission.answers)
        except CityError:
            log.warning("the rules could not carry out their decision on application %s", app.id, exc_info=True)
            decided = True
            continue
        decided = decided or (found is not None and found.outcome != "undecided")
    return decided


def decide_on_evidence(rt: Runtime, tenant: str, app_id: str) -> Recorded | None:
    """Ask the rules again when the applicant has confirmed once-only evidence (stage ``evidence``): an
    application they can now decide is decided at once. Nothing when the application is past deciding or its
    item has no rules; the confirmation stands whatever happens here (an error carrying the decision out is
    logged and the application left where it got to, for a clerk)."""
    try:
        if applications.get(rt, tenant, app_id).state not in DECIDABLE:
            return None
        return decide(rt, tenant, app_id, "evidence")
    except CityError:
        log.warning("the rules could not decide application %s after its evidence was confirmed", app_id,
                    exc_info=True)  # fmt: skip
        return None


def latest(rt: Runtime, tenant: str, app_ids: Iterable[str]) -> dict[str, Recorded]:
    """The latest decision of each application that has one."""
    with rt.db.connect() as conn:
        rows = store.latest(conn, tenant, list(app_ids))
    return {k: _recorded(r) for k, r in rows.items()}
