"""Drives q and aggregation over expired attribute instances (NGSI-LD 4.22) of a running cityos server with
the real `ngsildclient` (run from .venv-ngsild).

Usage: python ngsild_transient_session.py PORT TOKEN
Prints one line per step ("ok <step> <detail>") and exits non-zero on the first failure.
"""

from datetime import timedelta

from ngsildclient import Entity
from ngsildclient.api.constants import AggrMethod
from ngsildclient.api.helper.temporal import TemporalQuery
from session_common import connect, step

# a type of its own: the other sessions share the server
TYPE = "TransientSample"
PAST, FUTURE = "2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z"


def sample(n, *speeds):
    return Entity.from_dict({"id": f"urn:ngsi-ld:{TYPE}:{n}", "type": TYPE, "speed": list(speeds)})


with connect() as client:
    gone = {"type": "Property", "value": 90, "observedAt": "2026-01-01T00:20:00Z", "expiresAt": PAST}
    kept = {"type": "Property", "value": 4, "observedAt": "2026-01-01T00:00:00Z", "datasetId": "urn:ngsi-ld:d:kept"}
    live = {"type": "Property", "value": 9, "observedAt": "2026-01-01T00:10:00Z", "expiresAt": FUTURE}
    result = client.create(sample("S-1", gone, kept), sample("S-2", live))
    step("create", getattr(result, "ok", result is True), repr(result))

    found = client.query(type=TYPE, q="speed>5")
    step("query-q", [e.id for e in found] == [f"urn:ngsi-ld:{TYPE}:S-2"], str([e.id for e in found]))
    step("count-q", client.count(type=TYPE, q="speed>50") == 0)

    read = client.get(f"urn:ngsi-ld:{TYPE}:S-1", asdict=True)
    speed = read["speed"] if isinstance(read["speed"], list) else [read["speed"]]
    step("read", [i["value"] for i in speed] == [4], str(read)[:200])

    tq = TemporalQuery().after("2025-12-31T00:00:00Z")
    aggr = client.temporal.aggregate(
        type=TYPE, attrs=["speed"], tq=tq, methods=[AggrMethod.MAXIMUM], period=timedelta(days=1)
    )
    maxima = sorted(b[0] for e in aggr.result for b in e["speed"]["max"])
    step("aggregate", maxima == [4, 9], str(aggr)[:300])
print("ngsildclient transient session complete", flush=True)
