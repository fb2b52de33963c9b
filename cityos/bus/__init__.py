"""The event bus: domain events published after commit, in-process by default."""

from cityos.bus.base import Bus, Event, Handler, open_bus

__all__ = ["Bus", "Event", "Handler", "open_bus"]
