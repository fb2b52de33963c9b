"""A pytest-xdist scheduler that keeps the tests of one ``xdist_group`` on one worker (a plugin tests/conftest.py
loads, which gives the tests their groups).

xdist's own ``--dist loadgroup`` carries a test's group to the controller inside its node id (the worker
appends ``@group`` to ``item._nodeid``); pytest 9 builds a node id from ``item._id`` and no longer reads
``_nodeid``, so the groups never reach the controller and the tests of a group are spread over the workers.
The controller does not collect, so here each worker writes what it collected, node id -> group, to a file
the controller named for it (in the worker's ``workerinput``), before it reports its collection; once every
worker has reported, the scheduler reads the files and hands out one group, or one ungrouped test, at a
time: LoadScope scheduling with the group as the scope. Active only with ``--dist loadgroup``."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

# the key of a worker's workerinput that names the file its groups go to
GROUPS_FILE = "cityos_groups_file"
_GROUPS_DIR = pytest.StashKey[Path]()
# a scope name no node id has (node ids of test functions hold "::"), so a group never merges with a test
_GROUP_PREFIX = "group:"


def group_of(item: pytest.Item) -> str | None:
    """The group of a test: its ``xdist_group`` names (several are joined, as xdist joins them), or None."""
    names = {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
    return "_".join(sorted(names)) if names else None


def _grouping(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) and getattr(config.option, "dist", None) == "loadgroup"


def pytest_configure(config: pytest.Config) -> None:
    if _grouping(config) and not hasattr(config, "workerinput"):
        config.stash[_GROUPS_DIR] = Path(tempfile.mkdtemp(prefix="cityos-xdist-groups-"))


def pytest_unconfigure(config: pytest.Config) -> None:
    where = config.stash.get(_GROUPS_DIR, None)
    if where is not None:
        shutil.rmtree(where, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """(Controller) name the file the worker writes its groups to."""
    where = node.config.stash.get(_GROUPS_DIR, None)
    if where is not None:
        node.workerinput[GROUPS_FILE] = str(where / f"{node.gateway.id}.json")


@pytest.hookimpl(trylast=True)  # after the hooks that give the groups and deselect
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """(Worker) write node id -> group for the grouped tests; the worker reports its collection after this."""
    target = getattr(config, "workerinput", {}).get(GROUPS_FILE)
    if not target:
        return
    groups = {item.nodeid: g for item in items if (g := group_of(item)) is not None}
    partial = f"{target}.{os.getpid()}.part"
    Path(partial).write_text(json.dumps(groups), encoding="utf-8")
    os.replace(partial, target)  # whole or absent: the controller never reads half a file


class GroupScheduling(LoadScopeScheduling):
    """LoadScope scheduling whose scope is the test's group (a test without a group is a scope of its own).

    The work units go out largest first (xdist's ``--loadscope-reorder``, its default): the long groups do
    not start last, leaving one worker idle at the end."""

    def __init__(self, config: pytest.Config, log: Any, groups_dir: Path) -> None:
        super().__init__(config, log)
        self.groups_dir = groups_dir
        self.scope_of: dict[str, str] = {}

    def schedule(self) -> None:
        if self.collection is None:
            self._read_groups()
        super().schedule()

    def _read_groups(self) -> None:
        files = [self.groups_dir / f"{node.gateway.id}.json" for node in self.registered_collections]
        missing = [str(f) for f in files if not f.exists()]
        if missing:  # grouping silently lost would run a module's servers twice: say so instead
            raise RuntimeError(f"xdist workers wrote no test groups ({', '.join(missing)}): is group_scheduler loaded?")
        for f in files:
            self.scope_of.update(json.loads(f.read_text(encoding="utf-8")))
        self.scope_of = {nodeid: _GROUP_PREFIX + group for nodeid, group in self.scope_of.items()}

    def _split_scope(self, nodeid: str) -> str:
        return self.scope_of.get(nodeid, nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> GroupScheduling | None:
    where = config.stash.get(_GROUPS_DIR, None)
    return GroupScheduling(config, log, where) if where is not None else None
