"""`cityos deadletters list | show | replay` on SQLite and PostgreSQL: the CLI opens its own runtime
from CITYOS_DATABASE_URL, as it does in production, and works on the dead letters the ingest left."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from iot_district import APIKEY, AQ, AQ_ENTITY, provision_district
from typer.testing import CliRunner, Result

from cityos.cli import app
from cityos.config import get_settings
from cityos.context import service as hub
from cityos.context.jsonld import core_term_map
from cityos.core.timefmt import format_ts, now_iso
from cityos.iot import service
from cityos.iot.ingest import ingest
from cityos.iot.models import Message
from cityos.iot.schemas import DeviceUpdate, MeasureIn
from cityos.runtime import Runtime


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The CLI pointed at the test database through the environment (settings are cached: cleared)."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))  # no stray .env, no ./var
    monkeypatch.setenv("CITYOS_DATABASE_URL", rt.db.url)
    monkeypatch.setenv("CITYOS_BUS_URL", "memory://")
    get_settings.cache_clear()
    provision_district(rt)
    yield rt
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["deadletters", *args])


def out_of_range(rt: Runtime, pm25: float) -> str:
    """A message from the air-quality station observed ten minutes ago with pm25 beyond its range [0, 1000]."""
    observed = format_ts(datetime.now(UTC) - timedelta(minutes=10))
    payload = orjson.dumps({"pm25": pm25, "observedAt": observed})
    outcome = ingest(rt, [Message("http", APIKEY, AQ, "json", payload, now_iso())])[0]
    assert not outcome.accepted and outcome.reason_code == "out-of-range" and outcome.dead_letter_id
    return outcome.dead_letter_id


def pm25(rt: Runtime) -> float | None:
    attrs = hub.get_entity(rt, "default", AQ_ENTITY).attrs
    held = attrs.get(core_term_map().expand("pm25"))
    return held[0]["value"] if held else None


def test_list_show_fix_and_replay_a_dead_letter(cli: Runtime) -> None:
    rt = cli
    letter = out_of_range(rt, 1500)

    listed = run("list")
    assert listed.exit_code == 0, listed.output
    assert "dead letters: 1 of 1" in listed.stdout
    row = next(line for line in listed.stdout.splitlines() if letter in line)  # the whole id, on one line
    assert "out-of-range" in row and "HP-AQ" in row

    shown = run("show", letter)
    assert shown.exit_code == 0, shown.output
    doc = orjson.loads(shown.stdout)
    assert doc["id"] == letter and doc["deviceId"] == AQ and doc["reasonCode"] == "out-of-range"
    assert orjson.loads(doc["payload"])["pm25"] == 1500
    assert "1500" in doc["reason"] and "outside its valid range" in doc["reason"]
    assert doc["replayedAt"] is None

    wider = {"pm25": MeasureIn(attr="pm25", unitCode="GQ", min=0, max=2000)}
    service.update_device(rt, AQ, DeviceUpdate(measures=wider))
    replayed = run("replay", letter)
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1 accepted, 0 rejected again" in replayed.stdout
    assert pm25(rt) == 1500  # the measure reached the entity it feeds

    after = run("list")
    assert after.exit_code == 0 and "dead letters: 0 of 0" in after.stdout and letter not in after.stdout
    with_replayed = run("list", "--replayed")
    assert "dead letters: 1 of 1" in with_replayed.stdout and letter in with_replayed.stdout
    assert orjson.loads(run("show", letter).stdout)["replayedAt"] is not None


def test_a_replay_rejected_again_says_why_and_exits_1(cli: Runtime) -> None:
    rt = cli
    letter = out_of_range(rt, 1500)
    result = run("replay", letter)
    assert result.exit_code == 1
    assert f"{letter}: rejected again (out-of-range)" in result.stderr
    assert "replayed 0 accepted, 1 rejected again" in result.stdout
    assert pm25(rt) is None
    # the rejection left a new dead letter; the old one stays pending, so both are listed
    assert "dead letters: 2 of 2" in run("list").stdout
    # a dead letter replayed already is refused with its reason, not replayed twice
    service.update_device(rt, AQ, DeviceUpdate(measures={"pm25": MeasureIn(attr="pm25", max=2000)}))
    assert run("replay", "--reason", "out-of-range").exit_code == 0
    again = run("replay", letter)
    assert again.exit_code == 1 and "was replayed already" in again.stderr


def test_unknown_ids_and_missing_arguments_are_clear_errors(cli: Runtime) -> None:
    shown = run("show", "no-such-letter")
    assert shown.exit_code == 1
    assert shown.stderr.startswith("error: there is no dead letter 'no-such-letter'")
    assert "cityos deadletters list" in shown.stderr
    assert shown.stdout == "" and "Traceback" not in shown.output
    assert isinstance(shown.exception, SystemExit)  # a clean exit, not an exception escaping
    replayed = run("replay", "no-such-letter")
    assert replayed.exit_code == 1 and "there is no dead letter 'no-such-letter'" in replayed.stderr
    bare = run("replay")
    assert bare.exit_code == 2 and "--reason" in bare.stderr
