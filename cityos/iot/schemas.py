"""API shapes of the iot package: what provisioning accepts and what the API returns."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypeAliasType

from cityos.core.answers import Number, Omittable
from cityos.core.iris import Name, holds_nul
from cityos.iot.models import (
    Command,
    CommandStatus,
    DeadLetter,
    Device,
    DeviceGroup,
    Health,
    Measure,
    Outcome,
    PayloadFormat,
    Transport,
    ValueKind,
)
from cityos.iot.models import Protocol as DeviceProtocol

# Ids travel in MQTT topics and query strings: no '/', '+', '#', spaces or '?'.
SAFE_ID = r"^[A-Za-z0-9_.:\-]{1,200}$"


class MeasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    attr: Name = Field(..., min_length=1, max_length=256, description="The entity attribute this measure updates.")
    kind: Literal["number", "text", "boolean"] = "number"
    unitCode: Name | None = Field(None, max_length=16, description="UN/CEFACT unit code, e.g. CEL, GQ, MTR.")
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _range(self) -> MeasureIn:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        if self.kind != "number" and (self.min is not None or self.max is not None):
            raise ValueError("min and max apply to number measures only")
        return self


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: float = Field(..., ge=-180, le=180)
    lat: float = Field(..., ge=-90, le=90)


class DeviceGroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    apikey: str | None = Field(None, pattern=SAFE_ID, description="Left out: one is generated.")
    name: Name = Field(..., min_length=1, max_length=256)
    department: Name = Field(..., min_length=1, max_length=128, description="The department that owns the devices.")
    tenant: Name | None = Field(None, description="NGSI-LD tenant the devices feed; the default tenant if left out.")


class DeviceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(..., pattern=SAFE_ID)
    apikey: str = Field(..., pattern=SAFE_ID, description="The API key of the device's group.")
    device_type: Name = Field(..., min_length=1, max_length=128, description="What kind of terminal it is.")
    entity_type: Name = Field(..., min_length=1, max_length=256, description="Type of the entity it feeds.")
    entity_id: Name | None = Field(
        None, description="The entity it feeds; urn:ngsi-ld:<entity_type>:<device_id> if left out."
    )
    department: Name | None = Field(None, description="Owner department; the group's if left out.")
    measures: dict[Name, MeasureIn] = Field(..., min_length=1, description="Measure name -> attribute mapping.")
    protocol: Literal["json", "ul", "any"] = "any"
    timeout_s: int = Field(900, ge=5, le=30 * 86400, description="Silent longer than this (seconds): offline.")
    location: Location | None = None
    grid: Name | None = None
    unit: Name | None = None

    @field_validator("measures")
    @classmethod
    def _names(cls, v: dict[str, MeasureIn]) -> dict[str, MeasureIn]:
        for name in v:
            if not name or "|" in name or "#" in name:
                raise ValueError(f"measure name {name!r} must be non-empty without '|' or '#'")
        return v


class DeviceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_type: Name | None = None
    department: Name | None = None
    measures: dict[Name, MeasureIn] | None = None
    protocol: Literal["json", "ul", "any"] | None = None
    timeout_s: int | None = Field(None, ge=5, le=30 * 86400)
    location: Location | None = None
    grid: Name | None = None
    unit: Name | None = None


class CommandCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(..., pattern=r"^[A-Za-z0-9_\-]{1,64}$", description="Command name, e.g. switch, reset.")
    value: Any = Field(None, description="Its parameter, any JSON value.")
    expires_in: int = Field(300, ge=1, le=7 * 86400, description="Seconds until an unanswered command expires.")

    @field_validator("value")
    @classmethod
    def _storable(cls, v: Any) -> Any:
        if holds_nul(v):
            raise ValueError("holds the character U+0000 (NUL), which cannot be stored: remove it")
        return v


# --- answers -----------------------------------------------------------------------------------------


class DeviceGroupPublic(BaseModel):
    apikey: str
    tenant: str
    name: str
    department: str
    createdAt: str

    @classmethod
    def of(cls, g: DeviceGroup) -> DeviceGroupPublic:
        return cls(apikey=g.apikey, tenant=g.tenant, name=g.name, department=g.department, createdAt=g.created_at)


class MeasurePublic(BaseModel):
    attr: str = Field(..., description="The entity attribute this measure updates.")
    kind: ValueKind
    unitCode: Omittable[str] = Field(None, description="UN/CEFACT unit code; left out when the measure has none.")
    min: Omittable[Number] = Field(None, description="Lowest valid value; left out when there is no lower bound.")
    max: Omittable[Number] = Field(None, description="Highest valid value; left out when there is no upper bound.")

    @classmethod
    def of(cls, m: Measure) -> MeasurePublic:
        return cls(attr=m.attr, kind=m.kind, unitCode=m.unit_code, min=m.min, max=m.max)


class DevicePublic(BaseModel):
    deviceId: str
    apikey: str
    tenant: str
    deviceType: str
    entityId: str = Field(..., description="The NGSI-LD entity its measures update.")
    entityType: str
    deviceEntityId: str = Field(..., description="The NGSI-LD Device entity that mirrors the device.")
    department: str
    measures: dict[str, MeasurePublic] = Field(..., description="Measure name -> attribute mapping.")
    protocol: DeviceProtocol
    timeoutSeconds: int = Field(..., description="Silent longer than this: offline.")
    location: Location | None
    grid: str | None
    unit: str | None
    createdAt: str
    updatedAt: str

    @classmethod
    def of(cls, d: Device) -> DevicePublic:
        return cls(**_device_members(d))


def _device_members(d: Device) -> dict[str, Any]:
    """The members of a device's answer, with or without its health."""
    return {
        "deviceId": d.device_id,
        "apikey": d.apikey,
        "tenant": d.tenant,
        "deviceType": d.device_type,
        "entityId": d.entity_id,
        "entityType": d.entity_type,
        "deviceEntityId": d.device_entity_id,
        "department": d.department,
        "measures": {name: MeasurePublic.of(m) for name, m in d.measures.items()},
        "protocol": d.protocol,
        "timeoutSeconds": d.timeout_s,
        "location": Location(lon=d.location[0], lat=d.location[1]) if d.location else None,
        "grid": d.grid,
        "unit": d.unit,
        "createdAt": d.created_at,
        "updatedAt": d.updated_at,
    }


