"""The open data portal as a component: the de-identification gate's releases table (the portal's routes
join it here)."""

from __future__ import annotations

from cityos.component import Component

component = Component(name="opendata", tables="cityos.opendata.release_tables")
