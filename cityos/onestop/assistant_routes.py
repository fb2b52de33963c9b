"""HTTP routes of the Q&A assistant (智能客服): thin adapters over :mod:`cityos.onestop.assistant`.

Public, rate-limited per address as the other public writes: asking (``POST /onestop/assistant/ask``), handing
a question over to a person (``POST /onestop/assistant/handover``) and reading its answer by the handover's id
(an unguessable key, as a follow link's). Guarded (``services:handle``): the queue of handovers (a department's
clerks see their department's; operators, the service desk and 12345, every one) and answering one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from cityos.auth import PublicContext, RequestContext, allow, public
from cityos.errors import PayloadTooLarge, problem_responses
from cityos.onestop import assistant
from cityos.onestop.assistant import HandoverState
from cityos.onestop.assistant_schemas import (
    AnswerPublic,
    AskIn,
    HandoverAnswerIn,
    HandoverIn,
    HandoverPublic,
    HandoverQueue,
    HandoverStaff,
)

MAX_BODY = 8 * 1024  # a question is a sentence: a larger body is refused before it is parsed


def _small_body(request: Request) -> None:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise PayloadTooLarge(f"the body has {length} bytes, more than {MAX_BODY}: ask one question, shortly")


router = APIRouter(prefix="/onestop/assistant", tags=["onestop"], dependencies=[Depends(_small_body)])
Asker = Annotated[PublicContext, public("anyone asks about services: the answer is made of the public service "
                                        "guides (rate-limited per address)", rate="public")]  # fmt: skip
Follower = Annotated[PublicContext, public("the asker reads the answer to their handover: its unguessable id is the "
                                           "key (rate-limited per address)", rate="public")]  # fmt: skip
Desk = Annotated[RequestContext, allow("services:handle")]
HANDOVER = Path(max_length=40, description="the handover's id, as its creation answered")


@router.post("/ask", summary="Ask the assistant (智能客服) about services: a cited answer, or 'I do not know'",
             responses=problem_responses(400, 413, 429))  # fmt: skip
async def ask(ctx: Asker, body: AskIn) -> AnswerPublic:
    found = await run_in_threadpool(assistant.ask, ctx.rt, body.question, tenant=ctx.tenant)
    return AnswerPublic.of(found)


@router.post("/handover", status_code=201, summary="Hand a question over to a person (转人工)",
             responses=problem_responses(400, 413, 429))  # fmt: skip
async def hand_over(ctx: Asker, body: HandoverIn) -> HandoverPublic:
    found = await run_in_threadpool(assistant.hand_over, ctx.rt, body.question, channel=body.channel,
                                    contact=body.contact, tenant=ctx.tenant)  # fmt: skip
    return HandoverPublic.of(found)


@router.get("/handover/{handover_id}", summary="A handover and its answer, by the id its creation answered",
            responses=problem_responses(404, 429))  # fmt: skip
async def read_handover(ctx: Follower, handover_id: Annotated[str, HANDOVER]) -> HandoverPublic:
    found = await run_in_threadpool(assistant.handover, ctx.rt, handover_id, tenant=ctx.tenant)
    return HandoverPublic.of(found)


@router.get("/handovers", summary="The queue of handovers (转人工), oldest first: a department's own, or all")
async def queue(ctx: Desk, state: Annotated[HandoverState | Literal["all"], Query()] = "waiting",
                limit: Annotated[int, Query(ge=1, le=200)] = 50) -> HandoverQueue:  # fmt: skip
    wanted = None if state == "all" else state
    found = await run_in_threadpool(assistant.handovers, ctx.rt, tenant=ctx.tenant, state=wanted,
                                    department=ctx.department, limit=limit)  # fmt: skip
    return HandoverQueue(handovers=[HandoverStaff.staff(h) for h in found])


@router.post("/handovers/{handover_id}/answer", summary="Answer a handover (once)",
             responses=problem_responses(400, 403, 404, 409))  # fmt: skip
async def answer(ctx: Desk, handover_id: Annotated[str, HANDOVER], body: HandoverAnswerIn) -> HandoverStaff:
    found = await run_in_threadpool(assistant.answer_handover, ctx.rt, handover_id, body.answer,
                                    by=ctx.principal.name, department=ctx.department, tenant=ctx.tenant)  # fmt: skip
    return HandoverStaff.staff(found)
