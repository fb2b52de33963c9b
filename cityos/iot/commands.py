"""Commands to devices (控制执行): pending → sent → ok | error | expired.

A command is stored as pending, published on ``cityos/{apikey}/{device}/cmd`` as
``{"id", "command", "value"}`` with QoS 1, and is sent once the broker acknowledged it. The
device answers on ``…/cmdexe`` with ``{"id", "status": "ok" | "error", "result"}``; a command with
no answer by its expiry time is expired.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from datetime import timedelta
from typing import Any

import orjson
import paho.mqtt.client as paho

from cityos.auth import EVERYTHING, Scope
from cityos.core.timefmt import format_ts, now_iso, parse_ts
from cityos.errors import Unavailable
from cityos.iot import store
from cityos.iot.errors import CommandNotFound, NoCommandChannel
from cityos.iot.models import Command, sees
from cityos.iot.mqtt import TOPIC_ROOT, connect, new_client
from cityos.iot.schemas import CommandCreate
from cityos.iot.service import get_device
from cityos.runtime import Runtime

log = logging.getLogger(__name__)


class CommandChannel:
    """A publishing MQTT client for commands; marks a command sent when the broker took it."""

    def __init__(self, rt: Runtime, url: str) -> None:
        self.rt = rt
        # with the nats transport the devices' broker is nats-server, which speaks MQTT 3.1.1 only
        mqtt5 = rt.settings.ingest_transport != "nats"
        self.client = new_client(url, f"cityos-cmd-{os.getpid()}-{uuid.uuid4().hex[:6]}", mqtt5=mqtt5)
        self.client.on_publish = self._on_publish
        self._pending: dict[int, str] = {}
        self._lock = threading.Lock()
        connect(self.client, url)

    def publish(self, topic: str, payload: bytes, command_id: str) -> None:
        with self._lock:
            info = self.client.publish(topic, payload, qos=1)
            self._pending[info.mid] = command_id

    def _on_publish(self, _c: paho.Client, _u: object, mid: int, _rc: object, _p: object) -> None:
        with self._lock:
            command_id = self._pending.pop(mid, None)
        if command_id is None:
            return
        at = now_iso()
        try:
            self.rt.db.run_write(
                lambda conn: store.set_command_status(conn, command_id, "sent", only_from=("pending",), sent_at=at)
            )
        except Exception:
            log.exception("command %s could not be marked sent", command_id)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def channel(rt: Runtime) -> CommandChannel:
    url = rt.settings.mqtt_url
    if not url:
        raise NoCommandChannel("commands go out over MQTT: set CITYOS_MQTT_URL to the broker the devices use")

    def connected() -> CommandChannel:
        try:
            return CommandChannel(rt, url)
        except OSError as exc:  # the broker is down or unreachable: tried again on the next command
            raise Unavailable(
                f"the devices' MQTT broker ({url}) cannot be reached ({exc}): the command was not sent; try again "
                "when it is up",
                retryAfter=10,
            ) from None

    return rt.parts.get(CommandChannel, connected)


def send(
    rt: Runtime, device_id: str, spec: CommandCreate, by: str | None = None, *, scope: Scope = EVERYTHING
) -> Command:
    """Store a command for a device within the scope and publish it."""
    device, _ = get_device(rt, device_id, scope=scope)
    ch = channel(rt)
    now = now_iso()
    command = Command(
        id=str(uuid.uuid4()),
        device_id=device.device_id,
        name=spec.command,
        value=spec.value,
        status="pending",
        created_at=now,
        created_by=by,
        expires_at=format_ts(parse_ts(now) + timedelta(seconds=spec.expires_in)),
    )
    rt.db.run_write(lambda conn: store.insert_command(conn, command))
    payload = orjson.dumps({"id": command.id, "command": spec.command, "value": spec.value})
    ch.publish(f"{TOPIC_ROOT}/{device.apikey}/{device.device_id}/cmd", payload, command.id)
    return command


def record_answer(rt: Runtime, apikey: str, device_id: str, payload: bytes) -> bool:
    """A device's answer on …/cmdexe. Returns whether it settled a command; malformed answers are logged."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        log.warning("command answer from %s is not JSON: %r", device_id, payload[:200])
        return False
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or doc.get("status") not in ("ok", "error"):
        log.warning("command answer from %s lacks id or status ok|error: %r", device_id, payload[:200])
        return False
    at = now_iso()

    def job(conn: Any) -> bool:
        command = store.get_command(conn, doc["id"])
        if command is None or command.device_id != device_id:
            return False
        device = store.get_device(conn, device_id)
        if device is None or device.apikey != apikey:
            return False
        # an answer can overtake the broker's PUBACK that marks the command sent: it was sent, then
        sent = {"sent_at": at} if command.sent_at is None else {}
        return store.set_command_status(
            conn,
            doc["id"],
            doc["status"],
            only_from=("pending", "sent"),
            answered_at=at,
            result=doc.get("result"),
            **sent,
        )

    return rt.db.run_write(job)


def expire(rt: Runtime) -> list[str]:
    at = now_iso()
    return rt.db.run_write(lambda conn: store.expire_commands(conn, at))


def get(rt: Runtime, command_id: str, *, scope: Scope = EVERYTHING) -> Command:
    """A command; one to a device outside the scope is not found."""
    with rt.db.connect() as conn:
        command = store.get_command(conn, command_id)
        device = store.get_device(conn, command.device_id) if command is not None and not scope.unlimited else None
    if command is None or not (scope.unlimited or (device is not None and sees(scope, device))):
        raise CommandNotFound(f"there is no command {command_id!r}")
    return command


def for_device(rt: Runtime, device_id: str, *, scope: Scope = EVERYTHING) -> list[Command]:
    """A device's latest commands; a device outside the scope is not found."""
    get_device(rt, device_id, scope=scope)
    with rt.db.connect() as conn:
        return store.list_commands(conn, device_id)
