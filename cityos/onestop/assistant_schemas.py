"""API shapes of the Q&A assistant (智能客服): camelCase on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cityos.onestop.assistant import Answer, Channel, Citation, Handover, HandoverState, Start
from cityos.onestop.assistant_index import settings

# the most a question may hold on the wire; the assistant's own limit (data/assistant.yaml) is lower, and a
# question over it is refused with a problem document that says so
MAX_WIRE = 2000


class Shape(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class AskIn(Shape):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., max_length=MAX_WIRE, description="the question, in a sentence (zh-CN)")


class HandoverIn(Shape):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., max_length=MAX_WIRE, description="the question a person should answer")
    channel: Channel = Field("api", description="where it was asked: portal | guide | api")
    contact: str | None = Field(None, max_length=128, description="how to reach the asker (optional)")


class HandoverAnswerIn(Shape):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(..., min_length=1, max_length=4000)


class StartPublic(Shape):
    """Where to start: a bundle applied for on the portal (``#/apply/{code}``), or an item's guide."""

    target: str = Field(description="item:<code> | bundle:<code>")
    kind: Literal["item", "bundle"]
    code: str
    name: str
    link: str
    guide: str

    @classmethod
    def of(cls, s: Start) -> StartPublic:
        guide = f"/onestop/guide/{s.code}" if s.kind == "item" else f"/onestop/guide/bundles/{s.code}"
        return cls(target=s.target, kind=s.kind, code=s.code, name=s.name, link=s.link, guide=guide)


class CitationPublic(Shape):
    """A passage of a service guide an answer rests on."""

    target: str
    code: str
    title: str = Field(description="the item's or bundle's name")
    section: str = Field(description="name | conditions | materials | time | fee | handling | legal | items")
    section_name: str = Field(description="the section as the guide names it (zh-CN)")
    text: str
    guide: str = Field(description="the guide page it is on")
    score: float

    @classmethod
    def of(cls, c: Citation) -> CitationPublic:
        p = c.passage
        return cls(target=p.target, code=p.code, title=p.title, section=p.section,
                   section_name=settings().sections[p.section], text=p.text, guide=p.guide, score=c.score)  # fmt: skip


class AnswerPublic(Shape):
    """The assistant's answer; ``known`` false: it does not know, and offers a person (转人工)."""

    question: str
    known: bool
    confidence: float = Field(description="0..1: how much of the question the suggested guide holds")
    threshold: float = Field(description="below it, the assistant says it does not know")
    text: str = Field(description="the short answer, made of the cited passages only ('' when not known)")
    start: StartPublic | None
    citations: list[CitationPublic]
    handover: str = Field("/onestop/assistant/handover", description="where to hand the question to a person")

    @classmethod
    def of(cls, a: Answer) -> AnswerPublic:
        return cls(question=a.question, known=a.known, confidence=a.confidence, threshold=a.threshold,
                   text=a.text, start=StartPublic.of(a.start) if a.start else None,
                   citations=[CitationPublic.of(c) for c in a.citations])  # fmt: skip


class HandoverPublic(Shape):
    """A question handed over to a person (转人工): the asker keeps the id to read the answer."""

    id: str
    question: str
    channel: str
    state: HandoverState
    created_at: datetime
    answer: str | None = None
    answered_at: datetime | None = None

    @classmethod
    def of(cls, h: Handover) -> HandoverPublic:
        return cls(id=h.id, question=h.question, channel=h.channel, state=h.state, created_at=h.created_at,
                   answer=h.answer, answered_at=h.answered_at)  # fmt: skip


class HandoverStaff(HandoverPublic):
    """A handover as the desk sees it: with the contact and what the assistant found."""

    contact: str | None = None
    confidence: float | None = None
    nearest: str | None = Field(None, description="the start the assistant found nearest")
    department: str | None = Field(None, description="whose queue (None: the service desk's)")
    answered_by: str | None = None

    @classmethod
    def staff(cls, h: Handover) -> HandoverStaff:
        return cls(id=h.id, question=h.question, channel=h.channel, state=h.state, created_at=h.created_at,
                   answer=h.answer, answered_at=h.answered_at, contact=h.contact, confidence=h.confidence,
                   nearest=h.nearest, department=h.department, answered_by=h.answered_by)  # fmt: skip


class HandoverQueue(Shape):
    handovers: list[HandoverStaff]
