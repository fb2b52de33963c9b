"""A registration body validated and its names expanded (NGSI-LD v1.8, clauses 5.2.9, 5.2.10, 5.9.2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cityos.context.csources.model import (
    AUXILIARY,
    DEFAULT_OPERATIONS,
    EXCLUSIVE,
    GROUPS,
    INCLUSIVE,
    MODES,
    REGISTRATION_TYPE,
    RETRIEVE_OPS,
    WRITE_OPS,
    EntityInfo,
    Registration,
    RegistrationInfo,
    operations_of,
)
from cityos.context.entity import TermMap, check_entity_id, check_name
from cityos.context.errors import BadRequestData
from cityos.context.geo import validate_geometry
from cityos.context.subscriptions.parsing import selector_ids
from cityos.core.durations import parse_duration
from cityos.core.timefmt import FORMAT_HINT, normalize_ts, now_iso

# members the server keeps and a client may not set (clause 5.2.9): left out of what is stored
READ_ONLY = frozenset({"status", "timesSent", "timesFailed", "lastSuccess", "lastFailure", "createdAt", "modifiedAt"})
# members of clause 5.2.9 with a meaning; any other member is a property of the registration (csf and q see it)
DEFINED = frozenset(
    {"id", "type", "registrationName", "description", "information", "tenant", "observationInterval",
     "managementInterval", "location", "observationSpace", "operationSpace", "expiresAt", "endpoint",
     "contextSourceInfo", "scope", "mode", "operations", "refreshRate", "management"}
)  # fmt: skip
_KNOWN_OPERATIONS = frozenset(RETRIEVE_OPS) | frozenset(WRITE_OPS) | frozenset(GROUPS)


def members(body: dict[str, Any]) -> dict[str, Any]:
    """A registration as a client gives it: ``@context`` and the server's read-only members left out."""
    return {k: v for k, v in body.items() if k != "@context" and k not in READ_ONLY}


def parse_registration(body: Any, tm: TermMap, *, context: Any = None, future_only: bool = False) -> Registration:
    """Validate a registration body and expand its names with ``tm`` (the term map of ``context``).

    The body must carry its ``id`` (the caller generates one when the client gave none). ``future_only``
    refuses an ``expiresAt`` that has passed (a client's create or update; a stored one may have expired).
    Raises ``BadRequestData`` naming the member at fault.
    """
    if not isinstance(body, dict):
        raise BadRequestData("a context source registration must be a JSON object")
    if body.get("type") != REGISTRATION_TYPE:
        raise BadRequestData(f"'type' must be \"{REGISTRATION_TYPE}\", not {body.get('type')!r}")
    reg = Registration(check_entity_id(body.get("id")), body, context)
    nulls = sorted(k for k, v in body.items() if v is None)
    if nulls:
        raise BadRequestData(f"{', '.join(map(repr, nulls))} is null: leave a member out rather than null")
    if "information" not in body:
        raise BadRequestData("'information' is missing: a registration says which entities or attributes it holds")
    reg.information = _information(body["information"], tm)
    reg.endpoint = _endpoint(body.get("endpoint"))
    for key in ("registrationName", "description", "tenant"):
        if key in body and not isinstance(body[key], str):
            raise BadRequestData(f"'{key}' must be a string")
    _mode_and_operations(reg, body)
    if reg.mode == EXCLUSIVE:
        _check_exclusive(reg)
    for key in ("observationInterval", "managementInterval"):
        if key in body:
            _interval(body[key], key)
    for key in ("location", "observationSpace", "operationSpace"):
        if key in body:
            validate_geometry(body[key], key)
    if "expiresAt" in body:
        reg.expires_at = _time(body["expiresAt"], "expiresAt")
        if future_only and reg.expires_at <= now_iso():  # NGSI-LD 5.2.9: a time in the future
            raise BadRequestData(f"'expiresAt' {body['expiresAt']!r} has passed: give a time in the future")
    if "contextSourceInfo" in body:
        _key_values(body["contextSourceInfo"], "contextSourceInfo")
    if "scope" in body:
        scope = body["scope"]
        if not (isinstance(scope, str) or (isinstance(scope, list) and all(isinstance(s, str) for s in scope))):
            raise BadRequestData("'scope' must be a scope such as /Shanghai/Huangpu, or a list of them")
    if "refreshRate" in body:
        _duration(body["refreshRate"], "refreshRate")
    if "management" in body:
        reg.local_only = _management(body["management"])
    for key in body:
        if key not in DEFINED:
            check_name(key, "registration property name")
    return reg


def _information(value: Any, tm: TermMap) -> tuple[RegistrationInfo, ...]:
    if not isinstance(value, list) or not value:
        raise BadRequestData("'information' must be a non-empty list of {entities, propertyNames, relationshipNames}")
    out = []
    for n, info in enumerate(value):
        where = f"information[{n}]"
        if not isinstance(info, dict):
            raise BadRequestData(f"'{where}' must be an object with entities, propertyNames or relationshipNames")
        unknown = sorted(set(info) - {"entities", "propertyNames", "relationshipNames"})
        if unknown:
            raise BadRequestData(f"'{where}' has {', '.join(unknown)}: it takes entities, propertyNames and "
                                 "relationshipNames")  # fmt: skip
        if not info:
            raise BadRequestData(f"'{where}' is empty: give entities, propertyNames or relationshipNames")
        entities = _entities(info["entities"], f"{where}.entities", tm) if "entities" in info else ()
        props = _names(info, "propertyNames", where, tm)
        rels = _names(info, "relationshipNames", where, tm)
        out.append(RegistrationInfo(entities, props, rels))
    return tuple(out)


