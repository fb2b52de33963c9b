"""NGSI-LD subscriptions (ETSI GS CIM 009 v1.8, clauses 5.2.12 and 5.8): validation, matching, storage.

A subscription is stored as the client gave it (names as written, ``@context`` removed, ``id`` and
``type`` filled in) together with the @context of the request that created it; see
``cityos.context.tables.subscriptions``. :func:`parse_subscription` validates a body and expands its
names with that context into a :class:`Subscription`, which :func:`matches` tests against bus events.

``q`` runs here in Python on the stored attribute form, with the semantics of ``cityos.context.sqlq``:
a term holds when any instance holds; numbers only compare with numbers, strings (dates, times,
URIs) with strings, booleans with booleans; ``!=`` and ``!~=`` need a present value.

Notification endpoints are ``http(s)://`` URLs or MQTT brokers, ``mqtt(s)://[user:pass@]host[:port]/topic``
(clause 5.8 and the MQTT notification binding; ``endpoint.notifierInfo`` may set ``MQTT-QoS`` and
``MQTT-Version``), parsed into an :class:`MqttEndpoint`.

A ``timeInterval`` subscription is periodic: every that many seconds it is sent every entity that
its ``entities``, ``q`` and ``geoQ`` select (at most 10,000), and changes do not notify it.

Not in this part: ``notificationTrigger`` (creates and attribute updates notify; deletions never do), type
expressions in ``entities[].type``, ``scopeQ``, ``lang`` and ``showChanges``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import delete, func, insert, select, update

from cityos.bus import Event
from cityos.context.entity import TermMap, check_entity_id, check_name
from cityos.context.errors import (
    AlreadyExists,
    BadRequestData,
    InvalidRequest,
    ResourceNotFound,
)
from cityos.context.geo import GeoQuery, parse_geoq
from cityos.context.geo import matches as geo_matches
from cityos.context.jsonld import CORE_CONTEXT_URL
from cityos.context.qlang import (
    QAnd,
    QBool,
    QDateTime,
    QExpr,
    QList,
    QNumber,
    QOr,
    QRange,
    QScalar,
    QTerm,
    parse_q,
)
from cityos.context.render import CONCISE, NORMALIZED, SIMPLIFIED
from cityos.context.sqlq import LITERAL_MEMBERS
from cityos.context.tables import subscriptions as table
from cityos.context.timefmt import FORMAT_HINT, normalize_ts, now_iso
from cityos.runtime import Runtime

Attrs = dict[str, list[dict[str, Any]]]

FORMATS = {"normalized": NORMALIZED, "keyValues": SIMPLIFIED, "concise": CONCISE}
ACCEPTS = ("application/json", "application/ld+json")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
NOTIFYING_SUBJECTS = ("entity.created", "entity.updated")

# Status of a stored subscription; "expired" is computed from expiresAt when read.
ACTIVE, PAUSED, FAILED, EXPIRED = "active", "paused", "failed", "expired"


@dataclass(frozen=True)
class EntitySelector:
    """One member of ``entities``: a type IRI, with an optional id or id pattern."""

    type: str
    id: str | None = None
    id_pattern: re.Pattern[str] | None = None

    def selects(self, entity_id: str, types: Iterable[str]) -> bool:
        if self.type not in types:
            return False
        if self.id is not None:
            return entity_id == self.id
        return self.id_pattern is None or self.id_pattern.search(entity_id) is not None


MQTT_QOS = ("0", "1", "2")
MQTT_VERSIONS = ("mqtt3.1.1", "mqtt5.0")


@dataclass(frozen=True)
class MqttEndpoint:
    """An MQTT notification endpoint: the broker, the topic to publish on and the notifierInfo settings."""

    host: str
    port: int
    topic: str
    tls: bool = False
    username: str | None = None
    password: str | None = None
    qos: int = 0
    version: str = "mqtt5.0"


@dataclass
class Subscription:
    """A validated subscription with its names expanded, ready to match events."""

    id: str
    body: dict[str, Any]  # as stored: names as the client wrote them
    context: Any  # the @context its names are written in (None: the core context)
    tm: TermMap
    entities: tuple[EntitySelector, ...] = ()
    watched: frozenset[str] | None = None  # attribute IRIs
    q: QExpr | None = None
    q_attrs: frozenset[str] = frozenset()
    geo: GeoQuery | None = None
    geo_iri: str | None = None
    attributes: frozenset[str] | None = None  # notification.attributes as IRIs
    fmt: str = NORMALIZED
    uri: str = ""
    accept: str = "application/json"
    receiver_info: tuple[tuple[str, str], ...] = ()
    mqtt: MqttEndpoint | None = None  # set for mqtt:// and mqtts:// endpoints
    throttling: float = 0.0
    time_interval: float | None = None  # seconds: periodic notification of every matching entity
    expires_at: str | None = None
    is_active: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def expired(self, now: str | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or now_iso())


# --- validation -------------------------------------------------------------------------------------


def new_id() -> str:
    """A fresh subscription id."""
    return f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BadRequestData(f"'{where}' must be a non-empty list of attribute names")
    return [check_name(v, f"{where} entry") for v in value]


def _text(body: dict[str, Any], key: str) -> None:
    if key in body and not isinstance(body[key], str):
        raise BadRequestData(f"'{key}' must be a string")


def parse_subscription(body: Any, tm: TermMap, *, context: Any = None) -> Subscription:
    """Validate a subscription body and expand its names with ``tm`` (the term map of ``context``).

    The body must carry its ``id`` (the caller generates one when the client gave none). Raises
    ``BadRequestData`` naming the member at fault.
    """
    if not isinstance(body, dict):
        raise BadRequestData("a subscription must be a JSON object")
    body = {k: v for k, v in body.items() if k != "@context"}
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
            sub.q = parse_q(body["q"])
        except InvalidRequest as exc:
            raise BadRequestData(f"'q': {exc.detail}") from None
        sub.q_attrs = frozenset(tm.expand(a) for a in q_attributes(sub.q))
    if "geoQ" in body:
        sub.geo = parse_geoq(body["geoQ"])
        sub.geo_iri = tm.expand(sub.geo.geoproperty)
    _parse_notification(sub, body.get("notification"), tm)
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
    if "isActive" in body:
        if not isinstance(body["isActive"], bool):
            raise BadRequestData("'isActive' must be true or false")
        sub.is_active = body["isActive"]
    return sub


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
        etype = tm.expand(check_name(sel["type"], f"{where}.type"))
        if "id" in sel and "idPattern" in sel:
            raise BadRequestData(f"'{where}' has both id and idPattern: give one of them")
        eid = check_entity_id(sel["id"], f"{where}.id") if "id" in sel else None
        pattern = None
        if "idPattern" in sel:
            try:
                pattern = re.compile(sel["idPattern"])
            except (re.error, TypeError) as exc:
                raise BadRequestData(f"'{where}.idPattern' is not a valid regular expression: {exc}") from None
        out.append(EntitySelector(etype, eid, pattern))
    return tuple(out)


def _parse_notification(sub: Subscription, value: Any, tm: TermMap) -> None:
    if not isinstance(value, dict):
        raise BadRequestData("'notification' is missing or not an object: it needs at least endpoint.uri")
    if "attributes" in value:
        sub.attributes = frozenset(tm.expand(a) for a in _strings(value["attributes"], "notification.attributes"))
    fmt = value.get("format", "normalized")
    if fmt not in FORMATS:
        raise BadRequestData(f"'notification.format' {fmt!r} is unknown: use normalized, keyValues or concise")
    sub.fmt = FORMATS[fmt]
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


def q_attributes(expr: QExpr) -> set[str]:
    """The attribute names (as written) that a q expression reads."""
    if isinstance(expr, QTerm):
        return {expr.path.attr}
    return set().union(*(q_attributes(e) for e in expr.items))


# --- q evaluation in Python -------------------------------------------------------------------------

_MISSING = object()


def _get(inst: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(inst, dict) or key not in inst:
            return _MISSING
        inst = inst[key]
    return inst


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _literal(value: QScalar, *, equality: bool) -> tuple[str, list[Any]]:
    if isinstance(value, QNumber):
        return "number", [value.value]
    if isinstance(value, QBool):
        return "bool", [value.value]
    if isinstance(value, QDateTime):
        # Stored timestamps are normalised; a date-time stored as a plain value is as written.
        return "string", [value.value, value.text] if equality else [value.value]
    return "string", [value.value]


def _of_kind(v: Any, kind: str) -> bool:
    if kind == "number":
        return _is_number(v)
    if kind == "bool":
        return isinstance(v, bool)
    return isinstance(v, str)


def _equal(v: Any, value: Any) -> bool:
    if isinstance(value, QRange):
        kind, (low, *_) = _literal(value.low, equality=False)
        _, (high, *_) = _literal(value.high, equality=False)
        return _of_kind(v, kind) and low <= v <= high
    items = value.items if isinstance(value, QList) else (value,)
    for item in items:
        kind, values = _literal(item, equality=True)
        if _of_kind(v, kind) and any(v == x for x in values):
            return True
    return False


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda x, v: x > v,
    ">=": lambda x, v: x >= v,
    "<": lambda x, v: x < v,
    "<=": lambda x, v: x <= v,
}


def _term_holds(term: QTerm, attrs: Attrs, expand: Callable[[str], str]) -> bool:
    path = term.path
    instances = attrs.get(expand(path.attr)) or []
    base = tuple(s if s in LITERAL_MEMBERS else expand(s) for s in path.sub)
    on_member = bool(base) and base[-1] in LITERAL_MEMBERS
    obj_path: tuple[str, ...] | None = None
    if path.compound:
        val_path = (*(base if on_member else (*base, "value")), *path.compound)
    elif on_member:
        val_path = base
    else:
        val_path, obj_path = (*base, "value"), (*base, "object")

    if term.op is None:
        if not base and not path.compound:
            found = bool(instances)
        else:
            keys = val_path if path.compound else base
            found = any(_get(i, keys) is not _MISSING for i in instances)
        return not found if term.negated_exists else found

    def compared(inst: dict[str, Any]) -> Any:
        v = _get(inst, val_path)
        # A Relationship has an object (a URI string) where a Property has a value.
        if v is _MISSING and obj_path is not None:
            v = _get(inst, obj_path)
        return v

    op, value = term.op, term.value
    for inst in instances:
        v = compared(inst)
        if v is _MISSING:
            continue
        if op in ("==", "!="):
            hit = _equal(v, value)
        elif op in ("~=", "!~="):
            hit = isinstance(v, str) and re.search(getattr(value, "value", ""), v) is not None
        elif op in _ORDER and value is not None and not isinstance(value, QList | QRange):
            kind, (x, *_) = _literal(value, equality=False)
            hit = _of_kind(v, kind) and _ORDER[op](v, x)
        else:
            continue
        # "Not equal" needs a present value that is not equal.
        if hit != op.startswith("!"):
            return True
    return False


def eval_q(expr: QExpr, attrs: Attrs, expand: Callable[[str], str]) -> bool:
    """Whether an entity's stored attributes satisfy a parsed q expression."""
    if isinstance(expr, QAnd):
        return all(eval_q(e, attrs, expand) for e in expr.items)
    if isinstance(expr, QOr):
        return any(eval_q(e, attrs, expand) for e in expr.items)
    return _term_holds(expr, attrs, expand)


