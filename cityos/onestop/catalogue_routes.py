"""HTTP routes of the service items, bundles and merged forms: thin adapters over :mod:`cityos.onestop.items`
and :mod:`cityos.onestop.forms`. Reading needs no token (service guides are public information: 一次告知);
publishing a new version of an item needs ``services:write``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from cityos.auth import PublicContext, RequestContext, allow, public
from cityos.errors import problem_responses
from cityos.onestop.catalogue_schemas import (
    BundlePublic,
    FormCheckIn,
    FormCheckPublic,
    FormPublic,
    ServiceItemPublic,
    ServiceItemPublish,
    ServiceItemSummary,
    ServiceItemVersionPublic,
)
from cityos.onestop.forms import Form, check, form_for
from cityos.onestop.items import bundle, bundles, history, item, item_version, items, publish_item
from cityos.onestop.models import Bundle, ServiceItem
from cityos.runtime import Runtime

router = APIRouter(prefix="/onestop", tags=["onestop"])
Anyone = Annotated[
    PublicContext,
    public("service items, bundles and their forms: public guides (办事指南, 一次告知); the check reads nothing"),
]  # fmt: skip
Publisher = Annotated[RequestContext, allow("services:write")]
CODE = Path(max_length=32, description="the item's code")
BUNDLE = Path(max_length=64, description="the bundle's code")


def bundle_items(rt: Runtime, tenant: str, b: Bundle) -> dict[str, ServiceItem]:
    """The versions in force of a bundle's items."""
    return {p.item: item(rt, p.item, tenant=tenant) for p in b.items}


def bundle_form(rt: Runtime, tenant: str, code: str) -> Form:
    b = bundle(code)
    return form_for(b, bundle_items(rt, tenant, b))


@router.get("/items", summary="Every service item (事项) in its version in force")
def list_items(ctx: Anyone) -> list[ServiceItemSummary]:
    return [ServiceItemSummary.of(it) for it in items(ctx.rt, tenant=ctx.tenant)]


@router.get("/items/{code}", summary="A service item: the version in force, or ?version=",
            responses=problem_responses(404))  # fmt: skip
def get_item(
    ctx: Anyone,
    code: Annotated[str, CODE],
    version: Annotated[int | None, Query(ge=1, le=1_000_000, description="a version; absent: the latest")] = None,
) -> ServiceItemPublic:
    return ServiceItemPublic.of(item_version(ctx.rt, code, version, tenant=ctx.tenant))


@router.get("/items/{code}/versions", summary="Every version of an item: who published it, when and why",
            responses=problem_responses(404))  # fmt: skip
def list_versions(ctx: Anyone, code: Annotated[str, CODE]) -> list[ServiceItemVersionPublic]:
    return [ServiceItemVersionPublic.of(v) for v in history(ctx.rt, code, tenant=ctx.tenant)]


@router.post(
    "/items/{code}/versions",
    status_code=201,
    summary="Publish a new version of a service item (the item in full, and why)",
    responses=problem_responses(400, 409, 413, 422),
)
def publish(
    ctx: Publisher, code: Annotated[str, CODE], body: ServiceItemPublish, response: Response
) -> ServiceItemPublic:
    published = publish_item(ctx.rt, code, body.item.item(), by=ctx.principal.name, reason=body.reason,
                                     tenant=ctx.tenant, expected=body.expected_version,
                             tests=body.tests)  # fmt: skip
    response.headers["Location"] = f"/onestop/items/{code}?version={published.item.version}"
    return ServiceItemPublic.of(published)


@router.get("/bundles", summary="Every 一件事 bundle")
def list_bundles(ctx: Anyone) -> list[BundlePublic]:
    return [BundlePublic.of(b, bundle_items(ctx.rt, ctx.tenant, b)) for b in bundles()]


@router.get("/bundles/{code}", summary="A 一件事 bundle: its items and when each applies",
            responses=problem_responses(404))  # fmt: skip
def get_bundle(ctx: Anyone, code: Annotated[str, BUNDLE]) -> BundlePublic:
    b = bundle(code)
    return BundlePublic.of(b, bundle_items(ctx.rt, ctx.tenant, b))


@router.get("/bundles/{code}/form", summary="A bundle's merged form (一表申请): each question once",
            responses=problem_responses(404))  # fmt: skip
def get_form(ctx: Anyone, code: Annotated[str, BUNDLE]) -> FormPublic:
    return FormPublic.of(bundle_form(ctx.rt, ctx.tenant, code))


@router.post(
    "/bundles/{code}/form/check",
    summary="Check answers: the items that apply, the questions shown, the cleaned answers and the wrong fields",
    responses=problem_responses(400, 404, 413),
)
def check_form(ctx: Anyone, code: Annotated[str, BUNDLE], body: FormCheckIn) -> FormCheckPublic:
    form = bundle_form(ctx.rt, ctx.tenant, code)
    return FormCheckPublic.of(form, check(form, body.answers))
