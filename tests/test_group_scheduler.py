"""tests/group_scheduler.py keeps a group on one xdist worker: a small suite run with `-n 2 --dist loadgroup`,
each test writing down the worker it ran on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent

CONFTEST = """
import os
from pathlib import Path

import pytest

pytest_plugins = ["group_scheduler"]


@pytest.fixture(autouse=True)
def record(request):
    yield
    out = Path(os.environ["RAN_ON"]) / request.node.nodeid.replace("/", "_").replace(":", "_")
    out.write_text(os.environ["PYTEST_XDIST_WORKER"] + " " + request.node.nodeid)
"""

# "broker" spans two files, as the tests on the one Mosquitto do; "server" is one file's (a module's server);
# the ungrouped tests go to whichever worker is free
MODULE = """
import pytest

@pytest.mark.xdist_group("broker")
@pytest.mark.parametrize("n", range(6))
def test_on_the_broker(n):
    assert n >= 0

@pytest.mark.xdist_group("{own}")
@pytest.mark.parametrize("n", range(6))
def test_on_the_module_server(n):
    assert n >= 0

@pytest.mark.parametrize("n", range(20))
def test_alone(n):
    assert n >= 0
"""


def test_the_tests_of_a_group_run_on_one_worker_and_the_rest_on_both(tmp_path: Path) -> None:
    suite, ran_on = tmp_path / "suite", tmp_path / "ran"
    suite.mkdir()
    ran_on.mkdir()
    (suite / "pytest.ini").write_text("[pytest]\n")
    (suite / "conftest.py").write_text(CONFTEST)
    for name in ("a", "b"):
        (suite / f"test_{name}.py").write_text(MODULE.replace("{own}", f"server-{name}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update(PYTHONPATH=str(TESTS), RAN_ON=str(ran_on))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider", "-q"],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr

    workers: dict[str, set[str]] = {}
    for f in ran_on.iterdir():
        worker, nodeid = f.read_text().split(" ", 1)
        name = nodeid.split("::")[1].split("[")[0]
        group = {"test_on_the_broker": "broker", "test_on_the_module_server": nodeid.split("::")[0]}.get(name, nodeid)
        workers.setdefault(group, set()).add(worker)
    assert sum(1 for _ in ran_on.iterdir()) == 2 * (6 + 6 + 20)
    for group in ("broker", "test_a.py", "test_b.py"):
        assert len(workers[group]) == 1, (group, workers[group])
    assert set().union(*workers.values()) == {"gw0", "gw1"}  # both workers ran tests
