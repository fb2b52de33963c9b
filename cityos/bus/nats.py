"""NATS JetStream bus: events stored durably and carried between processes, consumed at least once.

Layout
    One stream (``CITYOS`` by default, file storage) holds every subject under ``{prefix}.>``.
    An event is stored on ``{prefix}.{tenant}.{event.subject}``, for example
    ``cityos.default.entity.created``. A subscription to ``entity.*`` becomes a consumer filtered on
    ``{prefix}.*.entity.*``, so it receives the events of every tenant, and a per-tenant consumer
    stays a plain subject filter if it is ever needed. Tenant names are single subject tokens
    (letters, digits, ``-`` and ``_``, as ``check_tenant_name`` enforces).

    The payload is the whole event as JSON (``subject``, ``tenant``, ``key``, ``id``, ``time``,
    ``data``), so a message read with the ``nats`` CLI or from another language is self-contained.
    Consecutive events of one ``publish`` call with the same tenant and subject share a message, whose
    payload is then a JSON array of such events (at most 100, and 512 KiB): a batch of a thousand
    entity updates is ten messages, not a thousand, each one stored, delivered to every consumer and
    acknowledged at a cost that would otherwise be paid per event. The ``Nats-Msg-Id`` header is the
    event id (``first..last/count`` for several): within the stream's duplicate window (2 minutes)
    a retried publish of the same events is stored once.

Threading
    The bus owns one thread running an asyncio loop with the nats-py client; ``publish``,
    ``subscribe`` and ``close`` are synchronous and may be called from any other thread. Each
    subscription has one pull consumer, one fetch loop and one worker thread of its own that runs
    the handler, so a slow handler delays only its own subscription, never publishing or the
    others. Handlers see the events of a subscription one at a time, in stream order; a batch
    handler (``subscribe_batches``) gets the events of the messages that have arrived (up to 100), in
    stream order. The loop is uvloop's where it is installed.

Pulling
    A subscription keeps one pull request open on its consumer (up to 100 messages, for at most 5 s)
    and asks again when it is used up or expired, so messages stream in while the handler runs and
    each one costs its delivery and its ack. (nats-py's ``fetch``, asked for a batch each time, cost a
    request, a timer and a timeout exception or two per round: more CPU than the handling of a
    50-event message.) Messages that arrived while the handler runs are kept in progress with those
    it holds, so a slow handler causes no redelivery of them either.

Delivery
    A message is acked only after its handler returned for each of its events. If the handler raises,
    the message is negatively acknowledged with a growing delay (1 s, 2 s, 5 s ... 1 min) and
    delivered again, every event in it; the events after it go on meanwhile, so a failing event can
    be handled after later ones, and it is retried for as long as the stream keeps it. While a
    handler runs, the bus tells the server it is still in progress, so a slow handler does not cause
    a redelivery. Handlers must be idempotent: after a crash, or with a failing event sharing its
    message, events already handled come again.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import itertools
import logging
import re
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

import nats.errors
import nats.js.errors
import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext, api

from cityos.bus.base import BatchHandler, Event, Handler, subject_matches
from cityos.core.loops import new_event_loop

log = logging.getLogger(__name__)

T = TypeVar("T")

_STREAM_MAX_AGE = 7 * 24 * 3600.0  # seconds; consumers down for longer than this lose events
_DUPLICATE_WINDOW = 120.0  # seconds during which a repeated Nats-Msg-Id is dropped
_ACK_WAIT = 30.0  # the server redelivers a message not acked (nor marked in progress) within this
_EPHEMERAL_INACTIVE = 300.0  # the server deletes an ephemeral consumer left without a client this long
_FETCH_BATCH = 100  # messages a pull request asks for, and handed to the handler at once at most
_EVENTS_PER_MESSAGE = 100
_MESSAGE_BYTES = 512 * 1024  # below the server's max_payload (1 MiB by default), which refuses larger messages
_IDLE_FETCH_WAIT = 5.0  # a pull request lasts this long at most; close() does not wait for it
_PULL_GRACE = 2.0  # a pull request that neither delivered nor expired this long after it should have is lost
_JS_API = "$JS.API"  # the JetStream API prefix (no domain)
_CONSUMER_CHECK_INTERVAL = 30.0  # an idle subscription checks this often that its consumer still exists
_PUBLISH_TIMEOUT = 30.0  # for the acks of one publish call
_REQUEST_TIMEOUT = 10.0  # JetStream API calls (stream and consumer management)
_STOP_GRACE = 30.0  # close/cancel wait this long for a running handler before abandoning it
_RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # by delivery attempt, after a handler raised

_TOKEN = re.compile(r"[^\s.*>]+")  # one subject token: no dots, wildcards or whitespace


class NatsBus:
    """The cityos bus on NATS JetStream; see the module docstring for the layout and guarantees.

    ``url`` is a NATS server URL (``nats://host:4222``; several may be given comma-separated).
    ``stream`` and ``subject_prefix`` name where events live, so several deployments can share one
    NATS server; ``durable_prefix`` is put before every durable consumer name (``{prefix}-{name}``).

    Raises ``RuntimeError`` naming the URL when no server answers within ``connect_timeout``
    seconds or JetStream is unavailable there.
    """

    def __init__(
        self,
        url: str,
        *,
        stream: str = "CITYOS",
        subject_prefix: str = "cityos",
        durable_prefix: str | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        if not _TOKEN.fullmatch(stream):
            raise ValueError(f"NATS stream name {stream!r} must not contain '.', '*', '>' or whitespace")
        if not all(_TOKEN.fullmatch(t) for t in subject_prefix.split(".")):
            raise ValueError(f"NATS subject prefix {subject_prefix!r} must be dotted tokens without wildcards")
        if durable_prefix is not None and not _TOKEN.fullmatch(durable_prefix):
            raise ValueError(f"durable prefix {durable_prefix!r} must not contain '.', '*', '>' or whitespace")
        self.url = url
        self.stream = stream
        self.subject_prefix = subject_prefix
        self.durable_prefix = durable_prefix
        self._servers = [u.strip() for u in url.split(",") if u.strip()]
        self._nc = Client()
        self._js: JetStreamContext | None = None  # set once connected
        self._last_error: Exception | None = None
        self._subs: set[_Subscription] = set()  # touched only in the bus thread
        self._closed = False
        self._close_lock = threading.Lock()
        self._loop = new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="cityos-nats-bus", daemon=True)
        self._thread.start()
        try:
            self._call(self._start(connect_timeout), timeout=connect_timeout + _REQUEST_TIMEOUT + 5)
        except Exception as exc:
            self._closed = True
            self._stop_loop()
            raise RuntimeError(f"cannot use the NATS bus at {_redact(url)}: {_describe(exc)}") from exc

    # --- public interface ----------------------------------------------------------------------

    def publish(self, events: list[Event]) -> None:
        """Store ``events`` in the stream, in order, and return once JetStream acknowledged all of them.

        Raises ``RuntimeError`` if any was not stored; publishing the same list again is safe, as
        the event ids de-duplicate within the duplicate window. Blocks the calling thread (and its
        event loop, if called from one) until the acks arrive.
        """
        if not events:
            return
        for ev in events:
            if not _TOKEN.fullmatch(ev.tenant):
                raise ValueError(f"tenant {ev.tenant!r} cannot be a NATS subject token")
            if not all(_TOKEN.fullmatch(t) for t in ev.subject.split(".")):
                raise ValueError(f"event subject {ev.subject!r} must be dotted tokens without wildcards")
        batch: list[tuple[str, bytes, str]] = []
        for (tenant, subject), run in itertools.groupby(events, key=lambda ev: (ev.tenant, ev.subject)):
            nats_subject = f"{self.subject_prefix}.{tenant}.{subject}"
            parts: list[bytes] = []
            ids: list[str] = []
            size = 0
            for ev in run:
                payload = _encode(ev)
                if parts and (len(parts) == _EVENTS_PER_MESSAGE or size + len(payload) > _MESSAGE_BYTES):
                    batch.append(_message(nats_subject, parts, ids))
                    parts, ids, size = [], [], 0
                parts.append(payload)
                ids.append(ev.id)
                size += len(payload) + 1
            batch.append(_message(nats_subject, parts, ids))
        self._call(self._publish(batch), timeout=_PUBLISH_TIMEOUT + 5)

    def subscribe(
        self,
        pattern: str | tuple[str, ...],
        handler: Handler,
        *,
        durable: str | None = None,
        replaces: str | None = None,
        _batch: bool = False,
    ) -> Callable[[], None]:
        """Call ``handler`` for events whose subject matches ``pattern`` (``*`` one token, ``>`` the rest).

        Without ``durable`` the subscription receives events published from now on while it
        exists. With a ``durable`` name the consumer is kept by the server: a new process
        subscribing with the same name resumes after the last acked event (a new name starts with
        the events published from then on, or, with ``replaces`` naming an older durable consumer
        that still exists, where that one left off; the older one is then deleted). One durable name
        follows one pattern. Processes that share a durable name share its events between them.

        Several patterns give one consumer, filtered on a subject that covers them all
        (``entity.*`` and ``subscription.*``: ``*.*``), so that their events come in the order they
        were published; events of the covering subject that match none are acked without being
        decoded.

        Returns a function that cancels the subscription; it waits for a running handler to
        finish (unless called from that handler) and keeps a durable consumer on the server.
        """
        patterns = (pattern,) if isinstance(pattern, str) else tuple(pattern)
        for p in patterns:
            tokens = p.split(".")
            last = len(tokens) - 1
            if not all(_TOKEN.fullmatch(t) or t == "*" or (t == ">" and i == last) for i, t in enumerate(tokens)):
                raise ValueError(f"subscription pattern {p!r} is not a NATS subject pattern")
        if not patterns:
            raise ValueError("subscribe needs a pattern")
        for name in (durable, replaces):
            if name is not None and not _TOKEN.fullmatch(name):
                raise ValueError(f"durable name {name!r} must not contain '.', '*', '>' or whitespace")
        name = old = None
        if durable is not None:
            name = f"{self.durable_prefix}-{durable}" if self.durable_prefix else durable
            if replaces is not None:
                old = f"{self.durable_prefix}-{replaces}" if self.durable_prefix else replaces
        covering = _covering(patterns)
        sub = _Subscription(covering, f"{self.subject_prefix}.*.{covering}", handler, name, batch=_batch)
        sub.replaces = old
        if len(patterns) > 1:
            sub.patterns = patterns
            sub.skip = len(self.subject_prefix) + 1  # what precedes "{tenant}.{subject}" in a NATS subject
        self._call(self._subscribe(sub), timeout=_REQUEST_TIMEOUT * 2)

        def cancel() -> None:
            if self._closed:
                return
            # From inside its own handler, waiting for the subscription to stop would wait for itself.
            own = sub.worker_ident == threading.get_ident()
            with contextlib.suppress(RuntimeError):  # closed meanwhile: close() stopped the subscription
                self._call(self._unsubscribe(sub, graceful=True), timeout=_STOP_GRACE + 10, wait=not own)

        return cancel

    def subscribe_batches(
        self,
        pattern: str | tuple[str, ...],
        handler: BatchHandler,
        *,
        durable: str | None = None,
        replaces: str | None = None,
    ) -> Callable[[], None]:
        """As :meth:`subscribe`, with ``handler`` called on the events of the messages that arrived (up to 100, in
        order).

        All are acked when it returns, all handed back for redelivery when it raises.
        """
        return self.subscribe(pattern, handler, durable=durable, replaces=replaces, _batch=True)  # type: ignore[arg-type]

    def close(self) -> None:
        """Stop every subscription, flush pending acks, close the connection and the bus thread. Idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        own_ident = threading.get_ident()
        try:
            fut = asyncio.run_coroutine_threadsafe(self._shutdown(own_ident), self._loop)
            fut.result(timeout=_STOP_GRACE + 15)
        except Exception:
            log.warning("closing the NATS bus at %s did not finish cleanly", _redact(self.url), exc_info=True)
        finally:
            self._stop_loop()

    # --- bus thread ---------------------------------------------------------------------------------

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            tasks = asyncio.all_tasks(self._loop)
            for t in tasks:
                t.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def _stop_loop(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=30)

    def _call(self, coro: Coroutine[Any, Any, T], *, timeout: float | None, wait: bool = True) -> T | None:
        """Run ``coro`` on the bus loop; wait for its result unless ``wait`` is false."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("the NATS bus cannot be called from its own thread")
        if self._closed:
            coro.close()
            raise RuntimeError("the NATS bus is closed")
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        if not wait:
            return None
        concurrent.futures.wait([fut], timeout)
        if not fut.done():
            fut.cancel()
            raise RuntimeError(f"the NATS bus at {_redact(self.url)} did not answer within {timeout} s")
        return fut.result()

    async def _start(self, connect_timeout: float) -> None:
        try:
            connecting = asyncio.wait_for(
                self._nc.connect(
                    servers=self._servers,
                    name="cityos",
                    connect_timeout=connect_timeout,  # type: ignore[arg-type]  # seconds, fractions work
                    max_reconnect_attempts=-1,  # after the first connection, keep trying for ever
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                ),
                connect_timeout,
            )
            try:
                await connecting
            except TimeoutError:
                last = f" (last error: {_describe(self._last_error)})" if self._last_error else ""
                raise _Unreachable(f"no server answered within {connect_timeout} s{last}") from None
            self._js = self._nc.jetstream(timeout=_REQUEST_TIMEOUT)
            await self._ensure_stream()
        except BaseException:
            await self._nc.close()
            raise

    async def _ensure_stream(self) -> None:
        assert self._js is not None
        subjects = f"{self.subject_prefix}.>"
        try:
            info = await self._js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await self._js.add_stream(
                api.StreamConfig(
                    name=self.stream,
                    description="cityos domain events",
                    subjects=[subjects],
                    storage=api.StorageType.FILE,
                    retention=api.RetentionPolicy.LIMITS,
                    discard=api.DiscardPolicy.OLD,
                    max_age=_STREAM_MAX_AGE,
                    duplicate_window=_DUPLICATE_WINDOW,
                )
            )
            log.info("created JetStream stream %s for %s", self.stream, subjects)
            return
        # An existing stream keeps the limits an operator may have tuned; only its subjects must fit.
        config = info.config
        if subjects not in (config.subjects or []):
            config.subjects = [*(config.subjects or []), subjects]
            await self._js.update_stream(config)
            log.info("added %s to JetStream stream %s", subjects, self.stream)

    async def _publish(self, batch: list[tuple[str, bytes, str]]) -> None:
        assert self._js is not None
        try:
            # All messages go out first; the acks are awaited together.
            futures = [
                await self._js.publish_async(subject, payload, headers={"Nats-Msg-Id": msg_id}, stream=self.stream)
                for subject, payload, msg_id in batch
            ]
            results = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), _PUBLISH_TIMEOUT)
        except TimeoutError:
            raise RuntimeError(
                f"NATS JetStream did not acknowledge {len(batch)} events within {_PUBLISH_TIMEOUT} s"
            ) from None
        except nats.errors.Error as exc:
            raise RuntimeError(f"publishing {len(batch)} events to NATS failed: {_describe(exc)}") from exc
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise RuntimeError(
                f"NATS JetStream did not store {len(failures)} of {len(batch)} events: {_describe(failures[0])}"
            ) from failures[0]

    async def _subscribe(self, sub: _Subscription) -> None:
        await self._bind(sub)
        arrived = sub.arrived

        async def put(msg: Msg) -> None:
            arrived.put_nowait(msg)

        # Every pull request of the subscription answers on its own subject under this inbox, so a status
        # (expired, consumer deleted) tells which request it ends.
        sub.inbox = self._nc.new_inbox()
        sub.nsub = await self._nc.subscribe(f"{sub.inbox}.*", cb=put)
        sub.task = asyncio.get_running_loop().create_task(self._consume(sub), name=f"cityos-bus {sub.pattern}")
        self._subs.add(sub)

    async def _bind(self, sub: _Subscription) -> None:
        """Create (or find) the consumer of ``sub``."""
        assert self._js is not None
        config = api.ConsumerConfig(
            filter_subject=sub.filter,
            deliver_policy=api.DeliverPolicy.NEW,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=_ACK_WAIT,
            max_deliver=-1,
        )
        if sub.durable is None:
            config.inactive_threshold = _EPHEMERAL_INACTIVE
            info = await self._js.add_consumer(self.stream, config)
        else:
            try:
                info = await self._js.consumer_info(self.stream, sub.durable)
            except nats.js.errors.NotFoundError:
                config.durable_name = sub.durable
                resume = await self._position(sub.replaces)
                if resume is not None:  # where the consumer it replaces left off: nothing is missed on the switch
                    config.deliver_policy = api.DeliverPolicy.BY_START_SEQUENCE
                    config.opt_start_seq = resume
                info = await self._js.add_consumer(self.stream, config)
            else:
                if info.config.filter_subject != sub.filter:
                    raise ValueError(
                        f"durable consumer {sub.durable!r} follows {info.config.filter_subject!r}, not {sub.filter!r}"
                    )
            if sub.replaces is not None and await self._position(sub.replaces) is not None:
                # only once its successor exists: a crash in between starts the successor where it left off again
                await self._js.delete_consumer(self.stream, sub.replaces)
                log.info("NATS consumer %s replaced %s", sub.durable, sub.replaces)
        sub.consumer = info.name
        sub.pull_open = False

    async def _position(self, durable: str | None) -> int | None:
        """The stream sequence a durable consumer would resume at (after its ack floor); None when there is none."""
        if durable is None:
            return None
        assert self._js is not None
        try:
            info = await self._js.consumer_info(self.stream, durable)
        except nats.js.errors.NotFoundError:
            return None
        return (info.ack_floor.stream_seq if info.ack_floor else 0) + 1

    async def _consume(self, sub: _Subscription) -> None:
        """The fetch loop of one subscription: keep a pull request open, run the handler on what came, ack."""
        loop = asyncio.get_running_loop()
        checked_at = loop.time()
        while not sub.stopping:
            try:
                if not sub.pull_open:
                    await self._pull(sub)
                if sub.held:
                    first = sub.held.popleft()
                else:
                    first = await asyncio.wait_for(sub.arrived.get(), _IDLE_FETCH_WAIT + _PULL_GRACE)
            except TimeoutError:  # the request was lost (a reconnect, a consumer gone): ask again
                sub.pull_open = False
                first = None
            except Exception as exc:
                if sub.stopping:
                    return
                log.warning("fetching %s from NATS failed: %s", sub.pattern, _describe(exc))
                await asyncio.sleep(1)
                await self._rebind_if_gone(sub)
                continue
            msgs = self._take(sub, first)
            if not msgs:
                # Idle. A pull from a consumer the server no longer has goes unanswered, so look now and then.
                if not sub.pull_open and loop.time() - checked_at >= _CONSUMER_CHECK_INTERVAL:
                    checked_at = loop.time()
                    await self._rebind_if_gone(sub)
                continue
            if not sub.pull_open and not sub.stopping:
                with contextlib.suppress(nats.errors.Error):  # asked again on the next round
                    await self._pull(sub)  # the next messages come in while these are handled
            try:
                await self._deliver(sub, msgs)
            except nats.errors.Error as exc:  # an ack lost with the connection: the server redelivers
                log.warning("acknowledging %d messages on NATS failed: %s", len(msgs), _describe(exc))

    async def _pull(self, sub: _Subscription) -> None:
        """Open a pull request for up to ``_FETCH_BATCH`` messages, expiring after ``_IDLE_FETCH_WAIT``."""
        sub.pulls += 1
        sub.pull_left = _FETCH_BATCH
        request = {"batch": _FETCH_BATCH, "expires": int(_IDLE_FETCH_WAIT * 1e9)}
        await self._nc.publish(
            f"{_JS_API}.CONSUMER.MSG.NEXT.{self.stream}.{sub.consumer}",
            orjson.dumps(request),
            reply=f"{sub.inbox}.{sub.pulls}",
        )
        sub.pull_open = True

    def _take(self, sub: _Subscription, first: Msg | None) -> list[Msg]:
        """``first`` and the messages that arrived after it (up to ``_FETCH_BATCH``), noting the end of the
        open pull request: its batch used up, or a status for it (expired, or the consumer deleted)."""
        msgs: list[Msg] = []
        current = f"{sub.inbox}.{sub.pulls}"
        msg = first
        while msg is not None:
            # nats-py keys the status as the plain string "Status" (and the description by the Header member)
            headers = msg.headers if not msg.data else None
            status = headers.get("Status") if headers else None
            if status is None:
                msgs.append(msg)
                sub.pull_left -= 1
                if sub.pull_left <= 0:
                    sub.pull_open = False
            elif status != "100" and msg.subject == current:  # 408 expired, 409 ended; 100 is a heartbeat
                sub.pull_open = False
                if status == "409" and headers:
                    log.info("NATS ended the pull request of %s: %s", sub.pattern, headers.get(api.Header.DESCRIPTION))
            if len(msgs) >= _FETCH_BATCH:
                break
            if sub.held:
                msg = sub.held.popleft()
            else:
                try:
                    msg = sub.arrived.get_nowait()
                except asyncio.QueueEmpty:
                    msg = None
        return msgs

    async def _deliver(self, sub: _Subscription, msgs: list[Msg]) -> None:
        """Run the handler on what one fetch brought, in the subscription's thread; ack what it handled.

        A batch handler gets the events as one list; a handler of single events gets them one by one, in one
        call of the thread for the whole fetch (a thread switch per event cost more than most handlers).
        """
        taken: list[Msg] = []
        carried: list[list[Event]] = []  # the events of each message taken
        for msg in msgs:
            if sub.patterns is not None and not sub.wants(msg.subject):
                await msg.ack()  # the covering filter's, not ours
                continue
            try:
                carried.append(_decode(msg))
                taken.append(msg)
            except Exception:
                log.exception("dropping an undecodable message on %s", msg.subject)
                await msg.term()
        if not taken:
            return
        events = [ev for evs in carried for ev in evs]
        outcomes = iter(await self._run_handler(sub, taken, events))
        for msg, evs in zip(taken, carried, strict=True):
            failed: tuple[Event, BaseException] | None = None
            left = False
            for ev in evs:
                outcome = next(outcomes)
                if isinstance(outcome, _Left):
                    left = True
                elif outcome is not None and failed is None:
                    failed = (ev, outcome)
            if failed is None and not left:
                await msg.ack()
            elif failed is None:  # the subscription stopped first: hand it back now rather than after ack_wait
                await msg.nak()
            else:
                attempt = msg.metadata.num_delivered or 1
                delay = _RETRY_DELAYS[min(attempt, len(_RETRY_DELAYS)) - 1]
                ev, exc = failed
                if not sub.batch or msg is taken[0]:  # a batch's failure is logged once
                    log.error(
                        "bus handler for %s failed on %s (delivery %d); redelivering in %.0f s",
                        sub.pattern,
                        f"{len(events)} events" if sub.batch else f"{ev.subject} {ev.key}",
                        attempt,
                        delay,
                        exc_info=exc,
                    )
                await msg.nak(delay=delay)

    async def _run_handler(self, sub: _Subscription, msgs: list[Msg], events: list[Event]) -> list[Outcome]:
        """Run the handler on ``events`` in the subscription's thread, keeping ``msgs`` in progress meanwhile;
        the outcome of each event (see :meth:`_Subscription.run`)."""
        loop = asyncio.get_running_loop()
        sub.in_handler = True
        try:
            run = loop.run_in_executor(sub.executor, sub.run, events)
            while True:
                done, _ = await asyncio.wait({run}, timeout=_ACK_WAIT / 3)
                if done:
                    return run.result()
                sub.hold_arrived()  # the messages that came meanwhile wait as long: keep them too
                for msg in itertools.chain(msgs, sub.held):
                    if msg.data:  # not a status
                        await msg.in_progress()
        finally:
            sub.in_handler = False

    async def _rebind_if_gone(self, sub: _Subscription) -> None:
        """Recreate a consumer the server no longer has (an ephemeral one reaped while disconnected)."""
        assert self._js is not None and sub.consumer is not None
        try:
            await self._js.consumer_info(self.stream, sub.consumer)
        except nats.js.errors.NotFoundError:
            log.warning("NATS consumer %s for %s is gone; creating it again", sub.consumer, sub.pattern)
            try:
                await self._bind(sub)
            except Exception as exc:
                log.warning("recreating the NATS consumer for %s failed: %s", sub.pattern, _describe(exc))
        except Exception:
            pass  # not reachable now; the fetch loop tries again

    async def _unsubscribe(self, sub: _Subscription, *, graceful: bool) -> None:
        """Stop ``sub``: let a running handler finish and ack (if ``graceful``), then drop the consumer."""
        if sub not in self._subs:
            return
        self._subs.discard(sub)
        sub.stopping = True
        task = sub.task
        if task is not None:
            if not graceful or not sub.in_handler:
                task.cancel()
            await asyncio.wait({task}, timeout=_STOP_GRACE)
            if not task.done():
                log.warning("bus handler for %s still running after %s s; abandoning it", sub.pattern, _STOP_GRACE)
                task.cancel()
                await asyncio.wait({task})
            if not task.cancelled() and task.exception() is not None:
                log.error("the fetch loop for %s failed", sub.pattern, exc_info=task.exception())
        # Dropping the inbox first lets the server skip a pending pull request of ours.
        if sub.nsub is not None and self._nc.is_connected:
            try:
                await sub.nsub.unsubscribe()
                # Messages that came but were not handled go back now, not after the ack wait.
                sub.hold_arrived()
                for msg in sub.held:
                    if msg.data:
                        await msg.nak()
                sub.held.clear()
                if sub.durable is None and sub.consumer is not None and self._js is not None:
                    await self._js.delete_consumer(self.stream, sub.consumer)
            except Exception as exc:
                log.info("cleaning up the NATS consumer for %s: %s", sub.pattern, _describe(exc))
        sub.executor.shutdown(wait=False)

    async def _shutdown(self, own_ident: int) -> None:
        subs = list(self._subs)
        # close() called from a handler cannot wait for that handler to return.
        await asyncio.gather(*(self._unsubscribe(s, graceful=s.worker_ident != own_ident) for s in subs))
        if self._nc.is_connected:
            try:
                await self._nc.flush(timeout=5)  # the last acks must reach the server
            except Exception as exc:
                log.warning("flushing the NATS connection failed: %s", _describe(exc))
        await self._nc.close()

    async def _on_error(self, exc: Exception) -> None:
        self._last_error = exc
        log.warning("NATS at %s: %s", _redact(self.url), _describe(exc))

    async def _on_disconnected(self) -> None:
        if self._js is not None and not self._closed:
            log.warning("disconnected from NATS at %s; reconnecting", _redact(self.url))

    async def _on_reconnected(self) -> None:
        log.warning("reconnected to NATS at %s", _redact(self.url))


class _Unreachable(Exception):
    pass


class _Left:
    """The outcome of an event not handled because its subscription stopped."""


_LEFT = _Left()
Outcome = BaseException | _Left | None


class _Subscription:
    """One ``subscribe`` call: its consumer, fetch loop and handler thread."""

    def __init__(
        self, pattern: str, filter_subject: str, handler: Handler, durable: str | None, *, batch: bool = False
    ) -> None:
        self.pattern = pattern
        self.batch = batch
        self.filter = filter_subject
        self.handler = handler
        self.durable = durable
        self.consumer: str | None = None
        self.inbox = ""  # pull requests answer on {inbox}.{n}
        self.nsub: Subscription | None = None
        self.arrived: asyncio.Queue[Msg] = asyncio.Queue()  # bound to the bus loop on first use
        self.held: collections.deque[Msg] = collections.deque()  # taken from ``arrived``, not yet handled
        self.pulls = 0  # pull requests made; the last is ``{inbox}.{pulls}``
        self.pull_open = False
        self.pull_left = 0  # messages the open pull request may still bring
        self.task: asyncio.Task[None] | None = None
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="cityos-bus-handler")
        self.worker_ident: int | None = None
        self.stopping = False
        self.in_handler = False
        self.replaces: str | None = None  # a durable consumer this one takes over from
        self.patterns: tuple[str, ...] | None = None  # several: those that ``pattern`` covers, checked per message
        self.skip = 0

    def hold_arrived(self) -> None:
        """Move what has arrived and not been taken into ``held`` (kept in progress, or handed back, with it)."""
        while not self.arrived.empty():
            self.held.append(self.arrived.get_nowait())

    def wants(self, nats_subject: str) -> bool:
        """Whether a message on ``nats_subject`` (``{prefix}.{tenant}.{subject}``) matches one of ``patterns``."""
        assert self.patterns is not None
        subject = nats_subject[self.skip :].partition(".")[2]
        return any(subject_matches(p, subject) for p in self.patterns)

    def run(self, events: list[Event]) -> list[Outcome]:
        """Call the handler (in the subscription's thread): None for each event handled, the exception for each
        whose handler raised (a batch's for all of it), ``_LEFT`` for those left when the subscription stopped."""
        self.worker_ident = threading.get_ident()
        if self.batch:
            try:
                self.handler(events)  # type: ignore[arg-type]  # a BatchHandler
            except Exception as exc:
                return [exc] * len(events)
            return [None] * len(events)
        outcomes: list[Outcome] = []
        for event in events:
            if self.stopping:
                outcomes.append(_LEFT)
                continue
            try:
                self.handler(event)
            except Exception as exc:  # the events after it go on; this one comes again later
                outcomes.append(exc)
            else:
                outcomes.append(None)
        return outcomes


def _covering(patterns: tuple[str, ...]) -> str:
    """The narrowest single subject pattern matching every subject that one of ``patterns`` matches."""
    if len(patterns) == 1:
        return patterns[0]
    split = [p.split(".") for p in patterns]
    if len({len(t) for t in split}) == 1 and not any(">" in t for t in split):
        return ".".join(ts[0] if len(set(ts)) == 1 else "*" for ts in zip(*split, strict=True))
    # lengths differ: the leading tokens they share, then the rest (each has at least one token more)
    shared: list[str] = []
    for ts in zip(*split, strict=False):
        if len(shared) == min(len(t) for t in split) - 1 or len(set(ts)) > 1 or ts[0] == ">":
            break
        shared.append(ts[0])
    return ".".join([*shared, ">"])


def _encode(ev: Event) -> bytes:
    return orjson.dumps(
        {"subject": ev.subject, "tenant": ev.tenant, "key": ev.key, "id": ev.id, "time": ev.time, "data": ev.data}
    )


def _message(subject: str, parts: list[bytes], ids: list[str]) -> tuple[str, bytes, str]:
    """(subject, payload, message id) of a message carrying the encoded events ``parts``."""
    if len(parts) == 1:
        return subject, parts[0], ids[0]
    return subject, b"[" + b",".join(parts) + b"]", f"{ids[0]}..{ids[-1]}/{len(ids)}"


def _decode(msg: Msg) -> list[Event]:
    """The events a message carries: one event, or a JSON array of them."""
    d = orjson.loads(msg.data)
    return [_event(e) for e in d] if isinstance(d, list) else [_event(d)]


def _event(d: dict[str, Any]) -> Event:
    return Event(
        subject=d["subject"], key=d["key"], data=d["data"], tenant=d["tenant"], id=d["id"], time=float(d["time"])
    )


def _redact(url: str) -> str:
    """The URL without user name, password or token."""
    parts = []
    for u in url.split(","):
        s = urlsplit(u.strip())
        parts.append(s._replace(netloc=f"***@{s.hostname}:{s.port}").geturl() if "@" in s.netloc else u.strip())
    return ",".join(parts)


def _describe(exc: BaseException) -> str:
    """A short, readable reason for ``exc``."""
    if isinstance(exc, _Unreachable):
        return str(exc)
    if isinstance(exc, asyncio.TimeoutError | nats.errors.TimeoutError):
        return "timed out"
    if isinstance(exc, nats.errors.NoRespondersError | nats.js.errors.NoStreamResponseError):
        return "JetStream does not answer (is the server started with -js?)"
    if isinstance(exc, nats.js.errors.ServiceUnavailableError):
        return "JetStream is not available (is the server started with -js?)"
    text = str(exc) or type(exc).__name__
    return text if type(exc).__name__ in text else f"{type(exc).__name__}: {text}"
