"""Stored entities out: the normalized, concise and simplified (keyValues) representations.

Names are compacted with the request's term map; ``sysAttrs`` adds createdAt/modifiedAt;
``pick``/``omit`` and ``attrs`` choose members (NGSI-LD v1.8, clauses 4.5 and 6.3.7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityos.context.entity import (
    EXPIRES_AT,
    GEOPROPERTY,
    INSTANCE_MEMBERS,
    JSONPROPERTY,
    LANGUAGEPROPERTY,
    LISTRELATIONSHIP,
    PROPERTY,
    SYSTEM_MEMBERS,
    VALUE_MEMBER,
    VOCABPROPERTY,
    TermMap,
    live_instances,
)
from cityos.context.projection import Projection
from cityos.core.timefmt import now_iso

NORMALIZED = "normalized"
CONCISE = "concise"
SIMPLIFIED = "simplified"
# members whose value is a name expanded when stored: compacted with the reader's @context
COMPACTED_MEMBERS = frozenset({"objectType", "valueType", "entityTypeSealed"})


@dataclass(frozen=True)
class View:
    """How to show entities: representation, system attributes, chosen members, language."""

    fmt: str = NORMALIZED
    sys_attrs: bool = False
    pick: frozenset[str] | None = None  # expanded attribute IRIs, plus "id"/"type" as given
    omit: frozenset[str] = frozenset()
    lang: str | None = None
    # pick/omit as parsed, for the projections of linked entities (join, NGSI-LD v1.8 clause 4.5.23)
    picked: Projection | None = field(default=None, compare=False)
    omitted: Projection | None = field(default=None, compare=False)
    # the NGSI-LD simplified form keeps the kind of a LanguageProperty, JsonProperty or VocabProperty
    # ({"languageMap": ...}, {"json": ...}, {"vocab": ...}, clause 4.5.4); a record for other packages does not
    typed_simplified: bool = True

    def wants(self, member: str) -> bool:
        if member in self.omit:
            return False
        return self.pick is None or member in self.pick


def entity_head(entity_id: str, types: list[str], tm: TermMap, view: View) -> dict[str, Any]:
    """The id and type of an entity's representation, unless pick/omit leave them out."""
    out: dict[str, Any] = {}
    if view.wants("id"):
        out["id"] = entity_id
    if view.wants("type"):
        compacted = [tm.compact(t) for t in types]
        out["type"] = compacted[0] if len(compacted) == 1 else compacted
    return out


def render_entity(
    entity_id: str,
    types: list[str],
    scope: list[str] | None,
    attrs: dict[str, list[dict[str, Any]]],
    tm: TermMap,
    view: View,
    created_at: str | None = None,
    modified_at: str | None = None,
    expires_at: str | None = None,
) -> dict[str, Any]:
    """One stored entity as a response document (without @context). Attribute instances past their
    expiresAt are left out (NGSI-LD 4.22); expiresAt itself is a system attribute, shown with sysAttrs."""
    out = entity_head(entity_id, types, tm, view)
    if scope and view.wants("scope"):
        out["scope"] = scope[0] if len(scope) == 1 else scope
    if view.sys_attrs and view.fmt != SIMPLIFIED:
        if created_at:
            out["createdAt"] = shown_ts(created_at)
        if modified_at:
            out["modifiedAt"] = shown_ts(modified_at)
        if expires_at:
            out[EXPIRES_AT] = shown_ts(expires_at)
    now: str | None = None
    for iri, instances in attrs.items():
        if not view.wants(iri) or not instances:
            continue
        if EXPIRES_AT in instances[0] or len(instances) > 1:  # one durable instance, the common case, goes on
            now = now or now_iso()
            instances = live_instances(instances, now)
            if not instances:
                continue
        name = tm.compact(iri)
        rendered = [render_instance(i, tm, view) for i in instances]
        if len(rendered) == 1:
            out[name] = rendered[0]
        elif view.fmt == SIMPLIFIED:  # a multi-attribute: its values by datasetId (NGSI-LD 4.5.4)
            out[name] = {
                "dataset": {i.get("datasetId") or "@none": r for i, r in zip(instances, rendered, strict=True)}
            }
        else:
            out[name] = rendered
    return out


_TYPED_SIMPLIFIED = frozenset((LANGUAGEPROPERTY, JSONPROPERTY, VOCABPROPERTY))


