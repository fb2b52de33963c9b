"""Interoperability: the real `ngsildclient` package against a real uvicorn server on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cityos.store.engine import Database

ROOT = Path(__file__).resolve().parents[2]
CLIENT_PYTHON = ROOT / ".venv-ngsild" / "bin" / "python"
SESSION = Path(__file__).with_name("ngsild_client_session.py")
TEMPORAL_SESSION = Path(__file__).with_name("ngsild_temporal_session.py")
pytestmark = pytest.mark.interop


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(db: Database, tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    env = dict(os.environ, CITYOS_DATABASE_URL=db.url, CITYOS_DATA_DIR=str(tmp_path))
    port = _free_port()
    cityos = [sys.executable, "-m", "cityos.cli"]
    proc = subprocess.Popen(
        [*cityos, "serve", "--port", str(port)], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            proc.kill()
            pytest.fail(f"server did not start: {proc.stdout.read().decode() if proc.stdout else ''}")
        yield port, env
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def run_session(server: tuple[int, dict[str, str]], script: Path, principal: str) -> list[str]:
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


def test_ngsildclient_session(server: tuple[int, dict[str, str]]) -> None:
    assert run_session(server, SESSION, "ngsildclient") == [
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


def test_ngsildclient_temporal_session(server: tuple[int, dict[str, str]]) -> None:
    assert run_session(server, TEMPORAL_SESSION, "ngsildclient-temporal") == [
        *(f"upsert-{k}" for k in range(5)),
        "temporal-values",
        "temporal-normalized",
        "temporal-query",
    ]
