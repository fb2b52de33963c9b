"""HTTP routes of the catalogue: /datahub/catalogue, /datahub/levels, /datahub/classification."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from cityos.auth import RequestContext, allow
from cityos.core.bounds import Offset
from cityos.datahub import catalogue
from cityos.datahub.catalogue_schemas import (
    ClassNodePublic,
    EntryChange,
    EntryIn,
    EntryPublic,
    ItemSourcePublic,
    LevelPublic,
    VersionPublic,
)
from cityos.datahub.catalogue_store import Filters
from cityos.datahub.errors import InvalidEntry
from cityos.datahub.levels import dataset_level, level_scale
from cityos.datahub.models import OpeningType, SharingType
from cityos.errors import Forbidden, problem_responses

router = APIRouter(prefix="/datahub", tags=["datahub"])
Reader = Annotated[RequestContext, allow("catalogue:read")]
Writer = Annotated[RequestContext, allow("catalogue:write")]


def _own(ctx: RequestContext, provider: str, what: str) -> None:
    """A department token writes only the entries its own department provides."""
    own = ctx.department
    if own is not None and provider != own:
        raise Forbidden(f"this token acts for department {own!r}: it may {what} only entries {own!r} provides, "
                        f"not {provider!r}'s")  # fmt: skip


@router.get("/catalogue", summary="Catalogue entries, by code: filters, free text and paging (X-Total-Count)")
def list_entries(
    ctx: Reader,
    response: Response,
    department: Annotated[str | None, Query(max_length=128, description="the providing department")] = None,
    classification: Annotated[
        str | None, Query(max_length=512, description="a classification path prefix, levels joined by '/'")
    ] = None,
    sharing: SharingType | None = None,
    opening: OpeningType | None = None,
    level: Annotated[str | None, Query(max_length=64, description="the dataset's level (GET /datahub/levels)")] = None,
    q: Annotated[str | None, Query(max_length=200, description="free text: name, abstract, item names")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    offset: Offset = 0,
) -> list[EntryPublic]:
    filters = Filters(department=department, classification=classification, sharing=sharing, opening=opening,
                      level=level, text=q)  # fmt: skip
    page = catalogue.list_entries(ctx.rt, ctx.tenant, filters, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(page.total)
    return [EntryPublic.of_view(v) for v in page.views]


@router.post(
    "/catalogue",
    status_code=201,
    summary="Register a catalogue entry (version 1); a department registers its own entries only",
    responses=problem_responses(409),  # the code is taken, or an item has its source in another department
)
def register_entry(ctx: Writer, body: EntryIn, response: Response) -> EntryPublic:
    _own(ctx, body.provider, "register")
    entry = catalogue.register_entry(ctx.rt, ctx.tenant, body.to_entry(), by=ctx.principal.name)
    response.headers["Location"] = f"/datahub/catalogue/{quote(entry.code)}"
    return EntryPublic.of_view(catalogue.view_entry(ctx.rt, ctx.tenant, entry.code))


@router.get("/catalogue/{code}", summary="One entry: its items with levels and sources, the dataset's level")
def get_entry(ctx: Reader, code: str) -> EntryPublic:
    return EntryPublic.of_view(catalogue.view_entry(ctx.rt, ctx.tenant, code))


@router.put(
    "/catalogue/{code}",
    summary="Change an entry: a new version, kept with who and why",
    responses=problem_responses(409),  # an item has its source in another department
)
def change_entry(ctx: Writer, code: str, body: EntryChange) -> EntryPublic:
    current = catalogue.get_entry(ctx.rt, ctx.tenant, code)
    _own(ctx, current.provider, "change")
    _own(ctx, body.provider, "hand entries to")
    if body.code != code:
        raise InvalidEntry(f"code: the body's code {body.code!r} is not the path's {code!r}", field="code")
    catalogue.change_entry(ctx.rt, ctx.tenant, body.to_entry(), by=ctx.principal.name, reason=body.reason)
    return EntryPublic.of_view(catalogue.view_entry(ctx.rt, ctx.tenant, code))


@router.get("/catalogue/{code}/versions", summary="Every version of an entry, oldest first, with who, when and why")
def entry_versions(ctx: Reader, code: str) -> list[VersionPublic]:
    scale = level_scale(ctx.rt)
    found = catalogue.entry_versions(ctx.rt, ctx.tenant, code)
    return [VersionPublic.of(v, dataset_level(scale, v.entry)) for v in found]


@router.get("/sources", summary="The one source of every data item (一数一源), by item key")
def item_sources(
    ctx: Reader, department: Annotated[str | None, Query(max_length=128)] = None
) -> list[ItemSourcePublic]:
    rows = catalogue.item_sources(ctx.rt, ctx.tenant, department=department)
    return [ItemSourcePublic(key=s.key, department=s.department, code=s.code, item=s.item) for s in rows]


@router.get("/levels", summary="The classification level scale, lowest first")
def levels(ctx: Reader) -> list[LevelPublic]:
    return [LevelPublic.of(lv) for lv in level_scale(ctx.rt).levels]


@router.get("/classification", summary="The classification paths in use as a tree, with entry counts")
def classification(ctx: Reader) -> list[ClassNodePublic]:
    return [ClassNodePublic.of(n) for n in catalogue.classification_tree(ctx.rt, ctx.tenant)]
