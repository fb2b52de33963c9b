"""The demo district's devices as the iot package provisions them: one device group per owning
department, one device per observed thing, its measures from the sensor patterns' device profiles."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cityos import iot as iot
from cityos.demo.district import HOT_SPOTS
from cityos.demo.patterns import DEVICE_PROFILES
from cityos.iot import DeviceCreate, DeviceGroupCreate, Location, MeasureIn
from cityos.runtime import Runtime

# The district departments that own terminals: (department id, 中文名, English name).
_APPEARANCE = ("city-appearance", "区绿化市容局", "Greening and City Appearance Bureau")
_TRANSPORT = ("transport", "区交通委", "Transport Commission")
_POLICE = ("public-security", "公安黄浦分局", "Public Security Sub-bureau")
_ENVIRONMENT = ("ecology-environment", "区生态环境局", "Ecology and Environment Bureau")
_WATER = ("water-affairs", "区水务局", "Water Affairs Bureau")

# Which department owns each kind of terminal.
DEPARTMENTS: dict[str, tuple[str, str, str]] = {
    "Streetlight": _APPEARANCE,
    "WasteContainer": _APPEARANCE,
    "ParkingSpot": _TRANSPORT,
    "OffStreetParking": _TRANSPORT,
    "TrafficFlowObserved": _TRANSPORT,
    "CrowdFlowObserved": _POLICE,
    "AirQualityObserved": _ENVIRONMENT,
    "NoiseLevelObserved": _ENVIRONMENT,
    "FloodMonitoring": _WATER,
    "WaterQualityObserved": _WATER,
    "WeatherObserved": ("meteorology", "区气象局", "Meteorological Bureau"),
    "BuildingTilt": ("housing", "区房屋管理局", "Housing Administration Bureau"),
    "SmokeDetector": ("fire-rescue", "区消防救援支队", "Fire and Rescue Detachment"),
}


def group_key(department: str) -> str:
    """The demo's API key of a department's device group (fixed, so restarts keep the same topics)."""
    return f"demo-{department}"


@dataclass(frozen=True)
class DemoDevice:
    """What the simulator needs to speak for one provisioned device."""

    device_id: str
    apikey: str
    entity_type: str
    protocol: str  # "json" or "ul"
    hot_spot: bool  # sits in one of the district's crowd hot spots
    unit: str | None = None  # the management unit it sits in


def demo_devices(entities: Iterable[dict[str, Any]]) -> list[tuple[DemoDevice, DeviceCreate]]:
    """A device for every observed thing of the district that has a device profile."""
    out = []
    for e in entities:
        profile = DEVICE_PROFILES.get(e["type"])
        if profile is None or "refDevice" not in e:
            continue
        device_id = e["refDevice"]["object"].rsplit(":", 1)[-1]
        department = DEPARTMENTS[e["type"]][0]
        unit = e.get("refUnit", {}).get("object")
        lon, lat = e["location"]["value"]["coordinates"]
        spec = DeviceCreate(
            device_id=device_id,
            apikey=group_key(department),
            device_type=profile.device_type,
            entity_type=e["type"],
            entity_id=e["id"],
            measures={
                name: MeasureIn(attr=m.attr, kind=m.kind, unitCode=m.unit_code, min=m.min, max=m.max)  # type: ignore[arg-type]
                for name, m in profile.measures.items()
            },
            protocol=profile.protocol,  # type: ignore[arg-type]  # the profiles name json or ul
            timeout_s=profile.timeout_s,
            location=Location(lon=lon, lat=lat),
            grid=e["refGrid"]["object"],
            unit=unit,
        )
        out.append((DemoDevice(device_id, spec.apikey, e["type"], profile.protocol, unit in HOT_SPOTS, unit), spec))
    return out


def provision_demo_devices(rt: Runtime, entities: Iterable[dict[str, Any]], *, batch: int = 1000) -> list[DemoDevice]:
    """Create the departments' device groups and provision the devices not provisioned yet."""
    devices = demo_devices(entities)
    have = {g.apikey for g in iot.list_groups(rt)}
    for department, zh, en in sorted(set(DEPARTMENTS.values())):
        if group_key(department) not in have:
            spec = DeviceGroupCreate(apikey=group_key(department), name=f"{zh} {en}", department=department)
            iot.create_group(rt, spec)
    provisioned = iot.existing_device_ids(rt, [d.device_id for d, _ in devices])
    todo = [spec for d, spec in devices if d.device_id not in provisioned]
    for start in range(0, len(todo), batch):
        iot.provision(rt, todo[start : start + batch])
    return [d for d, _ in devices]
