"""A small provisioned district for the iot tests: one group, an air-quality station and a flood sensor."""

from __future__ import annotations

from cityos.iot import service
from cityos.iot.schemas import DeviceCreate, DeviceGroupCreate
from cityos.runtime import Runtime

APIKEY = "hp-env-key"
AQ = "HP-AQ-0001"
FLOOD = "HP-FM-0001"
AQ_ENTITY = "urn:ngsi-ld:AirQualityObserved:HP-AQ-0001"
FLOOD_ENTITY = "urn:ngsi-ld:FloodMonitoring:HP-FM-0001"

AQ_SPEC = {
    "device_id": AQ,
    "apikey": APIKEY,
    "device_type": "air-quality-station",
    "entity_type": "AirQualityObserved",
    "measures": {
        "pm25": {"attr": "pm25", "unitCode": "GQ", "min": 0, "max": 1000},
        "t": {"attr": "temperature", "unitCode": "CEL", "min": -40, "max": 60},
        "h": {"attr": "relativeHumidity", "min": 0, "max": 1},
    },
    "timeout_s": 60,
    "location": {"lon": 121.49, "lat": 31.24},
    "grid": "urn:ngsi-ld:Grid:HP-WT-01",
}
FLOOD_SPEC = {
    "device_id": FLOOD,
    "apikey": APIKEY,
    "device_type": "flood-sensor",
    "entity_type": "FloodMonitoring",
    "measures": {
        "lvl": {"attr": "currentLevel", "unitCode": "MTR", "min": -2, "max": 10},
        "bat": {"attr": "batteryLevel", "min": 0, "max": 1},
        "rssi": {"attr": "rssi", "min": -140, "max": 0},
    },
    "protocol": "ul",
    "timeout_s": 30,
    "grid": "urn:ngsi-ld:Grid:HP-WT-02",
}


def provision_district(rt: Runtime) -> None:
    service.create_group(rt, DeviceGroupCreate(apikey=APIKEY, name="黄浦区生态环境局 sensors", department="hp-env"))
    service.provision(rt, [DeviceCreate(**AQ_SPEC), DeviceCreate(**FLOOD_SPEC)])