# --- matching ---------------------------------------------------------------------------------------


class EntityView:
    """The entity an event is about: the event's attributes, and the current ones loaded on first need.

    An ``entity.updated`` event carries only the attributes that changed; ``load`` returns all current
    attributes (or None when the entity is gone, in which case the event's attributes stand in).
    """

    def __init__(self, event: Event, load: Callable[[], Attrs | None] | None = None) -> None:
        self.event = event
        self.attrs: Attrs = event.data.get("attrs") or {}
        self.complete = event.subject == "entity.created"
        self._load = load
        self._full: Attrs | None = None

    def full(self) -> Attrs:
        """All current attributes of the entity."""
        if self.complete:
            return self.attrs
        if self._full is None:
            loaded = self._load() if self._load else None
            # The event's own values are at least as new as the ones loaded.
            self._full = {**(loaded or {}), **self.attrs}
        return self._full

    def having(self, names: Iterable[str]) -> Attrs:
        """Attributes that include ``names`` when the entity has them, loading only if needed."""
        if self.complete or all(n in self.attrs for n in names):
            return self.attrs
        return self.full()


def matches(sub: Subscription, event: Event, view: EntityView | None = None, now: str | None = None) -> bool:
    """Whether ``event`` should notify ``sub``: entities, watchedAttributes, q and geoQ all hold.

    Inactive and expired subscriptions never match; only entity creations and updates notify.
    ``view`` lets the caller load the current entity when q or geoQ reads attributes that an update
    event does not carry; without one, only the event's attributes are seen.
    """
    if event.subject not in NOTIFYING_SUBJECTS or not sub.is_active or sub.expired(now):
        return False
    if sub.time_interval is not None:
        return False  # periodic: notified by the clock, not by changes (see selects_entity)
    data = event.data
    if sub.entities and not any(s.selects(data["id"], data.get("types") or ()) for s in sub.entities):
        return False
    view = view or EntityView(event)
    changed = set(view.attrs)
    if sub.watched is not None and not changed & sub.watched:
        return False
    if event.subject == "entity.updated" and not changed:
        return False
    return _q_and_geo_hold(sub, view.having)


