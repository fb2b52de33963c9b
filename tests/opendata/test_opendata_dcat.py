"""DCAT / DCAT-AP metadata of the open datasets (issue 19, item 2), on SQLite and PostgreSQL: a dataset's
JSON-LD and the whole catalogue's parse as RDF (rdflib) with the DCAT-AP fields and the EU vocabularies'
values; the catalogue as Turtle; the declared description's errors."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import Api
from opendata_samples import package_of
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from cityos import datahub
from cityos.opendata.dcat import Period, dataset, parse_portal, portal_description
from cityos.runtime import Runtime

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
EU = "http://publications.europa.eu/resource/authority/"
BASE = "http://testserver"
AIR = "hp-06-01-0001"


@pytest.fixture
def portal(api: Api, rt: Runtime) -> Api:
    datahub.load_catalogue(rt, "default", by="cityos-demo")
    return api


def graph_of(text: str, fmt: str) -> Graph:
    g = Graph()
    g.parse(data=text, format=fmt)
    return g


def test_a_datasets_jsonld_has_the_dcat_ap_fields(portal: Api) -> None:
    r = portal.get(f"/opendata/datasets/{AIR}.jsonld", token=None)
    assert r.status_code == 200 and r.headers["content-type"] == "application/ld+json"
    g = graph_of(r.text, "json-ld")
    ds = URIRef(f"{BASE}/opendata/datasets/{AIR}")
    assert (ds, RDF.type, DCAT.Dataset) in g
    assert g.value(ds, DCT.title) == Literal("空气质量实时监测数据", lang="zh")
    assert "PM2.5" in str(g.value(ds, DCT.description)) or g.value(ds, DCT.description)
    assert g.value(ds, DCT.identifier) == Literal("HP-06-01-0001")
    publisher = g.value(ds, DCT.publisher)
    assert g.value(publisher, FOAF.name) == Literal("区生态环境局", lang="zh")
    assert g.value(g.value(ds, DCAT.contactPoint), VCARD.fn) == Literal("区生态环境局", lang="zh")
    assert Literal("空气质量", lang="zh") in set(g.objects(ds, DCAT.keyword))
    assert g.value(ds, DCAT.theme) == URIRef(f"{EU}data-theme/ENVI")
    assert g.value(g.value(ds, DCT.spatial), SKOS.prefLabel) == Literal("上海市黄浦区", lang="zh")
    assert g.value(ds, DCT.accrualPeriodicity) == URIRef(f"{EU}frequency/UPDATE_CONT")  # real-time
    assert g.value(ds, DCT.accessRights) == URIRef(f"{EU}access-right/PUBLIC")
    assert g.value(ds, DCT.license) == URIRef("https://data.sh.gov.cn")
    assert str(g.value(ds, DCT.issued)).startswith("2024-") and g.value(ds, DCT.modified) is not None
    dists = {str(g.value(d, DCAT.downloadURL)): d for d in g.objects(ds, DCAT.distribution)}
    assert sorted(u.rsplit("/", 1)[1] for u in dists) == [
        "records.csv", "records.geojson", "records.json", "records.parquet"
    ]  # fmt: skip
    csv = dists[f"{BASE}/opendata/datasets/{AIR}/records.csv"]
    assert g.value(csv, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    assert g.value(csv, DCT["format"]) == URIRef(f"{EU}file-type/CSV")
    assert str(g.value(csv, DCAT.accessURL)).startswith(f"{BASE}/api/3/action/datastore_search?resource_id=")
    parquet = dists[f"{BASE}/opendata/datasets/{AIR}/records.parquet"]
    assert portal.get(str(g.value(parquet, DCAT.downloadURL)), token=None).status_code == 200


def test_a_conditional_dataset_is_restricted_and_unknown_names_are_404(portal: Api) -> None:
    g = graph_of(portal.get("/opendata/datasets/hp-07-02-0001.jsonld", token=None).text, "json-ld")
    ds = URIRef(f"{BASE}/opendata/datasets/hp-07-02-0001")
    assert g.value(ds, DCT.accessRights) == URIRef(f"{EU}access-right/RESTRICTED")
    r = portal.get("/opendata/datasets/hp-01-01-0001.jsonld", token=None)  # not opened
    assert r.status_code == 404 and r.json()["type"].endswith("/open-dataset-not-found")


def test_the_catalogue_as_jsonld_and_turtle(portal: Api) -> None:
    names = portal.get("/api/3/action/package_list", token=None).json()["result"]
    r = portal.get("/catalog.jsonld", token=None)
    assert r.status_code == 200
    g = graph_of(r.text, "json-ld")
    cat = URIRef(f"{BASE}/catalog.jsonld")
    assert (cat, RDF.type, DCAT.Catalog) in g
    assert Literal("Huangpu District public open data catalogue", lang="en") in set(g.objects(cat, DCT.title))
    datasets = {str(d).rsplit("/", 1)[1] for d in g.objects(cat, DCAT.dataset)}
    assert datasets == set(names) and len(datasets) >= 30
    cycles = {str(o).rsplit("/", 1)[1] for o in g.objects(None, DCT.accrualPeriodicity)}
    assert {"UPDATE_CONT", "MONTHLY", "ANNUAL", "QUARTERLY"} <= cycles
    ttl = portal.get("/catalog.ttl", token=None)
    assert ttl.status_code == 200 and ttl.headers["content-type"] == "text/turtle; charset=utf-8"
    assert "dcat:Catalog" in ttl.text and "空气质量实时监测数据" in ttl.text
    assert isomorphic(graph_of(ttl.text, "turtle"), g)  # the same graph, whatever its blank nodes' names


def test_temporal_coverage_where_the_description_declares_it() -> None:
    entry = next(e for e in datahub.read_catalogue().entries if e.code == "HP-01-01-0003")
    p = package_of(entry)
    declared = dataclasses.replace(portal_description(), temporal={p.code: Period("2020-01-01", "2025-12-31")})
    node = dataset(p, BASE, None, declared)
    assert node["dct:temporal"]["dcat:startDate"] == {"@value": "2020-01-01", "@type": "xsd:date"}
    assert node["dct:accrualPeriodicity"]["@id"].endswith("/QUARTERLY")
    assert "dct:temporal" not in dataset(p, BASE, None, portal_description())


def test_the_declared_description_names_what_is_wrong() -> None:
    good = {"title": "t", "title_en": "t", "description": "d", "publisher": "p", "spatial": "s", "themes": {}}
    assert parse_portal(good, "dcat.yaml").spatial == "s"
    with pytest.raises(ValueError, match="publisher"):
        parse_portal({**good, "publisher": ""}, "dcat.yaml")
    with pytest.raises(ValueError, match="EU data themes"):
        parse_portal({**good, "themes": {"06": "NATURE"}}, "dcat.yaml")
    with pytest.raises(ValueError, match=r"temporal\.X"):
        parse_portal({**good, "temporal": {"X": {"from": "2020"}}}, "dcat.yaml")
