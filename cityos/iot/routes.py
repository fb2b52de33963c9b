"""HTTP routes of the iot package: provisioning, health, dead letters, commands, HTTP telemetry, /metrics."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from cityos.auth import PublicContext, RequestContext, allow, public
from cityos.core.bounds import Offset
from cityos.core.iris import Name, control_character
from cityos.core.timefmt import now_iso
from cityos.errors import CityError, Forbidden, InvalidInput, problem_responses
from cityos.iot import commands, metrics, service
from cityos.iot.errors import BadApiKey, DeviceNotFound
from cityos.iot.models import Message, Outcome
from cityos.iot.schemas import (
    AcceptedPublic,
    BulkPublic,
    BulkRejectedPublic,
    CommandCreate,
    CommandPublic,
    DeadLetterPayloadPublic,
    DeadLetterPublic,
    DeviceCreate,
    DeviceGroupCreate,
    DeviceGroupPublic,
    DevicePublic,
    DeviceUpdate,
    DeviceWithHealthPublic,
    HealthSummaryPublic,
    OutcomePublic,
    public_outcome,
)
from cityos.iot.writer import writer
from cityos.runtime import Runtime

router = APIRouter(prefix="/iot", tags=["iot"])
metrics_router = APIRouter(tags=["system"])

Reader = Annotated[RequestContext, allow("devices:read")]
Writer = Annotated[RequestContext, allow("devices:write")]
LetterReader = Annotated[RequestContext, allow("deadletters:read")]
LetterReplayer = Annotated[RequestContext, allow("deadletters:replay")]
CommandSender = Annotated[RequestContext, allow("commands:send")]
MetricsReader = Annotated[RequestContext, allow("metrics:read")]
# Telemetry over HTTP carries its device group's API key (k): the key is the device's credential.
Device = Annotated[PublicContext, public("device telemetry: the device group's API key (k) is its credential")]

# A department's token sees only its department's groups, devices and dead letters, and a token
# limited to a tenant only that tenant's (RequestContext.scope): the rest answers 404 as if absent, and
# creating or handing over anything for another department is 403.


# --- provisioning ------------------------------------------------------------------------------------


@router.post(
    "/groups", status_code=201, summary="Create a device group (one API key)", responses=problem_responses(409)
)
def create_group(ctx: Writer, spec: DeviceGroupCreate) -> DeviceGroupPublic:
    return DeviceGroupPublic.of(service.create_group(ctx.rt, spec, scope=ctx.scope))


@router.get("/groups", summary="List device groups")
def list_groups(ctx: Reader) -> list[DeviceGroupPublic]:
    return [DeviceGroupPublic.of(g) for g in service.list_groups(ctx.rt, scope=ctx.scope)]


@router.delete(
    "/groups/{apikey}", status_code=204, summary="Delete an empty device group", responses=problem_responses(409)
)
def delete_group(ctx: Writer, apikey: str) -> Response:
    service.delete_group(ctx.rt, apikey, scope=ctx.scope)
    return Response(status_code=204)


@router.post(
    "/devices",
    status_code=201,
    summary="Provision devices (one or a list; existing ones are replaced)",
    responses=problem_responses(404),  # a device group that does not exist
)
def provision(ctx: Writer, spec: DeviceCreate | list[DeviceCreate]) -> list[DevicePublic]:
    specs = spec if isinstance(spec, list) else [spec]
    if not specs:
        raise InvalidInput("send a device or a non-empty list of devices")
    return [DevicePublic.of(d) for d in service.provision(ctx.rt, specs, scope=ctx.scope)]


@router.get("/devices", summary="List devices with their health")
def list_devices(
    ctx: Reader,
    response: Response,
    deviceType: str | None = None,
    grid: str | None = None,
    apikey: str | None = None,
    online: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[DeviceWithHealthPublic]:
    rows, total = service.list_devices(
        ctx.rt,
        scope=ctx.scope,
        device_type=deviceType,
        grid=grid,
        apikey=apikey,
        online=online,
        limit=limit,
        offset=offset,
    )
    response.headers["X-Total-Count"] = str(total)
    return [DeviceWithHealthPublic.with_health(d, h) for d, h in rows]


@router.get("/devices/{device_id}", summary="A device with its health")
def get_device(ctx: Reader, device_id: str) -> DeviceWithHealthPublic:
    return DeviceWithHealthPublic.with_health(*service.get_device(ctx.rt, device_id, scope=ctx.scope))


@router.patch("/devices/{device_id}", summary="Change a device")
def update_device(ctx: Writer, device_id: str, patch: DeviceUpdate) -> DevicePublic:
    return DevicePublic.of(service.update_device(ctx.rt, device_id, patch, scope=ctx.scope))


@router.delete("/devices/{device_id}", status_code=204, summary="Remove a device (its entities stay)")
def remove_device(ctx: Writer, device_id: str) -> Response:
    service.remove_device(ctx.rt, device_id, scope=ctx.scope)
    return Response(status_code=204)


@router.get("/health", summary="Devices online, offline and never seen, per type and grid")
def health(ctx: Reader) -> HealthSummaryPublic:
    return service.health_summary(ctx.rt, scope=ctx.scope)


# --- dead letters ------------------------------------------------------------------------------------


@router.get("/deadletters", summary="Rejected telemetry, newest first")
def list_dead_letters(
    ctx: LetterReader,
    response: Response,
    reasonCode: str | None = None,
    deviceId: str | None = None,
    replayed: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[DeadLetterPublic]:
    rows, total = service.list_dead_letters(
        ctx.rt,
        scope=ctx.scope,
        reason_code=reasonCode,
        device_id=deviceId,
        include_replayed=replayed,
        limit=limit,
        offset=offset,
    )
    response.headers["X-Total-Count"] = str(total)
    return [DeadLetterPublic.of(x) for x in rows]


@router.get("/deadletters/{letter_id}", summary="One dead letter with its raw payload")
def get_dead_letter(ctx: LetterReader, letter_id: str) -> DeadLetterPayloadPublic:
    return DeadLetterPayloadPublic.with_payload(service.get_dead_letter(ctx.rt, letter_id, scope=ctx.scope))


@router.post(
    "/deadletters/{letter_id}/replay",
    summary="Take a dead letter in again",
    responses=problem_responses(409),  # replayed already
)
def replay_dead_letter(ctx: LetterReplayer, letter_id: str) -> OutcomePublic:
    return public_outcome(service.replay(ctx.rt, letter_id, scope=ctx.scope))


# --- commands ----------------------------------------------------------------------------------------


@router.post(
    "/devices/{device_id}/commands",
    status_code=201,
    summary="Send a command to a device",
    responses=problem_responses(409, 503),  # no command channel (CITYOS_MQTT_URL unset); the broker is down
)
def send_command(ctx: CommandSender, device_id: str, spec: CommandCreate) -> CommandPublic:
    return CommandPublic.of(commands.send(ctx.rt, device_id, spec, by=ctx.principal.name, scope=ctx.scope))


@router.get("/devices/{device_id}/commands", summary="A device's latest commands")
def device_commands(ctx: Reader, device_id: str) -> list[CommandPublic]:
    return [CommandPublic.of(c) for c in commands.for_device(ctx.rt, device_id, scope=ctx.scope)]


@router.get("/commands/{command_id}", summary="A command and its status")
def get_command(ctx: Reader, command_id: str) -> CommandPublic:
    return CommandPublic.of(commands.get(ctx.rt, command_id, scope=ctx.scope))


# --- HTTP telemetry (the API key is the credential) --------------------------------------------------


async def _store(rt: Runtime, messages: list[Message]) -> list[Outcome]:
    return await asyncio.wrap_future(writer(rt).submit_many(messages))


_REJECTED_AS: dict[str, type[CityError]] = {"unknown-device": DeviceNotFound, "wrong-apikey": BadApiKey}  # else 400


def _answer_one(o: Outcome) -> AcceptedPublic:
    """The answer to one device's message: accepted, else the problem the rejection is (see _REJECTED_AS)."""
    if o.accepted:
        return AcceptedPublic(measures=o.measures)
    error_class = _REJECTED_AS.get(o.reason_code or "", InvalidInput)
    err = error_class(
        f"{o.reason}; the message is kept as dead letter {o.dead_letter_id}",
        reasonCode=o.reason_code,
        deadLetterId=o.dead_letter_id,
    )
    raise err


