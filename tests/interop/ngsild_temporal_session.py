"""Drives the temporal API of a running cityos server with the real `ngsildclient` (run from .venv-ngsild).

Usage: python ngsild_temporal_session.py PORT TOKEN
Prints one line per step ("ok <step> <detail>") and exits non-zero on the first failure.
"""

from datetime import UTC, datetime, timedelta

from ngsildclient import Entity
from ngsildclient.api.helper.temporal import TemporalQuery
from session_common import connect, step

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

# a type of its own: the other session, on the same server, counts its AirQualityObserved entities
TYPE = "PollutionSample"


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


with connect() as client:
    for k in range(5):
        e = Entity(TYPE, "T-001")
        e.prop("pm25", 30 + k, observedat=iso(T0 + timedelta(minutes=10 * k)))
        result = client.upsert([e])
        step(f"upsert-{k}", getattr(result, "ok", result is True), repr(result))

    eid = f"urn:ngsi-ld:{TYPE}:T-001"
    troe = client.temporal.get(eid, attrs=["pm25"])
    values = troe["pm25"]["values"]
    step("temporal-values", [v for v, _ in values] == [30, 31, 32, 33, 34], str(values))

    verbose = client.temporal.get(eid, attrs=["pm25"], verbose=True)
    step(
        "temporal-normalized",
        [i["value"] for i in verbose["pm25"]] == [30, 31, 32, 33, 34]
        and all("instanceId" in i for i in verbose["pm25"]),
        str(verbose)[:200],
    )

    tq = TemporalQuery().between(T0 + timedelta(minutes=15), T0 + timedelta(minutes=45))
    found = client.temporal.query(type=TYPE, attrs=["pm25"], tq=tq)
    step(
        "temporal-query",
        len(found) == 1 and [v for v, _ in found[0]["pm25"]["values"]] == [32, 33, 34],
        str(found)[:300],
    )
print("ngsildclient temporal session complete", flush=True)
