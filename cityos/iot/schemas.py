"""API shapes of the iot package: what provisioning accepts and what the API returns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Ids travel in MQTT topics and query strings: no '/', '+', '#', spaces or '?'.
SAFE_ID = r"^[A-Za-z0-9_.:\-]{1,200}$"


class MeasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    attr: str = Field(..., min_length=1, max_length=256, description="The entity attribute this measure updates.")
    kind: Literal["number", "text", "boolean"] = "number"
    unitCode: str | None = Field(None, max_length=16, description="UN/CEFACT unit code, e.g. CEL, GQ, MTR.")
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
    name: str = Field(..., min_length=1, max_length=256)
    department: str = Field(..., min_length=1, max_length=128, description="The department that owns the devices.")
    tenant: str | None = Field(None, description="NGSI-LD tenant the devices feed; the default tenant if left out.")


class DeviceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(..., pattern=SAFE_ID)
    apikey: str = Field(..., pattern=SAFE_ID, description="The API key of the device's group.")
    device_type: str = Field(..., min_length=1, max_length=128, description="What kind of terminal it is.")
    entity_type: str = Field(..., min_length=1, max_length=256, description="Type of the entity it feeds.")
    entity_id: str | None = Field(
        None, description="The entity it feeds; urn:ngsi-ld:<entity_type>:<device_id> if left out."
    )
    department: str | None = Field(None, description="Owner department; the group's if left out.")
    measures: dict[str, MeasureIn] = Field(..., min_length=1, description="Measure name -> attribute mapping.")
    protocol: Literal["json", "ul", "any"] = "any"
    timeout_s: int = Field(900, ge=5, le=30 * 86400, description="Silent longer than this (seconds): offline.")
    location: Location | None = None
    grid: str | None = None
    unit: str | None = None

    @field_validator("measures")
    @classmethod
    def _names(cls, v: dict[str, MeasureIn]) -> dict[str, MeasureIn]:
        for name in v:
            if not name or "|" in name or "#" in name:
                raise ValueError(f"measure name {name!r} must be non-empty without '|' or '#'")
        return v


class DeviceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_type: str | None = None
    department: str | None = None
    measures: dict[str, MeasureIn] | None = None
    protocol: Literal["json", "ul", "any"] | None = None
    timeout_s: int | None = Field(None, ge=5, le=30 * 86400)
    location: Location | None = None
    grid: str | None = None
    unit: str | None = None


class CommandCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(..., pattern=r"^[A-Za-z0-9_\-]{1,64}$", description="Command name, e.g. switch, reset.")
    value: Any = Field(None, description="Its parameter, any JSON value.")
    expires_in: int = Field(300, ge=1, le=7 * 86400, description="Seconds until an unanswered command expires.")