def render_instance(inst: dict[str, Any], tm: TermMap, view: View, depth: int = 0) -> Any:
    kind = inst.get("type", PROPERTY)
    member = VALUE_MEMBER.get(kind, "value")
    value = inst.get(member)
    if kind == VOCABPROPERTY:
        value = [tm.compact(v) for v in value] if isinstance(value, list) else tm.compact(str(value))
    if kind == LANGUAGEPROPERTY and view.lang:
        value = _pick_language(value, view.lang)
    if view.fmt == SIMPLIFIED:
        if view.typed_simplified and kind in _TYPED_SIMPLIFIED and not (kind == LANGUAGEPROPERTY and view.lang):
            return {member: value}
        return value
    out: dict[str, Any] = {}
    if kind == LANGUAGEPROPERTY and view.lang:
        # A language filter turns the LanguageProperty into a Property holding one string.
        out["type"] = PROPERTY
        out["value"] = value
        out["lang"] = _chosen_tag(inst.get(member), view.lang)
    else:
        out["type"] = kind
        # a ListRelationship's URIs, each a Relationship in concise form when normalized (clause 4.5.22.2)
        if kind == LISTRELATIONSHIP and isinstance(value, list):
            value = [{"object": o} if isinstance(o, str) else o for o in value]
        out[member] = value
    for key, sub in inst.items():
        if key in ("type", member):
            continue
        if key in SYSTEM_MEMBERS or key == "observedAt" or key == EXPIRES_AT:
            if key == "observedAt" or view.sys_attrs:
                # inline shown_ts: this runs for every instance of every entity read
                out[key] = sub[:19] + "Z" if sub[19:] == ".000Z" and type(sub) is str else sub
        elif key in COMPACTED_MEMBERS:
            out[key] = tm.compact(sub)
        elif key in INSTANCE_MEMBERS:
            out[key] = sub
        else:
            out[tm.compact(key)] = render_instance(sub, tm, view, depth + 1)
    if view.fmt == CONCISE:
        return _concise(out)
    return out


def shown_ts(stamp: Any) -> Any:
    """A stored time as a client sent it: without the ``.000`` the fixed-width stored form adds to a time of
    whole seconds (stored times keep their width, so that string order stays time order)."""
    if isinstance(stamp, str) and stamp.endswith(".000Z") and len(stamp) == 24:
        return stamp[:19] + "Z"
    return stamp


def _concise(out: dict[str, Any]) -> Any:
    kind = out.pop("type", PROPERTY)
    if kind in (PROPERTY, GEOPROPERTY) and out.keys() == {"value"}:
        return out["value"]  # no sub-attributes: the value alone
    return out  # otherwise the member name (value, object, languageMap, ...) tells the kind


def _pick_language(lang_map: Any, lang: str) -> Any:
    if not isinstance(lang_map, dict):
        return lang_map
    tag = _chosen_tag(lang_map, lang)
    return lang_map.get(tag) if tag else None


def _chosen_tag(lang_map: Any, lang: str) -> str | None:
    if not isinstance(lang_map, dict) or not lang_map:
        return None
    for wanted in _by_weight(lang):
        if wanted == "*":
            break
        if wanted in lang_map:
            return wanted
        for tag in lang_map:
            if tag.split("-")[0] == wanted.split("-")[0]:
                return tag
    return "@none" if "@none" in lang_map else next(iter(lang_map))


def _by_weight(lang: str) -> list[str]:
    """The language ranges of ``lang`` (``fr;q=0.2,nl;q=0.9``) by falling weight, list order between equal ones
    (NGSI-LD v1.8, clause 4.15, as HTTP's Accept-Language); a weight that is no number counts as 1."""
    ranges = []
    for pos, part in enumerate(lang.split(",")):
        tag, *params = [p.strip() for p in part.split(";")]
        weight = 1.0
        for prm in params:
            if prm.startswith("q="):
                try:
                    weight = float(prm[2:])
                except ValueError:
                    weight = 1.0
        ranges.append((-weight, pos, tag))
    return [tag for _, _, tag in sorted(ranges)]


_GEOMETRY_TYPES = frozenset(
    ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection")
)


def _geometry(attr: Any) -> Any:
    """The GeoJSON geometry an attribute (as rendered, in any representation) holds, or None: of several
    instances the default one's (no datasetId), else the first's (clause 4.5.16.1)."""
    if isinstance(attr, list):
        default = next((a for a in attr if isinstance(a, dict) and "datasetId" not in a), None)
        return _geometry(default if default is not None else (attr[0] if attr else None))
    if not isinstance(attr, dict):
        return None
    if isinstance(attr.get("dataset"), dict) and len(attr) == 1:  # simplified, keyed by datasetId
        values = attr["dataset"]
        return _geometry(values["@none"] if "@none" in values else next(iter(values.values()), None))
    kind = attr.get("type")
    candidate = attr.get("value") if kind == GEOPROPERTY or (kind is None and "value" in attr) else attr
    if isinstance(candidate, dict) and candidate.get("type") in _GEOMETRY_TYPES:
        return candidate
    return None  # no GeoProperty, or a value that is no geometry: null (clause 4.5.16.1)


