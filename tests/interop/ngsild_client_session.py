"""Drives a running cityos server with the real `ngsildclient` package (run from .venv-ngsild).

Usage: python ngsild_client_session.py PORT TOKEN
Prints one line per step ("ok <step> <detail>") and exits non-zero on the first failure.
"""

from ngsildclient import Entity
from session_common import connect, step


def station(n, pm25, lat, lon):
    e = Entity("AirQualityObserved", f"HP-{n:03d}")
    e.prop("pm25", pm25, unitcode="GQ", observedat="2026-11-21T08:00:00Z")
    e.prop("name", f"黄浦空气站{n}")
    e.rel("refGrid", "urn:ngsi-ld:Grid:HP-WT-01")
    e.gprop("location", (lat, lon))
    return e


with connect() as client:
    bund = station(1, 35.0, 31.2397, 121.4905)
    step("create", client.create(bund) is True)

    got = client.get(bund.id)
    step(
        "retrieve",
        got["pm25"]["value"] == 35.0 and got["location"]["value"]["coordinates"] == [121.4905, 31.2397],
        str(got["pm25"]),
    )

    step("exists", client.exists(bund.id) is True)

    others = [
        station(2, 80.0, 31.2304, 121.4737),
        station(3, 12.0, 31.2200, 121.4800),
        station(4, 55.0, 31.2398, 121.4906),
    ]
    result = client.upsert(others)
    step("batch-upsert", getattr(result, "ok", result is True), repr(result))

    step("count", client.count(type="AirQualityObserved") == 4)

    high = client.query(type="AirQualityObserved", q="pm25>50")
    step(
        "query-q",
        sorted(e.id for e in high)
        == ["urn:ngsi-ld:AirQualityObserved:HP-002", "urn:ngsi-ld:AirQualityObserved:HP-004"],
        str([e.id for e in high]),
    )

    near = client.alt.query(
        {
            "type": "Query",
            "entities": [{"type": "AirQualityObserved"}],
            "geoQ": {"georel": "near;maxDistance==200", "geometry": "Point", "coordinates": [121.4905, 31.2397]},
        }
    )
    step(
        "query-geo",
        sorted(e.id for e in near)
        == ["urn:ngsi-ld:AirQualityObserved:HP-001", "urn:ngsi-ld:AirQualityObserved:HP-004"],
        str([e.id for e in near]),
    )

    changed = station(3, 99.0, 31.2200, 121.4800)
    result = client.update([changed])
    step("batch-update", getattr(result, "ok", result is True), repr(result))
    step("updated-value", client.get(changed.id)["pm25"]["value"] == 99.0)

    step("delete", client.delete(bund) is True)  # an Entity: a bare id string is taken as a batch of characters
    step("deleted", client.exists(bund.id) is False)

    result = client.delete(others)
    step("batch-delete", getattr(result, "ok", result is True), repr(result))
    step("empty", client.count(type="AirQualityObserved") == 0)
print("ngsildclient session complete", flush=True)
