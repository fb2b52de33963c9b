"""DCAT / DCAT-AP metadata of the open datasets (issue 19 item 2), as JSON-LD: pure functions from a package
(and the server's URL, its licence, the portal's declared description in ``dcat.yaml``) to a dcat:Dataset
with its distributions (one per download format), and from all of them to the dcat:Catalog. The controlled
values are the EU vocabularies DCAT-AP names: frequency (dct:accrualPeriodicity), access-right
(dct:accessRights), data-theme (dcat:theme), file-type (dct:format); media types are IANA's.

Turtle is the same graph rendered by rdflib from the JSON-LD (the context is inline, so nothing is fetched).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cityos.core.yamltext import parse_yaml
from cityos.opendata.downloads import download_path, formats_of
from cityos.opendata.models import License, Package

DCAT_PATH = Path(__file__).parent / "dcat.yaml"
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "adms": "http://www.w3.org/ns/adms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
# the catalogue's update cycles -> the EU frequency vocabulary (anything else: UNKNOWN)
FREQUENCY = {
    "real-time": "UPDATE_CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "yearly": "ANNUAL",
    "on-change": "IRREG",
}
ACCESS = {"unconditional": "PUBLIC", "conditional": "RESTRICTED"}
THEMES = ("AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "OP_DATPRO", "REGI", "SOCI",
          "TECH", "TRAN")  # fmt: skip


@dataclass(frozen=True)
class Period:
    start: str | None = None  # ISO dates
    end: str | None = None


@dataclass(frozen=True)
class Portal:
    """What ``dcat.yaml`` declares of the portal as a whole."""

    title: str
    title_en: str
    description: str
    publisher: str
    spatial: str
    themes: Mapping[str, str]  # theme code ("06") -> EU data theme ("ENVI")
    temporal: Mapping[str, Period] = field(default_factory=dict)  # resource code -> its coverage


def parse_portal(data: Any, source: str) -> Portal:
    """The portal's DCAT description; ValueError naming the field of a bad one."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a mapping with title, title_en, description, publisher, spatial, themes")
    for key in ("title", "title_en", "description", "publisher", "spatial"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ValueError(f"{source}: {key} must be non-empty text")
    themes = data.get("themes")
    if not isinstance(themes, dict) or not all(v in THEMES for v in themes.values()):
        raise ValueError(f"{source}: themes maps theme codes to EU data themes, one of {', '.join(THEMES)}")
    temporal: dict[str, Period] = {}
    for code, raw in (data.get("temporal") or {}).items():
        if not isinstance(raw, dict) or not (raw.keys() <= {"start", "end"}) or not raw:
            raise ValueError(f"{source}: temporal.{code} needs start and/or end (ISO dates)")
        temporal[str(code)] = Period(*(str(raw[k]) if raw.get(k) else None for k in ("start", "end")))
    return Portal(
        title=data["title"], title_en=data["title_en"], description=data["description"], publisher=data["publisher"],
        spatial=data["spatial"], themes={str(k): str(v) for k, v in themes.items()}, temporal=temporal,
    )  # fmt: skip


@lru_cache(maxsize=1)
def portal_description() -> Portal:
    return parse_portal(parse_yaml(DCAT_PATH.read_text(encoding="utf-8")), str(DCAT_PATH))


def _zh(text: str) -> dict[str, str]:
    return {"@value": text, "@language": "zh"}


def _date(value: str, kind: str = "dateTime") -> dict[str, str]:
    return {"@value": value, "@type": f"xsd:{kind}"}


def _iri(url: str) -> dict[str, str]:
    return {"@id": url}


def dataset_iri(p: Package, base: str) -> str:
    return f"{base.rstrip('/')}/opendata/datasets/{p.name}"


def _organization(p: Package, base: str) -> str:
    return f"{base.rstrip('/')}/api/3/action/organization_show?id={p.organization.name}"


def _spatial(portal: Portal) -> dict[str, Any]:
    return {"@type": "dct:Location", "skos:prefLabel": _zh(portal.spatial)}


def _temporal(period: Period) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "dct:PeriodOfTime"}
    if period.start:
        out["dcat:startDate"] = _date(period.start, "date")
    if period.end:
        out["dcat:endDate"] = _date(period.end, "date")
    return out


