"""NGSI-LD entities in, stored form out: parsing and validation of request bodies.

The stored form is described in ``cityos.context.tables``. Parsing takes a term map (the request's
JSON-LD context) to expand attribute, sub-attribute and type names, accepts the normalized and the
concise representations, and refuses anything malformed with a ``BadRequestData`` that names the
attribute and what is wrong with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from cityos.context.errors import BadRequestData
from cityos.context.geo import validate_geometry
from cityos.core.iris import CONTROLS, control_character, holds_nul
from cityos.core.timefmt import FORMAT_HINT, normalize_ts

NULL_URI = "urn:ngsi-ld:null"  # NGSI-LD Null: in an update, partial update or merge it deletes the attribute

PROPERTY = "Property"
RELATIONSHIP = "Relationship"
GEOPROPERTY = "GeoProperty"
LANGUAGEPROPERTY = "LanguageProperty"
JSONPROPERTY = "JsonProperty"
VOCABPROPERTY = "VocabProperty"
LISTPROPERTY = "ListProperty"
LISTRELATIONSHIP = "ListRelationship"

# attribute type -> the member that carries its value
VALUE_MEMBER = {
    PROPERTY: "value",
    GEOPROPERTY: "value",
    RELATIONSHIP: "object",
    LANGUAGEPROPERTY: "languageMap",
    JSONPROPERTY: "json",
    VOCABPROPERTY: "vocab",
    LISTPROPERTY: "valueList",
    LISTRELATIONSHIP: "objectList",
}
ATTRIBUTE_TYPES = frozenset(VALUE_MEMBER)

# Members of an attribute instance that are NGSI-LD's own, never sub-attributes.
INSTANCE_MEMBERS = frozenset(
    {
        "type",
        "value",
        "object",
        "languageMap",
        "json",
        "vocab",
        "valueList",
        "objectList",
        "objectType",
        "observedAt",
        "unitCode",
        "datasetId",
        "createdAt",
        "modifiedAt",
        "deletedAt",
        "instanceId",
        "lang",
        "valueType",
        "entityIdSealed",
        "entityTypeSealed",
        "expiresAt",
    }
)
# attribute types without a unit: relationships point at entities, raw JSON is opaque (ETSI 453_01, 4524_01)
UNITLESS = frozenset({RELATIONSHIP, LISTRELATIONSHIP, JSONPROPERTY})
# members a notification shows with showChanges (NGSI-LD v1.9, clause 4.5): no request writes them
OUTPUT_ONLY_MEMBERS = frozenset(
    {
        "previousValue",
        "previousObject",
        "previousLanguageMap",
        "previousJson",
        "previousVocab",
        "previousValueList",
        "previousObjectList",
    }
)
# the core members of an attribute instance: none of them names an attribute of an entity
RESERVED_NAMES = INSTANCE_MEMBERS - {"type"}
SYSTEM_MEMBERS = frozenset({"createdAt", "modifiedAt", "deletedAt", "instanceId"})
# Entity members that are not attributes.
ENTITY_MEMBERS = frozenset(
    {"id", "@id", "type", "@type", "@context", "scope", "createdAt", "modifiedAt", "deletedAt", "expiresAt"}
)
EXPIRES_AT = "expiresAt"  # when an entity, or an attribute instance, stops being served (NGSI-LD 4.22)
GEOJSON_TYPES = frozenset({"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"})
# the attributes NGSI-LD defines as GeoProperties (clause 4.7.1): any other type for them is BadRequestData
GEO_ATTRIBUTES = frozenset(
    f"https://uri.etsi.org/ngsi-ld/{n}" for n in ("location", "observationSpace", "operationSpace")
)
# the Property that carries a W3C Data Integrity proof of the entity, the only one with sealed members (clause 4.5.2.2)
PROOF_ATTRIBUTE = "https://uri.etsi.org/ngsi-ld/ngsildproof"
SEALED_MEMBERS = ("entityIdSealed", "entityTypeSealed")
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
DEFAULT_DATASET = "@none"  # a datasetId naming the default instance (clause 4.5.5.1): stored as no datasetId

# ids are IRIs (RFC 3987): any character but spaces, the delimiters below and control characters
_URI = re.compile(rf"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{{}}|\\^`{CONTROLS}]+$")
# Characters an IRI admits that show as nothing or as another id (ETSI 451_02): Unicode's default-ignorable
# code points (bidi controls, zero-width characters, the byte order mark, variation selectors, the Hangul
# fillers), noncharacters, and the blank braille pattern. An id holding one renders as a different id in
# logs, pages and audit trails, so it identifies nothing reliably.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u2800\u3164\ufdd0-\ufdef\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\ufffe\uffff\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
    "|[\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U0004fffe\U0004ffff\U0005fffe\U0005ffff"
    "\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff\U0009fffe\U0009ffff\U000afffe\U000affff"
    "\U000bfffe\U000bffff\U000cfffe\U000cffff\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff"
    "\U0010fffe\U0010ffff]"
)
_NAME = re.compile(rf"^[^\s<>\"'=;()\[\]\\{CONTROLS}]+$")
_SCOPE = re.compile(rf"/[^\s/{CONTROLS}]+(/[^\s/{CONTROLS}]+)*|/#|/\+")
MAX_SUB_DEPTH = 8


class TermMap(Protocol):
    def expand(self, term: str) -> str: ...

    def compact(self, iri: str) -> str: ...


def is_uri(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 512 and _URI.match(value) is not None


def check_entity_id(value: Any, where: str = "id") -> str:
    if not isinstance(value, str) or not value:
        raise BadRequestData(f"{where} must be a URI string such as urn:ngsi-ld:Street:waitan")
    _check_controls(value, where)
    if not is_uri(value):
        raise BadRequestData(f"{where} {value!r} is not a valid URI (e.g. urn:ngsi-ld:Street:waitan)")
    if not value.isascii() and (found := _INVISIBLE.search(value)):
        raise BadRequestData(
            f"{where} {value[:80]!r} holds the invisible character U+{ord(found.group()):04X} at position "
            f"{found.start()}: remove it (it would show the id as another)"
        )
    return value


def _check_controls(value: str, what: str) -> None:
    where = control_character(value)
    if where is not None:
        raise BadRequestData(f"{what} {value[:80]!r} holds the control character {where}: remove it")


_NAMES_PASSED: set[str] = set()  # names found allowed (the few of a batch, checked once, not once per entity)
_NAMES_KEPT = 4096


def check_name(name: Any, what: str = "attribute name") -> str:
    if type(name) is str and name in _NAMES_PASSED:
        return name
    if isinstance(name, str):
        _check_controls(name, what)
    if not isinstance(name, str) or not name or len(name) > 256 or not _NAME.match(name):
        raise BadRequestData(
            f"{what} {name!r} is not allowed: use a term, compact IRI or IRI without spaces, quotes, "
            "'=', ';', parentheses or brackets"
        )
    if len(_NAMES_PASSED) < _NAMES_KEPT:
        _NAMES_PASSED.add(name)
    return name


@dataclass
class ParsedEntity:
    """An entity from a request body, names expanded, ready to store."""

    id: str | None
    types: list[str]
    scope: list[str] | None
    attrs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # (attribute, datasetId) set to NGSI-LD Null in an update or merge: that instance is deleted
    deleted: set[tuple[str, str | None]] = field(default_factory=set)
    expires_at: str | None = None  # the entity's expiresAt (stored form), if the body gives one
    drop_expiry: bool = False  # expiresAt is NGSI-LD Null (a merge or an update): the entity becomes durable


def has_expired(expires_at: Any, now: str) -> bool:
    """Whether a stored ``expiresAt`` has passed at ``now`` (both in the fixed-width stored form)."""
    return isinstance(expires_at, str) and expires_at <= now


def live_instances(instances: list[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    """The instances whose expiresAt has not passed (the list itself when none has one: the common case)."""
    if all(EXPIRES_AT not in i for i in instances):
        return instances
    return [i for i in instances if not has_expired(i.get(EXPIRES_AT), now)]


def parse_expiry(value: Any, where: str) -> str:
    """An ``expiresAt`` in stored form: a DateTime (NGSI-LD 4.6.3), else BadRequestData naming ``where``.
    A time passed is accepted: what it marks is never served (clause 4.22 forbids no past value)."""
    if not isinstance(value, str):
        raise BadRequestData(f"{where}: expiresAt must be {FORMAT_HINT}, not {value!r}")
    try:
        return normalize_ts(value)
    except (ValueError, TypeError):
        raise BadRequestData(f"{where}: expiresAt {value!r} is not {FORMAT_HINT}") from None


def parse_types(value: Any, tm: TermMap) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise BadRequestData("type must be a type name or a non-empty list of type names")
    out: list[str] = []
    for t in items:
        check_name(t, "entity type")
        if ":" not in t and not t[0].isalpha():  # a short name begins with a letter (NGSI-LD v1.9, clause 4.6.2)
            raise BadRequestData(f"entity type {t!r} must begin with a letter: a type name is a letter, then letters, "
                                 "digits or underscores")  # fmt: skip
        iri = tm.expand(t)
        if iri.startswith("@"):  # a JSON-LD keyword (the core context maps "type" to @type) names no type
            raise BadRequestData(f"entity type {t!r} is a JSON-LD keyword ({iri}), not a type: name the type")
        if iri not in out:
            out.append(iri)
    return out


def parse_scope(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    for s in items:
        if not isinstance(s, str) or not _SCOPE.fullmatch(s):
            raise BadRequestData(f"scope {s!r} must be a path such as /Huangpu/Waitan")
    return list(items)


def parse_entity(
    body: Any,
    tm: TermMap,
    *,
    now: str,
    need_id: bool = True,
    need_type: bool = True,
    allow_null: bool = False,
    merge: bool = False,
) -> ParsedEntity:
    """Parse an entity body (normalized or concise) into its stored form.

    ``allow_null`` accepts NGSI-LD Null (``urn:ngsi-ld:null``) as an attribute's value: the instance
    (the default one, or the one of its datasetId) goes to ``deleted`` instead of ``attrs``. ``merge`` also
    keeps it as the value of a key inside a value's JSON object, where a merge removes that key (clause 5.5.4).
    """
    if not isinstance(body, dict):
        raise BadRequestData("the entity must be a JSON object with at least 'id' and 'type'")
    raw_id = body.get("id", body.get("@id"))
    if raw_id is None:
        if need_id:
            raise BadRequestData("the entity has no 'id': give a URI such as urn:ngsi-ld:Grid:HP-01")
        entity_id = None
    else:
        entity_id = check_entity_id(raw_id)
        if entity_id == NULL_URI:  # NGSI-LD Null deletes; it names no entity (clause 5.5.4; ETSI 554_01_01)
            raise BadRequestData(f"{NULL_URI} is NGSI-LD Null, not an entity id: give the entity a URI of its own")
    raw_type = body.get("type", body.get("@type"))
    if raw_type is None:
        if need_type:
            raise BadRequestData(f"entity {entity_id or ''} has no 'type'".replace("  ", " "))
        types: list[str] = []
    else:
        types = parse_types(raw_type, tm)
    scope = parse_scope(body["scope"]) if body.get("scope") is not None else None
    parsed = ParsedEntity(entity_id, types, scope)
    if allow_null and body.get(EXPIRES_AT) == NULL_URI:  # a merge or an update makes the entity durable
        parsed.drop_expiry = True
    elif body.get(EXPIRES_AT) is not None:
        parsed.expires_at = parse_expiry(body[EXPIRES_AT], f"entity {entity_id or ''}".rstrip())
    if not allow_null:
        _refuse_null(body)
    for name, raw in body.items():
        if name in ENTITY_MEMBERS:
            continue
        check_name(name)
        if name in RESERVED_NAMES:
            raise BadRequestData(f"{name!r} is a member of NGSI-LD's own (clause 4.6): it cannot name an attribute")
        iri = tm.expand(name)
        if allow_null:
            raw = _take_nulls(name, iri, raw, parsed.deleted)
            if raw is None:
                continue
            if not merge:
                refuse_inner_null(name, raw)
        parsed.attrs[iri] = parse_attribute(name, raw, tm, now=now)
    return parsed


_NULL_BYTES = NULL_URI.encode()


def _refuse_null(body: dict[str, Any]) -> None:
    """BadRequestData for NGSI-LD Null in an entity that is not a merge or an update: as an attribute's or a
    sub-attribute's value, or inside a value's JSON object (NGSI-LD v1.9, clause 5.5.4)."""

    try:
        if _NULL_BYTES not in orjson.dumps(body):  # one look at C speed: most bodies hold no Null at all
            return
    except TypeError:  # an integer orjson cannot write (a body made in Python): walk it
        pass
    for name, raw in body.items():
        if (name not in ENTITY_MEMBERS or name == "scope") and holds_null(raw):
            raise BadRequestData(
                f"attribute {name!r} holds NGSI-LD Null ({NULL_URI}), which deletes in an update or a merge only: "
                "leave the attribute out to create it without a value"
            )


def holds_null(value: Any) -> bool:
    """Whether NGSI-LD Null is somewhere in a JSON value."""
    if value == NULL_URI:
        return True
    if isinstance(value, dict):
        return any(holds_null(v) for v in value.values())
    return isinstance(value, list) and any(holds_null(v) for v in value)


def refuse_inner_null(name: str, raw: Any) -> None:
    """BadRequestData for NGSI-LD Null inside the JSON object or array an attribute's value is: only a merge
    removes keys that way (NGSI-LD v1.9, clause 5.5.4; ETSI 554_01_03)."""
    for inst in raw if isinstance(raw, list) else [raw]:
        if isinstance(inst, dict) and is_null(inst):  # the whole instance set to Null: deleted, not inside
            continue
        values = [inst.get(m) for m in VALUE_MEMBER.values()] if isinstance(inst, dict) else [inst]
        if any(isinstance(v, dict | list) and holds_null(v) for v in values):
            raise BadRequestData(
                f"attribute {name!r} holds NGSI-LD Null ({NULL_URI}) inside its value: only a merge (PATCH "
                "/entities/{id}) removes a key of a value that way; send the whole value without it"
            )


def _take_nulls(name: str, iri: str, raw: Any, deleted: set[tuple[str, str | None]]) -> Any:
    """Move the NGSI-LD Null instances of one attribute into ``deleted``; what remains (None if nothing)."""
    if isinstance(raw, list) and raw and all(isinstance(i, dict) for i in raw):
        kept = [i for i in raw if not _null_instance(name, iri, i, deleted)]
        return kept or None
    return None if _null_instance(name, iri, raw, deleted) else raw


def _null_instance(name: str, iri: str, raw: Any, deleted: set[tuple[str, str | None]]) -> bool:
    if raw == NULL_URI or raw is None:
        deleted.add((iri, None))
        return True
    if isinstance(raw, dict) and is_null(raw):
        ds = raw.get("datasetId")
        default = ds is None or ds == DEFAULT_DATASET
        deleted.add((iri, None if default else check_entity_id(ds, f"attribute {name!r} datasetId")))
        return True
    return False


def is_null(fragment: dict[str, Any]) -> bool:
    """Whether an attribute fragment's value member is NGSI-LD Null (any attribute type, GeoProperty too)."""
    kind = _type_of(fragment)
    members = [VALUE_MEMBER[kind]] if kind in VALUE_MEMBER else VALUE_MEMBER.values()
    # a LanguageProperty's Null is a languageMap of {"@none": "urn:ngsi-ld:null"}
    return any(fragment.get(m) in (NULL_URI, [NULL_URI], {"@none": NULL_URI}) for m in members)


