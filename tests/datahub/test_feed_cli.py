"""`cityos feed` with a small CSV: the records are merged, the malformed one rejected with its line, and a
second run reports the rest unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from samples import person_entry
from typer.testing import CliRunner

from cityos import context as hub
from cityos import datahub
from cityos.cli import app
from cityos.config import get_settings
from cityos.runtime import Runtime

CSV = """idCard,name,registeredAddress
310101199001011234,张伟,上海市黄浦区南京东路123弄4号501室
310101198502023459,欧阳娜,上海市黄浦区淮海中路88号
310101197003034561,李建国,"上海市黄浦区复兴东路188弄17号"
"""


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Runtime]:
    """The CLI pointed at the test database through the environment (settings are cached: cleared)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITYOS_DATABASE_URL", rt.db.url)
    monkeypatch.setenv("CITYOS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CITYOS_BUS_URL", "memory://")
    get_settings.cache_clear()
    datahub.register_entry(rt, "default", person_entry(), by="data-officer")
    yield rt
    get_settings.cache_clear()


def test_the_cli_feeds_a_csv(cli: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "persons.csv"
    path.write_text(CSV, encoding="utf-8")
    args = ["feed", "HP-01-01-0001", str(path), "--department", "public-security"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "3 records: 2 new, 0 changed, 0 unchanged, 0 conflicting, 1 rejected" in first.output
    assert "rejected line 3: idCard: check digit should be 8, found 9" in first.output
    second = CliRunner().invoke(app, args)
    assert "3 records: 0 new, 0 changed, 2 unchanged, 0 conflicting, 1 rejected" in second.output
    runs, total = datahub.feed_runs(cli, "default")
    assert total == 2 and datahub.get_feed_run(cli, "default", runs[0].id).rejections[0].line == 3
    bad = CliRunner().invoke(app, ["feed", "HP-01-01-0001", str(tmp_path / "x.txt"), "--department", "p"])
    assert bad.exit_code == 1 and ".csv" in bad.output


BUILDINGS_CSV = """buildingCode,name,floorsAboveGround,height
HP-B0001,南京大楼,8,41.5
HP-B0002,和平饭店,twelve,
,无编码楼,3,
"""


def test_the_cli_feeds_the_places_registry_numbers_as_numbers(cli: Runtime, tmp_path: Path) -> None:
    entry = next(e for e in datahub.read_catalogue().entries if e.code == "HP-03-03-0001")
    datahub.register_entry(cli, "default", entry, by="data-officer")
    path = tmp_path / "buildings.csv"
    path.write_text(BUILDINGS_CSV, encoding="utf-8")
    out = CliRunner().invoke(app, ["feed", "HP-03-03-0001", str(path), "--department", "planning-resources"])
    assert out.exit_code == 0, out.output
    assert "3 records: 1 new, 0 changed, 0 unchanged, 0 conflicting, 2 rejected" in out.output
    assert "rejected line 3: floorsAboveGround: a number, not 'twelve'" in out.output
    assert "rejected line 4: no record key: buildingCode (the building code)" in out.output
    row = hub.get_entity(cli, "default", datahub.registry_entity_id(cli, "places", "HP-B0001"))
    values = {iri.rsplit("/", 1)[-1]: i[0]["value"] for iri, i in row.attrs.items()}
    assert values == {"buildingCode": "HP-B0001", "name": "南京大楼", "floorsAboveGround": 8, "height": 41.5}
