"""Daily patterns of sensor readings in the demo district (a Huangpu-like district of Shanghai).

Pure and deterministic: no I/O, no clock. Times are UTC datetimes passed in (Shanghai is UTC+8),
randomness comes only from the caller's ``random.Random``, and per-device traits (capacity,
offsets, faults, drift) come from a stable hash of the device key, so devices differ from each
other but each stays consistent over time. ``DEVICE_PROFILES`` maps short device-side measure
names to Smart Data Model attributes, UN/CEFACT units and ranges; ``SCENARIOS`` bend the ordinary
day; ``reading`` gives one reading. The shapes are plausible, not calibrated on real data.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

_LOCAL_OFFSET = timedelta(hours=8)  # Asia/Shanghai, no daylight saving
_EPOCH = datetime(2026, 1, 1)  # local reference for slow changes (battery wear, tilt drift, tides)
_TAU = 2 * math.pi


@dataclass(frozen=True)
class MeasureSpec:
    attr: str
    kind: str = "number"  # "number", "text" or "boolean"
    unit_code: str | None = None
    min: float | None = None
    max: float | None = None
    counted: bool = False  # a count over the reporting period (people through a gate): scales with it


@dataclass(frozen=True)
class DeviceProfile:
    device_type: str
    protocol: str  # "json" or "ul" (UltraLight 2.0)
    timeout_s: int
    period_s: int
    measures: dict[str, MeasureSpec]


def _num(attr: str, unit: str | None, lo: float, hi: float) -> MeasureSpec:
    return MeasureSpec(attr, "number", unit, lo, hi)


_BATTERY = {"bat": MeasureSpec("batteryLevel", unit_code=None, min=0, max=1),
            "rssi": MeasureSpec("rssi", min=-140, max=0)}  # fmt: skip


def _profile(device_type: str, protocol: str, period_s: int, measures: dict[str, MeasureSpec]) -> DeviceProfile:
    # battery-powered kinds talk UltraLight over a low-power radio and report their battery and signal
    extra = _BATTERY if protocol == "ul" else {}
    return DeviceProfile(device_type, protocol, 3 * period_s, period_s, {**measures, **extra})


DEVICE_PROFILES: dict[str, DeviceProfile] = {
    "Streetlight": _profile("streetlight-controller", "json", 600, {
        "ps": MeasureSpec("powerState", "text"), "lvl": _num("illuminanceLevel", None, 0, 1),
        "w": _num("powerConsumption", "WTT", 0, 1000), "st": MeasureSpec("status", "text")}),
    "WasteContainer": _profile("waste-fill-sensor", "ul", 3600, {
        "fill": _num("fillingLevel", None, 0, 1), "t": _num("temperature", "CEL", -30, 80)}),
    "ParkingSpot": _profile("parking-spot-sensor", "ul", 300, {"st": MeasureSpec("status", "text")}),
    "TrafficFlowObserved": _profile("traffic-counter", "json", 300, {
        "q": _num("intensity", None, 0, 2000), "occ": _num("occupancy", None, 0, 1),
        "v": _num("averageVehicleSpeed", "KMH", 0, 150)}),
    "CrowdFlowObserved": _profile("crowd-counter", "json", 300, {
        "n": MeasureSpec("peopleCount", "number", None, 0, 20000, counted=True), "occ": _num("occupancy", None, 0, 1),
        "v": _num("averageCrowdSpeed", "KMH", 0, 10)}),
    "AirQualityObserved": _profile("air-quality-station", "json", 600, {
        "pm25": _num("pm25", "GQ", 0, 1000), "pm10": _num("pm10", "GQ", 0, 1500), "no2": _num("no2", "GQ", 0, 2000),
        "t": _num("temperature", "CEL", -30, 60), "h": _num("relativeHumidity", None, 0, 1)}),
    "NoiseLevelObserved": _profile("noise-meter", "json", 300, {
        "laeq": _num("LAeq", "2N", 20, 140), "lamax": _num("LAmax", "2N", 20, 150)}),
    "FloodMonitoring": _profile("water-level-gauge", "ul", 600, {"lvl": _num("currentLevel", "MTR", -2, 10)}),
    "OffStreetParking": _profile("car-park-counter", "json", 300, {
        "used": _num("occupiedSpotNumber", None, 0, 5000), "free": _num("availableSpotNumber", None, 0, 5000),
        "occ": _num("occupancy", None, 0, 1)}),
    "WaterQualityObserved": _profile("water-quality-probe", "json", 1800, {
        "ph": _num("pH", None, 0, 14), "t": _num("temperature", "CEL", 0, 40),
        "tur": _num("turbidity", None, 0, 1000), "ec": _num("conductivity", "G42", 0, 5000)}),
    "WeatherObserved": _profile("weather-station", "json", 600, {
        "t": _num("temperature", "CEL", -30, 50), "h": _num("relativeHumidity", None, 0, 1),
        "rain": _num("precipitation", "MMT", 0, 300), "ws": _num("windSpeed", "MTS", 0, 60)}),
    "BuildingTilt": _profile("tilt-sensor", "ul", 3600, {
        "tx": _num("tiltX", "DD", -10, 10), "ty": _num("tiltY", "DD", -10, 10)}),
    "SmokeDetector": _profile("smoke-detector", "ul", 3600, {
        "smoke": MeasureSpec("smoke", "boolean"), "t": _num("temperature", "CEL", -30, 120)}),
}  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    name: str
    description_zh: str
    description_en: str
    day_type: str | None = None  # force "workday", "weekend" or "holiday"; None: from the calendar
    evening_crowd: float = 1.0  # crowd multiplier around 20:00-21:30 local
    rush: float = 1.0  # multiplier of the morning and evening traffic peaks
    pm25_peak: float | None = None  # PM2.5 (GQ) an episode climbs to by mid-morning
    rain_mm_h: float = 0.0  # peak rain rate of an afternoon storm centred on 15:00 local
    light_faults: float = 0.01  # share of streetlights failing on a given night
    drifting_tilt: float = 0.0  # share of tilt sensors drifting
    smoke_alarm: float = 0.0  # chance of a smoke alarm in one reading
    countdown_at: str | None = None  # the management unit where a New Year's Eve countdown crowd gathers


# The unit id of the Bund in the demo district (cityos.demo.district.BUND, which imports this module).
BUND_UNIT = "urn:ngsi-ld:ManagementUnit:waitan"


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("normal", "普通的一天", "An ordinary day following the calendar."),
    Scenario("holiday-evening", "节假日夜间外滩、南京路客流激增", "A holiday evening: crowds at the Bund and "
             "Nanjing Road rise strongly and peak around 20:00-21:30.", day_type="holiday", evening_crowd=2.2),
    Scenario("rush-hour", "工作日早晚高峰", "A workday with heavy rush hours (7:30-9:30 and 17:00-19:00): more "
             "vehicles, lower speeds.", day_type="workday", rush=1.6),
    Scenario("pm25-episode", "PM2.5 污染过程", "A pollution episode: PM2.5 and PM10 climb over the night and "
             "morning to 150-250 µg/m³, then ease in the evening.", pm25_peak=200.0),
    Scenario("rainstorm", "暴雨及河道水位上涨", "An afternoon rainstorm; river and road water levels rise "
             "1-3 hours after the rain.", rain_mm_h=50.0),
    Scenario("faults", "设备故障增多", "More streetlight faults, drifting tilt sensors and an occasional "
             "smoke alarm.", light_faults=0.15, drifting_tilt=0.1, smoke_alarm=0.02),
    Scenario("bund-new-year", "外滩跨年夜人群聚集", "New Year's Eve at the Bund: from 19:00 the crowd waiting for "
             "the countdown grows to about 2.3 times a holiday afternoon's by 23:45 (the density passes all four "
             "warning levels), holds past midnight and disperses by 01:30.", day_type="holiday",
             countdown_at=BUND_UNIT),
)}  # fmt: skip

# Public holidays and make-up workdays (调休) of 2026, from the State Council's notice.
_HOLIDAYS_2026 = ((1, 1, 1, 3), (2, 15, 2, 23), (4, 4, 4, 6), (5, 1, 5, 5), (6, 19, 6, 21), (9, 25, 9, 27),
                  (10, 1, 10, 7))  # (first month, first day, last month, last day)  # fmt: skip
_MAKEUP_WORKDAYS_2026 = {(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)}  # weekend days worked instead
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}  # other years: fixed-date statutory days only


@lru_cache(maxsize=4096)  # pure, and asked for every reading: a warm start's history asks millions of times
def _public_holiday(d: date) -> bool:
    if d.year == 2026:
        return any((m1, d1) <= (d.month, d.day) <= (m2, d2) for m1, d1, m2, d2 in _HOLIDAYS_2026)
    return (d.month, d.day) in _FIXED_HOLIDAYS


def is_holiday(local_date: date) -> bool:
    """True on Chinese public holidays and on weekends, except the make-up workdays of 2026."""
    d = date(local_date.year, local_date.month, local_date.day)
    makeup = d.year == 2026 and (d.month, d.day) in _MAKEUP_WORKDAYS_2026
    return _public_holiday(d) or (d.weekday() >= 5 and not makeup)


BAD_MESSAGES = (
    ("unparseable", "Truncate or garble the payload so that it cannot be parsed."),
    ("out-of-range", "Set one measure far outside its physical range (a negative PM2.5, a filling level of 7)."),
    ("unknown-measure", "Add a measure name that the device profile does not declare."),
    ("future-timestamp", "Stamp the reading a day in the future."),
    ("unknown-device", "Send from a device id that was never provisioned."),
    ("wrong-apikey", "Send with an API key that belongs to no service group."),
)


def bad_message(rng: random.Random) -> tuple[str, str]:
    """A kind of bad message and a short description of what to corrupt."""
    return rng.choice(BAD_MESSAGES)


# ---------------------------------------------------------------------------------------------
# Shared shapes


@dataclass(frozen=True)
class _Now:
    local: datetime
    h: float  # local hour of the day, 0..24
    doy: int
    day: str  # "workday", "weekend" or "holiday"
    days: float  # days since _EPOCH
    spot: str | None = None  # the management unit of the device, when it matters to a scenario


def _now(at: datetime, sc: Scenario, spot: str | None = None) -> _Now:
    utc = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    local = utc.replace(tzinfo=None) + _LOCAL_OFFSET
    d = local.date()
    day = sc.day_type or ("holiday" if _public_holiday(d) else "weekend" if is_holiday(d) else "workday")
    h = local.hour + local.minute / 60 + local.second / 3600
    return _Now(local, h, d.timetuple().tm_yday, day, (local - _EPOCH).total_seconds() / 86400, spot)


def _unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) from the parts (unlike hash(), the same in every process)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _between(u: float, lo: float, hi: float) -> float:
    return lo + (hi - lo) * u


def _bump(h: float, centre: float, width: float) -> float:
    return math.exp(-0.5 * ((h - centre) / width) ** 2)


def _plateau(h: float, start: float, end: float, soft: float = 0.5) -> float:
    return 1 / (1 + math.exp(-(h - start) / soft)) / (1 + math.exp(-(end - h) / soft))


def _smooth(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


def _sun(doy: int) -> tuple[float, float]:
    half = 6.0 + 1.0 * math.sin(_TAU * (doy - 80) / 365)  # half the day length at 31° N
    return 11.85 - half, 11.85 + half  # sunrise and sunset, local hours (solar noon about 11:50)


def _rain(h: float, sc: Scenario) -> float:
    return sc.rain_mm_h * _bump(h, 15.0, 0.7)  # mm/h


def _lagged_rain(h: float, sc: Scenario) -> float:
    return sum(_rain(h - lag, sc) for lag in (1.0, 1.5, 2.0, 2.5, 3.0)) / 5  # runoff arrives 1-3 h later


def _air(t: _Now, sc: Scenario) -> tuple[float, float]:
    """Outdoor temperature (°C) and relative humidity: seasons, a daily cycle, cooler and wetter in rain."""
    seasonal = 16.5 - 12.0 * math.cos(_TAU * (t.doy - 20) / 365)  # about 4.5 °C in January, 28.5 °C in July
    daily, wet = math.cos(_TAU * (t.h - 14.5) / 24), min(1.0, _rain(t.h, sc) / 20)
    return seasonal + 3.5 * daily - 4.0 * wet, 0.72 - 0.13 * daily + 0.25 * wet


def _traffic(t: _Now, sc: Scenario) -> float:
    h = t.h
    if t.day == "workday":
        peaks = _bump(h, 8.5, 0.7) + _bump(h, 18.0, 0.75)
        return 0.06 + 0.5 * _plateau(h, 6.5, 21.5, 0.7) + 0.4 * sc.rush * peaks
    return 0.06 + 0.6 * _plateau(h, 8.5, 22.5, 0.8) + 0.2 * _bump(h, 15.5, 2.0)


def _crowd(t: _Now, sc: Scenario) -> float:
    h = t.h
    if t.day == "workday":
        s = 0.12 + 0.3 * _plateau(h, 9.5, 22.0) + 0.3 * _bump(h, 12.5, 1.2) + 0.5 * _bump(h, 19.5, 1.8)
    else:
        s = 0.15 + 0.6 * _plateau(h, 9.5, 22.5) + 0.25 * _bump(h, 15.0, 2.0) + 0.45 * _bump(h, 20.0, 1.5)
        s *= 1.35 if t.day == "holiday" else 1.0
    s *= 1 + (sc.evening_crowd - 1) * math.exp(-(((h - 20.75) / 1.6) ** 4))
    if sc.countdown_at is not None and t.spot == sc.countdown_at:
        s = max(s, _countdown(h))
    return s


def _countdown(h: float) -> float:
    """The crowd of a New Year's Eve countdown relative to an ordinary day's scale: it builds from 19:00 to
    2.3 by 23:45 (S-shaped, steepest around 21:20), holds until 00:12 and disperses by 01:30."""
    x = h - 18 if h >= 12 else h + 6  # hours since 18:00, across midnight
    if x < 1 or x > 7.5:
        return 0.0
    if x <= 5.75:
        return 1.0 + 1.3 * _smooth((x - 1) / 4.75)
    return 2.3 - 1.8 * _smooth((x - 6.2) / 1.3)


def _parking(t: _Now) -> float:
    if t.day == "workday":  # offices and shops: full in business hours
        return 0.2 + 0.68 * _plateau(t.h, 8.5, 18.5, 0.6) + 0.1 * _bump(t.h, 20.0, 1.5)
    return 0.25 + 0.6 * _plateau(t.h, 10.0, 22.0, 0.8)  # malls and sights: afternoons and evenings


# ---------------------------------------------------------------------------------------------
# One reader per entity type: (device key, time, scenario, rng, hot spot) -> device-side measures


def _streetlight(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    sunrise, sunset = _sun(t.doy)
    jitter = _between(_unit(key, "dusk"), -0.08, 0.08)  # photocells differ by a few minutes
    on = not (sunrise - 0.2 + jitter <= t.h < sunset + 0.25 + jitter)
    u = _unit(key, "fault", (t.local - timedelta(hours=12)).date())  # one draw per night
    status = "ok" if u >= sc.light_faults else "defectiveLamp" if u < 0.7 * sc.light_faults else "columnIssue"
    level = (0.6 if t.h < 5.0 else 1.0) if on and status == "ok" else 0.0  # dimmed after midnight
    rated = _between(_unit(key, "watt"), 90, 250)
    power = rated * level * rng.gauss(1, 0.02) if level else rng.uniform(0.5, 2.0)  # standby draw
    return {"ps": "on" if on and status != "columnIssue" else "off", "lvl": level, "w": round(power, 1), "st": status}


def _waste(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    x = (t.h - 5.0) % 24  # hours since the morning collection at 05:00; little waste comes from 23:00 to 07:00
    busy = 0.15 * min(x, 2.0) + max(0.0, min(x, 18.0) - 2.0) + 0.15 * max(0.0, x - 18.0)
    rate = _between(_unit(key, "fill"), 0.015, 0.04) * {"workday": 1.0, "weekend": 1.2, "holiday": 1.45}[t.day]
    fill = min(1.0, 0.03 + rate * (1.3 if hot else 1.0) * busy + abs(rng.gauss(0, 0.01)))  # 1.0: overflowing
    temp = _air(t, sc)[0] + _between(_unit(key, "sun"), 0.5, 3.0) + rng.gauss(0, 0.3)
    return {"fill": round(fill, 2), "t": round(temp, 1)}


def _parking_spot(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    slot = math.floor(t.days * 48 + _unit(key, "slot"))  # a car stays for half-hour slots
    return {"st": "occupied" if _unit(key, "car", slot) < _parking(t) else "free"}


class SpotTally:
    """Which of many parking spots report "occupied" at a time, exactly as their readings would (the status
    :func:`reading` gives), at a fraction of the cost: a spot's draw for its half-hour slot is made once per
    slot, not once per reading. For times in increasing order (a replay of the past)."""

    def __init__(self, keys: list[str], scenario: str = "normal") -> None:
        self.keys = keys
        self._sc = SCENARIOS[scenario]
        self._offset = [_unit(key, "slot") for key in keys]
        self._slot = [-1] * len(keys)
        self._draw = [0.0] * len(keys)

    def occupied(self, at: datetime) -> int:
        """How many of the spots report "occupied" at UTC time ``at``."""
        t = _now(at, self._sc)
        share, base, n = _parking(t), t.days * 48, 0
        for i, key in enumerate(self.keys):
            slot = math.floor(base + self._offset[i])
            if slot != self._slot[i]:
                self._slot[i], self._draw[i] = slot, _unit(key, "car", slot)
            n += self._draw[i] < share
        return n


def _traffic_flow(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    shape = _traffic(t, sc) * rng.gauss(1, 0.04)
    occ = 0.03 + 0.6 * max(shape, 0.0) ** 1.5
    speed = _between(_unit(key, "vfree"), 45, 60) * (1 - 0.85 * min(occ, 1.0)) + rng.gauss(0, 1.0)
    return {"q": round(_between(_unit(key, "cap"), 700, 1400) * shape), "occ": round(occ, 2), "v": round(speed, 1)}


def _crowd_flow(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    base = 2600 * _between(_unit(key, "size"), 0.7, 1.3) if hot else 300 * _between(_unit(key, "size"), 0.6, 1.4)
    people = round(base * _crowd(t, sc) * rng.gauss(1, 0.05))
    occ = min(1.0, people / (4.5 * base))
    return {"n": people, "occ": round(occ, 2), "v": round(4.8 - 3.8 * occ + rng.gauss(0, 0.15), 1)}


def _air_quality(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    seasonal = 32 + 14 * math.cos(_TAU * (t.doy - 15) / 365)  # worse in winter
    pm = seasonal * (1 + 0.25 * math.cos(_TAU * (t.h - 7) / 24)) * _between(_unit(key, "pm"), 0.85, 1.15)
    if sc.pm25_peak is not None:  # climbs until 09:00, holds until 16:00, eases by midnight
        episode = _smooth(t.h / 9) if t.h < 16 else 1 - _smooth((t.h - 16) / 8)
        pm += (sc.pm25_peak * _between(_unit(key, "peak"), 0.9, 1.1) - pm) * episode
    pm *= rng.gauss(1, 0.04) * (1 - 0.5 * min(1.0, _rain(t.h, sc) / 30))  # rain washes particles out
    pm10 = pm * _between(_unit(key, "coarse"), 1.35, 1.7) * rng.gauss(1, 0.03)
    no2 = 18 + 40 * _traffic(t, sc) * _between(_unit(key, "road"), 0.7, 1.3) + rng.gauss(0, 2)
    temp, hum = (v + rng.gauss(0, e) for v, e in zip(_air(t, sc), (0.2, 0.01), strict=True))
    return {"pm25": round(pm, 1), "pm10": round(pm10, 1), "no2": round(no2, 1), "t": round(temp, 1), "h": round(hum, 2)}


def _noise(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    laeq = 44 + 12 * math.log10(1 + 30 * _traffic(t, sc)) + _between(_unit(key, "noise"), -2, 6)
    laeq += (4 * min(_crowd(t, sc), 2.0) if hot else 0) + rng.gauss(0, 1.2)
    return {"laeq": round(laeq, 1), "lamax": round(laeq + rng.uniform(6, 18), 1)}


def is_road_gauge(device_key: str) -> bool:
    """Whether a water-level gauge measures waterlogging on a road (a quarter of them) or a river."""
    return _unit(device_key, "road") < 0.25


def _flood(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    lagged = _lagged_rain(t.h, sc)
    if is_road_gauge(key):  # water depth on a road (waterlogging), 0 when dry
        return {"lvl": round(max(0.0, 0.006 * lagged - 0.04 + rng.gauss(0, 0.003)), 3)}
    phase = _between(_unit(key, "tide"), -0.3, 0.3)  # semidiurnal tide on the Wusong datum
    tide = 3.0 + 0.9 * math.sin(_TAU * t.days * 24 / 12.42 + phase)
    return {"lvl": round(tide + 0.03 * lagged + rng.gauss(0, 0.01), 2)}


def _car_park(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    capacity = round(_between(_unit(key, "cap"), 200, 1200))
    share = min(0.98, max(0.0, _parking(t) + rng.gauss(0, 0.02)))
    used = round(capacity * share)
    return {"used": used, "free": capacity - used, "occ": round(used / capacity, 2)}


def _water_quality(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    runoff = min(1.0, _lagged_rain(t.h, sc) / 30)
    ph = _between(_unit(key, "ph"), 7.1, 7.8) + 0.1 * math.sin(_TAU * (t.h - 9) / 24) - 0.3 * runoff
    temp = 18.5 - 9.5 * math.cos(_TAU * (t.doy - 30) / 365) + 0.6 * math.cos(_TAU * (t.h - 16) / 24)
    tur = _between(_unit(key, "tur"), 10, 45) * (1 + 3 * runoff) * rng.gauss(1, 0.05)
    ec = _between(_unit(key, "ec"), 450, 950) * (1 - 0.25 * runoff) + rng.gauss(0, 10)
    return {"ph": round(ph + rng.gauss(0, 0.03), 2), "t": round(temp + rng.gauss(0, 0.1), 1), "tur": round(tur, 1),
            "ec": round(ec)}  # fmt: skip


def _weather(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    rain = _rain(t.h, sc) * _between(_unit(key, "rain"), 0.8, 1.2)
    wind = (2.5 + 1.5 * _bump(t.h, 14.0, 3.0)) * _between(_unit(key, "wind"), 0.7, 1.3) + rng.gauss(0, 0.5)
    wind += 8 * rain / sc.rain_mm_h if sc.rain_mm_h else 0.0  # gusts with the storm
    temp, hum = (v + rng.gauss(0, e) for v, e in zip(_air(t, sc), (0.2, 0.01), strict=True))
    return {"t": round(temp, 1), "h": round(hum, 2), "rain": round(rain if rain >= 0.1 else 0.0, 1),
            "ws": round(max(wind, 0.0), 1)}  # fmt: skip


def _tilt(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    x = _between(_unit(key, "tx"), -0.3, 0.3) + rng.gauss(0, 0.005)
    y = _between(_unit(key, "ty"), -0.3, 0.3) + rng.gauss(0, 0.005)
    if _unit(key, "drift") < sc.drifting_tilt:  # grows 0.02°/h until re-levelled every two weeks
        hours = (t.days * 24 + _unit(key, "onset") * 336) % 336
        x, y = x + 0.02 * hours, y + 0.006 * hours
    return {"tx": round(x, 3), "ty": round(y, 3)}


def _smoke(key: str, t: _Now, sc: Scenario, rng: random.Random, hot: bool) -> dict[str, Any]:
    alarm = rng.random() < sc.smoke_alarm
    indoor = 21 + 0.3 * (_air(t, sc)[0] - 21) + _between(_unit(key, "room"), -1.5, 1.5) + rng.gauss(0, 0.2)
    return {"smoke": alarm, "t": round(rng.uniform(45, 90) if alarm else indoor, 1)}


_READERS: dict[str, Callable[[str, _Now, Scenario, random.Random, bool], dict[str, Any]]] = {
    "Streetlight": _streetlight, "WasteContainer": _waste, "ParkingSpot": _parking_spot,
    "TrafficFlowObserved": _traffic_flow, "CrowdFlowObserved": _crowd_flow, "AirQualityObserved": _air_quality,
    "NoiseLevelObserved": _noise, "FloodMonitoring": _flood, "OffStreetParking": _car_park,
    "WaterQualityObserved": _water_quality, "WeatherObserved": _weather, "BuildingTilt": _tilt,
    "SmokeDetector": _smoke,
}  # fmt: skip


def reading(
    entity_type: str,
    device_key: str,
    at: datetime,
    scenario: str,
    rng: random.Random,
    *,
    hot_spot: bool = False,
    spot: str | None = None,
    interval_s: float | None = None,
) -> dict[str, Any]:
    """One reading of a device at UTC time ``at``: device-side measure name -> value, all within range.

    ``spot``: the management unit the device sits in (a scenario may single one out).
    ``interval_s``: how often the device actually reports, when not at its profile's period; counts
    over the reporting period (people through a gate) then cover that interval instead.
    """
    if entity_type not in DEVICE_PROFILES:
        raise ValueError(f"no device profile for entity type {entity_type!r}")
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}")
    sc, profile = SCENARIOS[scenario], DEVICE_PROFILES[entity_type]
    t = _now(at, sc, spot)
    values = _READERS[entity_type](device_key, t, sc, rng, hot_spot)
    if "bat" in profile.measures:  # batteries wear slowly; signal depends on where the device sits
        values["bat"] = round(1.0 - _between(_unit(device_key, "bat"), 0, 0.5) - 0.0005 * t.days, 2)
        values["rssi"] = round(-_between(_unit(device_key, "rssi"), 75, 118) + rng.gauss(0, 2.5))
    for name, spec in profile.measures.items():
        value = values[name]
        if spec.counted and interval_s is not None:
            value = values[name] = round(value * interval_s / profile.period_s)
        if spec.kind == "number" and spec.min is not None and spec.max is not None:
            clamped = min(spec.max, max(spec.min, value))
            values[name] = round(clamped) if isinstance(value, int) else float(clamped)
    return values