TELEMETRY_PROBLEMS = problem_responses(401, 404, 413)  # a message refused for another reason is a 400
TELEMETRY_PROBLEMS[401]["description"] = "k is not the API key of the device's group (the message is a dead letter)"
TELEMETRY_PROBLEMS[404]["description"] = "No device i is provisioned (the message is a dead letter)"


def _message(media: str, schema: dict[str, Any], what: str) -> dict[str, Any]:
    """``openapi_extra`` of a telemetry route: the body it reads itself (whatever its Content-Type says)."""
    return {"requestBody": {"required": True, "description": what, "content": {media: {"schema": schema}}}}


MEASURES = {"type": "object", "description": "measure (object id) -> value", "additionalProperties": {}}
JSON_MESSAGE = _message("application/json", MEASURES, 'the measures, e.g. {"pc": 512}')
UL_MESSAGE = _message("text/plain", {"type": "string"}, "UltraLight 2.0: object id|value pairs, e.g. t|21.5|h|60")
BULK_MESSAGE = _message(
    "application/json",
    {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"anyOf": [MEASURES, {"type": "array", "items": MEASURES}]},
    },
    "device id -> its measures, or a list of them",
)


@router.post(
    "/json",
    summary="Telemetry from one device as JSON (k: API key, i: device id)",
    responses=TELEMETRY_PROBLEMS,
    openapi_extra=JSON_MESSAGE,
)
async def http_json(request: Request, device: Device, k: Name, i: Name) -> AcceptedPublic:
    msg = Message("http", k, i, "json", await request.body(), now_iso())
    return _answer_one((await _store(device.rt, [msg]))[0])


