"""A stored registration as a client reads it (NGSI-LD v1.8, clause 5.2.9): names in the reader's @context."""

from __future__ import annotations

from typing import Any

from cityos.context.csources.model import StoredRegistration
from cityos.context.csources.parsing import DEFINED
from cityos.context.entity import TermMap


def rendered(stored: StoredRegistration, made_in: TermMap | None, asked: TermMap, *, sys_attrs: bool) -> dict[str, Any]:
    """``stored``'s body; when ``made_in`` is given (the reader's @context is another), each name it holds (entity
    types, attribute names, its own properties) expanded in that one and compacted in ``asked``."""
    doc = dict(stored.body)
    if made_in is not None:
        doc = _in_terms(doc, made_in, asked)
    if sys_attrs:
        doc["createdAt"], doc["modifiedAt"] = stored.created_at, stored.modified_at
    return doc


def _in_terms(doc: dict[str, Any], made_in: TermMap, asked: TermMap) -> dict[str, Any]:
    def name(term: Any) -> Any:
        return asked.compact(made_in.expand(term)) if isinstance(term, str) else term

    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "information" and isinstance(value, list):
            value = [_info(i, name) for i in value]
        out[key if key in DEFINED else name(key)] = value
    return out


def _info(info: Any, name: Any) -> Any:
    if not isinstance(info, dict):
        return info
    out = dict(info)
    if isinstance(out.get("entities"), list):
        out["entities"] = [{**e, "type": name(e.get("type"))} if isinstance(e, dict) else e for e in out["entities"]]
    for key in ("propertyNames", "relationshipNames"):
        if isinstance(out.get(key), list):
            out[key] = [name(n) for n in out[key]]
    return out
