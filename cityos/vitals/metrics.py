"""Prometheus figures of the vitals runner: how long its rounds take and how many events wait."""

from __future__ import annotations

from prometheus_client import Gauge, Histogram

from cityos.metrics import REGISTRY

ROUND_SECONDS = Histogram(
    "cityos_vitals_round_seconds",
    "Time of one vitals engine round: events taken into windows, values computed, stored and published.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
QUEUE = Gauge(
    "cityos_vitals_queue_events",
    "Entity events waiting for the vitals engine (grows when it falls behind).",
    registry=REGISTRY,
)
