"""The reporter's follow link: a follow token names a case, and which of its reports it was given for.

Every report gets a token of its own. The token of the report that opened a case follows the case, confirms it
is solved (the reporter's verification) and rates it once it is closed. The token of a report linked to the case
as a duplicate follows the same case and rates that report only, once the case is closed: the case's
verification and rating are its first reporter's, and no reporter acts on another's report. Whoever holds a
token sees the case's public view (:func:`cityos.cases.views.public_view`), never a reporter's data or token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cityos.cases import record, store
from cityos.cases.actions import act
from cityos.cases.errors import CaseNotFound, TransitionRefused
from cityos.cases.schemas import CaseView
from cityos.cases.settings import settings
from cityos.cases.views import case_view
from cityos.cases.workflow import LOW_RATING, RATING_LABELS, Action, Event, Role, State
from cityos.errors import Forbidden
from cityos.runtime import Runtime

REPORTER = "reporter"  # the actor of what a follow link does: the token is the key, there is no account


@dataclass(frozen=True)
class Follower:
    """Who holds a follow token: the case's tenant, the case, and the report the token was given for."""

    tenant: str
    case: CaseView
    report: int | None  # the history event that recorded a duplicate report; None: the report that opened it
    rating: int | None = None  # a duplicate report's own rating


def follower(rt: Runtime, token: str) -> Follower:
    """The holder of a follow token; CaseNotFound if it matches no report."""
    with rt.db.connect() as conn:
        row = store.by_follow_token(conn, token)
        if row is not None:
            return Follower(row["tenant"], case_view(row), None)
        mine = store.report_by_token(conn, token)
        case = store.get_case(conn, mine["tenant"], mine["case_id"]) if mine else None
    if mine is None or case is None:
        raise CaseNotFound("this follow link matches no case: check the link you were given")
    return Follower(mine["tenant"], case_view(case), mine["seq"], mine["rating"])


def by_follow_token(rt: Runtime, token: str) -> tuple[str, CaseView]:
    """(tenant, case) of a follow token, the token of a duplicate report included."""
    f = follower(rt, token)
    return f.tenant, f.case


def confirm(rt: Runtime, token: str, now: datetime | None = None) -> CaseView:
    """The reporter confirms the problem is solved (the case's verification); only the token of the report
    that opened the case may, else Forbidden."""
    f = follower(rt, token)
    if f.report is not None:
        raise Forbidden(
            f"this follow link is for a report linked to case {f.case.id} as a duplicate: the case's first reporter "
            "or an inspector confirms it is solved; follow the case here, and rate your report once it is closed"
        )
    verified = {"verifier": "reporter"}
    return act(rt, f.tenant, f.case.id, Action.VERIFY_OK, REPORTER, Role.REPORTER, data=verified, now=now)


def rate(rt: Runtime, token: str, rating: int, comment: str | None = None, now: datetime | None = None) -> CaseView:
    """Rate how a closed case was handled: the case itself with the token of the report that opened it, the
    token's own report with a duplicate's (kept with the report and noted in the case's history). A rating of
    ``LOW_RATING`` or less asks the desk for a reopen (``case.reopen_requested``)."""
    f = follower(rt, token)
    if f.report is None:
        return act(
            rt, f.tenant, f.case.id, Action.RATE, REPORTER, Role.REPORTER, reason=comment, data={"rating": rating}
        )
    return _rate_report(rt, f, token, rating, comment, now or record.now())


def _rate_report(rt: Runtime, f: Follower, token: str, rating: int, comment: str | None, now: datetime) -> CaseView:
    if rating not in RATING_LABELS:
        raise TransitionRefused("a report is rated with a rating from 1 (非常不满意) to 5 (非常满意)")
    text = f"重复上报的评价 / rating of a duplicate report: {rating}"
    note = Event(
        action=Action.COMMENT,
        actor=REPORTER,
        role=Role.REPORTER,
        at=now,
        reason=comment,
        data={"text": text, "reportRating": rating, "report": f.report},
    )
    with rt.db.write() as conn:
        row = record.load(conn, f.tenant, f.case.id)
        if row["state"] != State.CLOSED:
            raise TransitionRefused(f"case {row['id']} is {row['state']}: a report is rated once its case is closed")
        if not store.rate_report(conn, token, rating):
            raise TransitionRefused(f"this report on case {row['id']} was rated already: a report is rated once")
        after = record.append(conn, settings(rt), f.tenant, row, [note], now)
    record.publish(rt, f.tenant, "case.report_rated", after, rating=rating, report=f.report, comment=comment,
                   source=after.get("source"))  # fmt: skip
    if rating <= LOW_RATING:  # the desk decides, as for the case's own rating
        record.publish(rt, f.tenant, "case.reopen_requested", after, rating=rating, comment=comment, report=f.report)
    return case_view(after)
