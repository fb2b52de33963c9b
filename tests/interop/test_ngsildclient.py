"""Interoperability: the real `ngsildclient` package against a real uvicorn server on loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Server

ROOT = Path(__file__).resolve().parents[2]
CLIENT_PYTHON = ROOT / ".venv-ngsild" / "bin" / "python"
SESSION = Path(__file__).with_name("ngsild_client_session.py")
TEMPORAL_SESSION = Path(__file__).with_name("ngsild_temporal_session.py")
TRANSIENT_SESSION = Path(__file__).with_name("ngsild_transient_session.py")
pytestmark = pytest.mark.interop


def run_session(server: Server, script: Path, principal: str) -> list[str]:
    """Run a session script with ngsildclient against the server; the names of the steps that passed."""
    if not CLIENT_PYTHON.exists():
        pytest.fail(f"{CLIENT_PYTHON} is missing: run 'make test', which installs ngsildclient in .venv-ngsild")
    port, env = server
    token = subprocess.run(
        [sys.executable, "-m", "cityos.cli", "token", "create", principal, "--role", "operator"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert token.startswith("cos_") and "\n" not in token
    run = subprocess.run(
        [str(CLIENT_PYTHON), str(script), str(port), token], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return [line.split()[1] for line in run.stdout.splitlines() if line.startswith("ok ")]


# the two sessions share a server (module_server): each its own entity type
def test_ngsildclient_session(module_server: Server) -> None:
    assert run_session(module_server, SESSION, "ngsildclient") == [
        "create",
        "retrieve",
        "exists",
        "batch-upsert",
        "count",
        "query-q",
        "query-geo",
        "batch-update",
        "updated-value",
        "delete",
        "deleted",
        "batch-delete",
        "empty",
    ]


def test_ngsildclient_temporal_session(module_server: Server) -> None:
    assert run_session(module_server, TEMPORAL_SESSION, "ngsildclient-temporal") == [
        *(f"upsert-{k}" for k in range(5)),
        "temporal-values",
        "temporal-normalized",
        "temporal-query",
    ]


def test_ngsildclient_sees_no_expired_instance_in_q_or_aggregation(module_server: Server) -> None:
    assert run_session(module_server, TRANSIENT_SESSION, "ngsildclient-transient") == [
        "create",
        "query-q",
        "count-q",
        "read",
        "aggregate",
    ]
