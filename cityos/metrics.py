"""The process's Prometheus registry: each package declares its counters and gauges in it, and
``GET /metrics`` renders it (with the store's gauges, see ``cityos.iot.metrics.render``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

REGISTRY = CollectorRegistry(auto_describe=True)
