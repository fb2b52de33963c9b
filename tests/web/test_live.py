"""The dashboard's live stream: who may see which event (pure), and server-sent events from a real server."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
from conftest import wait_for

from cityos.auth.models import Principal
from cityos.web.live import QUEUE_LIMIT, Page, frame, kind_of, visible


def principal(role: str, name: str = "someone") -> Principal:
    return Principal(1, name, "staff", role, None)


def test_a_message_is_one_sse_event_of_one_json_line() -> None:
    assert (
        frame("case", {"caseId": "1", "text": "a\nb"}, "e1")
        == b'id: e1\nevent: case\ndata: {"caseId":"1","text":"a\\nb"}\n\n'
    )


def test_subjects_map_to_event_names() -> None:
    assert [kind_of(s) for s in ("warning.raised", "case.dispatch", "device.offline", "entity.updated")] == [
        "warning", "case", "device", None,
    ]  # fmt: skip


def test_a_department_sees_its_own_cases_and_a_reporter_sees_nothing() -> None:
    police = principal("department", "public-security")
    assert visible(police, "case", {"department": "public-security"})
    assert not visible(police, "case", {"department": "water-affairs"})
    assert visible(police, "warning", {"indicator": "x"})
    assert visible(principal("operator"), "case", {"department": "water-affairs"})
    reporter = principal("reporter")
    assert not any(visible(reporter, k, {}) for k in ("warning", "case", "device", "prewarning"))


def test_a_page_that_falls_behind_is_told_to_reload_once() -> None:
    async def run() -> list[bytes]:
        page = Page(principal("admin"), "default", asyncio.get_running_loop())
        for i in range(QUEUE_LIMIT + 10):
            page.offer(frame("case", {"n": i}))
        return [page.queue.get_nowait() for _ in range(page.queue.qsize())]

    # a loop of its own in a thread: the package's Chromium (Playwright's sync API) keeps one running in this one
    with ThreadPoolExecutor(1) as pool:
        got = pool.submit(asyncio.run, run()).result()
    assert len(got) == QUEUE_LIMIT + 1 and got[-1].startswith(b"event: resync")


def _token(env: dict[str, str], name: str, role: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "cityos.cli", "token", "create", name, "--role", role],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


class Listener:
    """Reads a stream of server-sent events in a thread: (event name, data, time it arrived)."""

    def __init__(self, url: str, token: str) -> None:
        self.events: list[tuple[str, dict, float]] = []
        self._client = httpx.Client(timeout=httpx.Timeout(5, read=None))
        self._thread = threading.Thread(target=self._read, args=(url, token), daemon=True)
        self._thread.start()

    def _read(self, url: str, token: str) -> None:
        name = "message"
        try:
            with self._client.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as r:
                for line in r.iter_lines():
                    if line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        self.events.append((name, orjson.loads(line[5:]), time.monotonic()))
        except httpx.HTTPError:
            return  # closed by the test

    def close(self) -> None:
        self._client.close()

    def named(self, name: str) -> list[dict]:
        return [d for n, d, _ in self.events if n == name]


def test_a_new_case_reaches_the_streams_allowed_to_see_it(cityos_server: tuple[int, dict[str, str]]) -> None:
    port, env = cityos_server
    base = f"http://127.0.0.1:{port}"
    admin = _token(env, "desk", "admin")
    police = Listener(f"{base}/web/events", _token(env, "public-security", "department"))
    water = Listener(f"{base}/web/events", _token(env, "water-affairs", "department"))
    everyone = Listener(f"{base}/web/events", admin)
    try:
        wait_for(lambda: all(x.named("hello") for x in (police, water, everyone)))
        report = {"source": "hotline", "text": "外滩有人打架斗殴，请尽快处理", "lon": 121.4903, "lat": 31.2385}
        headers = {"Authorization": f"Bearer {admin}"}
        # 503 (Retry-After) while the new server's classifier still loads in the background
        r = wait_for(
            lambda: (r := httpx.post(f"{base}/cases", headers=headers, json=report)).status_code != 503 and r, 120
        )
        assert r.status_code == 201, r.text
        case = r.json()["case"]
        assert case["department"] == "public-security"
        mine = wait_for(lambda: [d for d in everyone.named("case") if d["caseId"] == case["id"]], 5)
        assert mine[0]["subject"] == "case.created" and mine[0]["state"] == case["state"]
        wait_for(lambda: [d for d in police.named("case") if d["caseId"] == case["id"]], 5)
        # Then a case of water-affairs' own: each stream keeps the bus's order, so once water-affairs has it,
        # the first case would have reached it before, had it been allowed to.
        r = httpx.post(
            f"{base}/cases",
            headers={"Authorization": f"Bearer {admin}"},
            json={
                "source": "hotline",
                "text": "南京东路路口积水",
                "category": "road-waterlogging",
                "lon": 121.4845,
                "lat": 31.2352,
            },
        )
        assert r.status_code == 201, r.text
        flood = r.json()["case"]
        assert flood["department"] == "water-affairs"
        wait_for(lambda: [d for d in water.named("case") if d["caseId"] == flood["id"]], 5)
        assert not [d for d in water.named("case") if d["caseId"] == case["id"]]
    finally:
        for x in (police, water, everyone):
            x.close()
