"""Domain types of the iot package: device groups, devices, their measures, and telemetry messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from cityos.auth import Scope

Protocol = Literal["json", "ul", "any"]
ValueKind = Literal["number", "text", "boolean"]
Transport = Literal["mqtt", "http", "local"]  # local: handed in by the same process (the demo simulator)
PayloadFormat = Literal["json", "ul"]
CommandStatus = Literal["pending", "sent", "ok", "error", "expired"]

# Measures whose attribute is one of these also feed the device's health record.
BATTERY_ATTR = "batteryLevel"
SIGNAL_ATTR = "rssi"


@dataclass(frozen=True)
class Measure:
    """How one measure a device sends becomes an attribute of the entity it feeds."""

    attr: str  # attribute name (term) on the entity
    kind: ValueKind = "number"
    unit_code: str | None = None  # UN/CEFACT code, as NGSI-LD unitCode
    min: float | None = None  # valid range, inclusive; outside it the message is a dead letter
    max: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"attr": self.attr, "kind": self.kind}
        for key, value in (("unitCode", self.unit_code), ("min", self.min), ("max", self.max)):
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class DeviceGroup:
    """Devices that share an API key (as FIWARE IoT Agents' service groups), owned by one department."""

    apikey: str
    tenant: str
    name: str
    department: str
    created_at: str


@dataclass(frozen=True)
class Device:
    device_id: str
    apikey: str
    tenant: str
    device_type: str  # what kind of terminal: "air-quality-station", "crowd-counter", ...
    entity_id: str  # the NGSI-LD entity its measures update
    entity_type: str
    department: str
    measures: dict[str, Measure]
    protocol: Protocol = "any"
    timeout_s: int = 900  # silent longer than this: offline
    location: tuple[float, float] | None = None  # lon, lat (WGS84)
    grid: str | None = None
    unit: str | None = None
    created_at: str = ""
    updated_at: str = ""

    @property
    def device_entity_id(self) -> str:
        """The NGSI-LD Device entity that mirrors this device."""
        return f"urn:ngsi-ld:Device:{self.device_id}"


def sees(scope: Scope, thing: DeviceGroup | Device) -> bool:
    """Whether a group or device lies within a caller's scope."""
    return scope.sees_tenant(thing.tenant) and scope.sees_department(thing.department)


@dataclass(frozen=True)
class Health:
    device_id: str
    online: bool | None  # None: never heard from
    last_seen: str | None
    battery: float | None = None
    signal: float | None = None


class Message(NamedTuple):
    """One telemetry message as it arrived, before anything is decoded.

    A named tuple, not a dataclass: a transport makes one per message, thousands a second, and a
    tuple is made in a fraction of a frozen dataclass's time."""

    transport: Transport
    apikey: str
    device_id: str
    fmt: PayloadFormat
    payload: bytes
    received_at: str  # stored timestamp form
    topic: str | None = None


@dataclass(frozen=True)
class Reading:
    """Measures taken at one time (``observed_at`` None: the receipt time)."""

    measures: dict[str, Any]
    observed_at: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    """A message that was rejected, kept with the reason so that it can be replayed once fixed."""

    id: str
    received_at: str
    transport: Transport
    fmt: PayloadFormat
    apikey: str
    device_id: str
    device_type: str | None  # None: the device was not known
    topic: str | None  # the MQTT topic it came on (None over HTTP)
    reason_code: str
    reason: str
    payload: bytes
    replayed_at: str | None = None  # set once a replay was accepted


@dataclass(frozen=True)
class Command:
    """A command to a device and how far it got: pending -> sent -> ok | error | expired."""

    id: str
    device_id: str
    name: str
    value: Any  # any JSON value: the command's parameter
    status: CommandStatus
    created_at: str
    created_by: str | None
    expires_at: str
    sent_at: str | None = None
    answered_at: str | None = None
    result: Any = None  # what the device answered, any JSON value


@dataclass
class Outcome:
    """What became of one message: accepted, or rejected with a reason (then kept as a dead letter)."""

    accepted: bool
    reason_code: str | None = None
    reason: str | None = None
    measures: int = 0
    device_type: str | None = None
    dead_letter_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
