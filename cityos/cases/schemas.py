"""API shapes of the cases package: what the /cases routes take and what they answer.

The answers are the contract of ``/docs``: field names are camelCase on the wire (``mainCategory``,
``dueAt``) and snake_case in Python; times are ISO 8601 strings in Shanghai time, as the dashboard reads
them. A field that may be empty is present as null; the reporter keeps only what was given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel
from typing_extensions import TypedDict  # pydantic needs this one on Python 3.11

from cityos.cases.models import PlacementView, Prediction
from cityos.cases.routing import Level
from cityos.cases.taxonomy import LocalText, MainCategory, Priority, SubCategory
from cityos.cases.workflow import Action, Role, State

SOURCES = ("hotline", "inspector", "open311", "sensor", "alert", "app")
MAX_ATTACHMENTS = 10


class Answer(BaseModel):
    """An answer of the cases API: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# --- what the routes take --------------------------------------------------------------------------------


class Reporter(BaseModel):
    """Who reported: shown to staff, never in public views."""

    name: str | None = Field(None, max_length=128)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=256)
    account_id: str | None = Field(None, max_length=128)
    device_id: str | None = Field(None, max_length=128)


class NewCase(BaseModel):
    """A report, from any source. Without ``category`` the classifier chooses one from ``text``."""

    source: str = Field("hotline", description="hotline | inspector | open311 | sensor | alert | app")
    text: str = Field(..., min_length=1, max_length=4000)
    category: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="a sub-category code (GET /cases/taxonomy); leave it out to classify",
    )
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    address: str | None = Field(None, max_length=512)
    grid: str | None = Field(None, max_length=256)
    street: str | None = Field(None, max_length=256)
    unit: str | None = Field(None, max_length=256)
    attachments: list[str] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    reporter: Reporter | None = None
    priority: str | None = Field(None, pattern="^(urgent|high|normal|low)$")
    origin: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="what opened it automatically (set by cityos itself, never by a report over the API); "
        "a case per origin",
    )

    @model_validator(mode="after")
    def _place(self) -> NewCase:
        if self.source not in SOURCES:
            raise ValueError(f"source {self.source!r} is unknown: use one of {', '.join(SOURCES)}")
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither (and an address)")
        if self.lon is None and not (self.address or self.grid or self.unit):
            raise ValueError("a case needs a place: lon and lat, an address, a grid or a unit")
        for url in self.attachments:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"attachment {url[:80]!r} is not an http(s) URL")
        return self


class BatchIn(BaseModel):
    reports: list[NewCase] = Field(..., min_length=1, max_length=500)


class ActionIn(BaseModel):
    role: Role | None = Field(None, description="the workflow role to act as; default: the token's first")
    reason: str | None = Field(None, max_length=2000)
    data: dict[str, Any] = Field(default_factory=dict)


class CategoryIn(BaseModel):
    category: str


class DryRunIn(BaseModel):
    category: str | None = None
    text: str | None = Field(None, max_length=4000)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    grid: str | None = None
    street: str | None = None
    at: datetime | None = Field(None, description="when the case would come in; default: now")


class RatingIn(BaseModel):
    rating: int = Field(..., description="5 非常满意 … 1 非常不满意")
    comment: str | None = Field(None, max_length=2000)


# --- a case ------------------------------------------------------------------------------------------------


class ReporterShown(TypedDict, total=False):
    """Who reported, as staff see it: only what the reporter gave."""

    name: str
    phone: str
    email: str
    account_id: str
    device_id: str


class RoutingView(Answer):
    """Who the routing rules gave a case to, and why."""

    department: str | None
    cooperating: list[str]
    rule: str | None = Field(description="the matching rule's id; 'default' for the category's own department")
    level: Level | None
    explanation: str
    explanation_zh: str


