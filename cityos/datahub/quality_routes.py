"""HTTP routes of data quality (数据质量检测): /datahub/quality.

A department sees the quality of the datasets it provides; operators, administrators and the big-data centre
see every department's. A dataset or run a caller may not see answers 404, as if absent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from cityos.auth import RequestContext, allow
from cityos.core.bounds import Offset
from cityos.datahub import quality_ops as ops
from cityos.datahub.datasets import Reader as DataReader
from cityos.datahub.quality_runs import list_runs, rule_sets, rules_for
from cityos.datahub.quality_schemas import (
    DatasetScorePublic,
    DepartmentScorePublic,
    FailurePublic,
    QualityRunPublic,
    RuleSetPublic,
    RunStart,
    ScoresPublic,
)
from cityos.errors import Forbidden, problem_responses

router = APIRouter(prefix="/datahub/quality", tags=["datahub"])
Reader = Annotated[RequestContext, allow("quality:read")]
Runner = Annotated[RequestContext, allow("quality:run")]
CODE = Path(max_length=64, description="the catalogue code of the dataset")
DEPARTMENT = Query(max_length=128, description="operators: the department; a department token: its own")
MAX_LIST = 1000


def _whose(ctx: RequestContext, department: str | None) -> str | None:
    own = ctx.department
    if ops.sees_all(own):
        return department
    if department not in (None, own):
        raise Forbidden(f"this token acts for department {own!r}: it reads only the quality of its own datasets")
    return own


@router.get("/rules/{code}", summary="A dataset's quality rules", responses=problem_responses(404))
def get_rules(ctx: Reader, code: Annotated[str, CODE]) -> RuleSetPublic:
    ops.check_visible(ctx.rt, ctx.tenant, code, ctx.department)
    return RuleSetPublic.of(rules_for(code))


@router.post(
    "/runs",
    status_code=201,
    summary="Run a dataset's rules over its records as the data hub holds them now: the run with its results",
    responses=problem_responses(404, 422),  # 404: no such dataset, or no rules; 422: its records are not read
)
def start_run(ctx: Runner, body: RunStart, response: Response) -> QualityRunPublic:
    ops.check_visible(ctx.rt, ctx.tenant, body.dataset, ctx.department)
    run = ops.start_run(ctx.rt, ctx.tenant, body.dataset, by=ctx.principal.name)
    response.headers["Location"] = f"/datahub/quality/runs/{run.id}"
    return QualityRunPublic.of(run, rule_sets().get(run.dataset))


@router.get("/runs", summary="Quality runs, newest first, of a dataset or a department (X-Total-Count)")
def get_runs(
    ctx: Reader,
    response: Response,
    dataset: Annotated[str | None, Query(max_length=64, description="the catalogue code")] = None,
    department: Annotated[str | None, DEPARTMENT] = None,
    feed_run: Annotated[str | None, Query(alias="feedRun", max_length=32, description="the feed run")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
) -> list[QualityRunPublic]:
    runs, total = list_runs(ctx.rt, ctx.tenant, code=dataset, department=_whose(ctx, department), feed_run=feed_run,
                            limit=limit, offset=offset)  # fmt: skip
    response.headers["X-Total-Count"] = str(total)
    return [QualityRunPublic.of(r, detail=False) for r in runs]


@router.get("/runs/{run_id}", summary="A quality run with the result of each rule", responses=problem_responses(404))
def get_run(ctx: Reader, run_id: Annotated[str, Path(max_length=32)]) -> QualityRunPublic:
    run = ops.visible_run(ctx.rt, ctx.tenant, run_id, ctx.department)
    return QualityRunPublic.of(run, rule_sets().get(run.dataset))


@router.get(
    "/runs/{run_id}/failures",
    summary="A run's failing records with the rule and reason, masked for the reader (X-Total-Count)",
    responses=problem_responses(404),
)
def get_failures(
    ctx: Reader,
    response: Response,
    run_id: Annotated[str, Path(max_length=32)],
    rule: Annotated[str | None, Query(max_length=100, description="the failures of one rule")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
    offset: Offset = 0,
) -> list[FailurePublic]:
    run = ops.visible_run(ctx.rt, ctx.tenant, run_id, ctx.department)
    reader = DataReader(ctx.principal.name, ctx.department, city=ctx.department is None)
    found, total = ops.failures_seen(ctx.rt, ctx.tenant, run, reader, rule=rule, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return [FailurePublic.of(f) for f in found]


@router.get("/scores", summary="The latest score of each dataset and each department's, with the six dimensions")
def get_scores(ctx: Reader, department: Annotated[str | None, DEPARTMENT] = None) -> ScoresPublic:
    datasets, departments = ops.scores(ctx.rt, ctx.tenant, _whose(ctx, department))
    return ScoresPublic(datasets=[DatasetScorePublic.of(d) for d in datasets],
                        departments=[DepartmentScorePublic.of(d) for d in departments])  # fmt: skip
