"""Downloads of the open datasets (issue 19, item 4) over HTTP, on SQLite and PostgreSQL: each format's
content and headers, only the open items, live data read at request time, 403 for conditional data and 404
problem documents; and the encoders over many pages."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest
from conftest import Api

from cityos import datahub
from cityos.opendata.exports import csv_stream, geojson_stream, json_stream, parquet_stream
from cityos.opendata.models import Column
from cityos.runtime import Runtime

AIR = "hp-06-01-0001"
CATALOGUE = "hp-18-01-0001"  # table-backed: the catalogue's own entries, Chinese names
STATIONS = [("hp-aq-01", 35, 61), ("hp-aq-02", 12, 20), ("hp-aq-03", 78, 102)]
AIR_ITEMS = ["pm25", "pm10", "no2", "o3", "airQualityIndex", "location"]


def station(sid: str, pm25: float, aqi: int) -> dict[str, object]:
    return {
        "id": f"urn:ngsi-ld:AirQualityObserved:{sid}",
        "type": "AirQualityObserved",
        "pm25": {"type": "Property", "value": pm25},
        "airQualityIndex": {"type": "Property", "value": aqi},
        "stationName": {"type": "Property", "value": "内部站名"},  # not an item of the catalogue entry
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [121.48, 31.23]}},
    }


@pytest.fixture
def portal(api: Api, rt: Runtime) -> Api:
    datahub.load_catalogue(rt, "default", by="cityos-demo")
    for sid, pm25, aqi in STATIONS:
        assert api.post("/ngsi-ld/v1/entities", json=station(sid, pm25, aqi)).status_code == 201
    return api


def get(api: Api, path: str) -> tuple[int, dict[str, str], bytes]:
    r = api.get(path, token=None)
    return r.status_code, dict(r.headers), r.content


def test_csv_has_the_bom_and_the_chinese_read_back_intact(portal: Api) -> None:
    status, headers, body = get(portal, f"/opendata/datasets/{CATALOGUE}/records.csv")
    assert status == 200, body[:300]
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["content-disposition"] == f'attachment; filename="{CATALOGUE}.csv"'
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    air = next(r for r in rows if r["code"] == "HP-06-01-0001")
    assert air["name"] == "空气质量实时监测数据" and air["opening"] == "unconditional"
    assert len(rows) == len(datahub.read_catalogue().entries)


def test_csv_of_live_entities_shows_only_open_items_and_refreshes(portal: Api) -> None:
    status, _, body = get(portal, f"/opendata/datasets/{AIR}/records.csv")
    assert status == 200
    reader = csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    header, *rows = list(reader)
    assert header == AIR_ITEMS and "内部站名" not in body.decode("utf-8")
    assert sorted(r[0] for r in rows) == ["12", "35", "78"]
    assert json.loads(rows[0][5]) == {"type": "Point", "coordinates": [121.48, 31.23]}
    patch = {"pm25": {"type": "Property", "value": 5}}
    r = portal.patch("/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:hp-aq-03/attrs", json=patch)
    assert r.status_code == 204, r.text
    _, _, again = get(portal, f"/opendata/datasets/{AIR}/records.csv")
    assert sorted(r[0] for r in list(csv.reader(io.StringIO(again.decode("utf-8-sig"))))[1:]) == ["12", "35", "5"]


def test_json_geojson_and_parquet(portal: Api) -> None:
    status, headers, body = get(portal, f"/opendata/datasets/{AIR}/records.json")
    assert status == 200 and headers["content-type"] == "application/json; charset=utf-8"
    records = json.loads(body)
    assert len(records) == 3 and all(list(r) == AIR_ITEMS for r in records)
    status, headers, body = get(portal, f"/opendata/datasets/{AIR}/records.geojson")
    assert status == 200 and headers["content-type"] == "application/geo+json; charset=utf-8"
    fc = json.loads(body)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 3
    feature = fc["features"][0]
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    assert set(feature["properties"]) == set(AIR_ITEMS) - {"location"}
    status, headers, body = get(portal, f"/opendata/datasets/{AIR}/records.parquet")
    assert status == 200 and headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(body))
    assert table.column_names == AIR_ITEMS and table.num_rows == 3
    assert sorted(table.column("pm25").to_pylist()) == [12.0, 35.0, 78.0]
    assert str(table.schema.field("pm25").type) == "double" and str(table.schema.field("location").type) == "string"
    status, _, body = get(portal, f"/opendata/datasets/{CATALOGUE}/records.parquet")
    names = pq.read_table(io.BytesIO(body)).column("name").to_pylist()
    assert status == 200 and "空气质量实时监测数据" in names


def test_refusals_are_problem_documents(portal: Api) -> None:
    r = portal.get("/opendata/datasets/hp-07-02-0001/records.csv", token=None)  # 有条件开放
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/conditional-open-dataset") and "有条件开放" in problem["detail"]
    assert "Apply" in problem["detail"] and "区交通委" in problem["detail"]
    for path, kind in (
        ("/opendata/datasets/hp-01-01-0001/records.csv", "open-dataset-not-found"),  # not opened at all
        ("/opendata/datasets/no-such/records.json", "open-dataset-not-found"),
        (f"/opendata/datasets/{CATALOGUE}/records.geojson", "download-format-not-available"),  # no geometry
        (f"/opendata/datasets/{AIR}/records.xlsx", "download-format-not-available"),
        ("/opendata/datasets/hp-16-03-0001/records.csv", "open-dataset-not-found"),  # records not served
    ):
        r = portal.get(path, token=None)
        assert r.status_code == 404 and r.json()["type"].endswith(kind), (path, r.text)
    assert "no geometry" in portal.get(f"/opendata/datasets/{CATALOGUE}/records.geojson", token=None).json()["detail"]


def test_a_download_is_audited_per_page(portal: Api, rt: Runtime) -> None:
    before = datahub.chain_length(rt)
    assert get(portal, f"/opendata/datasets/{AIR}/records.csv")[0] == 200
    assert datahub.chain_length(rt) == before + 2  # the first serve's release check reads too (the gate)
    assert get(portal, f"/opendata/datasets/{AIR}/records.csv")[0] == 200
    assert datahub.chain_length(rt) == before + 3  # then one page, one record


def test_each_download_counts_as_the_datasets_usage(portal: Api) -> None:
    def downloads() -> int:
        page = portal.get(f"/opendata/datasets/{AIR}.json", token=None, headers={"X-Cityos-Portal": "page"})
        return int(page.json()["usage"]["totals"]["download"])

    before = downloads()
    for fmt in ("csv", "json", "parquet"):
        assert get(portal, f"/opendata/datasets/{AIR}/records.{fmt}")[0] == 200
    assert get(portal, f"/opendata/datasets/{AIR}/records.xlsx")[0] == 404  # a refusal is no download
    assert downloads() == before + 3


COLUMNS = (Column("n", "numeric", "数"), Column("名称", "text", "名称"), Column("geo", "json", "位置"))


def many_pages(count: int, size: int) -> list[list[dict[str, object]]]:
    point = {"type": "Point", "coordinates": [121.0, 31.0]}
    rows = [{"n": i, "名称": f"第{i}行,“引号”\n换行", "geo": point, "extra": "left out"} for i in range(count)]
    return [rows[i : i + size] for i in range(0, count, size)] + [[]]


def test_the_encoders_over_many_pages_agree_with_the_records() -> None:
    pages = many_pages(2500, 1000)
    chunks = list(csv_stream(COLUMNS, pages))
    assert len(chunks) == 4  # one per page (the last, empty page writes nothing more)
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"), newline="")))
    assert rows[0] == ["n", "名称", "geo"] and len(rows) == 2501 and rows[2500][1] == "第2499行,“引号”\n换行"
    records = json.loads(b"".join(json_stream(COLUMNS, pages)))
    assert len(records) == 2500 and records[7] == {"n": 7, "名称": "第7行,“引号”\n换行", "geo": pages[0][0]["geo"]}
    fc = json.loads(b"".join(geojson_stream(COLUMNS, pages)))
    assert len(fc["features"]) == 2500 and fc["features"][3]["properties"] == {"n": 3, "名称": "第3行,“引号”\n换行"}
    table = pq.read_table(io.BytesIO(b"".join(parquet_stream(COLUMNS, pages))))
    assert table.num_rows == 2500 and table.column("n").to_pylist()[-1] == 2499.0
    assert pq.ParquetFile(io.BytesIO(b"".join(parquet_stream(COLUMNS, pages)))).metadata.num_row_groups == 3
    assert json.loads(b"".join(json_stream(COLUMNS, [[]]))) == []
    assert pq.read_table(io.BytesIO(b"".join(parquet_stream(COLUMNS, [])))).num_rows == 0