def parse_attribute(name: str, raw: Any, tm: TermMap, *, now: str) -> list[dict[str, Any]]:
    """One attribute (one instance or a list of instances by datasetId) in stored form."""
    if isinstance(raw, list) and raw and all(isinstance(i, dict) and _looks_like_instance(i) for i in raw):
        instances = [parse_instance(name, i, tm, now=now) for i in raw]
        seen: set[str | None] = set()
        for inst in instances:
            ds = inst.get("datasetId")
            if ds in seen:
                label = f"datasetId {ds}" if ds else "the default instance (no datasetId)"
                raise BadRequestData(f"attribute {name!r} has {label} more than once")
            seen.add(ds)
        return instances
    return [parse_instance(name, raw, tm, now=now)]


def _looks_like_instance(d: dict[str, Any]) -> bool:
    return _type_of(d) in ATTRIBUTE_TYPES or any(m in d for m in ("value", "object", "languageMap", "datasetId"))


def _type_of(d: dict[str, Any]) -> str | None:
    """The "type" member if it is a string (a list or object there is not a type: never hash it)."""
    t = d.get("type")
    return t if isinstance(t, str) else None


def parse_instance(name: str, raw: Any, tm: TermMap, *, now: str, depth: int = 0) -> dict[str, Any]:
    """One attribute instance (or sub-attribute), normalized or concise, in stored form."""
    if depth > MAX_SUB_DEPTH:
        raise BadRequestData(f"attribute {name!r} nests sub-attributes deeper than {MAX_SUB_DEPTH} levels")
    if depth == 0 and holds_nul(raw):
        raise BadRequestData(f"attribute {name!r} holds the character U+0000 (NUL), which cannot be stored: remove it")
    iri = tm.expand(name) if depth == 0 else None
    if not isinstance(raw, dict):
        if raw is None:
            raise BadRequestData(f"attribute {name!r} has no value (null is not a value)")
        if iri in GEO_ATTRIBUTES:  # concise: the geometry, or its JSON text (clause 4.7.2)
            return _stamp({"type": GEOPROPERTY, "value": _check_value(name, GEOPROPERTY, raw, tm)}, now, depth)
        return _stamp({"type": PROPERTY, "value": raw}, now, depth)
    if raw.get("type") is not None and not isinstance(raw.get("type"), str):
        raise BadRequestData(f"attribute {name!r}: 'type' must be a string such as Property or Relationship")
    kind = raw.get("type")
    if kind in GEOJSON_TYPES and "coordinates" in raw:  # concise GeoProperty: the geometry itself
        validate_geometry(raw, attr=name)
        return _stamp({"type": GEOPROPERTY, "value": raw}, now, depth)
    if kind is None:
        kind = _infer_kind(raw)
        if kind is None:  # a bare JSON object in concise form is a compound value
            return _stamp({"type": PROPERTY, "value": raw}, now, depth)
    if kind not in ATTRIBUTE_TYPES:
        raise BadRequestData(f"attribute {name!r} has type {kind!r}: use one of {', '.join(sorted(ATTRIBUTE_TYPES))}")
    if iri in GEO_ATTRIBUTES and kind != GEOPROPERTY:
        raise BadRequestData(f"attribute {name!r} is a GeoProperty by definition (NGSI-LD clause 4.7.1), not a {kind}")
    member = VALUE_MEMBER[kind]
    if member not in raw or raw[member] is None:
        raise BadRequestData(f"attribute {name!r} is a {kind} and needs a non-null {member!r} member")
    inst: dict[str, Any] = {"type": kind, member: _check_value(name, kind, raw[member], tm)}
    proof = iri == PROOF_ATTRIBUTE
    if proof and (kind != PROPERTY or not isinstance(inst[member], dict)):
        raise BadRequestData(
            f"attribute {name!r} is the entity's proof: a Property whose value is the W3C Data Integrity proof "
            "object (NGSI-LD clause 4.5.2.2)"
        )
    for key, sub in raw.items():
        if key in ("type", member) or key in SYSTEM_MEMBERS:
            continue
        if key in SEALED_MEMBERS:
            inst[key] = _check_sealed(name, key, sub, tm, proof=proof)
        elif key == "valueType":
            inst[key] = _check_value_type(name, kind, sub, tm)
        elif key == "observedAt":
            inst["observedAt"] = _check_time(name, sub)
        elif key == EXPIRES_AT:  # the storage of this instance (or sub-attribute) only (NGSI-LD 4.22)
            inst[EXPIRES_AT] = parse_expiry(sub, f"attribute {name!r}")
        elif key == "unitCode":
            if kind in UNITLESS:
                raise BadRequestData(f"attribute {name!r}: a {kind} has no unitCode (NGSI-LD clause 4.5)")
            if not isinstance(sub, str) or not sub:
                raise BadRequestData(f"attribute {name!r}: unitCode must be a UN/CEFACT code string such as CEL")
            inst["unitCode"] = sub
        elif key == "datasetId":
            if depth:
                raise BadRequestData(f"sub-attribute {name!r} cannot have a datasetId")
            if sub == NULL_URI:  # Null deletes instances, never the datasetId of one (NGSI-LD v1.9, clause 5.5.8)
                raise BadRequestData(f"attribute {name!r}: a datasetId cannot be deleted (set to {NULL_URI})")
            if sub != DEFAULT_DATASET:  # "@none" names the default instance: held with no datasetId
                inst["datasetId"] = check_entity_id(sub, f"attribute {name!r} datasetId")
        elif key == "objectType" and kind in (RELATIONSHIP, LISTRELATIONSHIP):
            inst["objectType"] = tm.expand(check_name(sub, "objectType"))
        elif key == "lang" and kind == PROPERTY:
            inst["lang"] = sub
        elif key in INSTANCE_MEMBERS:
            raise BadRequestData(f"attribute {name!r}: member {key!r} does not belong on a {kind}")
        elif key in OUTPUT_ONLY_MEMBERS:
            raise BadRequestData(f"attribute {name!r}: {key!r} is shown in notifications only, never written")
        elif key.startswith("@"):  # an @context inside an attribute would rename what the entity's context says
            raise BadRequestData(f"attribute {name!r}: {key!r} cannot be given inside an attribute")
        else:
            check_name(key, f"sub-attribute of {name!r}")
            if sub is None:
                raise BadRequestData(f"sub-attribute {key!r} of {name!r} has no value")
            inst[tm.expand(key)] = parse_instance(f"{name}.{key}", sub, tm, now=now, depth=depth + 1)
    return _stamp(inst, now, depth)


