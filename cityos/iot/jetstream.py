"""The JetStream transport of telemetry (``CITYOS_INGEST_TRANSPORT=nats``): devices keep speaking MQTT.

NATS speaks MQTT to the devices (an ``mqtt { port: … }`` block in nats-server's configuration): a
device's ``cityos/{apikey}/{device}/attrs`` becomes the NATS subject ``cityos.{apikey}.{device}.attrs``,
which a JetStream stream captures (``CITYOS_INGEST_NATS_STREAM``, made here if it does not exist:
``attrs``, ``ul`` and ``cmdexe``, file storage, limits retention). The ingest takes them from one
durable pull consumer (``CITYOS_INGEST_NATS_CONSUMER``) in batches and feeds the same batching writer
as the MQTT transport; each message is acknowledged only after its batch committed, the acknowledgements
of a batch sent together. Every ingest process of a deployment pulls from the same consumer, so the
server spreads the messages over them; a message whose process died unacknowledged is delivered again
to a live one after ``CITYOS_INGEST_NATS_ACK_WAIT`` seconds, and the write path stores a replay once.

Why not the MQTT client: paho spends about 40 µs of CPU to receive and acknowledge one QoS 1 message;
a pull consumer here about 17 µs, as one pull request fetches hundreds of messages and one socket
write carries a batch's acknowledgements (``bench/ingest.py`` measures both in the same run).

The receipt time of a message is the time the stream stored it (in its acknowledgement subject): the
same on every delivery, so a replayed message without ``observedAt`` is stored once as well.

Why limits retention: on nats-server 2.9 a work-queue or interest stream deletes each acknowledged
message one by one, under 1,000 a second; a limits stream keeps them (``max_age``) and an
acknowledgement only moves the consumer on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import nats
import nats.js.errors
import orjson
from nats.aio.msg import Msg
from nats.js import api

from cityos.core.loops import new_event_loop
from cityos.core.timefmt import ms_iso
from cityos.iot.models import Message, Outcome, PayloadFormat
from cityos.iot.mqtt import BATCHES_IN_FLIGHT, TOPIC_ROOT
from cityos.iot.writer import IngestWriter
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
KINDS = ("attrs", "ul", "cmdexe")
PULL_EXPIRES_NS = 1_000_000_000  # a pull request waits this long for messages before the server ends it
STREAM_MAX_AGE_S = 7 * 86400  # what the stream keeps, acknowledged or not (a backlog older is dropped)


def stream_subjects() -> list[str]:
    return [f"{TOPIC_ROOT}.*.*.{kind}" for kind in KINDS]


def stream_config(name: str) -> api.StreamConfig:
    return api.StreamConfig(
        name=name,
        description="cityos device telemetry and command answers, from MQTT",
        subjects=stream_subjects(),
        storage=api.StorageType.FILE,
        retention=api.RetentionPolicy.LIMITS,
        discard=api.DiscardPolicy.OLD,
        max_age=STREAM_MAX_AGE_S,
    )


def consumer_config(durable: str, ack_wait: float) -> api.ConsumerConfig:
    return api.ConsumerConfig(
        durable_name=durable,
        ack_policy=api.AckPolicy.EXPLICIT,  # not AckAll: it would acknowledge what another process still holds
        ack_wait=ack_wait,
        max_ack_pending=-1,  # each process bounds what it holds (BATCHES_IN_FLIGHT batches)
        deliver_policy=api.DeliverPolicy.ALL,
    )


def stored_at_ns(reply: str) -> int | None:
    """The time the stream stored a message, from its acknowledgement subject (``$JS.ACK.…``)."""
    tokens = reply.split(".")
    if len(tokens) == 9:  # $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
        return int(tokens[7])
    if len(tokens) >= 11:  # with the domain and account hash first, and maybe a token after
        return int(tokens[9])
    return None


class JetStreamConsumer:
    """Pulls telemetry from a durable JetStream consumer into the writer; command answers to ``on_answer``."""

    def __init__(
        self,
        rt: Runtime,
        writer: IngestWriter,
        *,
        url: str | None = None,
        on_answer: Callable[[str, str, bytes], object] | None = None,
    ) -> None:
        s = rt.settings
        self.rt = rt
        self.writer = writer
        self.url = url or s.ingest_nats or ""
        self.stream, self.durable, self.ack_wait = s.ingest_nats_stream, s.ingest_nats_consumer, s.ingest_nats_ack_wait
        self.on_answer = on_answer
        self.received = self.settled = 0
        self.connected = threading.Event()  # set once the stream and consumer exist and pulling begins
        self._limit = BATCHES_IN_FLIGHT * writer.batch_size  # messages held unacknowledged at most
        self._held = 0  # handed to the writer, not yet acknowledged (the loop's thread only)
        self._loop = new_event_loop()
        self._nc: Any = None
        self._stopping = False
        self._drain_s = 10.0
        self._room: asyncio.Event | None = None
        self._ended: asyncio.Event | None = None  # the pull request now open has ended
        self._left = 0  # messages the open pull request may still bring
        self._stamp_ns, self._stamp = 0, ""
        self._thread = threading.Thread(target=self._run, name="iot-jetstream", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except Exception:
            log.exception("the JetStream telemetry consumer stopped")
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._room, self._ended = asyncio.Event(), asyncio.Event()
        while not self._stopping:
            try:
                self._nc = await nats.connect(
                    self.url, name="cityos-ingest", max_reconnect_attempts=-1, connect_timeout=5
                )
                break
            except Exception as exc:  # not up yet: the ingest waits for it, as for an MQTT broker
                log.warning("NATS at %s not reachable (%s): trying again", self.url, exc)
                await asyncio.sleep(2)
        if self._stopping:
            return
        nc = self._nc
        js = nc.jetstream(timeout=10)
        try:
            await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(stream_config(self.stream))
        try:
            await js.consumer_info(self.stream, self.durable)
        except nats.js.errors.NotFoundError:
            try:
                await js.add_consumer(self.stream, consumer_config(self.durable, self.ack_wait))
            except nats.js.errors.BadRequestError:  # another process made it meanwhile
                await js.consumer_info(self.stream, self.durable)
        inbox = nc.new_inbox()
        await nc.subscribe(inbox, cb=self._on_msg, pending_msgs_limit=-1, pending_bytes_limit=-1)
        pull = f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self.durable}"
        self.connected.set()
        log.info("pulling telemetry from stream %s, consumer %s", self.stream, self.durable)
        while not self._stopping:
            room = min(self.writer.batch_size, self._limit - self._held)
            if room <= 0:
                self._room.clear()
                await self._room.wait()
                continue
            self._left = room
            self._ended.clear()
            await nc.publish(pull, orjson.dumps({"batch": room, "expires": PULL_EXPIRES_NS}), reply=inbox)
            # ended by the last message asked for, or by the server's status message at expiry; a
            # request lost with the connection is given up after a while
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ended.wait(), PULL_EXPIRES_NS / 1e9 + 5)
        # stopping: what the writer still holds is acknowledged as it commits, for a while
        deadline = self._loop.time() + self._drain_s
        while self._held > 0 and self._loop.time() < deadline:
            self._room.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room.wait(), deadline - self._loop.time())
        await nc.close()

    async def _on_msg(self, m: Msg) -> None:
        reply = m.reply
        if not reply:  # a status message (408 at expiry, 409 …): the pull request ended
            self._ended.set()  # type: ignore[union-attr]
            return
        self.received += 1
        self._left -= 1
        if self._left <= 0:
            self._ended.set()  # type: ignore[union-attr]
        parts = m.subject.split(".")
        if len(parts) == 4 and parts[0] == TOPIC_ROOT and parts[1] and parts[2]:
            kind = parts[3]
            if kind == "attrs" or kind == "ul":
                ns = stored_at_ns(reply) or 0
                ms = ns // 1_000_000
                if ms != self._stamp_ns:
                    self._stamp_ns, self._stamp = ms, ms_iso(ms)
                fmt: PayloadFormat = "json" if kind == "attrs" else "ul"
                topic = f"{TOPIC_ROOT}/{parts[1]}/{parts[2]}/{kind}"
                msg = Message("mqtt", parts[1], parts[2], fmt, m.data, self._stamp, topic)
                self._held += 1
                if self.writer.put(msg, self, reply):
                    return
                self._held -= 1  # shutting down: left unacknowledged, delivered again
                return
            if kind == "cmdexe" and self.on_answer is not None:
                try:
                    self.on_answer(parts[1], parts[2], m.data)
                except Exception:
                    log.exception("command answer from %s not recorded", parts[2])
                    return  # unacknowledged: delivered again
        await self._nc.publish(reply)  # not telemetry: acknowledged now

    def settle(self, tokens: list[Any], outcomes: list[Outcome]) -> None:
        """The writer stored (or rejected) these messages: acknowledge them, together (the writer's thread)."""
        if not self._loop.is_closed():
            asyncio.run_coroutine_threadsafe(self._ack(tokens), self._loop)

    async def _ack(self, replies: list[str]) -> None:
        publish = self._nc.publish
        for reply in replies:
            await publish(reply)  # buffered: the client writes them to the socket in one go
        self._held -= len(replies)
        self.settled += len(replies)
        self._room.set()  # type: ignore[union-attr]

    def close(self, wait: float = 10.0) -> None:
        """Stop pulling; acknowledge what the writer commits within ``wait`` seconds, then disconnect (what
        is left unacknowledged is delivered again, to this process's successor or another)."""
        self._drain_s = wait
        self._stopping = True
        if self._thread.is_alive() and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                self._loop.call_soon_threadsafe(self._wake)
        self._thread.join(wait + 15)

    def _wake(self) -> None:
        for event in (self._room, self._ended):
            if event is not None:
                event.set()