DeviceState = Literal["online", "offline", "never-seen"]


class HealthPublic(BaseModel):
    state: DeviceState
    lastSeen: str | None
    batteryLevel: Number | None
    rssi: Number | None

    @classmethod
    def of(cls, h: Health) -> HealthPublic:
        state: DeviceState = "never-seen" if h.online is None else ("online" if h.online else "offline")
        return cls(state=state, lastSeen=h.last_seen, batteryLevel=h.battery, rssi=h.signal)


class DeviceWithHealthPublic(DevicePublic):
    health: HealthPublic

    @classmethod
    def with_health(cls, d: Device, h: Health) -> DeviceWithHealthPublic:
        return cls(**_device_members(d), health=HealthPublic.of(h))


class StateCounts(BaseModel):
    online: int = 0
    offline: int = 0
    neverSeen: int = 0

    @property
    def provisioned(self) -> int:
        """Every device of the registry, whatever its state (物联感知终端数)."""
        return self.online + self.offline + self.neverSeen

    def add(self, online: bool | None, n: int) -> None:
        """Count ``n`` more devices in this state (None: never heard from)."""
        if online is None:
            self.neverSeen += n
        elif online:
            self.online += n
        else:
            self.offline += n


class HealthSummaryPublic(BaseModel):
    """How many devices are online, offline and never seen: in all, per device type, per grid ("-": none)."""

    total: StateCounts
    byType: dict[str, StateCounts]
    byGrid: dict[str, StateCounts]