def selects_entity(sub: Subscription, entity_id: str, types: Iterable[str], attrs: Attrs) -> bool:
    """Whether a periodic subscription sends this entity: entities, q and geoQ hold on its attributes."""
    if sub.entities and not any(s.selects(entity_id, types) for s in sub.entities):
        return False
    return _q_and_geo_hold(sub, lambda names: attrs)


def _q_and_geo_hold(sub: Subscription, having: Callable[[Iterable[str]], Attrs]) -> bool:
    if sub.q is not None and not eval_q(sub.q, having(sub.q_attrs), sub.tm.expand):
        return False
    if sub.geo is not None:
        iri = sub.geo_iri or ""
        instances = having([iri]).get(iri) or []
        gq = sub.geo
        if not any(i.get("type") == "GeoProperty" and geo_matches(gq, i.get("value")) for i in instances):
            return False
    return True


def term_map_for(rt: Runtime, context: Any) -> TermMap:
    """The term map of a subscription's stored @context (None: the core context). May fetch it."""
    wanted = None if context in (None, CORE_CONTEXT_URL) else context
    return rt.contexts.cached(wanted) or rt.contexts.resolve(wanted)


def subscription_for(rt: Runtime, stored: StoredSubscription) -> Subscription:
    """The matchable form of a stored subscription, its names expanded with its own @context."""
    return parse_subscription(stored.body, term_map_for(rt, stored.context), context=stored.context)


