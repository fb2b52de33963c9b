"""The Q&A assistant (智能客服, issue 21 part 4): answers a question about services from the service guides, citing
the passages it answers from, suggesting the item or bundle to start, with a confidence; below the threshold
(data/assistant.yaml) it says it does not know rather than guess, and a handover (转人工) queues the question for
a person.

Why the handovers are a queue of their own and not cases: a case (一网统管) is an incident at a place, classified
into the city-management taxonomy and routed by category and grid on an incident's clock; a question about a
service has no place and no such category, and would land in a wrong department's queue. The one-stop service
desk answers service questions, so the handover waits in one-stop's own queue, in the department of the
service the assistant found nearest (its clerks see it), else at the desk (operators: 综合窗口 and 12345).

The confidence is the share of the question's words (each weighed by how rare it is among the passages) that
the suggested start's guide holds, itself or as a synonym: a question about things no guide speaks of scores
low whatever the best passage is.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from cityos.onestop import assistant_store as store
from cityos.onestop import items_store
from cityos.onestop.assistant_errors import HandoverAnswered, HandoverNotFound, InvalidQuestion
from cityos.onestop.assistant_index import Index, Passage, Query, Settings, passages, query, settings
from cityos.onestop.catalogue import shipped
from cityos.onestop.items import bundles, items
from cityos.runtime import Runtime

Channel = Literal["portal", "guide", "api"]
HandoverState = Literal["waiting", "answered"]


@dataclass(frozen=True)
class Citation:
    """A passage an answer rests on, and its score."""

    passage: Passage
    score: float


@dataclass(frozen=True)
class Start:
    """Where to start: a bundle (applied for on the portal) or an item (its guide)."""

    target: str  # item:<code> | bundle:<code>
    kind: Literal["item", "bundle"]
    code: str
    name: str
    link: str
    department: str


@dataclass(frozen=True)
class Answer:
    """The assistant's answer: ``known`` False says it does not know (no start, no citations), with the start
    it found nearest kept for a handover."""

    question: str
    known: bool
    confidence: float
    threshold: float
    text: str
    start: Start | None
    citations: tuple[Citation, ...]
    nearest: Start | None


@dataclass(frozen=True)
class Handover:
    """A question handed over to a person (转人工), and the answer when one was given."""

    id: str
    question: str
    channel: str
    contact: str | None
    confidence: float | None
    nearest: str | None
    department: str | None
    state: HandoverState
    created_at: datetime
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None


# --- the index, kept per process ----------------------------------------------------------------------------


class AssistantIndexes:
    """This process's index per tenant (a runtime part), rebuilt when a new version of an item is published
    (the versions in force are compared at each question: one query)."""

    def __init__(self) -> None:
        self._built: dict[str, tuple[tuple[tuple[str, int], ...], Index]] = {}  # tenant -> (versions, index)
        self._lock = threading.Lock()

    def get(self, rt: Runtime, tenant: str) -> Index:
        with rt.db.connect() as conn:  # the version numbers only: parsing every item costs more than an answer
            held = items_store.latest_numbers(conn, tenant)
        key = tuple(sorted({**dict.fromkeys(shipped().items, 1), **held}.items()))
        found = self._built.get(tenant)
        if found is not None and found[0] == key:
            return found[1]
        with self._lock:
            index = Index(passages(items(rt, tenant=tenant), bundles()), settings())
            self._built[tenant] = (key, index)
        return index


def _index(rt: Runtime, tenant: str) -> Index:
    return rt.parts.get(AssistantIndexes, AssistantIndexes).get(rt, tenant)


# --- asking -------------------------------------------------------------------------------------------------


def check_question(text: str, s: Settings) -> str:
    """The question stripped; :class:`InvalidQuestion` when empty or too long."""
    q = " ".join(text.split())
    if not q:
        raise InvalidQuestion("the question is empty: write what you want to do, e.g. 孩子出生要办哪些手续",
                              field="question")  # fmt: skip
    if len(q) > s.question_max_chars:
        raise InvalidQuestion(f"the question has {len(q)} characters, more than {s.question_max_chars}: ask one "
                              "thing at a time, shortly", field="question")  # fmt: skip
    return q


def _start(p: Passage) -> Start:
    link = f"/onestop/#/apply/{p.code}" if p.kind == "bundle" else p.guide
    return Start(p.target, p.kind, p.code, p.title, link, p.department)


def confidence(q: Query, index: Index, target: str, s: Settings) -> float:
    """The share of the question's own words the target's guide holds (itself, a word inside it or a synonym),
    each weighed by how rare it is among the passages (a word no passage holds: ``unknown_weight`` of the
    rarest one's weight, unless words inside it are known)."""
    held = index.by_target.get(target, set())
    total = covered = 0.0
    for w in q.own:
        forms = q.forms.get(w, frozenset({w}))
        known = [index.idf[x] for x in forms if x in index.idf]
        weight = index.idf.get(w) or (max(known) if known else index.max_idf * s.unknown_weight)
        total += weight
        if any(x in held for x in forms):
            covered += weight
    return covered / total if total else 0.0


def title_share(q: Query, index: Index, target: str) -> float:
    """The share of the words of the target's name (weighed by rarity) the question holds, itself or as a
    synonym: a question about a service tends to name it, and not the words that set another one apart."""
    asked = {x for f in q.forms.values() for x in f}
    title = index.titles.get(target, [])
    total = sum(index.idf.get(w, 0.0) for w in title)
    return sum(index.idf.get(w, 0.0) for w in title if w in asked) / total if total else 0.0


def _guides(q: Query, index: Index, scores: list[float], s: Settings, text: str) -> dict[str, float]:
    """Each guide's score: its best passage's, raised by how much of its name the question holds, and a
    bundle's raised when the question asks about a whole event (哪些手续, 几个部门: a 一件事 answers it)."""
    best: dict[str, float] = {}
    for p, score in zip(index.passages, scores, strict=True):
        best[p.target] = max(best.get(p.target, 0.0), score)
    event = s.event_weight if any(phrase in text for phrase in s.event_phrases) else 0.0
    return {t: x * (1 + s.title_weight * title_share(q, index, t)) * (1 + event * t.startswith("bundle:"))
            for t, x in best.items()}  # fmt: skip


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(start: Start, cited: list[Citation], s: Settings) -> str:
    """The short answer: the start, then each cited passage as the guide states it (nothing else is said)."""
    lines = [f"建议办理「{start.name}」。"]
    for c in cited:
        p = c.passage
        lines.append(f"【{p.title} · {s.sections[p.section]}】{_cut(p.text, s.answer_max_chars)}")
    return "\n".join(lines)


def ask(rt: Runtime, question: str, *, tenant: str | None = None) -> Answer:
    """Answer a question from the service guides (see the module's docstring); :class:`InvalidQuestion`."""
    s = settings()
    text = check_question(question, s)
    index = _index(rt, tenant or rt.settings.default_tenant)
    q = query(text, s)
    terms = q.all
    scores = index.scores(terms)
    guides = _guides(q, index, scores, s, text)
    target = max(guides, key=lambda t: guides[t]) if guides else ""
    if not guides or guides[target] <= 0.0:
        return Answer(text, False, 0.0, s.threshold, "", None, (), None)
    ranked = sorted((i for i, p in enumerate(index.passages) if p.target == target), key=lambda i: -scores[i])
    top = index.passages[ranked[0]]
    start = _start(top)
    sure = confidence(q, index, target, s)
    if sure < s.threshold:
        return Answer(text, False, round(sure, 3), s.threshold, "", None, (), start)
    best = scores[ranked[0]]
    cited = [Citation(index.passages[i], round(scores[i], 3)) for i in ranked[: s.cited_max]
             if scores[i] >= best * s.cite_share]  # fmt: skip
    return Answer(text, True, round(sure, 3), s.threshold, _text(start, cited, s), start, tuple(cited), start)


# --- handing over -------------------------------------------------------------------------------------------


def _handover(row: store.Row) -> Handover:
    at = row["answered_at"]
    return Handover(id=row["id"], question=row["question"], channel=row["channel"], contact=row["contact"],
                    confidence=row["confidence"], nearest=row["nearest"], department=row["department"],
                    state=row["state"], created_at=datetime.fromisoformat(row["created_at"]), answer=row["answer"],
                    answered_by=row["answered_by"], answered_at=datetime.fromisoformat(at) if at else None)  # fmt: skip


def hand_over(rt: Runtime, question: str, *, channel: Channel = "api", contact: str | None = None,
              tenant: str | None = None) -> Handover:  # fmt: skip
    """Queue a question for a person (转人工): asked again first, so the clerk sees what the assistant found and
    the queue is the nearest start's department's (or the desk's); :class:`InvalidQuestion`."""
    tenant = tenant or rt.settings.default_tenant
    found = ask(rt, question, tenant=tenant)
    nearest = found.nearest
    now = datetime.now(UTC)
    row = {"tenant": tenant, "id": secrets.token_urlsafe(18), "question": found.question, "channel": channel,
           "contact": (contact or "").strip() or None, "confidence": found.confidence,
           "nearest": nearest.target if nearest else None, "department": nearest.department if nearest else None,
           "state": "waiting", "created_at": now.isoformat(timespec="milliseconds"),
           "created_at_ms": int(now.timestamp() * 1000), "answer": None, "answered_by": None,
           "answered_at": None}  # fmt: skip
    with rt.db.write() as conn:
        store.insert_handover(conn, row)
    return _handover(row)


def handovers(rt: Runtime, *, tenant: str | None = None, state: HandoverState | None = "waiting",
              department: str | None = None, limit: int = 50) -> list[Handover]:  # fmt: skip
    """The handovers queued, oldest first: one department's (a clerk's) or all (the desk's: ``department``
    None)."""
    with rt.db.connect() as conn:
        rows = store.queue(conn, tenant or rt.settings.default_tenant, state, department, limit)
    return [_handover(r) for r in rows]


def handover(rt: Runtime, handover_id: str, *, tenant: str | None = None) -> Handover:
    """One handover (the asker reads the answer with its id); :class:`HandoverNotFound`."""
    with rt.db.connect() as conn:
        row = store.get(conn, tenant or rt.settings.default_tenant, handover_id)
    if row is None:
        raise HandoverNotFound("no such handover: the id is the one the handover answered with")
    return _handover(row)


def answer_handover(rt: Runtime, handover_id: str, text: str, *, by: str, department: str | None,
                    tenant: str | None = None) -> Handover:  # fmt: skip
    """A person's answer to a waiting handover (once); a department answers only its own queue's.
    :class:`HandoverNotFound`, :class:`HandoverAnswered`."""
    tenant = tenant or rt.settings.default_tenant
    if not text.strip():
        raise InvalidQuestion("the answer is empty: write what the asker should do", field="answer")
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    with rt.db.write() as conn:
        row = store.get(conn, tenant, handover_id)
        if row is None or (department is not None and row["department"] != department):
            raise HandoverNotFound("no such handover in your queue: GET /onestop/assistant/handovers lists them")
        if not store.answer(conn, tenant, handover_id, {"answer": text.strip(), "answered_by": by,
                                                         "answered_at": now}):  # fmt: skip
            raise HandoverAnswered(f"handover {handover_id} was answered already by {row['answered_by']}")
    return handover(rt, handover_id, tenant=tenant)
