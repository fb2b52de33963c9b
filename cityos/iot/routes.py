"""HTTP routes of the iot package: provisioning, health, dead letters, commands, HTTP telemetry, /metrics."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from cityos.auth.deps import RuntimeDep, require
from cityos.auth.models import Principal
from cityos.context.timefmt import now_iso
from cityos.errors import CityError, InvalidInput, PayloadTooLarge
from cityos.iot import commands, metrics, service
from cityos.iot.errors import BadApiKey, DeviceNotFound
from cityos.iot.models import Message, Outcome
from cityos.iot.schemas import CommandCreate, DeviceCreate, DeviceGroupCreate, DeviceUpdate
from cityos.iot.writer import writer
from cityos.runtime import Runtime

router = APIRouter(prefix="/iot", tags=["iot"])
metrics_router = APIRouter(tags=["system"])

Reader = Annotated[Principal, Depends(require("devices:read"))]
Writer = Annotated[Principal, Depends(require("devices:write"))]
LetterReader = Annotated[Principal, Depends(require("deadletters:read"))]
LetterReplayer = Annotated[Principal, Depends(require("deadletters:replay"))]
CommandSender = Annotated[Principal, Depends(require("commands:send"))]

# A department's token sees only its department's groups, devices and dead letters, and a token
# limited to a tenant only that tenant's (service.scope_for): the rest answers 404 as if absent, and
# creating or handing over anything for another department is 403.


# --- provisioning ------------------------------------------------------------------------------------


@router.post("/groups", status_code=201, summary="Create a device group (one API key)")
def create_group(rt: RuntimeDep, p: Writer, spec: DeviceGroupCreate) -> dict[str, Any]:
    g = service.create_group(rt, spec, scope=service.scope_for(p))
    return {
        "apikey": g.apikey,
        "tenant": g.tenant,
        "name": g.name,
        "department": g.department,
        "createdAt": g.created_at,
    }


@router.get("/groups", summary="List device groups")
def list_groups(rt: RuntimeDep, p: Reader) -> list[dict[str, Any]]:
    return [
        {"apikey": g.apikey, "tenant": g.tenant, "name": g.name, "department": g.department, "createdAt": g.created_at}
        for g in service.list_groups(rt, scope=service.scope_for(p))
    ]


@router.delete("/groups/{apikey}", status_code=204, summary="Delete an empty device group")
def delete_group(rt: RuntimeDep, p: Writer, apikey: str) -> Response:
    service.delete_group(rt, apikey, scope=service.scope_for(p))
    return Response(status_code=204)


@router.post("/devices", status_code=201, summary="Provision devices (one or a list; existing ones are replaced)")
def provision(rt: RuntimeDep, p: Writer, spec: DeviceCreate | list[DeviceCreate]) -> list[dict[str, Any]]:
    specs = spec if isinstance(spec, list) else [spec]
    if not specs:
        raise InvalidInput("send a device or a non-empty list of devices")
    return [service.public_device(d) for d in service.provision(rt, specs, scope=service.scope_for(p))]


@router.get("/devices", summary="List devices with their health")
def list_devices(
    rt: RuntimeDep,
    p: Reader,
    response: Response,
    deviceType: str | None = None,
    grid: str | None = None,
    apikey: str | None = None,
    online: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    rows, total = service.list_devices(
        rt,
        scope=service.scope_for(p),
        device_type=deviceType,
        grid=grid,
        apikey=apikey,
        online=online,
        limit=limit,
        offset=offset,
    )
    response.headers["X-Total-Count"] = str(total)
    return [service.public_device(d, h) for d, h in rows]


@router.get("/devices/{device_id}", summary="A device with its health")
def get_device(rt: RuntimeDep, p: Reader, device_id: str) -> dict[str, Any]:
    return service.public_device(*service.get_device(rt, device_id, scope=service.scope_for(p)))


@router.patch("/devices/{device_id}", summary="Change a device")
def update_device(rt: RuntimeDep, p: Writer, device_id: str, patch: DeviceUpdate) -> dict[str, Any]:
    return service.public_device(service.update_device(rt, device_id, patch, scope=service.scope_for(p)))


@router.delete("/devices/{device_id}", status_code=204, summary="Remove a device (its entities stay)")
def remove_device(rt: RuntimeDep, p: Writer, device_id: str) -> Response:
    service.remove_device(rt, device_id, scope=service.scope_for(p))
    return Response(status_code=204)


@router.get("/health", summary="Devices online, offline and never seen, per type and grid")
def health(rt: RuntimeDep, p: Reader) -> dict[str, Any]:
    return service.health_summary(rt, scope=service.scope_for(p))


# --- dead letters ------------------------------------------------------------------------------------


@router.get("/deadletters", summary="Rejected telemetry, newest first")
def list_dead_letters(
    rt: RuntimeDep,
    p: LetterReader,
    response: Response,
    reasonCode: str | None = None,
    deviceId: str | None = None,
    replayed: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    rows, total = service.list_dead_letters(
        rt,
        scope=service.scope_for(p),
        reason_code=reasonCode,
        device_id=deviceId,
        include_replayed=replayed,
        limit=limit,
        offset=offset,
    )
    response.headers["X-Total-Count"] = str(total)
    return [service.public_dead_letter(r, with_payload=False) for r in rows]


@router.get("/deadletters/{letter_id}", summary="One dead letter with its raw payload")
def get_dead_letter(rt: RuntimeDep, p: LetterReader, letter_id: str) -> dict[str, Any]:
    return service.public_dead_letter(service.get_dead_letter(rt, letter_id, scope=service.scope_for(p)))


@router.post("/deadletters/{letter_id}/replay", summary="Take a dead letter in again")
def replay_dead_letter(rt: RuntimeDep, p: LetterReplayer, letter_id: str) -> dict[str, Any]:
    return _outcome(service.replay(rt, letter_id, scope=service.scope_for(p)))


# --- commands ----------------------------------------------------------------------------------------


@router.post("/devices/{device_id}/commands", status_code=201, summary="Send a command to a device")
def send_command(rt: RuntimeDep, p: CommandSender, device_id: str, spec: CommandCreate) -> dict[str, Any]:
    return commands.public(commands.send(rt, device_id, spec, by=p.name, scope=service.scope_for(p)))


@router.get("/devices/{device_id}/commands", summary="A device's latest commands")
def device_commands(rt: RuntimeDep, p: Reader, device_id: str) -> list[dict[str, Any]]:
    return [commands.public(r) for r in commands.for_device(rt, device_id, scope=service.scope_for(p))]


@router.get("/commands/{command_id}", summary="A command and its status")
def get_command(rt: RuntimeDep, p: Reader, command_id: str) -> dict[str, Any]:
    return commands.public(commands.get(rt, command_id, scope=service.scope_for(p)))


# --- HTTP telemetry (the API key is the credential) --------------------------------------------------


def _outcome(o: Outcome) -> dict[str, Any]:
    if o.accepted:
        return {"accepted": True, "measures": o.measures}
    return {"accepted": False, "reasonCode": o.reason_code, "reason": o.reason, "deadLetterId": o.dead_letter_id}


async def _body(request: Request, rt: Runtime) -> bytes:
    raw = await request.body()
    if len(raw) > rt.settings.max_body_bytes:
        raise PayloadTooLarge(f"the body has {len(raw)} bytes; the limit is {rt.settings.max_body_bytes}")
    return raw


async def _store(rt: Runtime, messages: list[Message]) -> list[Outcome]:
    return await asyncio.wrap_future(writer(rt).submit_many(messages))


_REJECTED_AS: dict[str, type[CityError]] = {"unknown-device": DeviceNotFound, "wrong-apikey": BadApiKey}  # else 400


def _answer_one(o: Outcome) -> Response:
    if o.accepted:
        return Response(orjson.dumps(_outcome(o)), media_type="application/json")
    error_class = _REJECTED_AS.get(o.reason_code or "", InvalidInput)
    err = error_class(
        f"{o.reason}; the message is kept as dead letter {o.dead_letter_id}",
        reasonCode=o.reason_code,
        deadLetterId=o.dead_letter_id,
    )
    raise err


@router.post("/json", summary="Telemetry from one device as JSON (k: API key, i: device id)")
async def http_json(request: Request, rt: RuntimeDep, k: str, i: str) -> Response:
    msg = Message("http", k, i, "json", await _body(request, rt), now_iso())
    return _answer_one((await _store(rt, [msg]))[0])


@router.post("/ul", summary="Telemetry from one device as UltraLight 2.0 (k: API key, i: device id)")
async def http_ul(request: Request, rt: RuntimeDep, k: str, i: str) -> Response:
    msg = Message("http", k, i, "ul", await _body(request, rt), now_iso())
    return _answer_one((await _store(rt, [msg]))[0])


@router.post("/bulk", summary="Telemetry of many devices from a gateway: {device id: measures or a list of them}")
async def http_bulk(request: Request, rt: RuntimeDep, k: str) -> dict[str, Any]:
    raw = await _body(request, rt)
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not JSON: {exc}; send {{device id: {{measure: value}}}}") from None
    if not isinstance(doc, dict) or not doc:
        raise InvalidInput("send a JSON object mapping device ids to their measures (an object or a list of them)")
    now = now_iso()
    messages = [Message("http", k, device_id, "json", orjson.dumps(payload), now) for device_id, payload in doc.items()]
    outcomes = await _store(rt, messages)
    rejected = [
        {"deviceId": m.device_id, **_outcome(o)} for m, o in zip(messages, outcomes, strict=True) if not o.accepted
    ]
    return {"accepted": sum(1 for o in outcomes if o.accepted), "rejected": rejected}


@metrics_router.get("/metrics", summary="Prometheus metrics (ingest counters, devices, dead letters)")
async def prometheus_metrics(rt: RuntimeDep, _p: Annotated[Principal, Depends(require("metrics:read"))]) -> Response:
    body = await run_in_threadpool(metrics.render, rt)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
