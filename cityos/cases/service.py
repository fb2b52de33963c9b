"""The use cases of the cases package, in one place for the routes, the Open311 API, the runner and the CLI.

Plain functions over the runtime, each in the module of its concern: reporting (:mod:`.reporting`), acting
on a case (:mod:`.actions`), reading (:mod:`.reads`), the reporter's follow link (:mod:`.following`), the
time-limit timers (:mod:`.timers`) and learning (:mod:`.learning`). A case's record is its event history,
replayed through the workflow table on every change (:mod:`.record`); what an action does to the case's
clock is the effects table (:mod:`.effects`).
"""

from cityos.cases.actions import act, confirm_category
from cityos.cases.classifying import classifier, ready_classifier
from cityos.cases.following import Follower, by_follow_token, follower
from cityos.cases.following import confirm as confirm_solved
from cityos.cases.following import rate as rate_followed
from cityos.cases.learning import Retrained, retrain
from cityos.cases.reads import detail, dry_run, history, queue, search, supervision
from cityos.cases.reporting import report, report_many
from cityos.cases.schemas import NewCase, Reported, Reporter
from cityos.cases.timers import Ticked, tick
from cityos.cases.views import for_reporter, public_view

__all__ = [
    "Follower",
    "NewCase",
    "Reported",
    "Reporter",
    "Retrained",
    "Ticked",
    "act",
    "by_follow_token",
    "classifier",
    "confirm_category",
    "confirm_solved",
    "detail",
    "dry_run",
    "follower",
    "for_reporter",
    "history",
    "public_view",
    "queue",
    "rate_followed",
    "ready_classifier",
    "report",
    "report_many",
    "retrain",
    "search",
    "supervision",
    "tick",
]