def _stamp(inst: dict[str, Any], now: str, depth: int) -> dict[str, Any]:
    if depth == 0:
        inst["createdAt"] = now
        inst["modifiedAt"] = now
    return inst


def _infer_kind(raw: dict[str, Any]) -> str | None:
    for member, kind in (
        ("object", RELATIONSHIP),
        ("languageMap", LANGUAGEPROPERTY),
        ("json", JSONPROPERTY),
        ("vocab", VOCABPROPERTY),
        ("valueList", LISTPROPERTY),
        ("objectList", LISTRELATIONSHIP),
    ):
        if member in raw:
            return kind
    if "value" in raw:
        v = raw["value"]
        if isinstance(v, dict) and _type_of(v) in GEOJSON_TYPES and "coordinates" in v:
            return GEOPROPERTY
        return PROPERTY
    return None


# a UTC offset after the time of day (+08:00, -0500, +00:00): NGSI-LD times are UTC with Z (clause 4.6.3)
_OFFSET = re.compile(r"T[^+-]*[+-]\d\d(:?\d\d)?$")


def _check_time(name: str, value: Any) -> str:
    try:
        stamp = normalize_ts(value)
    except (ValueError, TypeError):
        raise BadRequestData(f"attribute {name!r}: observedAt {value!r} is not {FORMAT_HINT}") from None
    if _OFFSET.search(value):
        raise BadRequestData(
            f"attribute {name!r}: observedAt {value!r} gives a UTC offset; NGSI-LD times are UTC and end in Z "
            f"(here {stamp})"
        )
    return stamp


