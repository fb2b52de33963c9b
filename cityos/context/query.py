"""Query Entities: filters by id, idPattern, type expression, q, attrs and geo-query, in SQL.

Everything but the exact geometry test runs in the database. A geo-query first narrows candidates
with the bounding-box index; the exact Shapely test then runs on those candidates only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from cityos.context import store
from cityos.context.collation import parse_collation
from cityos.context.entity import TermMap, check_entity_id, check_name, live_instances
from cityos.context.errors import BadRequestData, InvalidRequest, TooComplexQuery, TooManyResults
from cityos.context.geo import GeoQuery, compile_geo_prefilter, matches, parse_geoquery, reference_geometry
from cityos.context.governance import Filtered
from cityos.context.ordering import MAX_ORDERED, OrderTerm, order_rows, parse_order_by
from cityos.context.qlang import (
    AttrPath,
    QAnd,
    QExpr,
    QList,
    QOr,
    QTerm,
    QUri,
    TName,
    parse_q,
    parse_scope_q,
    parse_type_expr,
    q_attributes,
    q_exact,
    q_link_depth,
    q_lookups,
    type_names,
)
from cityos.context.render import key_value
from cityos.context.service import check_tenant_for_read
from cityos.context.sqlq import compile_q, compile_scope_q, compile_type_expr, lacks_types
from cityos.context.store import EntityRow
from cityos.context.tables import entities
from cityos.core.bounds import MAX_OFFSET
from cityos.core.patterns import UnsupportedPattern, compile_pattern
from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime

SYSTEM_ATTRIBUTES = frozenset({"createdAt", "modifiedAt", "deletedAt"})
ALL_TYPES = "*"  # type=*: entities of every type (NGSI-LD v1.8, clause 4.17)


@dataclass(frozen=True)
class EntitySelector:
    """One entity selector of a Query (NGSI-LD v1.8, clause 5.2.33): an id, an idPattern, a type expression."""

    ids: tuple[str, ...] | None = None
    id_pattern: str | None = None
    type: str | None = None


@dataclass
class EntityQuery:
    """A parsed query. Texts are as the client sent them; names are expanded when compiled."""

    ids: list[str] | None = None
    id_pattern: str | None = None
    type: str | None = None
    attrs: list[str] | None = None
    q: str | None = None
    georel: str | None = None
    geometry: str | None = None
    coordinates: Any = None
    geoproperty: str | None = None
    limit: int = 20
    offset: int = 0
    count: bool = False
    # the rows with the values a reader derived from them and kept beside them (EntityRow.shadow, .version)
    shadows: bool = False
    # a reader's key of what it keeps beside the state (with ``shadows``): a row whose shadow names it is read
    # without its attributes (attrs empty), the others with them, for a reader that takes all it shows of a row
    # from what it kept; ignored by a geo-query or orderBy, which read them
    kept_key: str | None = None
    # local=true: no context source is asked (cityos.context.csources.forwarding), and a query may then have no filter
    local: bool = False
    # types (IRIs) left out whatever the query asks: those the reader may read nothing of (cityos.context.governance)
    not_types: frozenset[str] = frozenset()
    order_by: list[OrderTerm] | None = None  # orderBy (clause 4.23): None keeps storage order
    scope_q: str | None = None  # scopeQ (clause 4.19)
    # several selectors, some with an id or idPattern: an entity matches one of them as a whole (the query
    # POST); ``type`` then holds every selector's type, to drive the scan and the read guard
    selectors: list[EntitySelector] | None = None
    # the joinLevel of the Linked Entity retrieval the request asks for (None: no join): how deep the Linked
    # Entity terms of q (rel{attr}) may reach (NGSI-LD v1.9, clause 5.7.2.4)
    join_level: int | None = None

    def is_empty(self) -> bool:
        """No filter that narrows the query: attrs or q naming system attributes only do not (NGSI-LD v1.8,
        clause 5.7.2.4: every entity has them)."""
        if self.ids or self.id_pattern or self.type or self.georel or self.selectors:
            return False
        if self.attrs and set(self.attrs) - SYSTEM_ATTRIBUTES:
            return False
        return not (self.q and q_attributes(parse_q(self.q)) - SYSTEM_ATTRIBUTES)


@dataclass
class QueryResult:
    rows: list[EntityRow]
    total: int | None


def split_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [s.strip() for s in text.split(",") if s.strip()]
    return items or None


def check_paging(rt: Runtime, limit: int | None, offset: int | None) -> tuple[int, int]:
    """The page a request asks for: the server's default limit when none is given, 400 for a negative
    limit or offset or an offset past ``MAX_OFFSET``, TooManyResults for a limit past the maximum."""
    lim = rt.settings.default_limit if limit is None else limit
    off = 0 if offset is None else offset
    if lim < 0 or off < 0:
        raise BadRequestData("limit and offset must be zero or positive integers")
    if off > MAX_OFFSET:
        raise BadRequestData(
            f"offset {off} is over the largest offset of {MAX_OFFSET:,}: narrow the query (type, q, georel) instead",
            parameter="offset",
        )
    if lim > rt.settings.max_limit:
        raise TooManyResults(
            f"limit {lim} is over this server's maximum of {rt.settings.max_limit}: page with limit and offset",
            maxLimit=rt.settings.max_limit,
        )
    return lim, off


@dataclass
class Filters:
    """A query compiled: SQL conditions, the single type that drives the scan (if any), and the
    geo-query whose exact test runs on the SQL candidates."""

    where: list[ColumnElement[bool]]
    type_iri: str | None
    geo: GeoQuery | None
    geo_iri: str | None


def filters_of(query: EntityQuery, tm: TermMap) -> Filtered:
    """The attributes (expanded) the query's filters read: for the read guard (cityos.context.governance),
    which leaves out the entities whose filtered attributes the reader may not see, and audits a lookup by
    value that finds nothing."""
    compared: set[str] = set()
    matched: set[str] = set()
    looked_up: dict[str, str | int | float | bool] = {}
    if query.q:
        expr = parse_q(query.q)
        looked_up = {tm.expand(a): v for a, v in q_lookups(expr).items()}
        matched = set(looked_up)
        compared = {tm.expand(a) for a in q_attributes(expr) - q_exact(expr)}
    if query.georel or query.geometry or query.coordinates:
        compared.add(tm.expand(query.geoproperty or "location"))
    selected = {tm.expand(a) for a in query.attrs or ()}
    types: frozenset[str] = frozenset()
    if query.type and query.type != ALL_TYPES:
        types = frozenset(tm.expand(t) for t in type_names(parse_type_expr(query.type)))
    return Filtered(frozenset(compared), frozenset(selected), frozenset(matched), looked_up, types)


def compile_filters(rt: Runtime, tenant: str, query: EntityQuery, tm: TermMap) -> Filters:
    """Compile a query's filters to SQL (names expanded with the request's term map)."""
    dialect = rt.db.dialect
    where: list[ColumnElement[bool]] = []
    type_iri: str | None = None
    if query.ids:
        for i in query.ids:
            check_entity_id(i, "id")
        where.append(entities.c.id.in_(query.ids))
    if query.id_pattern:
        _check_pattern(query.id_pattern)
        where.append(store.id_matches(query.id_pattern, dialect))
    if query.type and query.type != ALL_TYPES:
        type_expr = parse_type_expr(query.type)
        if isinstance(type_expr, TName):
            type_iri = tm.expand(type_expr.name)
        else:
            where.append(compile_type_expr(type_expr, expand=tm.expand, tenant=tenant))
    if query.selectors:
        where.append(or_(*(_selector_condition(s, tm, tenant, dialect) for s in query.selectors)))
    if query.not_types:
        where.append(lacks_types(query.not_types, tenant))
    if query.attrs:
        where.append(store.has_any_attr([attribute_iri(a, tm) for a in query.attrs], dialect))
    if query.q:
        expr = parse_q(query.q)
        if q_link_depth(expr):
            expr = _resolve_links(rt, tenant, expr, query, tm)
        # instances past their expiresAt are not there for q, as for a read (NGSI-LD 4.22)
        where.append(compile_q(expr, expand=tm.expand, dialect=dialect, now=now_iso()))
    if query.scope_q:
        where.append(compile_scope_q(parse_scope_q(query.scope_q), dialect=dialect))
    geo = parse_geoquery(query.georel, query.geometry, query.coordinates, query.geoproperty)
    geo_iri = None
    if geo is not None:
        geo_iri = tm.expand(geo.geoproperty)
        prefilter = compile_geo_prefilter(geo, attr_iri=geo_iri, tenant=tenant)
        if prefilter is not None:
            where.append(prefilter)
    return Filters(where, type_iri, geo, geo_iri)


MAX_LINKED = 10_000  # the most target entities one Linked Entity term of q may select


def _resolve_links(rt: Runtime, tenant: str, expr: QExpr, query: EntityQuery, tm: TermMap) -> QExpr:
    """``expr`` with each Linked Entity term ``rel{[Type:]path} op value`` (NGSI-LD v1.9, clause 4.9) replaced by
    ``rel==id1,id2…``: the ids of the entities (of Type, when given) for which ``path op value`` holds, looked
    up first, innermost link first. BadRequestData without join or deeper than joinLevel (clause 5.7.2.4)."""
    depth = q_link_depth(expr)
    if query.join_level is None:
        raise BadRequestData(
            "q holds a Linked Entity term (rel{attr}), which only a query with Linked Entity retrieval evaluates: "
            "add join=inline or join=flat, and joinLevel at least " + str(depth),
            parameter="q",
        )
    if depth > query.join_level:
        raise BadRequestData(
            f"q reaches {depth} linked entities deep but joinLevel is {query.join_level}: raise joinLevel or "
            "shorten the Linked Entity term",
            parameter="q",
        )
    with rt.db.connect() as conn:
        return _linked_ids(conn, rt.db.dialect, tenant, expr, query.not_types, tm)


def _linked_ids(conn: Any, dialect: str, tenant: str, expr: QExpr, not_types: frozenset[str], tm: TermMap) -> QExpr:
    if isinstance(expr, QAnd | QOr):
        return type(expr)(tuple(_linked_ids(conn, dialect, tenant, e, not_types, tm) for e in expr.items))
    link = expr.path.linked
    if link is None:
        return expr
    if expr.negated_exists:
        raise BadRequestData(
            f"q: !{expr.path.attr}{{...}} is not supported: test the linked attribute's absence another way",
            parameter="q",
        )
    inner = _linked_ids(conn, dialect, tenant, QTerm(link.path, expr.op, expr.value), not_types, tm)
    where = [compile_q(inner, expand=tm.expand, dialect=dialect, now=now_iso())]
    if not_types:  # a reader learns nothing through q of the entities it may not read
        where.append(lacks_types(not_types, tenant))
    type_iri = tm.expand(link.type_hint) if link.type_hint else None
    sel = store.base_select(tenant, where, type_iri=type_iri)
    ids = list(conn.execute(select(sel.stmt.subquery().c.id).limit(MAX_LINKED + 1)).scalars())
    if len(ids) > MAX_LINKED:
        raise TooComplexQuery(
            f"q: the Linked Entity term on {expr.path.attr} selects more than {MAX_LINKED:,} linked entities: "
            "narrow it (a type hint {Type:attr} or a more selective value)"
        )
    rel = AttrPath(expr.path.attr)
    if not ids:  # no target qualifies: a term nothing satisfies (rel exists and does not)
        return QAnd((QTerm(rel), QTerm(rel, negated_exists=True)))
    return QTerm(rel, "==", QList(tuple(QUri(i) for i in ids)) if len(ids) > 1 else QUri(ids[0]))


def _selector_condition(sel: EntitySelector, tm: TermMap, tenant: str, dialect: str) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if sel.ids:
        parts.append(entities.c.id.in_(sel.ids))
    if sel.id_pattern is not None:
        _check_pattern(sel.id_pattern)
        parts.append(store.id_matches(sel.id_pattern, dialect))
    if sel.type is not None:
        parts.append(compile_type_expr(parse_type_expr(sel.type), expand=tm.expand, tenant=tenant))
    return and_(*parts) if parts else true()


def _check_pattern(pattern: str) -> None:
    try:
        compile_pattern(pattern)
    except UnsupportedPattern as exc:
        raise BadRequestData(f"idPattern {pattern[:80]!r} is not a valid regular expression: {exc}") from None


def attribute_iri(name: str, tm: TermMap) -> str:
    """An attribute name of a request expanded; BadRequestData for one the context maps to a JSON-LD keyword
    (the core context maps ``id`` and ``type`` to @id and @type: entity members, not attributes)."""
    iri = tm.expand(check_name(name))
    if iri.startswith("@"):
        raise BadRequestData(f"{name!r} is the entity member {iri}, not an attribute: use pick for id and type")
    return iri


def query_entities(rt: Runtime, tenant: str, query: EntityQuery, tm: TermMap) -> QueryResult:
    """Entities matching the query, one page of them, and the total when ``count`` is asked."""
    if query.is_empty() and not query.local:
        raise BadRequestData(
            "a query needs at least one of id, idPattern, type, attrs, q or a geo-query (georel, geometry, "
            "coordinates); attrs and q on system attributes (createdAt, modifiedAt) alone do not narrow it"
        )
    check_tenant_for_read(rt, tenant)
    f = compile_filters(rt, tenant, query, tm)
    kept_key = query.kept_key if f.geo is None and not query.order_by else None
    sel = store.base_select(tenant, f.where, type_iri=f.type_iri, shadows=query.shadows, kept_key=kept_key,
                            dialect=rt.db.dialect)  # fmt: skip
    geo, geo_iri = f.geo, f.geo_iri
    if query.order_by:
        return _ordered(rt, sel, geo, geo_iri, query, tm)
    with rt.db.connect() as conn:
        if geo is None:
            rows = store.page(conn, sel, query.limit, query.offset) if query.limit else []
            total = store.count(conn, sel) if query.count else None
            return QueryResult(rows, total)
        # Exact geometry test on candidates, in pk order, so pages stay stable.
        rows, total, skipped = [], 0, 0
        # Most candidates of a bounding-box prefilter match exactly: start with about one page.
        first = 1000 if query.count else query.offset + query.limit + max(10, (query.offset + query.limit) // 2)
        now = now_iso()
        for row in store.iterate(conn, sel, first=first):
            if not _geo_match(geo, geo_iri or "", row, now):
                continue
            total += 1
            if skipped < query.offset:
                skipped += 1
            elif len(rows) < query.limit:
                rows.append(row)
            elif not query.count:
                break
        return QueryResult(rows, total if query.count else None)


def _ordered(
    rt: Runtime, sel: store.Selection, geo: GeoQuery | None, geo_iri: str | None, query: EntityQuery, tm: TermMap
) -> QueryResult:
    """An ordered query: every match is read (at most ``MAX_ORDERED``), ordered, then cut to the page."""
    with rt.db.connect() as conn:
        found: list[EntityRow] = []
        now = now_iso()
        for row in store.iterate(conn, sel, first=500, most=2000):
            if geo is not None and not _geo_match(geo, geo_iri or "", row, now):
                continue
            found.append(row)
            if len(found) > MAX_ORDERED:
                raise TooComplexQuery(
                    f"orderBy orders at most {MAX_ORDERED:,} entities and this query matches more: narrow it "
                    "(type, q, georel) or leave orderBy out"
                )
    rows = order_rows(found, query.order_by or [], tm.expand)
    return QueryResult(rows[query.offset : query.offset + query.limit], len(found) if query.count else None)


def entities_of_types(rt: Runtime, tenant: str, types: Sequence[str], tm: TermMap) -> list[EntityRow]:
    """Every entity of the given types (names expanded with ``tm``), type by type in pk order, without
    paging: for services that need all of them at once (the twin's map layers and sensor states)."""
    check_tenant_for_read(rt, tenant)
    out: list[EntityRow] = []
    with rt.db.connect() as conn:
        for t in types:
            sel = store.base_select(tenant, [], type_iri=tm.expand(t))
            out.extend(store.iterate(conn, sel, first=2000, most=10_000))
    return out


def entities_changed(
    rt: Runtime, tenant: str, type_name: str, tm: TermMap, since: str | None = None, *, chunk: int = 2000
) -> Iterator[list[EntityRow]]:
    """Chunks of the entities of one type (its name expanded with ``tm``): every one, in pk order, when
    ``since`` is None; else those modified after ``since`` (a stored modifiedAt, e.g. the newest one a
    previous pass read), in order of modification. Each chunk is read on its own connection, so a caller
    may write between chunks; an entity modified meanwhile may come again in a later chunk."""
    check_tenant_for_read(rt, tenant)
    type_iri = tm.expand(type_name)
    last: tuple[str, int] | None = None
    while True:
        with rt.db.connect() as conn:
            if since is None:
                sel = store.base_select(tenant, [], type_iri=type_iri)
                stmt = sel.stmt if last is None else sel.stmt.where(sel.order > last[1])
                rows = [store.row_of(r) for r in conn.execute(stmt.order_by(sel.order).limit(chunk))]
            else:
                rows = store.modified_after(conn, tenant, type_iri, since, last, chunk)
        if rows:
            yield rows
        if len(rows) < chunk:
            return
        last = (rows[-1].modified_at, rows[-1].pk or 0)


def attribute_chunks(
    rt: Runtime, tenant: str, type_name: str, names: Sequence[str], tm: TermMap, *, chunk: int = 2000
) -> Iterator[tuple[list[str], list[list[Any]]]]:
    """Chunks of the entities of one type (its name expanded with ``tm``), every one once, in pk order (keyset:
    each chunk after the last pk of the one before, never an offset): their ids, and for each attribute of
    ``names`` (expanded with ``tm``) its values in the same order, as keyValues renders them (None: absent).
    Only those attributes are taken out of each entity, by the database: for a service reading a few items of
    a whole registry. Each chunk is read on its own connection."""
    check_tenant_for_read(rt, tenant)
    type_iri, iris = tm.expand(type_name), [tm.expand(n) for n in names]
    loads, last = orjson.loads, None
    while True:
        with rt.db.connect() as conn:
            rows = store.attribute_texts(conn, rt.db.dialect, tenant, type_iri, iris, last, chunk)
        if rows:
            columns: list[list[Any]] = [[] for _ in iris]
            for _, _, texts in rows:
                for column, raw in zip(columns, texts, strict=True):
                    if raw is None:
                        column.append(None)
                        continue
                    instances = loads(raw)
                    only = instances[0] if isinstance(instances, list) and len(instances) == 1 else None
                    if type(only) is dict and only.get("type", "Property") == "Property":  # the common case, inline
                        column.append(only.get("value"))
                    else:
                        column.append(key_value(instances if isinstance(instances, list) else [instances], tm))
            yield [r[1] for r in rows], columns
        if len(rows) < chunk:
            return
        last = rows[-1][0]


def _geo_match(geo: GeoQuery, iri: str, row: EntityRow, now: str) -> bool:
    """The exact geometry test; an instance past its expiresAt is not there for it, as for a read (4.22)."""
    live = live_instances(row.attrs.get(iri, []), now)
    return any(inst.get("type") == "GeoProperty" and matches(geo, inst.get("value")) for inst in live)


def parse_query_body(body: Any) -> EntityQuery:
    """The body of POST /entityOperations/query (an NGSI-LD Query object)."""
    if not isinstance(body, dict):
        raise BadRequestData('the query must be a JSON object like {"type": "Query", "entities": [{"type": "T"}]}')
    if body.get("type", "Query") != "Query":
        raise BadRequestData("the query object's type must be 'Query'")
    query = EntityQuery()
    selectors = body.get("entities") or []
    if not isinstance(selectors, list) or not all(isinstance(s, dict) for s in selectors):
        raise BadRequestData("'entities' must be a list of {id, idPattern, type} objects")
    parsed = [_selector(s) for s in selectors]
    types = [s.type for s in parsed if s.type]
    if types:
        query.type = ",".join(f"({t})" if any(c in t for c in ";|,") else t for t in types)
    if len(parsed) > 1 and any(s.ids or s.id_pattern for s in parsed):
        # each selector on its own: an id of one with the type of another does not match
        query.selectors = parsed
        return _query_members(body, query)
    ids = [i for s in parsed for i in s.ids or ()]
    patterns = [s.id_pattern for s in parsed if s.id_pattern]
    query.ids = ids or None
    if patterns:
        query.id_pattern = "|".join(f"(?:{p})" for p in patterns)
    return _query_members(body, query)


def _selector(raw: dict[str, Any]) -> EntitySelector:
    """One EntitySelector of a Query (NGSI-LD v1.8, clause 5.2.33): a type (mandatory), ids (one or an array,
    each a URI) or an idPattern; given both, the ids decide and the pattern is not applied."""
    kind, ids, pattern = raw.get("type"), raw.get("id"), raw.get("idPattern")
    if not isinstance(kind, str) or not kind:
        raise BadRequestData("each entity selector needs a 'type' (a type name or a type expression)")
    if ids is not None:
        items = ids if isinstance(ids, list) else [ids]
        if not items or not all(isinstance(i, str) for i in items):
            raise BadRequestData("a selector's 'id' must be a URI or a non-empty array of URIs")
        ids = tuple(check_entity_id(i, "id") for i in items)
    if pattern is not None and not isinstance(pattern, str):
        raise BadRequestData("a selector's 'idPattern' must be a regular expression string")
    return EntitySelector(ids or None, None if ids else pattern, kind)


def _query_members(body: dict[str, Any], query: EntityQuery) -> EntityQuery:
    """The members of a Query besides its entity selectors."""
    attrs = body.get("attrs")
    if attrs is not None:
        if not isinstance(attrs, list) or not attrs or not all(isinstance(a, str) for a in attrs):
            raise BadRequestData("'attrs' must be a non-empty list of attribute names (leave it out for all)")
        query.attrs = attrs
    q = body.get("q")
    if q is not None:
        if not isinstance(q, str):
            raise BadRequestData("'q' must be a string in the NGSI-LD query language")
        query.q = q
    check_csf(body.get("csf"))
    query.order_by = parse_ordering(body.get("ordering"))
    scope_q = body.get("scopeQ")
    if scope_q is not None:
        if not isinstance(scope_q, str):
            raise BadRequestData("'scopeQ' must be a string such as \"/Madrid/#\"")
        query.scope_q = scope_q
    geo_q = body.get("geoQ")
    if geo_q is not None:
        if not isinstance(geo_q, dict):
            raise BadRequestData("'geoQ' must be an object with georel, geometry and coordinates")
        query.georel = geo_q.get("georel")
        query.geometry = geo_q.get("geometry")
        query.coordinates = geo_q.get("coordinates")
        query.geoproperty = geo_q.get("geoproperty")
    return query


def query_from_params(
    rt: Runtime,
    *,
    id: str | None,
    id_pattern: str | None,
    type: str | None,
    attrs: list[str] | None,
    q: str | None,
    georel: str | None,
    geometry: str | None,
    coordinates: str | None,
    geoproperty: str | None,
    limit: str | None,
    offset: str | None,
    count: bool,
    options: str | None,
    local: bool | None = None,
    order_by: str | None = None,
    scope_q: str | None = None,
    csf: str | None = None,
    order_from: str | None = None,
    collation: str | None = None,
) -> EntityQuery:
    """The query that GET parameters describe (entity and temporal queries take the same ones); ``local``
    None when the request leaves it out."""
    check_csf(csf)
    if type is not None and type.strip() == "*" and local is False:
        # NGSI-LD v1.9, clause 4.17: the type wildcard "*" goes with local=true and "shall not be explicitly
        # set to false" (it would ask every context source for every entity)
        raise BadRequestData("type=* selects every entity type and goes with local=true only: leave out local=false")
    lim, off = check_paging(rt, parse_int(limit, "limit"), parse_int(offset, "offset"))
    if id and not (type or attrs or q or georel or id_pattern or local):
        # ids name entities, they do not select them: a query needs a type, attrs, q or a geo-query
        # (NGSI-LD v1.8, clauses 5.7.2.4 and 5.7.4.4; ETSI 019_03_05, 021_24); an idPattern is kept as a filter
        raise BadRequestData(
            "a query by id alone is not allowed: add type (or attrs, q, a geo-query), "
            "or retrieve one entity with GET /ngsi-ld/v1/entities/{entityId}"
        )
    return EntityQuery(
        ids=split_list(id),
        id_pattern=id_pattern,
        type=type,
        attrs=attrs,
        q=q,
        georel=georel,
        geometry=geometry,
        coordinates=coordinates,
        geoproperty=geoproperty,
        limit=lim,
        offset=off,
        count=wants_count(count, options),
        local=bool(local),
        order_by=_ordering(order_by, None, order_from, collation),
        scope_q=scope_q,
    )


def _ordering(order_by: Any, geometry: Any, order_from: Any, collation: Any) -> list[OrderTerm] | None:
    """The orderBy terms with their reference geometry (orderFrom, a Query's coordinates) and collation."""
    origin = None if order_from is None else reference_geometry(geometry, order_from, "orderFrom")
    return parse_order_by(order_by, origin=origin, collate=parse_collation(collation))


def parse_ordering(raw: Any) -> list[OrderTerm] | None:
    """A Query's ``ordering`` member (NGSI-LD v1.9, clause 5.2.43): ``orderBy`` (an array of terms or one
    string), ``coordinates`` and ``geometry`` (the reference of distance terms) and ``collation``."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadRequestData('ordering must be an object such as {"orderBy": ["name;asc"]}')
    terms = raw.get("orderBy")
    if isinstance(terms, list) and terms and all(isinstance(t, str) for t in terms):
        terms = ",".join(terms)
    elif terms is not None and not isinstance(terms, str):
        raise BadRequestData('ordering.orderBy must be an array of terms such as ["name;asc", "location;dist-asc"]')
    geometry, coordinates = raw.get("geometry"), raw.get("coordinates")
    if geometry is not None and not isinstance(geometry, str):
        raise BadRequestData(f"ordering.geometry must be a GeoJSON type name such as Point, not {geometry!r}")
    if coordinates is not None and not isinstance(coordinates, list):
        raise BadRequestData("ordering.coordinates must be a JSON array such as [121.47, 31.23]")
    return _ordering(terms, geometry, coordinates, raw.get("collation"))


def check_csf(csf: Any) -> None:
    """A context source filter (``csf``, NGSI-LD v1.9 clause 4.9) checked for its syntax: it filters the
    registrations a distributed query would consult, and this broker holds none, so a valid one changes no
    answer; an invalid one is BadRequestData (clause 5.7.2.4: "the query, geoquery or context source filter
    are not syntactically valid")."""
    if csf is None:
        return
    if not isinstance(csf, str) or not csf.strip():
        raise BadRequestData('csf must be a query in the language of q, such as endpoint=="http://a.example"')
    try:
        parse_q(csf)
    except InvalidRequest as exc:
        raise BadRequestData(f"csf: {exc.detail}", parameter="csf") from None


def parse_dataset_ids(text: str | None) -> frozenset[str] | None:
    """The ``datasetId`` parameter of a read: the instances to show (``@none``: the default instance)."""
    ids = split_list(text)
    if ids is None:
        return None
    for i in ids:
        if i != "@none":
            check_entity_id(i, "datasetId")
    return frozenset(ids)


def keep_datasets(row: EntityRow, dataset_ids: frozenset[str]) -> EntityRow:
    """``row`` with only the attribute instances of ``dataset_ids`` (NGSI-LD v1.8, clause 4.5.5; ETSI 019_12):
    an attribute left with none is not shown, the entity is."""
    attrs = {}
    for name, instances in row.attrs.items():
        kept = [i for i in instances if i.get("datasetId", "@none") in dataset_ids]
        if kept:
            attrs[name] = kept
    return EntityRow(
        row.pk, row.id, row.types, row.scope, attrs, row.created_at, row.modified_at, row.owner, row.expires_at
    )


def count_headers(result: QueryResult) -> dict[str, str]:
    """``NGSILD-Results-Count`` when the total was asked for."""
    return {"NGSILD-Results-Count": str(result.total)} if result.total is not None else {}


def wants_count(count: bool, options: str | None) -> bool:
    """``count=true``, or ``options=count`` as NGSI-LD clients of earlier versions ask for it."""
    return count or "count" in {o.strip() for o in (options or "").split(",")}


def parse_int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidRequest(f"{name} must be an integer, got {value!r}") from None
