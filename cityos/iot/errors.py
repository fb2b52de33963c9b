"""Errors of the iot package, and the reasons a telemetry message is rejected."""

from __future__ import annotations

from cityos.errors import PROBLEM_BASE, CityError

# Why a message became a dead letter: a stable code and what to do about it.
REJECTIONS = {
    "unknown-device": "no device with this id is provisioned: provision it, then replay",
    "wrong-apikey": "the API key is not the device's group key: fix the device's key, or replay after moving it",
    "unparseable": "the payload does not decode: fix the device's encoder",
    "unknown-measure": "a measure name is not in the device's mapping: add it to the device, then replay",
    "out-of-range": "a value is outside its valid range: check the sensor, or widen the range and replay",
    "future-timestamp": "the observation time is too far in the future: fix the device's clock",
}


class Rejected(Exception):
    """A message that cannot be accepted; ``code`` is one of REJECTIONS."""

    def __init__(self, code: str, detail: str) -> None:
        assert code in REJECTIONS, code
        super().__init__(detail)
        self.code = code
        self.detail = detail


class DeviceNotFound(CityError):
    type = PROBLEM_BASE + "device-not-found"
    title = "Device not found"
    status = 404


class GroupNotFound(CityError):
    type = PROBLEM_BASE + "device-group-not-found"
    title = "Device group not found"
    status = 404


class DeadLetterNotFound(CityError):
    type = PROBLEM_BASE + "dead-letter-not-found"
    title = "Dead letter not found"
    status = 404


class CommandNotFound(CityError):
    type = PROBLEM_BASE + "command-not-found"
    title = "Command not found"
    status = 404


class DeviceConflict(CityError):
    type = PROBLEM_BASE + "device-conflict"
    title = "Conflict"
    status = 409


class OtherDepartment(CityError):
    """A department tried to create or change what belongs to another department."""

    type = PROBLEM_BASE + "other-department"
    title = "Belongs to another department"
    status = 403


class InvalidDevice(CityError):
    type = PROBLEM_BASE + "invalid-device"
    title = "Invalid device"
    status = 400


class BadApiKey(CityError):
    type = PROBLEM_BASE + "bad-apikey"
    title = "Unknown API key"
    status = 401


class NoCommandChannel(CityError):
    type = PROBLEM_BASE + "no-command-channel"
    title = "No command channel"
    status = 409