class CaseView(Answer):
    """A case as staff see it."""

    id: str
    state: State
    source: str
    category: str
    main_category: str
    priority: Priority
    text: str
    address: str | None
    lon: float | None
    lat: float | None
    grid: str | None
    street: str | None
    unit: str | None
    placement: PlacementView | None = Field(
        None, description="how unit, grid and street were found: coordinates, address or reporter; or why not"
    )
    department: str | None = Field(description="the lead department")
    cooperating: list[str]
    reporter: ReporterShown | None
    attachments: list[str]
    classification: Prediction | None = Field(description="what the classifier said, when it chose the category")
    needs_confirmation: bool = Field(description="the classifier was unsure: a dispatcher confirms the category")
    origin: str | None = Field(description="what opened it automatically (warning:<id>, alert:<entity id>)")
    routing: RoutingView | None
    time_limit: str | None = Field(description="the category's time limit: <N>h or <N>wd")
    due_at: str | None
    remind_at: str | None
    approximate_due: bool = Field(description="the working-day calendar of a year it does not know was guessed")
    escalation_level: str
    reports: int = Field(description="how many reports it gathers (duplicates linked to it)")
    returns: int
    reopens: int
    rating: int | None
    result: str | None
    merged_into: str | None
    created_at: str
    updated_at: str
    handled_at: str | None
    closed_at: str | None
    version: int = Field(description="how many events its history holds")
    follow_token: str = Field(description="the key of the reporter's follow link (/cases/follow/{token})")


class PublicCase(Answer):
    """What the reporter (holding the follow token) and the public see: no personal data, no internals."""

    id: str
    state: State
    category: str
    main_category: str
    text: str
    address: str | None
    lon: float | None
    lat: float | None
    department: str | None
    due_at: str | None
    created_at: str
    updated_at: str
    closed_at: str | None
    result: str | None
    rating: int | None
    merged_into: str | None
    attachments: list[str]


class Step(Answer):
    """One event of a case's history."""

    seq: int
    at: str
    action: Action
    actor: str
    role: Role
    reason: str | None
    data: dict[str, Any] = Field(description="what the action carried: a department, a result, a rating …")
    from_: State | None = Field(alias="from", description="the state before; null for the report")
    to: State


class CaseDetail(Answer):
    case: CaseView
    history: list[Step]
    allowed: dict[Role, list[Action]] = Field(description="the actions each of the caller's roles may take now")


# --- answers of the routes -----------------------------------------------------------------------------------


class Reported(Answer):
    """A report taken: the case it opened, or the open case it was linked to. A token that may read cases
    (staff) gets the case as staff see it; any other (a reporter app) gets its public view."""

    case: CaseView | PublicCase
    created: bool = Field(description="false: linked to an open case it repeats, or its origin opened one already")
    duplicate_of: str | None = None
    follow_token: str = Field(
        description="this report's own follow token (/cases/follow/{token}): a report linked as a duplicate gets "
        "one of its own, to follow the case and rate the report, never the case's"
    )


class BatchReported(Answer):
    results: list[Reported]


class CaseList(Answer):
    cases: list[CaseView]
    total: int
    limit: int
    offset: int


class Queue(Answer):
    department: str
    cases: list[CaseView]


class TaxonomyView(Answer):
    """The case categories, and the names of states, actions and ratings in Chinese and English."""

    mains: list[MainCategory]
    subs: list[SubCategory]
    states: dict[str, LocalText]
    actions: dict[str, LocalText]
    ratings: dict[str, LocalText]


class TraceStep(Answer):
    rule: str
    why: str = Field(description="the first condition of the rule that did not hold")


class DryRun(RoutingView):
    """Who would get a case (派单试算), why, and by when."""

    category: str
    classification: Prediction | None
    trace: list[TraceStep]
    time_limit: str
    due_at: str | None


class FiguresView(Answer):
    """The supervision figures of one group (cityos/cases/supervision.py defines each)."""

    key: list[str]
    cases: int
    closed: int
    on_time_rate: float | None
    overdue_open: int
    mean_handling_hours: float | None
    p90_handling_hours: float | None
    return_rate: float | None
    reopen_rate: float | None
    satisfaction: float | None
    mean_rating: float | None


class Supervision(Answer):
    since: str
    until: str
    overall: FiguresView
    groups: list[FiguresView]


class FollowStep(Answer):
    at: str
    action: Action
    to: State


class Followed(Answer):
    """A case as its reporter follows it: the public view and its steps (comments left out)."""

    case: PublicCase
    steps: list[FollowStep]


class Rated(Answer):
    case: PublicCase
    reopen_requested: bool = Field(description="the rating was low: the desk decides on a reopen")


class Confirmed(Answer):
    case: PublicCase