def distributions(p: Package, base: str, lic: License | None) -> list[dict[str, Any]]:
    """One distribution per download format (none while the dataset's records are not served)."""
    if not p.datastore:
        return []
    root = base.rstrip("/")
    api = f"{root}/api/3/action/datastore_search?resource_id={p.resource.id}"
    out = []
    for fmt in formats_of(p):
        dist: dict[str, Any] = {
            "@id": f"{dataset_iri(p, base)}#{fmt.ext}",
            "@type": "dcat:Distribution",
            "dct:title": _zh(f"{p.title}（{fmt.title}）"),
            "dcat:accessURL": _iri(api),
            "dcat:downloadURL": _iri(root + download_path(p, fmt)),
            "dcat:mediaType": _iri(IANA + fmt.media_type),
            "dct:format": _iri(f"{EU}file-type/{fmt.eu}"),
            "dct:accessRights": _iri(f"{EU}access-right/{ACCESS.get(p.opening, 'RESTRICTED')}"),
            "dct:modified": _date(p.modified),
        }
        if lic is not None:
            dist["dct:license"] = _iri(lic.url)
        out.append(dist)
    return out


def dataset(p: Package, base: str, lic: License | None, portal: Portal) -> dict[str, Any]:
    """The dcat:Dataset of a package (without @context: :func:`document` adds it)."""
    theme = portal.themes.get(p.groups[0].code) if p.groups else None
    out: dict[str, Any] = {
        "@id": dataset_iri(p, base),
        "@type": "dcat:Dataset",
        "dct:identifier": p.code,
        "dct:title": _zh(p.title),
        "dct:description": _zh(p.notes or p.title),
        "dct:publisher": {"@id": _organization(p, base), "@type": "foaf:Organization",
                          "foaf:name": _zh(p.organization.title)},
        "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": _zh(p.organization.title),
                              "vcard:hasURL": _iri(_organization(p, base))},
        "dcat:keyword": [_zh(t) for t in p.tags],
        "dcat:theme": [_iri(f"{EU}data-theme/{theme}")] if theme else [],
        "dct:spatial": _spatial(portal),
        "dct:accrualPeriodicity": _iri(f"{EU}frequency/{FREQUENCY.get(p.update_cycle, 'UNKNOWN')}"),
        "dct:accessRights": _iri(f"{EU}access-right/{ACCESS.get(p.opening, 'RESTRICTED')}"),
        "dct:issued": _date(p.created),
        "dct:modified": _date(p.modified),
        "owl:versionInfo": str(p.version),
        "dcat:distribution": distributions(p, base, lic),
    }  # fmt: skip
    if lic is not None:
        out["dct:license"] = _iri(lic.url)
    if p.conditional and p.open_conditions:
        out["adms:note"] = _zh(f"有条件开放：{p.open_conditions}")
    period = portal.temporal.get(p.code)
    if period is not None:
        out["dct:temporal"] = _temporal(period)
    return out


def document(node: dict[str, Any]) -> dict[str, Any]:
    """A JSON-LD document of one node: the context first."""
    return {"@context": CONTEXT, **node}


def catalog(packages: Iterable[Package], base: str, licences: Mapping[str, License], portal: Portal) -> dict[str, Any]:
    """The dcat:Catalog of every open dataset, each in full."""
    root = base.rstrip("/")
    found = list(packages)
    node: dict[str, Any] = {
        "@id": f"{root}/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": [_zh(portal.title), {"@value": portal.title_en, "@language": "en"}],
        "dct:description": _zh(portal.description),
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": _zh(portal.publisher)},
        "dct:language": _iri(f"{EU}language/ZHO"),
        "dct:spatial": _spatial(portal),
        "foaf:homepage": _iri(f"{root}/"),
        "dcat:themeTaxonomy": _iri(f"{EU}data-theme"),
        "dcat:dataset": [dataset(p, base, licences.get(p.license_id), portal) for p in found],
    }
    if found:
        node["dct:modified"] = _date(max(p.modified for p in found))
    return document(node)


def turtle(doc: dict[str, Any]) -> str:
    """The JSON-LD document as Turtle (rdflib parses it and writes it again)."""
    import json

    from rdflib import Graph

    graph = Graph()
    graph.parse(data=json.dumps(doc, ensure_ascii=False), format="json-ld")
    for prefix, ns in CONTEXT.items():
        graph.bind(prefix, ns)
    return graph.serialize(format="turtle")
