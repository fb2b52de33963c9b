"""The bounding-box index follows GeoProperty changes, and only those."""

from conftest import Api
from sqlalchemy import select

from cityos.context.tables import entity_geo


def boxes(api: Api) -> list[tuple[float, float]]:
    rt = api.client.app.state.runtime
    with rt.db.connect() as conn:
        return [(r.min_x, r.min_y) for r in conn.execute(select(entity_geo.c.min_x, entity_geo.c.min_y))]


def test_geo_index_follows_moves_and_deletes(api: Api) -> None:
    url = "/ngsi-ld/v1/entities"
    e = {
        "id": "urn:ngsi-ld:Streetlight:s1",
        "type": "Streetlight",
        "status": {"type": "Property", "value": "ok"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.49, 31.23]}},
    }
    assert api.post(url, json=e).status_code == 201
    assert boxes(api) == [(121.49, 31.23)]
    api.patch(f"{url}/{e['id']}/attrs/status", json={"value": "broken"})
    assert boxes(api) == [(121.49, 31.23)]
    api.patch(f"{url}/{e['id']}/attrs/location", json={"value": {"type": "Point", "coordinates": [121.5, 31.24]}})
    assert boxes(api) == [(121.5, 31.24)]
    near = {"type": "Streetlight", "georel": "near;maxDistance==50", "geometry": "Point"}
    assert len(api.get(url, params={**near, "coordinates": "[121.5,31.24]"}).json()) == 1
    assert api.get(url, params={**near, "coordinates": "[121.49,31.23]"}).json() == []
    api.delete(f"{url}/{e['id']}/attrs/location")
    assert boxes(api) == []
    api.post(
        f"{url}/{e['id']}/attrs",
        json={
            "location": {
                "type": "GeoProperty",
                "value": {
                    "type": "Polygon",
                    "coordinates": [[[121.4, 31.2], [121.41, 31.2], [121.41, 31.21], [121.4, 31.2]]],
                },
            }
        },
    )
    assert boxes(api) == [(121.4, 31.2)]
    api.delete(f"{url}/{e['id']}")
    assert boxes(api) == []
