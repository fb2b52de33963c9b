"""The ETSI NGSI-LD conformance suite against a fresh cityos, group by group. Prints pass counts; asserts nothing.

The suite (Robot Framework, from ETSI or a mirror of it) is not part of cityos: give its folder. Each
group runs against a new server (its own SQLite data dir) on 127.0.0.1, behind a small proxy that adds
the bearer token the suite does not send and passes every other byte through unchanged. The suite's
JSON-LD contexts are named by public URLs; they are rewritten, in a copy of the suite, to a local
server so that no run needs the internet.

Per group it prints the tests run and passed, split into those of the original ETSI robot files (a
list of paths under the suite, one a line, given with --etsi-list) and the rest (a mirror's
extensions). Not part of `make test`: a full run of the five groups takes about ten minutes.

Run: .venv/bin/python bench/conformance.py SUITE_DIR --etsi-list FILE [--groups jsonldContext ...]
     .venv/bin/python bench/conformance.py SUITE_DIR --etsi-list FILE --results DIR --summary-only
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GROUPS = [
    "ContextInformation/Provision",
    "ContextInformation/Consumption",
    "ContextInformation/Subscription",
    "CommonBehaviours",
    "jsonldContext",
]
CITYOS_PORT, PROXY_PORT, CONTEXT_PORT = 18100, 18101, 18102
MQTT_TAG = "sub-mqtt-notification"  # these want a second MQTT broker on the notification port
# public context URLs the suite's files name -> the file served locally in their place
CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
TEST_SUITE_CONTEXT_DIR = (
    "https://raw.githubusercontent.com/marek-mraz/ngsi-ld-test-suite/main/resources/jsonld-contexts/"
)
REWRITES = {
    TEST_SUITE_CONTEXT_DIR: "",
    "https://easy-global-market.github.io/ngsild-api-data-models/ngsildTestSuite/"
    "ngsildTestSuiteV1.8-compound.jsonld": "ngsildTestSuiteV1.8-compound.jsonld",
    "https://fiware.github.io/data-models/context.jsonld": "fiware-data-models-context.jsonld",
    "https://fiware.github.io/NGSI-LD_TestSuite/ldContext/testContext.jsonld": "fiware-testContext.jsonld",
}
LOCAL = f"http://127.0.0.1:{CONTEXT_PORT}/"
VARIABLES = f"""\
url = 'http://127.0.0.1:{PROXY_PORT}/ngsi-ld/v1'
temporal_api_url = 'http://127.0.0.1:{PROXY_PORT}/ngsi-ld/v1'
ngsild_test_suite_context = '{LOCAL}ngsi-ld-test-suite-compound.jsonld'
notification_server_host = '127.0.0.1'
notification_server_port = 8085
mqtt_broker_host = '127.0.0.1'
mqtt_broker_non_default_port = 8085
context_source_host = '127.0.0.1'
context_source_port = 8086
context_server_host = '127.0.0.1'
context_server_port = 8087
core_context = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld'
delete_temporal_on_core_delete = True
"""
# the settings of the reference runs: contexts on loopback, no KPI entities written beside the tests,
# temporal answers paged at 10 instances (the suite asks for paging of 20 but not of 5), notifications to
# the suite's receivers on loopback
SERVER_ENV = {
    "CITYOS_CONTEXT_ALLOW_PRIVATE": "true",
    "CITYOS_VITALS_IN_API": "false",
    "CITYOS_TEMPORAL_MAX_INSTANCES": "10",
    # the suite's notification receivers listen on loopback (8085), which cityos refuses unless allowed
    "CITYOS_NOTIFY_ALLOWED_NETWORKS": "127.0.0.0/8",
    # notification delivery only: the plans role writes its KeyPerformanceIndicator and PlanFigures entities
    # into the default tenant, which the suite's GET /types and /attributes then count (ETSI 022-026)
    "CITYOS_ROLES": "notify",
}


# --- preparing a copy of the suite ------------------------------------------------------------------


def prepare(suite: Path, work: Path) -> Path:
    """A copy of the suite under ``work`` with its contexts local, its variables set, a venv with robot."""
    copy = work / "suite"
    if not copy.exists():
        shutil.copytree(suite, copy, ignore=shutil.ignore_patterns(".git", ".venv"))
        for f in copy.rglob("*"):
            if f.is_file() and f.suffix in (".robot", ".resource", ".json", ".jsonld", ".geojson", ".py"):
                text = f.read_text(errors="surrogateescape")
                new = text
                for public, local in REWRITES.items():
                    new = new.replace(public, LOCAL + local)
                if new != text:
                    f.write_text(new, errors="surrogateescape")
    (copy / "resources" / "variables.py").write_text(VARIABLES)
    contexts = work / "contexts"
    contexts.mkdir(exist_ok=True)
    shutil.copy(copy / "resources" / "jsonld-contexts" / "ngsi-ld-test-suite.jsonld", contexts)
    compound = f'{{"@context": ["{LOCAL}ngsi-ld-test-suite.jsonld", "{CORE_CONTEXT}"]}}\n'
    for name in ("ngsi-ld-test-suite-compound.jsonld", "ngsildTestSuiteV1.8-compound.jsonld"):
        (contexts / name).write_text(compound)
    # stand-ins for two public contexts some jsonldContext tests have the broker cache
    (contexts / "fiware-data-models-context.jsonld").write_text(
        '{"@context": {"fiware": "https://uri.fiware.org/ns/data-models#", "Building": "fiware:Building", '
        '"name": "fiware:name"}}\n'
    )
    (contexts / "fiware-testContext.jsonld").write_text(
        '{"@context": {"tc": "https://fiware.github.io/NGSI-LD_TestSuite/ldContext/testContext#", '
        '"T": "tc:T", "P1": "tc:P1"}}\n'
    )
    if not (copy / ".venv" / "bin" / "robot").exists():
        subprocess.run([sys.executable, "-m", "venv", str(copy / ".venv")], check=True)
        pip = [str(copy / ".venv" / "bin" / "pip"), "install", "-q", "-r", "requirements.txt"]
        subprocess.run(pip, cwd=copy, check=True)
    return copy


# --- the services a group runs against --------------------------------------------------------------


class ContextHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, **kw: Any) -> None:
        # set before the base class handles the request (in its __init__)
        self.extensions_map = {**self.extensions_map, ".jsonld": "application/ld+json"}
        super().__init__(*args, **kw)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_contexts(folder: Path) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", CONTEXT_PORT), functools.partial(ContextHandler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def _proxy_one(token: str, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
    """One request: its head with our Authorization (and Connection: close), the rest byte for byte."""
    try:
        head = await client_r.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        client_w.close()
        return
    lines = head[:-4].split(b"\r\n")
    kept = [ln for ln in lines[1:] if ln.split(b":", 1)[0].strip().lower() not in (b"authorization", b"connection")]
    new_head = b"\r\n".join([lines[0], *kept, b"Authorization: Bearer " + token.encode(), b"Connection: close"])
    try:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", CITYOS_PORT)
    except OSError:  # the server is not up yet (the runner polls until it is)
        client_w.close()
        return
    up_w.write(new_head + b"\r\n\r\n")
    await asyncio.gather(_pipe(client_r, up_w), _pipe(up_r, client_w))


def run_proxy(token: str) -> None:
    """The auth-adding proxy (the suite sends no token): ``conformance.py --proxy`` runs it alone."""

    async def main() -> None:
        server = await asyncio.start_server(functools.partial(_proxy_one, token), "127.0.0.1", PROXY_PORT)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _wait_for(url: str, seconds: float = 300) -> bool:  # a loaded machine starts a server slowly
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.5)
    return False


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:  # a server whose shutdown hangs still has to go
        proc.kill()
        proc.wait()


class Server:
    """A fresh cityos (new data dir) and its proxy, for one group."""

    def __init__(self, work: Path, log: Path) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="data-", dir=work))
        self.log = log
        self.env = {**os.environ, **SERVER_ENV, "CITYOS_DATA_DIR": str(self.data)}
        self.cli = str(Path(sys.executable).parent / "cityos")
        self.server: subprocess.Popen | None = None
        self.proxy: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        subprocess.run([self.cli, "db", "upgrade"], env=self.env, check=True, stdout=subprocess.DEVNULL)
        token = subprocess.run(
            [self.cli, "token", "create", "etsi", "--role", "admin"],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        out = self.log.open("ab")
        serve = [self.cli, "serve", "--host", "127.0.0.1", "--port", str(CITYOS_PORT)]
        self.server = subprocess.Popen(serve, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        proxy_env = {**os.environ, "CONFORMANCE_TOKEN": token}
        self.proxy = subprocess.Popen([sys.executable, __file__, "--proxy"], env=proxy_env)
        if not _wait_for(f"http://127.0.0.1:{PROXY_PORT}/ngsi-ld/v1/types"):
            self.__exit__()
            raise RuntimeError(f"cityos did not come up: see {self.log}")
        return self

    def __exit__(self, *exc: object) -> None:
        _stop(self.proxy)
        _stop(self.server)
        shutil.rmtree(self.data, ignore_errors=True)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def run_group(copy: Path, work: Path, results: Path, group: str) -> None:
    name = group.replace("/", "_")
    robot = [str(copy / ".venv" / "bin" / "robot"), "--loglevel", "INFO", "--console", "dotted"]
    console = (results / f"{name}.console.txt").open("w")
    with Server(work, results / f"{name}.cityos.log"):
        started = time.monotonic()
        if group != "ContextInformation/Subscription" or shutil.which("mosquitto") is None:
            cmd = [*robot, "--outputdir", str(results / name), f"TP/NGSI-LD/{group}"]
            subprocess.run(cmd, cwd=copy, stdout=console, stderr=subprocess.STDOUT)
        else:
            # the MQTT tests want a broker on the suite's notification port (8085): run them apart,
            # with a mosquitto of ours there, and merge the two outputs
            parts = [results / f"{name}.part1", results / f"{name}.part2"]
            cmd = [*robot, "--outputdir", str(parts[0]), "--exclude", MQTT_TAG, f"TP/NGSI-LD/{group}"]
            subprocess.run(cmd, cwd=copy, stdout=console, stderr=subprocess.STDOUT)
            conf = work / "mosquitto-8085.conf"
            conf.write_text("listener 8085 127.0.0.1\nallow_anonymous true\n")
            mosq = subprocess.Popen(
                ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                time.sleep(1)
                cmd = [*robot, "--outputdir", str(parts[1]), "--include", MQTT_TAG, f"TP/NGSI-LD/{group}"]
                subprocess.run(cmd, cwd=copy, stdout=console, stderr=subprocess.STDOUT)
            finally:
                _stop(mosq)
            rebot = [str(copy / ".venv" / "bin" / "rebot"), "--merge", "--outputdir", str(results / name)]
            rebot += ["--output", "output.xml", *(str(p / "output.xml") for p in parts)]
            subprocess.run(rebot, stdout=console, stderr=subprocess.STDOUT)
        print(f"  {group}: {time.monotonic() - started:.0f} s", file=sys.stderr)


# --- counting ---------------------------------------------------------------------------------------


def _tests(suite: ET.Element, source: str, out: list[tuple[str, str, str]]) -> None:
    source = suite.get("source") or source
    for t in suite.findall("test"):
        status = t.find("status")
        out.append((source, t.get("name") or "", status.get("status", "") if status is not None else ""))
    for s in suite.findall("suite"):
        _tests(s, source, out)


def count(results: Path, group: str, original: set[str]) -> dict[str, list[int]]:
    """{"etsi": [run, passed], "extension": [run, passed]} for one group's output.xml."""
    found: list[tuple[str, str, str]] = []
    _tests(ET.parse(results / group.replace("/", "_") / "output.xml").getroot().find("suite"), "", found)
    counts = {"etsi": [0, 0], "extension": [0, 0]}
    for source, _name, status in found:
        rel = source[source.find("TP/NGSI-LD/") :] if "TP/NGSI-LD/" in source else source
        c = counts["etsi" if rel in original else "extension"]
        c[0] += 1
        c[1] += status == "PASS"
    return counts