# --- storage ----------------------------------------------------------------------------------------


@dataclass
class StoredSubscription:
    """A row of ``context_subscriptions``."""

    tenant: str
    id: str
    body: dict[str, Any]
    context: Any
    is_active: bool
    status: str
    times_sent: int
    last_notification: str | None
    last_success: str | None
    last_failure: str | None
    failures_in_a_row: int
    created_at: str
    modified_at: str

    def current_status(self, now: str | None = None) -> str:
        """active, paused, failed or expired (expiresAt passed)."""
        expires = self.body.get("expiresAt")
        if isinstance(expires, str):
            try:
                if normalize_ts(expires) <= (now or now_iso()):
                    return EXPIRED
            except ValueError:
                pass
        if not self.is_active:
            return PAUSED
        return self.status


def _row(r: Any) -> StoredSubscription:
    return StoredSubscription(**{k: r._mapping[k] for k in StoredSubscription.__dataclass_fields__})


def insert_subscription(rt: Runtime, tenant: str, sub: Subscription) -> StoredSubscription:
    """Store a new subscription; AlreadyExists when its id is taken in this tenant."""
    now = now_iso()
    values = {
        "tenant": tenant,
        "id": sub.id,
        "body": sub.body,
        "context": sub.context,
        "is_active": sub.is_active,
        "status": ACTIVE,
        "times_sent": 0,
        "failures_in_a_row": 0,
        "created_at": now,
        "modified_at": now,
    }

    def job(conn: Any) -> bool:
        taken = conn.execute(select(table.c.id).where(table.c.tenant == tenant, table.c.id == sub.id)).first()
        if taken:
            return False
        conn.execute(insert(table).values(**values))
        return True

    if not rt.db.run_write(job):
        raise AlreadyExists(f"subscription {sub.id} already exists", instance=sub.id)
    _announce(rt, tenant, "created", sub.id)
    return get_subscription(rt, tenant, sub.id)


