"""The city neuron system (城市神经元系统): devices, telemetry ingest, dead letters, health, commands.

Other packages use the iot package through what this module exports.
"""

from cityos.iot.component import component
from cityos.iot.directory import directory as device_directory
from cityos.iot.models import DeadLetter, Message, Outcome
from cityos.iot.mqtt import connect as connect_mqtt
from cityos.iot.mqtt import new_client as new_mqtt_client
from cityos.iot.runner import IngestRunner
from cityos.iot.schemas import (
    CommandCreate,
    DeadLetterPayloadPublic,
    DeviceCreate,
    DeviceGroupCreate,
    DeviceUpdate,
    Location,
    MeasureIn,
)
from cityos.iot.service import (
    create_group,
    existing_device_ids,
    get_dead_letter,
    health_summary,
    list_dead_letters,
    list_devices,
    list_groups,
    provision,
    replay,
)
from cityos.iot.writer import writer as telemetry_writer

__all__ = [
    "CommandCreate",
    "DeadLetter",
    "DeadLetterPayloadPublic",
    "DeviceCreate",
    "DeviceGroupCreate",
    "DeviceUpdate",
    "IngestRunner",
    "Location",
    "MeasureIn",
    "Message",
    "Outcome",
    "component",
    "connect_mqtt",
    "create_group",
    "device_directory",
    "existing_device_ids",
    "get_dead_letter",
    "health_summary",
    "list_dead_letters",
    "list_devices",
    "list_groups",
    "new_mqtt_client",
    "provision",
    "replay",
    "telemetry_writer",
]