def geojson_feature(entity: dict[str, Any], geometry_name: str, fmt: str) -> dict[str, Any]:
    """An entity (already rendered) as a GeoJSON Feature, its geometry taken from one GeoProperty."""
    props = {k: v for k, v in entity.items() if k != "id"}
    geometry = _geometry(entity.get(geometry_name))
    return {"id": entity.get("id"), "type": "Feature", "geometry": geometry, "properties": props}


_KEY_VALUES = View(fmt=SIMPLIFIED, typed_simplified=False)  # a record's values bare


def key_value(instances: list[dict[str, Any]], tm: TermMap) -> Any:
    """One attribute's value in the simplified (keyValues) form, from its instances as stored: what
    :func:`key_values` renders for it."""
    rendered = [render_instance(i, tm, _KEY_VALUES) for i in instances]
    return rendered[0] if len(rendered) == 1 else rendered


def key_values(entity_id: str, types: list[str], attrs: dict[str, list[dict[str, Any]]], tm: TermMap) -> dict[str, Any]:
    """An entity in the simplified (keyValues) form, its names compacted with ``tm``: a record as other
    packages read one (the data resource system's dataset reads), several instances of an attribute as a list
    (the NGSI-LD API's keyValues keys them by datasetId instead: render_entity)."""
    out = entity_head(entity_id, types, tm, View(fmt=SIMPLIFIED))
    for iri, instances in attrs.items():
        if instances:
            out[tm.compact(iri)] = key_value(instances, tm)
    return out


# --- a page of records in keyValues form ----------------------------------------------------------------------
# A dataset read renders a page of 1,000 entities of 20 attributes each: render_entity's general path (a view
# consulted per attribute, a list per attribute, a compaction per name) costs several times the values' own
# handling there. The page form below gives the same dicts as key_values row by row, each name compacted once
# per page and the common instance (a Property or GeoProperty: its value) taken without a call.

_PLAIN_VALUE = frozenset((PROPERTY, GEOPROPERTY))  # the instance types whose keyValues form is inst["value"]


def simple_value(instances: list[dict[str, Any]], tm: TermMap) -> Any:
    """One attribute's keyValues value from its (non-empty) instances as stored: :func:`key_value`'s answer,
    the common single Property or GeoProperty without a call."""
    if len(instances) == 1:
        inst = instances[0]
        if inst.get("type", PROPERTY) in _PLAIN_VALUE:
            return inst.get("value")
        return render_instance(inst, tm, _KEY_VALUES)
    return [render_instance(i, tm, _KEY_VALUES) for i in instances]


class PageNames:
    """The compacted names of one page's attribute IRIs and entity types, each compacted once."""

    __slots__ = ("names", "tm", "types")

    def __init__(self, tm: TermMap) -> None:
        self.tm = tm
        self.names: dict[str, str] = {}
        self.types: dict[tuple[str, ...], Any] = {}

    def type_of(self, types: list[str]) -> Any:
        """The keyValues ``type`` member of an entity of ``types`` (one name, or a list of them)."""
        key = tuple(types)
        found = self.types.get(key)
        if found is None:
            compacted = [self.tm.compact(t) for t in types]
            found = self.types[key] = compacted[0] if len(compacted) == 1 else compacted
        return found[:] if type(found) is list else found  # a list is the record's own

    def name(self, iri: str) -> str:
        found = self.names.get(iri)
        if found is None:
            found = self.names[iri] = self.tm.compact(iri)
        return found


def key_values_page(rows: list[Any], tm: TermMap) -> list[dict[str, Any]]:
    """The entities of ``rows`` (stored rows: ``id``, ``types``, ``attrs``) in keyValues form, each as
    :func:`key_values` makes it (the same dicts, members in the same order), a page at once."""
    page = PageNames(tm)
    names, plain = page.names, _PLAIN_VALUE
    out = []
    for row in rows:
        record: dict[str, Any] = {"id": row.id, "type": page.type_of(row.types)}
        for iri, instances in row.attrs.items():
            if not instances:
                continue
            name = names.get(iri) or page.name(iri)
            if len(instances) == 1 and instances[0].get("type", PROPERTY) in plain:
                record[name] = instances[0].get("value")
            else:
                record[name] = simple_value(instances, tm)
        out.append(record)
    return out
