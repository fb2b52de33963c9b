"""Quality runs stored on SQLite and PostgreSQL (cityos.datahub.run_quality): the run's scores, each rule's
counts and every failing record with its reason are kept and read back; errors are declared."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cityos import datahub
from cityos.datahub import QualityReferenceMissing, QualityRulesNotFound, QualityRunNotFound
from cityos.demo import registries as reg
from cityos.runtime import Runtime

T = "default"
CODE = "HP-01-01-0001"


def test_a_run_is_stored_with_its_scores_results_and_failures(rt: Runtime) -> None:
    planted = reg.plant_defects(reg.persons(400), {"check-digit": 0.05, "stale": 0.05}, seed=3)
    marriage = reg.second_feed(planted.records, {"maritalStatus": reg.MARITAL_STATUS}, 0.05, skip=planted.touched)
    insured = reg.second_feed(planted.records, {"socialSecurity": reg.SOCIAL_SECURITY}, 0.0, skip=planted.touched)
    refs = {"HP-11-03-0002": marriage.records, "HP-16-01-0002": insured.records}
    run = datahub.run_quality(rt, T, CODE, planted.records, references=refs, now=reg.AS_OF)
    assert (run.dataset, run.records, run.at) == (CODE, 400, "2026-11-21T08:00:00.000Z")
    assert run.score is not None and 0.9 < run.score < 1
    read = datahub.get_quality_run(rt, T, run.id)
    assert read.score == pytest.approx(run.score) and read.dimensions == pytest.approx(run.dimensions)
    assert read.results == run.results and read.results[0].rule == "id-card-present"
    failed = {r.rule: r.failed for r in read.results if r.failed}
    assert failed == {"id-card-valid": 20, "updated-within-90-days": 20,
                      "marriage-agrees-with-civil-affairs": len(marriage.defects)}  # fmt: skip
    stale = datahub.run_failures(rt, T, run.id, rule="updated-within-90-days", limit=1000)
    assert {f.key for _, f in stale} == {d.key for d in planted.defects if d.kind == "stale"}
    assert all("older than 90d" in f.reason for _, f in stale)
    assert len(datahub.run_failures(rt, T, run.id, limit=10, offset=5)) == 10
    assert [r.id for r in datahub.quality_runs(rt, T, CODE)] == [run.id]
    later = datahub.run_quality(rt, T, CODE, planted.records, references=refs, now=datetime(2027, 1, 1, tzinfo=UTC))
    assert [r.id for r in datahub.quality_runs(rt, T, CODE)] == [later.id, run.id]
    assert datahub.quality_runs(rt, "other", CODE) == []


def test_what_a_run_refuses(rt: Runtime) -> None:
    with pytest.raises(QualityRulesNotFound, match="HP-09-09-0009 has no quality rules"):
        datahub.run_quality(rt, T, "HP-09-09-0009", [])
    with pytest.raises(QualityReferenceMissing, match="'HP-11-03-0002'"):
        datahub.run_quality(rt, T, CODE, [])
    with pytest.raises(QualityRunNotFound):
        datahub.get_quality_run(rt, T, "nope")
    assert datahub.quality_runs(rt, T, CODE) == []  # nothing was stored
