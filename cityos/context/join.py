"""Linked entity retrieval (NGSI-LD v1.8, clause 4.5.23): ``join=inline|flat`` and ``joinLevel``.

A read with ``join`` also fetches the entities its Relationships and ListRelationships name, and theirs in
turn, ``joinLevel`` deep (default 1). ``inline`` puts each target inside the relationship that names it (the
member ``entity``, or ``entityList`` for a ListRelationship; in the simplified form the target replaces the
relationship's value); ``flat`` adds the targets to the answer as entities of their own, each once.

Targets are read in the tenant of the request, one batch per level, and go through the read guard like any
read (:func:`cityos.context.governance.govern_rows`): a target the reader may not read is left out (the
relationship stays as stored), masked items come masked, and the read is audited. An entity already on the
path from the answer's entity is not inlined again (a cycle), and ``flat`` lists each entity once.

A member of ``pick`` with a braced projection (``locatedAt{id,name}``) picks members of the linked entity;
in ``omit`` it omits members of the linked entity and keeps the relationship (clause 4.21).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cityos.context import store
from cityos.context.entity import LISTRELATIONSHIP, RELATIONSHIP, TermMap
from cityos.context.errors import BadRequestData
from cityos.context.governance import ReadCaller, govern_rows
from cityos.context.projection import Projection
from cityos.context.render import SIMPLIFIED, View, render_entity
from cityos.context.store import EntityRow
from cityos.runtime import Runtime

INLINE = "inline"
FLAT = "flat"
MAX_JOIN_LEVEL = 10


@dataclass(frozen=True)
class Join:
    mode: str  # INLINE or FLAT
    level: int


def parse_join(join: Any, join_level: Any) -> Join | None:
    """The linked entity retrieval a request asks for: None for none (no ``join``, or ``join=@none``);
    BadRequestData for an unknown mode or a ``joinLevel`` that is not a whole number from 1 to 10."""
    level = 1
    if join_level is not None and join_level != "":
        try:
            level = int(join_level) if not isinstance(join_level, bool) else -1
        except (TypeError, ValueError):
            level = -1
        if not 1 <= level <= MAX_JOIN_LEVEL:
            raise BadRequestData(
                f"joinLevel {join_level!r} is not a whole number from 1 to {MAX_JOIN_LEVEL}", parameter="joinLevel"
            )
    if join is None or join == "" or join == "@none":
        return None
    if join not in (INLINE, FLAT):
        raise BadRequestData(f"join {join!r} is unknown: use inline, flat or @none", parameter="join")
    return Join(str(join), level)


def check_linked_projection(picked: Projection | None, omitted: Projection | None, linking: Join | None) -> None:
    """BadRequestData for a ``pick``/``omit`` that selects members of linked entities deeper than the request
    fetches them (NGSI-LD v1.9, clauses 4.21 and 5.7.2.4): without ``join`` none is fetched, with it
    ``joinLevel`` hops."""
    for param, projection in (("pick", picked), ("omit", omitted)):
        depth = projection.depth() if projection else 0
        if not depth:
            continue
        if linking is None:
            raise BadRequestData(
                f"{param} selects members of a linked entity ({{…}}), which only a read with join=inline or "
                "join=flat fetches: add join (and joinLevel) or leave the braces out",
                parameter=param,
            )
        if depth > linking.level:
            raise BadRequestData(
                f"{param} reaches {depth} linked entities deep but joinLevel is {linking.level}: raise "
                f"joinLevel (at most {MAX_JOIN_LEVEL}) or shorten the selection",
                parameter=param,
            )


def omitted_names(omitted: Projection | None, tm: TermMap) -> set[str]:
    """The members an ``omit`` leaves out (expanded): a member with a braced projection (``locatedAt{name}``)
    is kept, and its projection omits members of the entity it links to (NGSI-LD v1.8, clause 4.21)."""
    if omitted is None:
        return set()
    return {_member(n, tm) for n, sub in omitted.members.items() if sub is None}


def _member(name: str, tm: TermMap) -> str:
    return name if name in ("id", "type") else tm.expand(name)


def _linked_view(view: View, name: str, tm: TermMap) -> View:
    """How to show the entity that the attribute ``name`` (as written) links to: the braced projections of
    ``pick`` and ``omit`` for that member, the representation of the whole answer."""
    picked = view.picked.members.get(name) if view.picked else None
    omitted = view.omitted.members.get(name) if view.omitted else None
    members = frozenset(_member(n, tm) for n in picked.members) if picked else None
    return View(view.fmt, view.sys_attrs, members, frozenset(omitted_names(omitted, tm)), view.lang, picked, omitted)


def _targets(row: EntityRow, view: View, tm: TermMap) -> Iterator[tuple[str, int, list[str], str]]:
    """The relationships of ``row`` the view shows: (attribute IRI, instance index, target ids, member)."""
    for iri, instances in row.attrs.items():
        if not instances or not view.wants(iri):
            continue
        for k, inst in enumerate(instances):
            kind = inst.get("type")
            if kind == RELATIONSHIP and isinstance(inst.get("object"), str):
                yield iri, k, [inst["object"]], "entity"
            elif kind == LISTRELATIONSHIP and isinstance(inst.get("objectList"), list):
                ids = [t if isinstance(t, str) else t.get("object") for t in inst["objectList"]]
                yield iri, k, [i for i in ids if isinstance(i, str)], "entityList"


class Linker:
    """The linked entities of one read, fetched level by level through the read guard, and rendered."""

    def __init__(self, rt: Runtime, tenant: str, caller: ReadCaller | None, tm: TermMap, join: Join) -> None:
        self.rt, self.tenant, self.caller, self.tm, self.join = rt, tenant, caller, tm, join
        self.rows: dict[str, EntityRow | None] = {}  # None: absent, or the reader may not read it

    def fetch(self, roots: list[EntityRow], view: View) -> None:
        """Read the targets of ``roots`` (as the guard let the reader see them), ``joinLevel`` deep."""
        for r in roots:
            self.rows.setdefault(r.id, r)
        level: list[tuple[EntityRow, View]] = [(r, view) for r in roots]
        for _ in range(self.join.level):
            wanted: list[tuple[str, View]] = []
            for row, v in level:
                for iri, _, ids, _ in _targets(row, v, self.tm):
                    sub = _linked_view(v, self.tm.compact(iri), self.tm)
                    wanted.extend((i, sub) for i in ids)
            new = list(dict.fromkeys(i for i, _ in wanted if i not in self.rows))
            if new:
                with self.rt.db.connect() as conn:
                    found = store.fetch_many(conn, self.tenant, new)
                seen = govern_rows(self.rt, self.tenant, self.caller, [found[i] for i in new if i in found])
                for i in new:
                    self.rows[i] = None
                for one in seen:
                    self.rows[one.id] = one
            level = [(t, sub) for i, sub in wanted if (t := self.rows.get(i)) is not None]
            if not level:
                return

    def inline(self, row: EntityRow, view: View, depth: int = 0, path: tuple[str, ...] = ()) -> dict[str, Any]:
        """``row`` rendered with its targets inside its relationships, ``joinLevel - depth`` deep."""
        tm = self.tm
        doc = render_entity(
            row.id, row.types, row.scope, row.attrs, tm, view, row.created_at, row.modified_at, row.expires_at
        )
        if depth >= self.join.level:
            return doc
        path = (*path, row.id)
        for iri, k, ids, member in _targets(row, view, tm):
            name = tm.compact(iri)
            sub = _linked_view(view, name, tm)
            docs = []
            for i in ids:
                target = self.rows.get(i)
                if target is None or i in path:
                    continue
                linked = self.inline(target, sub, depth + 1, path)
                if linked:
                    docs.append(linked)
            if not docs or name not in doc:
                continue
            shown = doc[name]
            several = len(row.attrs[iri]) > 1
            if view.fmt == SIMPLIFIED:
                value: Any = docs[0] if member == "entity" else docs
                if several and isinstance(shown, list):
                    shown[k] = value
                else:
                    doc[name] = value
                continue
            inst = shown[k] if several and isinstance(shown, list) else shown
            if isinstance(inst, dict):
                inst[member] = docs[0] if member == "entity" else docs
        return doc

    def flat(self, roots: list[EntityRow], view: View) -> list[dict[str, Any]]:
        """The entities linked from ``roots`` (not themselves), each once, rendered, in the order reached."""
        out: list[dict[str, Any]] = []
        listed = {r.id for r in roots}
        level: list[tuple[EntityRow, View]] = [(r, view) for r in roots]
        for _ in range(self.join.level):
            following: list[tuple[EntityRow, View]] = []
            for row, v in level:
                for iri, _, ids, _ in _targets(row, v, self.tm):
                    sub = _linked_view(v, self.tm.compact(iri), self.tm)
                    for i in ids:
                        target = self.rows.get(i)
                        if target is None or i in listed:
                            continue
                        listed.add(i)
                        following.append((target, sub))
                        doc = render_entity(
                            target.id,
                            target.types,
                            target.scope,
                            target.attrs,
                            self.tm,
                            sub,
                            target.created_at,
                            target.modified_at,
                            target.expires_at,
                        )
                        if doc:
                            out.append(doc)
            level = following
        return out


def joined(
    rt: Runtime,
    tenant: str,
    caller: ReadCaller | None,
    tm: TermMap,
    join: Join,
    rows: list[EntityRow],
    view: View,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``rows`` rendered with their linked entities: (the rows' documents, the extra entities of ``flat``).
    ``rows`` are as the guard let ``caller`` see them already; their targets go through it here."""
    linker = Linker(rt, tenant, caller, tm, join)
    linker.fetch(rows, view)
    if join.mode == INLINE:
        return [linker.inline(r, view) for r in rows], []
    docs = [
        render_entity(r.id, r.types, r.scope, r.attrs, tm, view, r.created_at, r.modified_at, r.expires_at)
        for r in rows
    ]
    return docs, linker.flat(rows, view)


__all__ = ["FLAT", "INLINE", "Join", "joined", "omitted_names", "parse_join"]
