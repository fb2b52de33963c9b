"""The running system's shared parts: settings, database, bus and JSON-LD context resolver."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cityos.bus import Bus, open_bus
from cityos.config import Settings, get_settings
from cityos.store.engine import Database

if TYPE_CHECKING:
    from cityos.context.jsonld import ContextResolver


@dataclass
class Runtime:
    settings: Settings
    db: Database
    bus: Bus
    _contexts: ContextResolver | None = field(default=None, repr=False)
    # Per-runtime parts a package keeps between calls (the iot device directory, ...), by name.
    parts: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, settings: Settings | None = None) -> Runtime:
        settings = settings or get_settings()
        return cls(settings, Database(settings.resolved_database_url), open_bus(settings.bus_url))

    @property
    def contexts(self) -> ContextResolver:
        if self._contexts is None:
            from cityos.context.contexts import make_resolver

            self._contexts = make_resolver(self)
        return self._contexts

    def close(self) -> None:
        self.bus.close()
        self.db.dispose()