def _check_sealed(name: str, key: str, value: Any, tm: TermMap, *, proof: bool) -> str:
    """entityIdSealed / entityTypeSealed: plain strings on the proof Property alone (clause 4.5.2.2)."""
    if not proof:
        raise BadRequestData(f"attribute {name!r}: {key} belongs on the ngsildproof Property only")
    if key == "entityIdSealed":
        return check_entity_id(value, f"attribute {name!r} {key}")
    if not isinstance(value, str) or not value:
        raise BadRequestData(f"attribute {name!r}: {key} must be an entity type name")
    return tm.expand(check_name(value, key))


def _check_value_type(name: str, kind: str, value: Any, tm: TermMap) -> str:
    """valueType: the type of the value, a term or IRI; a LanguageProperty's is langString (Table 5.2.32-1)."""
    if not isinstance(value, str) or not value:
        raise BadRequestData(f"attribute {name!r}: valueType must be a type name such as xsd:double")
    iri = tm.expand(check_name(value, "valueType"))
    if kind == LANGUAGEPROPERTY and iri != LANG_STRING:
        raise BadRequestData(f"attribute {name!r}: a LanguageProperty's valueType is langString, not {value!r}")
    return iri


def _check_value(name: str, kind: str, value: Any, tm: TermMap) -> Any:
    if kind == GEOPROPERTY:
        if isinstance(value, str):  # a geometry's JSON text is the geometry (NGSI-LD clause 4.7.2)
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise BadRequestData(
                    f"GeoProperty {name!r}: the value {value[:80]!r} is neither a GeoJSON geometry nor its JSON text"
                ) from None
        validate_geometry(value, attr=name)
    elif kind == RELATIONSHIP:
        targets = value if isinstance(value, list) else [value]
        if not targets or not all(is_uri(t) for t in targets):
            raise BadRequestData(
                f"relationship {name!r} must point at an entity URI such as urn:ngsi-ld:Grid:HP-01, got {value!r}"
            )
    elif kind == LISTRELATIONSHIP:
        if not isinstance(value, list) or not all(
            is_uri(t) or (isinstance(t, dict) and is_uri(t.get("object"))) for t in value
        ):
            raise BadRequestData(f"list relationship {name!r} must be a list of entity URIs")
        # held as the URIs alone: an entry is a URI or a Relationship in concise form (clause 4.5.22.2)
        return [t if isinstance(t, str) else t["object"] for t in value]
    elif kind == LANGUAGEPROPERTY:
        if (
            not isinstance(value, dict)
            or not value
            or not all(
                isinstance(k, str)
                and k
                and (isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)))
                for k, v in value.items()
            )
        ):
            raise BadRequestData(
                f"language property {name!r} needs a languageMap of language tags to strings, "
                'e.g. {"zh": "外滩", "en": "The Bund"}'
            )
    elif kind == VOCABPROPERTY:
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in items):
            raise BadRequestData(f"vocab property {name!r} must hold a term or a list of terms")
        expanded = [tm.expand(v) for v in items]
        return expanded if isinstance(value, list) else expanded[0]
    elif kind == LISTPROPERTY and not isinstance(value, list):
        raise BadRequestData(f"list property {name!r} needs a JSON array in valueList")
    elif kind == JSONPROPERTY and not (
        isinstance(value, dict) or (isinstance(value, list) and all(isinstance(v, dict) for v in value))
    ):  # NGSI-LD v1.9, clause 4.5.24: a raw JSON object or an array of them (ETSI 4524_01_04)
        raise BadRequestData(f"json property {name!r} needs a JSON object (or an array of objects) in json")
    return value
