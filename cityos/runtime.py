"""The running system's shared parts: settings, database, bus, and the typed parts packages keep."""

from __future__ import annotations

from dataclasses import dataclass, field

from cityos.bus import Bus, open_bus
from cityos.config import Settings, get_settings
from cityos.core.parts import Parts
from cityos.store.engine import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    bus: Bus
    # What packages keep between calls in this process (the device directory, the ingest writer, the
    # JSON-LD context resolver …), one per class: see cityos.core.parts. Closed with the runtime.
    parts: Parts = field(default_factory=Parts, repr=False)

    @classmethod
    def open(cls, settings: Settings | None = None) -> Runtime:
        settings = settings or get_settings()
        return cls(settings, Database(settings.resolved_database_url), open_bus(settings.bus_url))

    def close(self) -> None:
        self.parts.close()
        self.bus.close()
        self.db.dispose()
