"""The CKAN Action API's actions: name -> a function of the call (the runtime, tenant and the server's URL)
and its parameters, answering the action's ``result`` or raising a CKAN error. The routes are one thin
adapter over :data:`ACTIONS`; each function's docstring is its help_show text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from cityos import __version__, datahub
from cityos.opendata import applications, ckan, datastore, service, serving
from cityos.opendata.errors import AuthorizationError, NotFoundError, invalid
from cityos.opendata.models import Package
from cityos.opendata.params import Params, boolean, integer, mapping, required, string_list, text
from cityos.opendata.search import Query, search
from cityos.runtime import Runtime

MAX_ROWS = 1000  # package_search's rows, as CKAN's ckan.search.rows_max
MAX_OFFSET = 10_000_000  # a datastore offset past any dataset here (a store cannot page past 2^63)
CKAN_VERSION = "2.10.0"  # the Action API version whose answers these follow


@dataclass
class Call:
    """One action call: who serves it and where (``base``: the server's URL, for the links it answers)."""

    rt: Runtime
    tenant: str
    base: str
    path: str  # the action path the client used, /api/3/action or /api/action
    key: str | None = None  # an application's key (Authorization or X-CKAN-API-Key), for conditional data

    @cached_property
    def snap(self) -> service.Snapshot:
        return service.snapshot(self.rt, self.tenant)

    def package(self, key: str, param: str = "id") -> Package:
        found = self.snap.package(key)
        if found is None:
            raise NotFoundError(f"the portal has no open dataset {key!r} ({param}); package_list names them")
        return found

    def package_dict(self, p: Package) -> dict[str, Any]:
        lic = next((x for x in service.license_list() if x.id == p.license_id), None)
        return ckan.package_dict(p, self.base, lic)


def _page(items: list[Any], params: Params) -> list[Any]:
    offset = integer(params, "offset", 0)
    if params.get("limit") is None:
        return items[offset:]
    return items[offset : offset + integer(params, "limit", 0)]


def package_list(call: Call, params: Params) -> list[str]:
    """The names of every open dataset, by name. Parameters: limit, offset."""
    return _page([p.name for p in call.snap.packages], params)


def package_show(call: Call, params: Params) -> dict[str, Any]:
    """One open dataset by its name or id (id), with its organisation, groups, tags, licence, extras and
    its resource of records."""
    return call.package_dict(call.package(required(params, "id")))


def package_search(call: Call, params: Params) -> dict[str, Any]:
    """Search the open datasets. Parameters: q (words over title, notes, tags, organisation and groups;
    field:value terms filter), fq (field:value terms joined by spaces or AND, -field:value excludes; fields
    organization, groups, tags, license_id, res_format, opening_type, update_cycle, name, id), rows (at most
    1000, default 10), start, sort ("score desc, metadata_modified desc" by default; title_string, name,
    metadata_created, metadata_modified), facet.field (a JSON list), facet.limit (default 50, -1: all),
    facet.mincount. Answers count, results, sort, search_facets and facets."""
    facet_limit = params.get("facet.limit", 50)
    query = Query(
        q=text(params, "q") or "",
        fq=text(params, "fq") or "",
        sort=text(params, "sort") or "score desc, metadata_modified desc",
        rows=integer(params, "rows", 10, maximum=MAX_ROWS),
        start=integer(params, "start", 0),
        facet_fields=tuple(string_list(params, "facet.field") or ()),
        facet_limit=-1 if str(facet_limit).strip() == "-1" else integer(params, "facet.limit", 50),
        facet_mincount=integer(params, "facet.mincount", 1),
    )
    found = search(call.snap.index, query)
    return {
        "count": found.count,
        "sort": found.sort,
        "results": [call.package_dict(p) for p in found.results],
        "facets": {f: {i.name: i.count for i in items} for f, items in found.facets.items()},
        "search_facets": {
            f: {
                "title": f,
                "items": [{"name": i.name, "display_name": i.display_name, "count": i.count} for i in items],
            }
            for f, items in found.facets.items()
        },
    }


def _sorted_by(items: list[dict[str, Any]], params: Params, name: str) -> list[dict[str, Any]]:
    sort = text(params, "sort") or "title asc"
    bits = sort.split()
    field, desc = bits[0], len(bits) > 1 and bits[1].lower() == "desc"
    if field not in ("name", "title", "package_count") or len(bits) > 2:
        raise invalid("sort", f"{sort!r}: sort {name}s by name, title or package_count, asc or desc")
    return sorted(items, key=lambda d: d[field], reverse=desc)


def organization_list(call: Call, params: Params) -> list[Any]:
    """The departments that provide open datasets, as organisations. Parameters: all_fields (the whole
    organisations, with package_count), sort (title asc by default; name, title or package_count), limit,
    offset."""
    orgs = [ckan.organization_dict(o, call.snap.counts.get(o.name, 0)) for o in call.snap.organizations.values()]
    orgs = _page(_sorted_by(orgs, params, "organization"), params)
    return orgs if boolean(params, "all_fields", False) else [o["name"] for o in orgs]


def organization_show(call: Call, params: Params) -> dict[str, Any]:
    """One organisation by name or id (id); include_datasets: with its open datasets."""
    key = required(params, "id")
    org = call.snap.organizations.get(key)
    if org is None:
        raise NotFoundError(f"no department {key!r} provides open datasets; organization_list names those that do")
    out = ckan.organization_dict(org, call.snap.counts.get(org.name, 0))
    if boolean(params, "include_datasets", False):
        out["packages"] = [call.package_dict(p) for p in call.snap.packages if p.organization.name == key][:1000]
    return out


def group_list(call: Call, params: Params) -> list[Any]:
    """The themes of the open datasets, as groups. Parameters: all_fields, sort, limit, offset."""
    groups = [ckan.group_dict(g, call.snap.counts.get(g.name, 0)) for g in call.snap.groups.values()]
    groups = _page(_sorted_by(groups, params, "group"), params)
    return groups if boolean(params, "all_fields", False) else [g["name"] for g in groups]


def group_show(call: Call, params: Params) -> dict[str, Any]:
    """One theme by name or id (id); include_datasets: with its open datasets."""
    key = required(params, "id")
    group = call.snap.groups.get(key)
    if group is None:
        raise NotFoundError(f"no open dataset is of the theme {key!r}; group_list names the themes")
    out = ckan.group_dict(group, call.snap.counts.get(group.name, 0))
    if boolean(params, "include_datasets", False):
        out["packages"] = [call.package_dict(p) for p in call.snap.packages if group in p.groups][:1000]
    return out


def tag_list(call: Call, params: Params) -> list[Any]:
    """The tags of the open datasets, by name. Parameters: query (a part of the name), all_fields."""
    query = (text(params, "query") or "").lower()
    tags = sorted({t for p in call.snap.packages for t in p.tags if query in t.lower()})
    return [ckan.tag_dict(t) for t in tags] if boolean(params, "all_fields", False) else tags


def license_list(call: Call, params: Params) -> list[dict[str, Any]]:
    """The licences the portal declares; the first (the Shanghai public data open licence terms) applies to
    every open dataset by default."""
    return [ckan.license_dict(lic) for lic in service.license_list()]


def _resource_package(call: Call, params: Params, name: str) -> Package:
    rid = required(params, name)
    found = call.snap.resource(rid)
    if found is None:
        raise NotFoundError(f'Resource "{rid}" was not found; package_show lists a dataset\'s resources')
    return found


def resource_show(call: Call, params: Params) -> dict[str, Any]:
    """One resource by its id (id), with its package_id."""
    return ckan.resource_dict(_resource_package(call, params, "id"), call.base)


def resource_view_list(call: Call, params: Params) -> list[dict[str, Any]]:
    """The views of a resource (id): none yet (the portal's pages will preview it)."""
    _resource_package(call, params, "id")
    return []


def status_show(call: Call, params: Params) -> dict[str, Any]:
    """What the server is: the CKAN API version its answers follow, its extensions, its URL."""
    return {
        "ckan_version": CKAN_VERSION, "cityos_version": __version__, "site_url": call.base,
        "site_title": "城市公共数据开放 (cityos open data)",
        "site_description": "公共数据开放: 无条件开放与有条件开放的数据集",
        "locale_default": "zh_Hans_CN", "error_emails_to": None, "extensions": ["datastore"],
    }  # fmt: skip


def help_show(call: Call, params: Params) -> str:
    """The help text of an action (name)."""
    name = required(params, "name")
    found = ACTIONS.get(name)
    if found is None:
        raise NotFoundError(f"Action function not found: {name}; the actions are {', '.join(ACTIONS)}")
    return (found.__doc__ or name).strip()


def datastore_search(call: Call, params: Params) -> dict[str, Any]:
    """The records of an open dataset's resource (resource_id), as the public sees them: only its open
    items. Parameters: filters (a JSON object, field -> value or [values]), q (full text, or an object
    field -> text), fields (a list, or "a,b"), sort ("field asc, field desc"), limit (default 100, at most
    32000), offset, include_total, records_format (objects, lists, csv, tsv). A conditional (有条件开放)
    dataset's records need an approved application: Authorization Error until then."""
    package = _resource_package(call, params, "resource_id")
    if not package.datastore:
        raise NotFoundError(
            f'Resource "{package.resource.id}" was not found in the datastore: the records of {package.name} are '
            "not served yet (its catalogue entry names no entity types or table that back it)"
        )
    reader, grant = _applicant(call, package)
    gate = serving.gate(call.rt, call.tenant, package)
    q: Any = params.get("q")
    if isinstance(q, str) and q.lstrip().startswith("{"):
        q = mapping(params, "q")
    if q is not None and not isinstance(q, (str, dict)):
        raise invalid("q", "Must be text or a JSON object of field -> text")
    sort = params.get("sort")
    if sort is not None and not (
        isinstance(sort, str) or (isinstance(sort, list) and all(isinstance(x, str) for x in sort))
    ):
        raise invalid("sort", "Must be text: 'field asc, field desc', or a list of such texts")
    filters = mapping(params, "filters") or {}
    for name in filters:
        if name not in gate.as_is and any(c.id == name for c in package.resource.columns):
            raise invalid("filters", f"{name} is generalised or withheld by the de-identification policy: its stored "
                                     "values may not be compared; use q over the values served")  # fmt: skip
    query = datastore.StoreQuery(
        filters=filters,
        q=q or None,
        fields=string_list(params, "fields", commas=True),
        sort=sort,
        limit=integer(params, "limit", datastore.DEFAULT_LIMIT, maximum=datastore.MAX_LIMIT),
        offset=integer(params, "offset", 0, most=MAX_OFFSET),
        include_total=boolean(params, "include_total", True),
        records_format=text(params, "records_format") or "objects",
    )
    page = min(call.rt.settings.max_limit, 1000)

    def read(where: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int | None]:
        got = service.read_records(call.rt, call.tenant, package, where, limit, offset, reader=reader, grant=grant)
        return gate(got.records), got.total

    out = datastore.search(package, query, read, page)
    link = {"resource_id": package.resource.id}
    out["_links"] = {
        "start": f"{call.path}/datastore_search?{urlencode(link)}",
        "next": f"{call.path}/datastore_search?{urlencode({**link, 'offset': query.offset + query.limit})}",
    }
    return out


def _applicant(call: Call, package: Package) -> tuple[datahub.Reader | None, str | None]:
    """Who reads a dataset's records: the public, or for a conditional dataset the applicant whose key opens it
    (Authorization Error otherwise, saying why)."""
    if not package.conditional:
        return None, None  # open to anyone: a key sent with it (ckanapi sends it with every call) is not needed
    if not call.key:
        raise AuthorizationError(
            f"{package.name} ({package.title}) is opened on condition (有条件开放): its records are read with the "
            f"key of an approved application to its provider {package.organization.title}. Apply with POST "
            "/opendata/applications (who you are, your purpose and the scenario), then send the key as "
            f"'Authorization: <key>' or 'X-CKAN-API-Key: <key>'. Its metadata is public: package_show id={package.name}"
        )
    app = applications.check_key(call.rt, call.tenant, package.name, call.key)
    return applications.reader_of(app), f"application:{app.id}"


ACTIONS: dict[str, Callable[[Call, Params], Any]] = {
    f.__name__: f
    for f in (
        package_list, package_show, package_search, organization_list, organization_show, group_list,
        group_show, tag_list, license_list, resource_show, resource_view_list, status_show, help_show,
        datastore_search,
    )
}  # fmt: skip
