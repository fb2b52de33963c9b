"""The public pages' JSON twins (issue 19 item 1): what each page of ``/opendata/`` shows, as plain functions
over a snapshot; the pages render these in the browser, and every page links its twin (the same URL with
``.json``) and the Action API call it stands for."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from cityos.errors import PROBLEM_BASE, InvalidInput, NotFound
from cityos.opendata import ckan, service, usage
from cityos.opendata.errors import CkanError
from cityos.opendata.models import Package
from cityos.opendata.search import Query, search
from cityos.runtime import Runtime

API = "/api/3/action"
FACETS = ("organization", "groups", "res_format", "license_id", "opening_type", "update_cycle")
SORTS = ("score desc, metadata_modified desc", "metadata_modified desc", "title_string asc", "name asc")
ROWS = 20


class PortalNotFound(NotFound):
    """No open dataset, department or theme by that name."""

    type = PROBLEM_BASE + "opendata-not-found"


def _package(snap: service.Snapshot, base: str, p: Package) -> dict[str, Any]:
    lic = next((x for x in service.license_list() if x.id == p.license_id), None)
    return ckan.package_dict(p, base, lic)


def _quoted(value: str) -> str:
    return '"' + value.replace('"', "") + '"'


def search_page(rt: Runtime, tenant: str, base: str, params: dict[str, str]) -> dict[str, Any]:
    """The home page: words and facet values chosen (``q``, one of :data:`FACETS` each), a sort, a page."""
    snap = service.snapshot(rt, tenant)
    chosen = {f: params[f] for f in FACETS if params.get(f)}
    sort = params.get("sort") or SORTS[0]
    if sort not in SORTS:
        sort = SORTS[0]
    try:
        page = max(1, int(params.get("page") or 1))
    except ValueError:
        page = 1
    fq = " ".join(f"{f}:{_quoted(v)}" for f, v in chosen.items())
    query = Query(q=params.get("q", ""), fq=fq, sort=sort, rows=ROWS, start=(page - 1) * ROWS,
                  facet_fields=FACETS, facet_limit=-1)  # fmt: skip
    try:
        found = search(snap.index, query)
    except CkanError as exc:
        raise InvalidInput(exc.message, field="q") from None
    call = {"q": query.q, "fq": fq, "sort": sort, "rows": ROWS, "start": query.start,
            "facet.field": "[" + ",".join(f'"{f}"' for f in FACETS) + "]", "facet.limit": -1}  # fmt: skip
    return {
        "count": found.count,
        "page": page,
        "rows": ROWS,
        "q": query.q,
        "chosen": chosen,
        "sort": sort,
        "sorts": list(SORTS),
        "results": [_package(snap, base, p) for p in found.results],
        "facets": {f: [dataclasses.asdict(i) for i in items] for f, items in found.facets.items()},
        "organizations": [ckan.organization_dict(o, snap.counts.get(o.name, 0)) for o in snap.organizations.values()],
        "groups": [ckan.group_dict(g, snap.counts.get(g.name, 0)) for g in snap.groups.values()],
        "api": f"{API}/package_search?{urlencode({k: v for k, v in call.items() if v != ''})}",
    }


def dataset_page(rt: Runtime, tenant: str, base: str, name: str) -> dict[str, Any]:
    """A dataset page: its metadata, what its preview reads, its downloads, its usage and its error report."""
    snap = service.snapshot(rt, tenant)
    p = snap.package(name)
    if p is None:
        raise PortalNotFound(f"the portal has no open dataset {name!r}: search the open datasets at /opendata/")
    pkg = _package(snap, base, p)
    rid = p.resource.id
    previewable = p.datastore and not p.conditional
    why = (
        "" if previewable else
        "有条件开放：记录须经申请获批后读取 (conditional: records need an approved application)" if p.conditional else
        "此数据集的记录尚未提供 (its records are not served yet)"
    )  # fmt: skip
    summary = usage.summary(rt, tenant, p.name)
    return {
        "dataset": pkg,
        "preview": {
            "available": previewable,
            "why": why,
            "resource_id": rid,
            "fields": [{"id": c.id, "type": c.type, "label": c.label} for c in p.resource.columns],
            "api": f"{API}/datastore_search?{urlencode({'resource_id': rid})}",
        },
        "downloads": [{"format": r["format"], "url": r["url"], "name": r["name"]} for r in pkg["resources"]],
        "usage": {"totals": summary.totals, "days": [dataclasses.asdict(d) for d in summary.days]},
        "report": {
            "available": previewable and p.entities,
            "url": f"/opendata/datasets/{p.name}/reports",
        },
        "api": f"{API}/package_show?{urlencode({'id': p.name})}",
    }


def organization_page(rt: Runtime, tenant: str, base: str, name: str) -> dict[str, Any]:
    snap = service.snapshot(rt, tenant)
    org = snap.organizations.get(name)
    if org is None:
        raise PortalNotFound(f"no department {name!r} provides open datasets: the home page lists those that do")
    return {
        "organization": ckan.organization_dict(org, snap.counts.get(name, 0)),
        "datasets": [_package(snap, base, p) for p in snap.packages if p.organization.name == name],
        "api": f"{API}/organization_show?{urlencode({'id': name, 'include_datasets': 'true'})}",
    }


def group_page(rt: Runtime, tenant: str, base: str, name: str) -> dict[str, Any]:
    snap = service.snapshot(rt, tenant)
    group = snap.groups.get(name)
    if group is None:
        raise PortalNotFound(f"no open dataset is of the theme {name!r}: the home page lists the themes")
    return {
        "group": ckan.group_dict(group, snap.counts.get(name, 0)),
        "datasets": [_package(snap, base, p) for p in snap.packages if group in p.groups],
        "api": f"{API}/group_show?{urlencode({'id': name, 'include_datasets': 'true'})}",
    }


def dataset_of_call(snap: Callable[[], service.Snapshot], action: str, params: dict[str, Any]) -> str | None:
    """The open dataset an Action API call names, if one (for its usage count); ``snap`` is asked only then."""
    if action not in ("package_show", "datastore_search", "resource_show"):
        return None
    key = params.get("resource_id") if action == "datastore_search" else params.get("id")
    if not isinstance(key, str):
        return None
    found = snap().package(key) if action == "package_show" else snap().resource(key)
    return found.name if found is not None else None
