"""`cityos serve` keeps credentials out of its access log (issue 16, finding 11): an Open311 app's api_key in
the query string and a reporter's follow token in the path are logged as ***."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from brokers import free_port
from conftest import answers_health

from cityos.store.engine import Database

pytestmark = pytest.mark.interop


def test_the_access_log_shows_no_api_key_and_no_follow_token(sqlite_db: Database, tmp_path: Path) -> None:
    env = dict(os.environ, CITYOS_DATABASE_URL=sqlite_db.url, CITYOS_DATA_DIR=str(tmp_path))
    port, log = free_port(), tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cityos.cli", "serve", "--port", str(port)],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            root = f"http://127.0.0.1:{port}"
            assert answers_health(root, 120), log.read_text()  # a loaded machine takes a minute or two to start it
            posted = httpx.post(f"{root}/open311/v2/requests.json?api_key=not-a-real-key-1234", timeout=10)
            assert posted.status_code == 403
            assert httpx.get(f"{root}/cases/follow/follow-token-5678", timeout=10).status_code == 404
            assert httpx.get(f"{root}/open311/v2/services.json?lang=en", timeout=10).status_code == 200
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    text = log.read_text()
    assert "/open311/v2/requests.json?api_key=*** HTTP/1.1" in text and "/cases/follow/*** HTTP/1.1" in text, text
    assert "not-a-real-key-1234" not in text and "follow-token-5678" not in text
    assert "/open311/v2/services.json?lang=en" in text  # the rest of a line is as it was
