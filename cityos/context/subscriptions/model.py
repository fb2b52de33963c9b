"""What an NGSI-LD subscription is once validated, and its stored row."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cityos.context.entity import TermMap
from cityos.context.events import ENTITY_CREATED, ENTITY_DELETED, ENTITY_UPDATED
from cityos.context.geo import GeoQuery
from cityos.context.governance import ReadCaller
from cityos.context.qlang import QExpr, TAnd, TName, TypeExpr
from cityos.context.render import CONCISE, NORMALIZED, SIMPLIFIED
from cityos.core.timefmt import normalize_ts, now_iso

# "simplified" is NGSI-LD v1.8's name for keyValues
FORMATS = {"normalized": NORMALIZED, "keyValues": SIMPLIFIED, "simplified": SIMPLIFIED, "concise": CONCISE}
ACCEPTS = ("application/json", "application/ld+json")
NOTIFYING_SUBJECTS = (ENTITY_CREATED, ENTITY_UPDATED, ENTITY_DELETED)

# notificationTrigger (NGSI-LD v1.8, clause 5.2.12): what changes notify; entityUpdated stands for the three
# attribute changes
ENTITY_CREATED_T, ENTITY_UPDATED_T, ENTITY_DELETED_T = "entityCreated", "entityUpdated", "entityDeleted"
ATTRIBUTE_CREATED, ATTRIBUTE_UPDATED, ATTRIBUTE_DELETED = "attributeCreated", "attributeUpdated", "attributeDeleted"
TRIGGERS = (
    *(ENTITY_CREATED_T, ENTITY_UPDATED_T, ENTITY_DELETED_T),
    *(ATTRIBUTE_CREATED, ATTRIBUTE_UPDATED, ATTRIBUTE_DELETED),
)
DEFAULT_TRIGGERS = (ATTRIBUTE_CREATED, ATTRIBUTE_UPDATED)

# Status of a stored subscription; "expired" is computed from expiresAt when read.
ACTIVE, PAUSED, FAILED, EXPIRED = "active", "paused", "failed", "expired"


@dataclass(frozen=True)
class EntitySelector:
    """One member of ``entities``: a type IRI, with an optional id or id pattern. A type expression
    (``(Building|Tower)``, ``A;B``: NGSI-LD 4.17) is kept in ``type_expr`` with its names as IRIs; ``type``
    is then the first IRI it names, and ``types`` all of them (what the matcher's index files it under)."""

    type: str
    id: str | None = None
    id_pattern: Any = None  # compiled by cityos.core.patterns (RE2): it has search()
    type_expr: TypeExpr | None = None
    types: tuple[str, ...] = ()

    def selects(self, entity_id: str, types: Iterable[str]) -> bool:
        if self.type_expr is None:
            if self.type not in types:
                return False
        elif not _holds(self.type_expr, types if isinstance(types, set | frozenset) else frozenset(types)):
            return False
        if self.id is not None:
            return entity_id == self.id
        return self.id_pattern is None or self.id_pattern.search(entity_id) is not None


def _holds(expr: TypeExpr, types: set[str] | frozenset[str]) -> bool:
    """Whether an entity of ``types`` (IRIs) meets a type expression whose names are IRIs."""
    if isinstance(expr, TName):
        return expr.name in types
    if isinstance(expr, TAnd):
        return all(_holds(e, types) for e in expr.items)
    return any(_holds(e, types) for e in expr.items)


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
    pick: frozenset[str] | None = None  # notification.pick: attribute IRIs, and "id"/"type" as written
    omit: frozenset[str] = frozenset()  # notification.omit, likewise
    fmt: str = NORMALIZED
    sys_attrs: bool = False  # notification.sysAttrs
    show_changes: bool = False  # notification.showChanges: previous values beside the new ones
    triggers: frozenset[str] = frozenset(DEFAULT_TRIGGERS)
    jsonld_context: str | None = None  # jsonldContext: the @context notifications are sent in
    dataset_ids: frozenset[str] | None = None  # datasetId: only these instances are sent ("@none": the default)
    uri: str = ""
    accept: str = "application/json"
    receiver_info: tuple[tuple[str, str], ...] = ()
    mqtt: MqttEndpoint | None = None  # set for mqtt:// and mqtts:// endpoints
    throttling: float = 0.0
    time_interval: float | None = None  # seconds: periodic notification of every matching entity
    expires_at: str | None = None
    is_active: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    reader: ReadCaller | None = None  # a department's: notified only what it may read (None: the city's)

    def notify_context(self) -> Any:
        """The @context notifications name: jsonldContext, else the one it was made in (a list of one URL is
        that URL)."""
        if self.jsonld_context is not None:
            return self.jsonld_context
        ctx = self.context
        if isinstance(ctx, list) and len(ctx) == 1 and isinstance(ctx[0], str):
            return ctx[0]
        return ctx

    def expired(self, now: str | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or now_iso())

    def endpoint_address(self) -> tuple[str, int]:
        """The host and port notifications go to (an HTTP receiver or an MQTT broker)."""
        if self.mqtt is not None:
            return self.mqtt.host, self.mqtt.port
        parts = urlsplit(self.uri)
        return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def new_id() -> str:
    """A fresh subscription id."""
    return f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"


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
    principal: str | None = None  # who made it; with a department, its notifications are governed
    department: str | None = None
    scenario: str | None = None  # the Cityos-Scenario and Cityos-Purpose it was made with
    purpose: str | None = None

    def reader(self) -> ReadCaller | None:
        """Who its notifications are read by, for the read guard: a department (governed), the city (a token of
        no department: whole, audited), or None for one made before makers were kept (the platform's own)."""
        if self.department is None and not self.principal:
            return None
        route = f"NOTIFY /ngsi-ld/v1/subscriptions/{self.id}"[:256]
        return ReadCaller(self.principal or "", self.department, self.scenario, self.purpose, route)

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