class DeadLetterPublic(BaseModel):
    id: str
    receivedAt: str
    transport: Transport
    format: PayloadFormat
    apikey: str
    deviceId: str
    deviceType: str | None
    topic: str | None
    reasonCode: str = Field(..., description="Why it was rejected, a stable code (unknown-device, out-of-range …).")
    reason: str = Field(..., description="What is wrong and what to do about it.")
    replayedAt: str | None

    @classmethod
    def of(cls, x: DeadLetter) -> DeadLetterPublic:
        return cls(**_letter_members(x))


def _letter_members(x: DeadLetter) -> dict[str, Any]:
    return {
        "id": x.id,
        "receivedAt": x.received_at,
        "transport": x.transport,
        "format": x.fmt,
        "apikey": x.apikey,
        "deviceId": x.device_id,
        "deviceType": x.device_type,
        "topic": x.topic,
        "reasonCode": x.reason_code,
        "reason": x.reason,
        "replayedAt": x.replayed_at,
    }


class DeadLetterPayloadPublic(DeadLetterPublic):
    """A dead letter with the payload as it arrived: as text when it is UTF-8, else in hex."""

    payload: Omittable[str] = Field(None, description="The payload as text (left out when it is not UTF-8).")
    payloadHex: Omittable[str] = Field(None, description="The payload in hex, when it is not UTF-8 text.")

    @classmethod
    def with_payload(cls, x: DeadLetter) -> DeadLetterPayloadPublic:
        try:
            text = x.payload.decode("utf-8")
        except UnicodeDecodeError:
            return cls(**_letter_members(x), payloadHex=x.payload.hex())
        return cls(**_letter_members(x), payload=text)


class CommandPublic(BaseModel):
    id: str
    deviceId: str
    command: str
    value: Any = Field(..., description="Its parameter, any JSON value.")
    status: CommandStatus
    createdAt: str
    createdBy: str | None
    sentAt: str | None
    answeredAt: str | None
    expiresAt: str
    result: Any = Field(..., description="What the device answered, any JSON value.")

    @classmethod
    def of(cls, c: Command) -> CommandPublic:
        return cls(
            id=c.id,
            deviceId=c.device_id,
            command=c.name,
            value=c.value,
            status=c.status,
            createdAt=c.created_at,
            createdBy=c.created_by,
            sentAt=c.sent_at,
            answeredAt=c.answered_at,
            expiresAt=c.expires_at,
            result=c.result,
        )


class AcceptedPublic(BaseModel):
    """A telemetry message taken in."""

    accepted: Literal[True] = True
    measures: int = Field(..., description="How many measures it carried.")


class RejectedPublic(BaseModel):
    """A telemetry message refused; it is kept as a dead letter that can be replayed once fixed."""

    accepted: Literal[False] = False
    reasonCode: str | None
    reason: str | None
    deadLetterId: str | None


def _rejection(o: Outcome) -> dict[str, Any]:
    return {"reasonCode": o.reason_code, "reason": o.reason, "deadLetterId": o.dead_letter_id}


# named, so that the API description shows one schema "OutcomePublic" (accepted or rejected)
OutcomePublic = TypeAliasType(
    "OutcomePublic", Annotated[AcceptedPublic | RejectedPublic, Field(discriminator="accepted")]
)


def public_outcome(o: Outcome) -> OutcomePublic:
    """What a client is told of one message."""
    return AcceptedPublic(measures=o.measures) if o.accepted else RejectedPublic(**_rejection(o))


class BulkRejectedPublic(RejectedPublic):
    deviceId: str

    @classmethod
    def of(cls, device_id: str, o: Outcome) -> BulkRejectedPublic:
        return cls(deviceId=device_id, **_rejection(o))


class BulkPublic(BaseModel):
    """What became of a gateway's messages: how many were taken in, and each one refused."""

    accepted: int
    rejected: list[BulkRejectedPublic]
