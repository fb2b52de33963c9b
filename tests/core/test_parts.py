"""Typed per-process parts: one per class, made once, closed newest first with their owner."""

from __future__ import annotations

import threading
from typing import ClassVar

from cityos.core.parts import Parts


class Closing:
    closed: ClassVar[list[str]] = []

    def __init__(self, name: str) -> None:
        self.name = name

    def close(self) -> None:
        Closing.closed.append(self.name)


class Other(Closing):
    pass


class Failing:
    def close(self) -> None:
        raise RuntimeError("it will not close")


def test_one_part_per_class_made_once_even_from_many_threads() -> None:
    parts = Parts()
    made: list[int] = []

    def make() -> Closing:
        made.append(1)
        return Closing("a")

    got: list[Closing] = []
    threads = [threading.Thread(target=lambda: got.append(parts.get(Closing, make))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and len({id(g) for g in got}) == 1
    assert parts.find(Closing) is got[0]
    assert parts.find(Other) is None


def test_closed_newest_first_and_a_failing_close_does_not_stop_the_others() -> None:
    Closing.closed = []
    parts = Parts()
    parts.get(Closing, lambda: Closing("first"))
    parts.get(Failing, Failing)
    parts.get(Other, lambda: Other("second"))
    parts.close()
    assert Closing.closed == ["second", "first"]
    assert parts.find(Closing) is None


def test_put_and_pop_replace_a_part() -> None:
    parts = Parts()
    old = parts.get(Closing, lambda: Closing("old"))
    parts.put(Closing, Closing("new"))
    assert parts.get(Closing, lambda: Closing("never")).name == "new"
    assert parts.pop(Closing) is not old
    assert parts.find(Closing) is None
