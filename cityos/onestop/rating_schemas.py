"""API shapes of 好差评 ratings, their follow-ups (差评整改) and their figures: camelCase on the wire."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cityos.onestop.rating_figures import Figures, Stats
from cityos.onestop.rating_workflow import (
    CHANNELS,
    LEVEL_REASONS,
    LEVELS,
    REASONS,
    STATE_LABELS,
    Channel,
    FollowUpState,
    allowed,
)
from cityos.onestop.ratings import Entry, FollowUp, QueueItem, Rating


class Shape(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RatingCreate(Shape):
    """A rating of one's own handled application: a level, the reasons of that level (GET
    /onestop/ratings/levels lists them), a free text and the channel it is given by."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    application: str = Field(min_length=1, max_length=32, description="the application (办件) rated")
    level: int = Field(description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")
    reasons: list[str] = Field(default_factory=list, max_length=8, description="reason codes of the level")
    comment: str | None = Field(None, max_length=1000)
    channel: Channel = Field("online", description="online, app, window (现场窗口) or phone-12345")


class FollowUpActionIn(Shape):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    text: str | None = Field(None, max_length=2000, description="the answer; the reason of a dispute")


class FollowUpEntryPublic(Shape):
    seq: int
    at: datetime
    action: str
    actor: str
    from_state: str | None
    to_state: str
    text: str | None

    @classmethod
    def of(cls, e: Entry) -> FollowUpEntryPublic:
        return cls(seq=e.seq, at=e.at, action=e.action, actor=e.actor, from_state=e.from_state, to_state=e.to_state,
                   text=e.text)  # fmt: skip


class FollowUpPublic(Shape):
    """A 差评's follow-up: who holds it, its state, this round's limit and whether it is past it."""

    id: str
    rating_id: str
    department: str = Field(description="the rated department, which owns it")
    holder: str = Field(description="who answers now: the department, or its superior / the 12345 centre")
    state: FollowUpState
    state_zh: str
    state_en: str
    round: int
    opened_at: datetime
    remind_at: datetime
    due_at: datetime
    overdue: bool
    escalated: bool
    answered_at: datetime | None
    answered_on_time: bool | None = Field(
        description="the first answer within the first 15 working days, and never escalated; null: not answered yet"
    )
    answer: str | None
    allowed_actions: list[str]
    history: list[FollowUpEntryPublic]

    @classmethod
    def of(cls, f: FollowUp, now: datetime) -> FollowUpPublic:
        zh, en = STATE_LABELS[f.state]
        return cls(id=f.id, rating_id=f.rating_id, department=f.department, holder=f.holder, state=f.state,
                   state_zh=zh, state_en=en, round=f.round, opened_at=f.opened_at, remind_at=f.remind_at,
                   due_at=f.due_at, overdue=f.overdue(now), escalated=f.escalated, answered_at=f.answered_at,
                   answered_on_time=f.answered_on_time, answer=f.answer, allowed_actions=allowed(f.state),
                   history=[FollowUpEntryPublic.of(e) for e in f.history])  # fmt: skip


class RatingPublic(Shape):
    id: str
    subject_kind: str = Field(description="application or case")
    subject_id: str
    level: int
    level_zh: str
    level_en: str
    reasons: list[str]
    comment: str | None
    channel: str
    item: str
    item_name: str
    department: str
    outcome: str = Field(description="the application's state when rated; closed for a case")
    rated_at: datetime
    follow_up: FollowUpPublic | None

    @classmethod
    def of(cls, r: Rating, now: datetime) -> RatingPublic:
        zh, en = LEVELS[r.level]
        fu = None if r.follow_up is None else FollowUpPublic.of(r.follow_up, now)
        return cls(id=r.id, subject_kind=r.subject_kind, subject_id=r.subject_id, level=r.level, level_zh=zh,
                   level_en=en, reasons=list(r.reasons), comment=r.comment, channel=r.channel, item=r.item,
                   item_name=r.item_name, department=r.department, outcome=r.outcome, rated_at=r.rated_at,
                   follow_up=fu)  # fmt: skip


class FollowUpDetailPublic(Shape):
    follow_up: FollowUpPublic
    rating: RatingPublic


class FollowUpQueuePublic(Shape):
    follow_ups: list[FollowUpDetailPublic]
    total: int
    page: int
    per_page: int

    @classmethod
    def of(cls, items: list[QueueItem], total: int, page: int, per_page: int, now: datetime) -> FollowUpQueuePublic:
        return cls(follow_ups=[FollowUpDetailPublic(follow_up=FollowUpPublic.of(i.follow_up, now),
                                                    rating=RatingPublic.of(i.rating, now)) for i in items],
                   total=total, page=page, per_page=per_page)  # fmt: skip


class Label(Shape):
    code: str
    zh: str
    en: str


class RatingLevelPublic(Shape):
    level: int
    zh: str
    en: str
    reasons: list[Label]


class LevelsPublic(Shape):
    """The five levels with the reasons each may give, and the channels: what a rating form offers."""

    levels: list[RatingLevelPublic]
    channels: list[Label]

    @classmethod
    def build(cls) -> LevelsPublic:
        levels = [RatingLevelPublic(level=n, zh=zh, en=en, reasons=[Label(code=c, zh=REASONS[c][0], en=REASONS[c][1])
                                                              for c in LEVEL_REASONS[n]])
                  for n, (zh, en) in LEVELS.items()]  # fmt: skip
        return cls(levels=levels, channels=[Label(code=c, zh=zh, en=en) for c, (zh, en) in CHANNELS.items()])


class FiguresPublic(Shape):
    key: str | None
    name: str | None
    ratings: int
    levels: dict[str, int] = Field(description="count per level, '1' to '5'")
    good: int = Field(description="rated 4 (满意) or 5 (非常满意)")
    good_rate: float | None = Field(description="好评率: good / ratings; null when there are no ratings")
    follow_ups: int = Field(description="差评 (rated 2 or less) that opened a follow-up")
    answered: int
    answered_on_time: int = Field(description="first answered within 15 working days, never escalated")
    on_time_rate: float | None = Field(description="answeredOnTime / followUps; null when there are none")

    @classmethod
    def of(cls, f: Figures) -> FiguresPublic:
        return cls(key=f.key, name=f.name, ratings=f.ratings, levels={str(k): v for k, v in f.levels.items()},
                   good=f.good, good_rate=f.good_rate, follow_ups=f.follow_ups, answered=f.answered,
                   answered_on_time=f.answered_on_time, on_time_rate=f.on_time_rate)  # fmt: skip


class StatsPublic(Shape):
    """好差评 figures over a period. 好评率 (goodRate) = ratings of 4 or 5 / all ratings of the period."""

    since: datetime | None
    until: datetime | None
    by: str
    overall: FiguresPublic
    groups: list[FiguresPublic]
    open_follow_ups: int = Field(description="follow-ups owing an answer now")
    overdue_follow_ups: int = Field(description="of those, past their limit")

    @classmethod
    def of(cls, s: Stats) -> StatsPublic:
        return cls(since=s.since, until=s.until, by=s.by, overall=FiguresPublic.of(s.overall),
                   groups=[FiguresPublic.of(g) for g in s.groups], open_follow_ups=s.open_follow_ups,
                   overdue_follow_ups=s.overdue_follow_ups)  # fmt: skip
