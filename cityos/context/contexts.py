"""User @contexts kept by the server (NGSI-LD /jsonldContexts): hosted ones and cached remote ones."""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from cityos.auth import EVERYTHING, Scope
from cityos.context.errors import BadRequestData, InvalidRequest, ResourceNotFound
from cityos.context.jsonld import CORE_CONTEXT, CORE_CONTEXT_URLS, ContextResolver
from cityos.context.tables import jsonld_contexts
from cityos.core.timefmt import now_iso
from cityos.errors import Forbidden
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
HOSTED_PATH = "/ngsi-ld/v1/jsonldContexts/"
HOSTED, CACHED = "Hosted", "Cached"
# the kinds NGSI-LD names (ETSI GS CIM 009 5.13): a subscription made in a @context that is not one URL (a list,
# an object) keeps it as an ImplicitlyCreated one, served here, and names it as its jsonldContext
IMPLICIT = "ImplicitlyCreated"
_IMPLICIT_ROW = "Implicit"  # as the kind column (16 characters) holds it
SERVED = (HOSTED, IMPLICIT)  # served by this server at HOSTED_PATH + id (kinds as rows are read)
KINDS = (HOSTED, CACHED, IMPLICIT)


def hosted_id(url: str) -> str | None:
    """The id of one of our hosted contexts named by ``url`` (on whatever host the client reached us)."""
    _, sep, rest = url.partition(HOSTED_PATH)
    return rest.split("?")[0] or None if sep else None


def resolver(rt: Runtime) -> ContextResolver:
    """The runtime's JSON-LD context resolver (made on first use, kept with the runtime's parts)."""
    return rt.parts.get(ContextResolver, lambda: _make_resolver(rt))


def _make_resolver(rt: Runtime) -> ContextResolver:
    def stored(url: str) -> dict[str, Any] | None:
        cid = hosted_id(url)
        if cid is None:
            return None
        with rt.db.write() as conn:  # a use counts as a hit (numberOfHits, lastUsage)
            body = conn.execute(select(jsonld_contexts.c.body).where(jsonld_contexts.c.id == cid)).scalar()
            if body is not None:
                conn.execute(
                    update(jsonld_contexts)
                    .where(jsonld_contexts.c.id == cid)
                    .values(last_used_at=now_iso(), uses=jsonld_contexts.c.uses + 1)
                )
        return body

    def on_fetch(url: str, body: dict[str, Any]) -> None:
        try:
            remember_cached(rt, url, body)
        except Exception:  # recording the cache is a convenience; the request goes on without it
            log.warning("could not record fetched @context %s", url, exc_info=True)

    return ContextResolver(
        stored,
        timeout=rt.settings.context_fetch_timeout,
        cache_seconds=rt.settings.context_cache_seconds,
        on_fetch=on_fetch,
        allow_private=rt.settings.context_allow_private,
    )


def add_hosted(rt: Runtime, body: Any, tenant: str) -> str:
    """Store a user @context in ``tenant``; returns its id (served to anyone at /ngsi-ld/v1/jsonldContexts/{id})."""
    if not isinstance(body, dict) or "@context" not in body:
        raise InvalidRequest('send the context as {"@context": {...}} (an object or a list of objects and URLs)')
    _check_entries(body["@context"])
    try:
        resolver(rt).resolve(body["@context"])  # refuse what we could not use later
    except InvalidRequest as exc:  # a document that is JSON but not a valid @context (NGSI-LD 5.13.2.4)
        raise BadRequestData(exc.detail) from None
    return _store(rt, body, tenant, HOSTED)


def _check_entries(context: Any) -> None:
    """A @context is a URL, an object, null or a list of those: checked whole before any URL in it is fetched,
    so that an invalid one is BadRequestData whether or not the servers it names answer (ETSI 5132_01_03)."""
    entries = context if isinstance(context, list) else [context]
    for n, entry in enumerate(entries):
        if not (entry is None or isinstance(entry, str | dict)):
            kind = "a list" if isinstance(entry, list) else f"the {type(entry).__name__} {entry!r}"
            raise BadRequestData(f"@context entry {n} is {kind}: use a URL, an object or a list of those")


def add_implicit(rt: Runtime, context: Any, tenant: str) -> str:
    """Keep a request's @context that is not one URL as an ImplicitlyCreated one; returns its id."""
    return _store(rt, {"@context": context}, tenant, _IMPLICIT_ROW)


def _store(rt: Runtime, body: dict[str, Any], tenant: str, kind: str) -> str:
    cid = uuid.uuid4().hex
    with rt.db.write() as conn:
        conn.execute(
            insert(jsonld_contexts).values(
                id=cid, url=HOSTED_PATH + cid, kind=kind, tenant=tenant, body=body, created_at=now_iso(), uses=0
            )
        )
    return cid


