"""A subscription body validated and its names expanded (ETSI GS CIM 009 clauses 5.2.12, 5.8)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

from cityos.context.entity import TermMap, check_entity_id, check_name
from cityos.context.errors import (
    BadRequestData,
    InvalidRequest,
)
from cityos.context.geo import parse_geoq
from cityos.context.qlang import TName, TypeExpr, parse_q, parse_type_expr, q_attributes, q_link_depth, type_names
from cityos.context.render import SIMPLIFIED
from cityos.context.subscriptions.model import (
    ACCEPTS,
    FORMATS,
    MQTT_QOS,
    MQTT_VERSIONS,
    TRIGGERS,
    EntitySelector,
    MqttEndpoint,
    Subscription,
)
from cityos.core.patterns import UnsupportedPattern, compile_pattern
from cityos.core.timefmt import FORMAT_HINT, normalize_ts, now_iso

# the members of a Subscription a client may give (NGSI-LD v1.9.1, clause 5.2.12), and those of its
# notification that the server provides (clause 5.2.14)
_CLIENT_MEMBERS = frozenset(
    {"id", "type", "subscriptionName", "description", "entities", "watchedAttributes", "notificationTrigger",
     "timeInterval", "q", "geoQ", "csf", "isActive", "notification", "expiresAt", "throttling", "temporalQ",
     "scopeQ", "lang", "datasetId", "jsonldContext", "localOnly", "expandValues"}
)  # fmt: skip
_READ_ONLY_NOTIFICATION = frozenset(
    {"timesSent", "timesFailed", "lastNotification", "lastFailure", "lastSuccess", "status"}
)
_TYPE_OPERATORS = frozenset(",;|()")  # a type holding one is a type expression (NGSI-LD 4.17)
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# headers a subscription may not set: the target host, the body's framing and hop-by-hop headers
_NOT_GIVEN = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection", "keep-alive", "te", "trailer",
     "upgrade", "expect", "link", "ngsild-tenant"}
)  # fmt: skip


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BadRequestData(f"'{where}' must be a non-empty list of attribute names")
    return [check_name(v, f"{where} entry") for v in value]


def _parse_pick_omit(sub: Subscription, notification: dict[str, Any], tm: TermMap) -> None:
    """notification.pick / omit (NGSI-LD v1.8, clause 5.2.14): lists of entity members, not with attributes,
    and no member in both."""
    given = {k: _strings(notification[k], f"notification.{k}") for k in ("pick", "omit") if k in notification}
    if given and "attributes" in notification:
        raise BadRequestData("'notification.pick'/'omit' and 'notification.attributes' exclude each other: keep one")
    both = sorted(set(given.get("pick", ())) & set(given.get("omit", ())))
    if both:
        raise BadRequestData(f"'notification': {', '.join(both)} is both picked and omitted: name it in one of them")

    def members(names: list[str]) -> frozenset[str]:
        return frozenset(n if n in ("id", "type") else tm.expand(n) for n in names)

    if "pick" in given:
        sub.pick = members(given["pick"])
    if "omit" in given:
        sub.omit = members(given["omit"])


def _text(body: dict[str, Any], key: str) -> None:
    if key in body and not isinstance(body[key], str):
        raise BadRequestData(f"'{key}' must be a string")


def parse_subscription(body: Any, tm: TermMap, *, context: Any = None, future_only: bool = False) -> Subscription:
    """Validate a subscription body and expand its names with ``tm`` (the term map of ``context``).

    The body must carry its ``id`` (the caller generates one when the client gave none). ``future_only``
    refuses an ``expiresAt`` that has passed (a client's create or update; a stored one may have expired).
    Raises ``BadRequestData`` naming the member at fault.
    """
    if not isinstance(body, dict):
        raise BadRequestData("a subscription must be a JSON object")
    body = _members(body)
    if body.get("type") != "Subscription":
        raise BadRequestData(f"'type' must be \"Subscription\", not {body.get('type')!r}")
    sub_id = check_entity_id(body.get("id"))
    for key in ("description", "subscriptionName"):
        _text(body, key)
    sub = Subscription(sub_id, body, context, tm)
    sub.entities = _parse_entities(body.get("entities"), tm)
    if "watchedAttributes" in body:
        sub.watched = frozenset(tm.expand(a) for a in _strings(body["watchedAttributes"], "watchedAttributes"))
    if not sub.entities and sub.watched is None:
        raise BadRequestData("a subscription needs 'entities' or 'watchedAttributes' (or both)")
    if "q" in body:
        if not isinstance(body["q"], str):
            raise BadRequestData("'q' must be a string such as 'pm25>100'")
        try:
            sub.q = parse_q(_url_decoded(body["q"]))
        except InvalidRequest as exc:
            raise BadRequestData(f"'q': {exc.detail}") from None
        if q_link_depth(sub.q):  # a subscription has no Linked Entity retrieval (join) to resolve rel{attr}
            raise BadRequestData("'q': a Linked Entity term rel{attr} goes with entity queries with join only")
        sub.q_attrs = frozenset(tm.expand(a) for a in q_attributes(sub.q))
    if "csf" in body:  # a query over registrations (clause 4.9): checked, though no registration is held
        if not isinstance(body["csf"], str):
            raise BadRequestData("'csf' must be a string, a query as in q")
        try:
            parse_q(_url_decoded(body["csf"]))
        except InvalidRequest as exc:
            raise BadRequestData(f"'csf': {exc.detail}") from None
    if "geoQ" in body:
        sub.geo = parse_geoq(body["geoQ"])
        sub.geo_iri = tm.expand(sub.geo.geoproperty)
    _parse_notification(sub, body.get("notification"), tm)
    if "jsonldContext" in body:
        ctx = body["jsonldContext"]
        if not isinstance(ctx, str) or urlsplit(ctx).scheme not in ("http", "https") or not urlsplit(ctx).netloc:
            raise BadRequestData(f"'jsonldContext' must be the http(s) URL of a JSON-LD @context, not {ctx!r}")
        sub.jsonld_context = ctx
    if "datasetId" in body:
        sub.dataset_ids = frozenset(_strings(body["datasetId"], "datasetId"))
    if "notificationTrigger" in body:
        sub.triggers = _parse_triggers(body["notificationTrigger"])
    if "throttling" in body:
        t = body["throttling"]
        if isinstance(t, bool) or not isinstance(t, int | float) or t < 0:
            raise BadRequestData(f"'throttling' must be a number of seconds, 0 or more, not {t!r}")
        sub.throttling = float(t)
    if "timeInterval" in body:
        _parse_time_interval(sub, body)
    if "expiresAt" in body:
        try:
            sub.expires_at = normalize_ts(body["expiresAt"])
        except (ValueError, TypeError):
            raise BadRequestData(f"'expiresAt' must be {FORMAT_HINT}, not {body['expiresAt']!r}") from None
        if future_only and sub.expires_at <= now_iso():  # NGSI-LD 5.2.12: a time in the future
            raise BadRequestData(f"'expiresAt' {body['expiresAt']!r} has passed: give a time in the future")
    if "isActive" in body:
        if not isinstance(body["isActive"], bool):
            raise BadRequestData("'isActive' must be true or false")
        sub.is_active = body["isActive"]
    return sub


def _members(body: dict[str, Any]) -> dict[str, Any]:
    """The members of a subscription that a client gives (NGSI-LD 5.2.12): the read-only ones it sent (status,
    the notification's counts and times) and any member the clause does not define are left out, so that what is
    served is a subscription and nothing else (ETSI 5811_02_04)."""
    kept = {k: v for k, v in body.items() if k in _CLIENT_MEMBERS}
    notification = kept.get("notification")
    if isinstance(notification, dict) and not _READ_ONLY_NOTIFICATION.isdisjoint(notification):
        kept["notification"] = {k: v for k, v in notification.items() if k not in _READ_ONLY_NOTIFICATION}
    return kept


def _url_decoded(query: str) -> str:
    """A q written as in a URL query (percent-encoded, as clause 4.9's examples are), decoded once."""
    return unquote(query) if "%" in query else query


def _parse_triggers(value: Any) -> frozenset[str]:
    """notificationTrigger (NGSI-LD v1.8, clause 5.2.12): a non-empty list of the six change kinds."""
    hint = ", ".join(TRIGGERS)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BadRequestData(f"'notificationTrigger' must be a non-empty list of some of {hint}")
    unknown = [v for v in value if v not in TRIGGERS]
    if unknown:
        raise BadRequestData(f"'notificationTrigger': {', '.join(map(repr, unknown))} is unknown: use {hint}")
    if len(set(value)) != len(value):
        raise BadRequestData("'notificationTrigger' names a trigger twice: name each once")
    return frozenset(value)


def _parse_time_interval(sub: Subscription, body: dict[str, Any]) -> None:
    t = body["timeInterval"]
    if isinstance(t, bool) or not isinstance(t, int | float) or t <= 0:
        raise BadRequestData(f"'timeInterval' must be a number of seconds above 0, not {t!r}")
    for other in ("watchedAttributes", "throttling"):
        if other in body:
            raise BadRequestData(f"'timeInterval' (periodic) and '{other}' (on change) exclude each other: keep one")
    if not sub.entities:
        raise BadRequestData("a periodic subscription ('timeInterval') needs 'entities' saying which to send")
    sub.time_interval = float(t)


def _parse_entities(value: Any, tm: TermMap) -> tuple[EntitySelector, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise BadRequestData("'entities' must be a non-empty list of {id or idPattern, type} objects")
    out = []
    for n, sel in enumerate(value):
        where = f"entities[{n}]"
        if not isinstance(sel, dict):
            raise BadRequestData(f"'{where}' must be an object with type and optionally id or idPattern")
        if "type" not in sel:
            raise BadRequestData(f"'{where}.type' is missing: every entity selector names a type")
        etype, type_expr, types = _selector_types(sel["type"], where, tm)
        eid, pattern = selector_ids(sel, where)
        out.append(EntitySelector(etype, eid, pattern, type_expr, types))
    return tuple(out)


def selector_ids(sel: dict[str, Any], where: str) -> tuple[str | None, Any]:
    """The ``id`` or the ``idPattern`` (compiled for RE2) of an entity selector, at most one of them, each checked."""
    if "id" in sel and "idPattern" in sel:
        raise BadRequestData(f"'{where}' has both id and idPattern: give one of them")
    eid = check_entity_id(sel["id"], f"{where}.id") if "id" in sel else None
    pattern = None
    if "idPattern" in sel:
        if not isinstance(sel["idPattern"], str):
            raise BadRequestData(f"'{where}.idPattern' must be a string (a regular expression)")
        try:
            pattern = compile_pattern(sel["idPattern"])
        except UnsupportedPattern as exc:
            raise BadRequestData(f"'{where}.idPattern' is not a valid regular expression: {exc}") from None
    return eid, pattern


def _selector_types(value: Any, where: str, tm: TermMap) -> tuple[str, TypeExpr | None, tuple[str, ...]]:
    """An entity selector's type: one name (as IRI), or a type expression (NGSI-LD 4.17, e.g.
    ``(Building|Tower)``) with its names expanded; and the IRIs it names."""
    if isinstance(value, str) and not _TYPE_OPERATORS.intersection(value):
        etype = tm.expand(check_name(value, f"{where}.type"))
        return etype, None, (etype,)
    if not isinstance(value, str):
        raise BadRequestData(f"'{where}.type' must be a type name or a type expression such as (Building|Tower)")
    try:
        expr = _expanded(parse_type_expr(value), tm)
    except InvalidRequest as exc:
        raise BadRequestData(f"'{where}.type': {exc.detail}") from None
    if isinstance(expr, TName):  # only parentheses around one name
        return expr.name, None, (expr.name,)
    names = tuple(sorted(type_names(expr)))
    return names[0], expr, names


def _expanded(expr: TypeExpr, tm: TermMap) -> TypeExpr:
    if isinstance(expr, TName):
        return TName(tm.expand(check_name(expr.name, "a type in entities[].type")))
    return type(expr)(tuple(_expanded(e, tm) for e in expr.items))


def _parse_notification(sub: Subscription, value: Any, tm: TermMap) -> None:
    if not isinstance(value, dict):
        raise BadRequestData("'notification' is missing or not an object: it needs at least endpoint.uri")
    if "attributes" in value:
        sub.attributes = frozenset(tm.expand(a) for a in _strings(value["attributes"], "notification.attributes"))
    _parse_pick_omit(sub, value, tm)
    fmt = value.get("format", "normalized")
    if fmt not in FORMATS:
        raise BadRequestData(f"'notification.format' {fmt!r} is unknown: use normalized, keyValues or concise")
    sub.fmt = FORMATS[fmt]
    show_changes = value.get("showChanges", False)
    if not isinstance(show_changes, bool):
        raise BadRequestData("'notification.showChanges' must be true or false")
    sub.show_changes = show_changes
    sys_attrs = value.get("sysAttrs", False)
    if not isinstance(sys_attrs, bool):
        raise BadRequestData("'notification.sysAttrs' must be true or false")
    sub.sys_attrs = sys_attrs
    if show_changes and sub.fmt == SIMPLIFIED:  # NGSI-LD v1.8 Table 5.2.14-1: previous values need a full form
        raise BadRequestData(f"'notification.showChanges' cannot go with the {fmt} format: use normalized or concise")
    endpoint = value.get("endpoint")
    if not isinstance(endpoint, dict):
        raise BadRequestData("'notification.endpoint' is missing or not an object: it needs a uri")
    uri = endpoint.get("uri")
    hint = "an http://, https://, mqtt:// or mqtts:// URL"
    if not isinstance(uri, str) or ":" not in uri:
        raise BadRequestData(f"'notification.endpoint.uri' must be {hint}, not {uri!r}")
    scheme = uri.split(":", 1)[0].lower()
    if scheme not in ("http", "https", "mqtt", "mqtts") or not uri.split(":", 1)[1].startswith("//"):
        raise BadRequestData(f"'notification.endpoint.uri' must be {hint}, not {uri!r}")
    notifier_info = _key_values(endpoint, "notifierInfo")
    if scheme in ("mqtt", "mqtts"):
        sub.mqtt = _parse_mqtt(uri, scheme, dict(notifier_info))
    sub.uri = uri
    accept = endpoint.get("accept", "application/json")
    if accept not in ACCEPTS:
        raise BadRequestData(
            f"'notification.endpoint.accept' {accept!r} is not supported: use application/json or application/ld+json"
        )
    sub.accept = accept
    pairs = _key_values(endpoint, "receiverInfo")
    for n, (key, value) in enumerate(pairs):
        if not _HEADER_NAME.match(key) or any(c in value for c in "\r\n"):
            raise BadRequestData(f"'notification.endpoint.receiverInfo[{n}]' cannot be sent as an HTTP header: {key!r}")
        if key.lower() in _NOT_GIVEN or key.lower().startswith("proxy-"):
            raise BadRequestData(
                f"'notification.endpoint.receiverInfo[{n}]': {key!r} is set by cityos or by the connection itself, "
                "not by a subscription (the receiver is named by the endpoint's uri)"
            )
    sub.receiver_info = tuple(pairs)


def _key_values(endpoint: dict[str, Any], member: str) -> list[tuple[str, str]]:
    """``endpoint.receiverInfo`` or ``endpoint.notifierInfo``: a list of {key, value} string pairs."""
    info = endpoint.get(member, [])
    if not isinstance(info, list):
        raise BadRequestData(f"'notification.endpoint.{member}' must be a list of {{key, value}} objects")
    pairs = []
    for n, kv in enumerate(info):
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str) or not isinstance(kv.get("value"), str):
            raise BadRequestData(f"'notification.endpoint.{member}[{n}]' must be an object with string key and value")
        pairs.append((kv["key"], kv["value"]))
    return pairs


def _parse_mqtt(uri: str, scheme: str, notifier_info: dict[str, str]) -> MqttEndpoint:
    """An ``mqtt(s)://[user:pass@]host[:port]/topic`` URI and the MQTT-QoS / MQTT-Version notifierInfo."""
    where = "'notification.endpoint.uri'"
    netloc, _, topic = uri.split("://", 1)[1].partition("/")
    if not topic:
        raise BadRequestData(f"{where} {uri!r} has no MQTT topic: write it as the path, e.g. mqtt://broker/city/air")
    if "+" in topic or "#" in topic:
        raise BadRequestData(
            f"{where} {uri!r}: the MQTT topic {topic!r} contains a wildcard ('+' or '#'), which cannot be published to"
        )
    if "?" in topic:
        raise BadRequestData(f"{where} {uri!r}: an MQTT endpoint takes no query string")
    parts = urlsplit(f"{scheme}://{netloc}")
    try:
        port = parts.port
    except ValueError:
        raise BadRequestData(f"{where} {uri!r} has an invalid port") from None
    if not parts.hostname:
        raise BadRequestData(f"{where} {uri!r} names no MQTT broker host")
    qos = notifier_info.get("MQTT-QoS", "0")
    if qos not in MQTT_QOS:
        raise BadRequestData(f'\'notification.endpoint.notifierInfo\' MQTT-QoS must be "0", "1" or "2", not {qos!r}')
    version = notifier_info.get("MQTT-Version", "mqtt5.0")
    if version not in MQTT_VERSIONS:
        raise BadRequestData(
            f'\'notification.endpoint.notifierInfo\' MQTT-Version must be "mqtt3.1.1" or "mqtt5.0", not {version!r}'
        )
    tls = scheme == "mqtts"
    return MqttEndpoint(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        topic=unquote(topic),
        tls=tls,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        qos=int(qos),
        version=version,
    )
