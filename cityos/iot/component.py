"""The city neuron system as a component: device tables, the /iot and /metrics routes, the HTTP
telemetry writer of every API process, and the ingest role (the MQTT or JetStream consumer)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cityos.component import Component, Runner
from cityos.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from cityos.iot.routes import metrics_router, router

    return [router, metrics_router]


def _http_ingest(rt: Runtime) -> Runner:
    from cityos.iot.runner import IngestRunner

    return IngestRunner(rt)


def _mqtt_ingest(rt: Runtime) -> Runner:
    from cityos.iot.runner import MqttIngest

    return MqttIngest(rt)


component = Component(
    name="iot",
    tables="cityos.iot.tables",
    routers=_routers,
    api=[_http_ingest],
    roles={"ingest": _mqtt_ingest},
    # with several MQTT sessions every process given the role consumes in one of them (cityos.iot.sharing);
    # with the nats transport every one pulls from the one durable consumer (cityos.iot.jetstream)
    shared=lambda settings: ("ingest",) if settings.ingest_shared else (),
)