def report(results: Path, groups: list[str], original: set[str]) -> None:
    fmt = "{:<34} {:>14} {:>7} {:>16} {:>7}"
    print(fmt.format("group", "ETSI passed", "%", "extension passed", "%"))
    total = {"etsi": [0, 0], "extension": [0, 0]}
    for g in groups:
        if not (results / g.replace("/", "_") / "output.xml").exists():
            print(f"{g:<34} (no results)")
            continue
        c = count(results, g, original)
        for k in total:
            total[k][0] += c[k][0]
            total[k][1] += c[k][1]
        print(fmt.format(g, *_cells(c)))
    print(fmt.format("total", *_cells(total)))


def _cells(c: dict[str, list[int]]) -> list[str]:
    out = []
    for k in ("etsi", "extension"):
        run, passed = c[k]
        out += [f"{passed}/{run}", f"{100 * passed / run:.0f}%" if run else "-"]
    return out


def main() -> None:
    if sys.argv[1:] == ["--proxy"]:
        run_proxy(os.environ["CONFORMANCE_TOKEN"])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("suite", type=Path, help="the conformance suite's folder (it holds TP/NGSI-LD)")
    ap.add_argument("--etsi-list", type=Path, required=True, help="the original ETSI robot files, one a line")
    ap.add_argument("--groups", nargs="+", default=GROUPS, help="groups under TP/NGSI-LD (default: the five)")
    ap.add_argument("--work", type=Path, help="scratch folder (the suite's copy and venv are kept there)")
    ap.add_argument("--results", type=Path, help="where the robot outputs go (default: WORK/results)")
    ap.add_argument("--summary-only", action="store_true", help="count the results already in --results")
    args = ap.parse_args()
    original = {ln.strip() for ln in args.etsi_list.read_text().splitlines() if ln.strip()}
    work = (args.work or Path(tempfile.gettempdir()) / "cityos-conformance").resolve()
    results = (args.results or work / "results").resolve()
    if not args.summary_only:
        busy = [p for p in (CITYOS_PORT, PROXY_PORT, CONTEXT_PORT) if not _port_free(p)]
        if busy:
            sys.exit(f"ports {busy} are in use: another run is going on")
        work.mkdir(parents=True, exist_ok=True)
        results.mkdir(parents=True, exist_ok=True)
        copy = prepare(args.suite.resolve(), work)
        contexts = serve_contexts(work / "contexts")
        try:
            for g in args.groups:
                run_group(copy, work, results, g)
        finally:
            contexts.shutdown()
    commit = subprocess.run(
        ["git", "-C", str(args.suite), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(f"suite {args.suite} (commit {commit or 'unknown'}), results in {results}")
    report(results, args.groups, original)


if __name__ == "__main__":
    main()
