"""Prometheus counters of the ingest, and gauges read from the store when /metrics is scraped."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cityos.iot import store
from cityos.metrics import REGISTRY
from cityos.runtime import Runtime

MESSAGES = Counter(
    "cityos_iot_messages",
    "Telemetry messages taken in, by device type and outcome (accepted, or the rejection reason).",
    ["device_type", "outcome"],
    registry=REGISTRY,
)
MEASURES = Counter(
    "cityos_iot_measures", "Measures stored from accepted messages, by device type.", ["device_type"], registry=REGISTRY
)


class _StoreGauges(Collector):
    """Devices online/offline per type and dead letters waiting, as the store holds them now."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def collect(self) -> Iterator[GaugeMetricFamily]:
        devices = GaugeMetricFamily(
            "cityos_iot_devices",
            "Provisioned devices by type and state (online, offline, never seen).",
            labels=["device_type", "state"],
        )
        letters = GaugeMetricFamily(
            "cityos_iot_dead_letters",
            "Dead letters not yet replayed, by device type and reason.",
            labels=["device_type", "reason"],
        )
        with self.rt.db.connect() as conn:
            totals: dict[tuple[str, str], int] = {}
            for device_type, _grid, online, n in store.health_counts(conn):
                state = "never-seen" if online is None else ("online" if online else "offline")
                totals[(device_type, state)] = totals.get((device_type, state), 0) + n
            for (device_type, state), n in sorted(totals.items()):
                devices.add_metric([device_type, state], n)
            for letter_type, reason, n in store.dead_letter_counts(conn):
                letters.add_metric([letter_type or "unknown", reason], n)
        yield devices
        yield letters


def render(rt: Runtime) -> bytes:
    """The exposition text of this process's counters and the store's gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StoreGauges(rt))
    return generate_latest(REGISTRY) + generate_latest(registry)