def remember_cached(rt: Runtime, url: str, body: dict[str, Any]) -> None:
    cid = hashlib.sha256(url.encode()).hexdigest()[:32]
    try:
        with rt.db.write() as conn:
            found = conn.execute(select(jsonld_contexts.c.id).where(jsonld_contexts.c.id == cid)).first()
            if found:
                conn.execute(
                    update(jsonld_contexts)
                    .where(jsonld_contexts.c.id == cid)
                    .values(body=body, last_used_at=now_iso(), uses=jsonld_contexts.c.uses + 1)
                )
            else:
                conn.execute(
                    insert(jsonld_contexts).values(
                        id=cid, url=url, kind=CACHED, body=body, created_at=now_iso(), last_used_at=now_iso(), uses=1
                    )
                )
    except IntegrityError:
        pass  # recorded concurrently


def list_contexts(rt: Runtime, kind: str | None = None, tenant: str | None = None) -> list[dict[str, Any]]:
    """The stored contexts: those hosted in ``tenant`` (None: in every tenant), and the cached ones, which are
    copies of public documents kept for every tenant."""
    stmt = select(jsonld_contexts).order_by(jsonld_contexts.c.created_at)
    if tenant is not None:
        stmt = stmt.where((jsonld_contexts.c.tenant == tenant) | (jsonld_contexts.c.kind == CACHED))
    if kind:
        if kind not in KINDS:
            raise BadRequestData(f"kind {kind!r} is unknown: use one of {', '.join(KINDS)}")
        stmt = stmt.where(jsonld_contexts.c.kind == (_IMPLICIT_ROW if kind == IMPLICIT else kind))
    with rt.db.connect() as conn:
        return [_named(dict(r._mapping)) for r in conn.execute(stmt)]


def _named(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its kind as NGSI-LD names it."""
    if row["kind"] == _IMPLICIT_ROW:
        row["kind"] = IMPLICIT
    return row


def get_context(rt: Runtime, cid: str, tenant: str | None = None) -> dict[str, Any]:
    """A stored context by its local id, or by its URL (a cached remote one's, or one of ours hosted);
    ``tenant``: one hosted in another tenant is not found (None: it is, whichever its tenant)."""
    if cid in CORE_CONTEXT_URLS:  # the core @context is served too, never stored nor deleted
        now = now_iso()
        return {"id": cid, "url": cid, "kind": CACHED, "tenant": None, "body": CORE_CONTEXT, "created_at": now,
                "last_used_at": None, "uses": 0, "core": True}  # fmt: skip
    key = hosted_id(cid) or cid
    with rt.db.connect() as conn:
        row = conn.execute(select(jsonld_contexts).where(jsonld_contexts.c.id == key)).first()
        if row is None and ":" in cid:  # ids are hex: something with a scheme is a URL
            row = conn.execute(select(jsonld_contexts).where(jsonld_contexts.c.url == cid)).first()
    if row is None or (tenant is not None and row.kind != CACHED and row.tenant != tenant):
        raise ResourceNotFound(f"no @context with id {cid} is stored here", instance=cid)
    return _named(dict(row._mapping))


def delete_context(
    rt: Runtime, cid: str, scope: Scope = EVERYTHING, reload: str | None = None, tenant: str | None = None
) -> None:
    """Delete a stored context: a hosted or implicitly created one by a caller of its tenant (``tenant``, the
    request's: one of another tenant is not found), a cached one (server-wide) by a caller limited to no
    tenant; ``reload=true`` fetches a cached one again."""
    if reload not in (None, "true", "false"):
        raise BadRequestData(f"reload must be true or false, not {reload!r}")
    if cid in CORE_CONTEXT_URLS:
        if reload == "true":  # reloaded: the copy this server ships is the one it serves (NGSI-LD 5.13.5; 051_09)
            return
        raise BadRequestData("the NGSI-LD core @context cannot be deleted: reload it with reload=true")
    try:
        row = get_context(rt, cid, tenant)
    except ResourceNotFound:
        if reload == "true":  # reload names a cached context (NGSI-LD 5.13.5): nothing cached is named so
            raise BadRequestData(f"reload=true reloads a cached @context: none is cached as {cid}") from None
        raise
    if reload == "true" and row["kind"] != CACHED:
        raise BadRequestData(f"@context {cid} is {row['kind']}: only a cached one is reloaded (reload=true)")
    if row["kind"] == CACHED and scope.tenant is not None:
        raise Forbidden(
            f"@context {cid} is a cached remote one, kept for every tenant: a token limited to tenant "
            f"{scope.tenant!r} may not delete it"
        )
    if row["kind"] in SERVED and not scope.sees_tenant(row["tenant"] or ""):
        raise ResourceNotFound(f"no @context with id {cid} is stored in tenant {scope.tenant}", instance=cid)
    if reload == "true":
        # fetched again before the cached copy goes: a server that does not answer leaves it as it was
        # (LdContextNotAvailable; NGSI-LD 5.13.5.4, ETSI 053_05_01); a fetched one replaces it (on_fetch)
        resolver(rt).forget(row["url"])
        resolver(rt).resolve(row["url"])
        return
    with rt.db.write() as conn:
        conn.execute(delete(jsonld_contexts).where(jsonld_contexts.c.id == row["id"]))
    resolver(rt).forget(row["url"] if row["kind"] == CACHED else None)
