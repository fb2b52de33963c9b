"""Trained models kept on disk between starts, under a digest of what they are trained from.

A process that needs the shipped case classifier would otherwise train it at every start (seconds on a quiet
machine, a minute on a busy one). With a cache directory, the first process trains it and saves it there
under its digest (training data, taxonomy, settings, library versions: see
:func:`cityos.cases.classifier.shipped_fingerprint`); every later start, and every other process of the
machine, loads it. Processes that start together train it once: the others wait on a file lock for the
first one's file. A file that does not load (another library version, a damaged file) is trained anew.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)


class Saved(Protocol):
    def save(self, path: str | Path) -> None: ...


M = TypeVar("M", bound=Saved)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (the OS lets it go if the process dies)."""
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def cached(directory: Path, name: str, digest: str, make: Callable[[], M], load: Callable[[Path], M]) -> M:
    """The model ``name`` of ``digest`` from ``directory``, else ``make()``'s, saved there for the next process
    (files of the same name under other digests are removed: they are stale)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{digest}.pickle"
    with _locked(directory / f"{name}.lock"):
        if path.exists():
            try:
                return load(path)
            except Exception as exc:  # a cache only saves time: one that does not load is trained again
                log.warning("%s: not loaded (%s); training it again", path, exc)
        model = make()
        model.save(path)
        for stale in directory.glob(f"{name}-*.pickle"):
            if stale != path:
                stale.unlink(missing_ok=True)
        log.info("%s saved: later starts load it", path)
        return model
