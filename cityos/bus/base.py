"""The bus interface. Implementations: in-process (`memory://`) and NATS JetStream (`nats://`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class Event:
    """A fact that happened, published only after the data it describes is committed.

    ``subject`` is dotted (``entity.created``); ``key`` is what consumers partition by
    (the entity id), so that one entity's events stay in order.
    """

    subject: str
    key: str
    data: dict[str, Any]
    tenant: str = "default"
    id: str = field(default_factory=lambda: os.urandom(16).hex())  # random, as a uuid4, at a third the cost
    time: float = field(default_factory=time.time)


Handler = Callable[[Event], None]
BatchHandler = Callable[[list[Event]], None]


class Bus(Protocol):
    def publish(self, events: list[Event]) -> None:
        """Deliver events to subscribers. Call only after the transaction that made them committed."""

    def subscribe(self, pattern: str, handler: Handler, *, durable: str | None = None) -> Callable[[], None]:
        """Call ``handler`` for events whose subject matches ``pattern`` (``*`` one token, ``>`` the rest).

        ``durable`` names a consumer that resumes where it left off after a restart (NATS); the
        in-process bus has no restarts to survive and ignores it. Returns a function that cancels
        the subscription.
        """

    def subscribe_batches(
        self,
        pattern: str | tuple[str, ...],
        handler: BatchHandler,
        *,
        durable: str | None = None,
        replaces: str | None = None,
    ) -> Callable[[], None]:
        """As ``subscribe``, with ``handler`` called on lists of events in order (one at a time in-process,
        what has arrived on NATS), for consumers that do better work in batches. Several patterns are
        followed together, their events in the order they were published. ``replaces`` names an older
        durable consumer whose place a new ``durable`` one takes (NATS; see ``NatsBus.subscribe``)."""

    def close(self) -> None: ...


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS-style subject matching: ``*`` matches one token, a trailing ``>`` one or more."""
    p_tokens = pattern.split(".")
    s_tokens = subject.split(".")
    for i, p in enumerate(p_tokens):
        if p == ">":
            return len(s_tokens) > i
        if i >= len(s_tokens) or (p != "*" and p != s_tokens[i]):
            return False
    return len(p_tokens) == len(s_tokens)


NATS_OPTIONS = ("stream", "subject_prefix", "durable_prefix")


def open_bus(url: str) -> Bus:
    """The bus named by a URL: ``memory://`` for one process, ``nats://host:4222`` for NATS JetStream.

    A NATS URL may end in a query naming the stream, subject prefix and durable prefix
    (``nats://h:4222?stream=DISTRICT_A&subject_prefix=district_a``), so that deployments can
    share a server. Raises ``ValueError`` for another scheme or option and ``RuntimeError`` when
    the NATS server cannot be used.
    """
    if url.startswith("memory:"):
        from cityos.bus.memory import MemoryBus

        return MemoryBus()
    if url.startswith("nats://"):
        from cityos.bus.nats import NatsBus

        servers, _, query = url.partition("?")
        options = dict(parse_qsl(query, keep_blank_values=True))
        unknown = sorted(set(options) - set(NATS_OPTIONS))
        if unknown:
            raise ValueError(f"CITYOS_BUS_URL has unknown options {unknown}: use {', '.join(NATS_OPTIONS)}")
        return NatsBus(servers, **options)  # type: ignore[arg-type]  # the options are the str ones
    raise ValueError(f"CITYOS_BUS_URL {url!r} is not supported: use memory:// or nats://host:4222")