def get_subscription(rt: Runtime, tenant: str, sub_id: str) -> StoredSubscription:
    """One stored subscription; ResourceNotFound when there is none with this id."""
    with rt.db.connect() as conn:
        r = conn.execute(select(table).where(table.c.tenant == tenant, table.c.id == sub_id)).first()
    if r is None:
        raise ResourceNotFound(f"subscription {sub_id} does not exist", instance=sub_id)
    return _row(r)


def list_subscriptions(
    rt: Runtime, tenant: str | None, *, limit: int | None = None, offset: int = 0
) -> tuple[list[StoredSubscription], int]:
    """A page of a tenant's subscriptions (all tenants' when ``tenant`` is None) and their total."""
    where = [] if tenant is None else [table.c.tenant == tenant]
    with rt.db.connect() as conn:
        stmt = select(table).where(*where).order_by(table.c.tenant, table.c.created_at, table.c.id).offset(offset)
        rows = conn.execute(stmt if limit is None else stmt.limit(limit)).all()
        total = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    return [_row(r) for r in rows], int(total)


def replace_subscription(rt: Runtime, tenant: str, sub: Subscription, *, resume: bool) -> StoredSubscription:
    """Store a changed body; ``resume`` makes a failed or paused subscription active again."""
    values: dict[str, Any] = {"body": sub.body, "is_active": sub.is_active, "modified_at": now_iso()}
    if resume:
        values.update(status=ACTIVE, failures_in_a_row=0)

    def job(conn: Any) -> int:
        stmt = update(table).where(table.c.tenant == tenant, table.c.id == sub.id).values(**values)
        return int(conn.execute(stmt).rowcount)

    if not rt.db.run_write(job):
        raise ResourceNotFound(f"subscription {sub.id} does not exist", instance=sub.id)
    _announce(rt, tenant, "updated", sub.id)
    return get_subscription(rt, tenant, sub.id)


def delete_subscription(rt: Runtime, tenant: str, sub_id: str) -> None:
    """Delete a subscription; ResourceNotFound when there is none with this id."""

    def job(conn: Any) -> int:
        return int(conn.execute(delete(table).where(table.c.tenant == tenant, table.c.id == sub_id)).rowcount)

    if not rt.db.run_write(job):
        raise ResourceNotFound(f"subscription {sub_id} does not exist", instance=sub_id)
    _announce(rt, tenant, "deleted", sub_id)


def _announce(rt: Runtime, tenant: str, change: str, sub_id: str) -> None:
    """Tell notifiers (in this process or a worker) that a subscription changed, after the commit."""
    rt.bus.publish([Event(f"subscription.{change}", sub_id, {"id": sub_id}, tenant=tenant)])


def write_delivery_status(conn: Any, tenant: str, sub_id: str, values: dict[str, Any]) -> None:
    """Write delivery status columns (times_sent, last_*, failures_in_a_row, status) in the caller's transaction."""
    conn.execute(update(table).where(table.c.tenant == tenant, table.c.id == sub_id).values(**values))
