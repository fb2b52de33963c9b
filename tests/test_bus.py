"""The in-process bus delivers in order, matches subjects like NATS and isolates failing handlers."""

from cityos.bus.base import Event, subject_matches
from cityos.bus.memory import MemoryBus


def test_subject_matching() -> None:
    assert subject_matches("entity.*", "entity.created")
    assert not subject_matches("entity.*", "entity.created.x")
    assert subject_matches("entity.>", "entity.created.x")
    assert not subject_matches("entity.>", "entity")
    assert subject_matches("entity.updated", "entity.updated")
    assert not subject_matches("entity.updated", "entity.deleted")


def test_memory_bus_delivers_in_order_and_survives_a_failing_handler() -> None:
    bus = MemoryBus()
    seen: list[str] = []

    def boom(_: Event) -> None:
        raise RuntimeError("consumer bug")

    bus.subscribe("entity.*", boom)
    cancel = bus.subscribe("entity.*", lambda e: seen.append(e.key))
    bus.publish([Event("entity.created", "a", {}), Event("entity.updated", "b", {})])
    assert seen == ["a", "b"]
    cancel()
    bus.publish([Event("entity.created", "c", {})])
    assert seen == ["a", "b"]