@router.post(
    "/ul",
    summary="Telemetry from one device as UltraLight 2.0 (k: API key, i: device id)",
    responses=TELEMETRY_PROBLEMS,
    openapi_extra=UL_MESSAGE,
)
async def http_ul(request: Request, device: Device, k: Name, i: Name) -> AcceptedPublic:
    msg = Message("http", k, i, "ul", await request.body(), now_iso())
    return _answer_one((await _store(device.rt, [msg]))[0])


@router.post(
    "/bulk",
    summary="Telemetry of many devices from a gateway: {device id: measures or a list of them}",
    responses=problem_responses(413),  # a refused message is reported in the answer, with its dead letter
    openapi_extra=BULK_MESSAGE,
)
async def http_bulk(request: Request, device: Device, k: Name) -> BulkPublic:
    raw = await request.body()
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not JSON: {exc}; send {{device id: {{measure: value}}}}") from None
    if not isinstance(doc, dict) or not doc:
        raise InvalidInput("send a JSON object mapping device ids to their measures (an object or a list of them)")
    for device_id in doc:
        where = control_character(device_id)
        if where is not None:
            raise InvalidInput(f"device id {device_id[:80]!r} holds the control character {where}: remove it")
    now = now_iso()
    messages = [Message("http", k, device_id, "json", orjson.dumps(payload), now) for device_id, payload in doc.items()]
    outcomes = await _store(device.rt, messages)
    rejected = [
        BulkRejectedPublic.of(m.device_id, o) for m, o in zip(messages, outcomes, strict=True) if not o.accepted
    ]
    return BulkPublic(accepted=sum(1 for o in outcomes if o.accepted), rejected=rejected)


@metrics_router.get(
    "/metrics",
    summary="Prometheus metrics (ingest counters, devices, dead letters)",
    response_class=PlainTextResponse,  # the Prometheus text format
)
async def prometheus_metrics(ctx: MetricsReader) -> Response:
    if not ctx.scope.unlimited:  # the process's counters and the store's gauges count every tenant
        raise Forbidden(
            "the metrics count every tenant and department of this server: scrape them with a token that is "
            "not limited to one tenant (cityos token create NAME --role operator)"
        )
    body = await run_in_threadpool(metrics.render, ctx.rt)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
