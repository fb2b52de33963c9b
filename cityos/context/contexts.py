"""User @contexts kept by the server (NGSI-LD /jsonldContexts): hosted ones and cached remote ones."""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from cityos.auth import EVERYTHING, Scope
from cityos.context.errors import BadRequestData, ResourceNotFound
from cityos.context.jsonld import ContextResolver
from cityos.context.tables import jsonld_contexts
from cityos.core.timefmt import now_iso
from cityos.errors import Forbidden
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
HOSTED_PATH = "/ngsi-ld/v1/jsonldContexts/"
HOSTED, CACHED = "Hosted", "Cached"
# the kinds NGSI-LD names (ETSI GS CIM 009 5.13): contexts made from a request's inline @context are
# ImplicitlyCreated; none are kept here yet, so the filter is valid and lists nothing
IMPLICIT = "ImplicitlyCreated"
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
        with rt.db.connect() as conn:
            body = conn.execute(select(jsonld_contexts.c.body).where(jsonld_contexts.c.id == cid)).scalar()
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
        raise BadRequestData('send the context as {"@context": {...}} (an object or a list of objects and URLs)')
    resolver(rt).resolve(body["@context"])  # refuse what we could not use later
    cid = uuid.uuid4().hex
    with rt.db.write() as conn:
        conn.execute(
            insert(jsonld_contexts).values(
                id=cid, url=HOSTED_PATH + cid, kind=HOSTED, tenant=tenant, body=body, created_at=now_iso(), uses=0
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


def list_contexts(rt: Runtime, kind: str | None = None, scope: Scope = EVERYTHING) -> list[dict[str, Any]]:
    """The stored contexts: those hosted in the tenant ``scope`` is limited to (all, unlimited), and the cached."""
    stmt = select(jsonld_contexts).order_by(jsonld_contexts.c.created_at)
    if scope.tenant is not None:
        stmt = stmt.where((jsonld_contexts.c.tenant == scope.tenant) | (jsonld_contexts.c.kind == CACHED))
    if kind:
        if kind not in KINDS:
            raise BadRequestData(f"kind {kind!r} is unknown: use one of {', '.join(KINDS)}")
        stmt = stmt.where(jsonld_contexts.c.kind == kind)
    with rt.db.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def get_context(rt: Runtime, cid: str) -> dict[str, Any]:
    """A stored context by its local id, or by its URL (a cached remote one's, or one of ours hosted)."""
    key = hosted_id(cid) or cid
    with rt.db.connect() as conn:
        row = conn.execute(select(jsonld_contexts).where(jsonld_contexts.c.id == key)).first()
        if row is None and ":" in cid:  # ids are hex: something with a scheme is a URL
            row = conn.execute(select(jsonld_contexts).where(jsonld_contexts.c.url == cid)).first()
    if row is None:
        raise ResourceNotFound(f"no @context with id {cid} is stored here", instance=cid)
    return dict(row._mapping)


def delete_context(rt: Runtime, cid: str, scope: Scope = EVERYTHING) -> None:
    """Delete a stored context: a hosted one by a caller of its tenant, a cached one (server-wide) by a caller
    limited to no tenant."""
    row = get_context(rt, cid)
    if row["kind"] == CACHED and scope.tenant is not None:
        raise Forbidden(
            f"@context {cid} is a cached remote one, kept for every tenant: a token limited to tenant "
            f"{scope.tenant!r} may not delete it"
        )
    if row["kind"] == HOSTED and not scope.sees_tenant(row["tenant"] or ""):
        raise ResourceNotFound(f"no @context with id {cid} is stored in tenant {scope.tenant}", instance=cid)
    with rt.db.write() as conn:
        conn.execute(delete(jsonld_contexts).where(jsonld_contexts.c.id == row["id"]))
    resolver(rt).forget(row["url"] if row["kind"] == CACHED else None)