def _names(info: dict[str, Any], key: str, where: str, tm: TermMap) -> frozenset[str]:
    if key not in info:
        return frozenset()
    value = info[key]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BadRequestData(f"'{where}.{key}' must be a non-empty list of attribute names")
    return frozenset(tm.expand(check_name(v, f"{where}.{key} entry")) for v in value)


def _entities(value: Any, where: str, tm: TermMap) -> tuple[EntityInfo, ...]:
    if not isinstance(value, list) or not value:
        raise BadRequestData(f"'{where}' must be a non-empty list of {{type, id or idPattern}} objects")
    out = []
    for n, sel in enumerate(value):
        at = f"{where}[{n}]"
        if not isinstance(sel, dict):
            raise BadRequestData(f"'{at}' must be an object with type and optionally id or idPattern")
        if not isinstance(sel.get("type"), str):
            raise BadRequestData(f"'{at}.type' is missing or not a string: every entity names its type")
        eid, pattern = selector_ids(sel, at)
        out.append(EntityInfo(tm.expand(check_name(sel["type"], f"{at}.type")), eid, pattern))
    return tuple(out)


def _endpoint(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequestData("'endpoint' is missing: give the http(s) URL of the context source's NGSI-LD API")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequestData(f"'endpoint' must be an http:// or https:// URL, not {value!r}")
    return value


def _mode_and_operations(reg: Registration, body: dict[str, Any]) -> None:
    mode = body.get("mode", INCLUSIVE)
    if mode not in MODES:
        raise BadRequestData(f"'mode' {mode!r} is unknown: use {', '.join(MODES)}")
    reg.mode = mode
    names = body.get("operations", list(DEFAULT_OPERATIONS))
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise BadRequestData("'operations' must be a non-empty list of operation names such as retrieveOps")
    unknown = [n for n in names if n not in _KNOWN_OPERATIONS]
    if unknown:
        raise BadRequestData(f"'operations': {', '.join(map(repr, unknown))} is unknown (NGSI-LD 4.20)")
    reg.operations = operations_of(tuple(names))
    writes = sorted(reg.operations & frozenset(WRITE_OPS))
    if mode == AUXILIARY and writes:  # NGSI-LD 5.9.2.4: an auxiliary source is only read from
        raise BadRequestData(f"an auxiliary registration provides reads only, not {', '.join(writes)}")


def _check_exclusive(reg: Registration) -> None:
    """An exclusive registration names each entity by id and the attributes it holds of it (NGSI-LD v1.9,
    clause 4.3.6.3): a group of entities (a type alone, an id pattern) or an entity without attributes is
    not one a source can hold exclusively."""
    for n, info in enumerate(reg.information):
        if not info.entities or any(e.id is None for e in info.entities):
            raise BadRequestData(
                f"'information[{n}]': an exclusive registration names each entity by its id (no type alone, "
                "no idPattern)"
            )
        if not info.attributes:
            raise BadRequestData(
                f"'information[{n}]': an exclusive registration names the attributes it holds "
                "(propertyNames or relationshipNames)"
            )


def _time(value: Any, where: str) -> str:
    try:
        return normalize_ts(value)
    except (ValueError, TypeError):
        raise BadRequestData(f"'{where}' must be {FORMAT_HINT}, not {value!r}") from None


def _interval(value: Any, where: str) -> None:
    """A TimeInterval (clause 5.2.11): startAt, and an endAt after it when given."""
    if not isinstance(value, dict) or "startAt" not in value:
        raise BadRequestData(f"'{where}' must be an object with startAt and optionally endAt")
    start = _time(value["startAt"], f"{where}.startAt")
    if "endAt" in value and _time(value["endAt"], f"{where}.endAt") < start:
        raise BadRequestData(f"'{where}': endAt comes before startAt")


def _duration(value: Any, where: str) -> None:
    if not isinstance(value, str) or not value.startswith("P"):
        raise BadRequestData(f"'{where}' must be an ISO 8601 duration such as PT5M, not {value!r}")
    try:
        parse_duration(value)
    except ValueError as exc:
        raise BadRequestData(f"'{where}': {exc}") from None


def _key_values(value: Any, where: str) -> None:
    """A list of KeyValuePair (clause 5.2.22): string key, string value."""
    if not isinstance(value, list):
        raise BadRequestData(f"'{where}' must be a list of {{key, value}} objects")
    for n, kv in enumerate(value):
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str) or not isinstance(kv.get("value"), str):
            raise BadRequestData(f"'{where}[{n}]' must be an object with a string key and a string value")


def _management(value: Any) -> bool:
    """RegistrationManagementInfo (clause 5.2.34); the localOnly it gives."""
    if not isinstance(value, dict):
        raise BadRequestData("'management' must be an object (localOnly, cacheDuration, timeout, cooldown)")
    if "localOnly" in value and not isinstance(value["localOnly"], bool):
        raise BadRequestData("'management.localOnly' must be true or false")
    if "cacheDuration" in value:
        _duration(value["cacheDuration"], "management.cacheDuration")
    for key in ("timeout", "cooldown"):
        if key in value:
            v = value[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
                raise BadRequestData(f"'management.{key}' must be a number of milliseconds above 0, not {v!r}")
    return bool(value.get("localOnly", False))
