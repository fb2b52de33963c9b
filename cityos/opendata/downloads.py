"""Downloads of an open dataset's records (issue 19 item 4), at the URLs its package names
(``/opendata/datasets/{name}/records.{csv,json,geojson,parquet}``): the records the public sees through
datastore_search (only the open items), read page by page from the data resource system at request time
(so a live dataset backed by NGSI-LD entities is as fresh as the data hub), each page encoded and sent
before the next is read (:mod:`cityos.opendata.exports`). Every page read is audited by the data resource
system, as the Action API's reads are.

The first page is read before the answer starts, so that what refuses a download (no such dataset, a
conditional one, records not served) is a problem document, not a broken stream.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from cityos.datahub import read_open_records
from cityos.errors import PROBLEM_BASE, Forbidden, NotFound
from cityos.opendata.applications import check_key, reader_of
from cityos.opendata.exports import ENCODERS, FORMATS, Format, Page, geometry_of
from cityos.opendata.models import Package
from cityos.opendata.service import snapshot
from cityos.opendata.serving import gate
from cityos.opendata.usage import count_use
from cityos.runtime import Runtime

ROUTE = "GET /opendata/datasets/{name}/records.{fmt}"
PageReader = Callable[[int, int], Page]  # (limit, offset) -> a page of records


class OpenDatasetNotFound(NotFound):
    type = PROBLEM_BASE + "open-dataset-not-found"
    title = "No such open dataset"


class FormatNotAvailable(NotFound):
    type = PROBLEM_BASE + "download-format-not-available"
    title = "Format not available"


class ConditionalDataset(Forbidden):
    """A 有条件开放 dataset: its records need an approved application; the detail says how to apply."""

    type = PROBLEM_BASE + "conditional-open-dataset"
    title = "Records open on condition"


@dataclass(frozen=True)
class Download:
    """A download ready to send: its media type, file name and the body's chunks."""

    package: Package
    format: Format
    body: Iterator[bytes]

    @property
    def filename(self) -> str:
        return f"{self.package.name}.{self.format.ext}"


def formats_of(package: Package) -> list[Format]:
    """The formats a dataset is downloaded in: GeoJSON only where it has a geometry item."""
    has_geometry = geometry_of(package.resource.columns) is not None
    return [f for f in FORMATS.values() if has_geometry or not f.geometry]


def download_path(package: Package, fmt: Format) -> str:
    """The path of a download: the package's resource path with the format's extension."""
    return package.resource.path.rsplit(".", 1)[0] + f".{fmt.ext}"


def find_package(rt: Runtime, tenant: str, name: str) -> Package:
    found = snapshot(rt, tenant).package(name)
    if found is None:
        raise OpenDatasetNotFound(
            f"the portal has no open dataset {name!r}: /api/3/action/package_list names them", name=name
        )
    return found


def refuse_conditional(package: Package) -> None:
    if package.conditional:
        raise ConditionalDataset(
            f"{package.name} ({package.title}) is opened on condition (有条件开放): its records are read with the key "
            f"of an approved application to its provider {package.organization.title}. Apply through the portal's "
            "applications for conditional data (开放申请), naming who you are, your purpose and the scenario; its "
            f"conditions: {package.open_conditions or 'see the dataset'}. Its metadata is public: "
            f"/api/3/action/package_show?id={package.name}",
            name=package.name,
        )


def pages(read: PageReader, size: int) -> Iterator[Page]:
    """Pages of ``size`` records until one comes back short."""
    offset = 0
    while True:
        page = read(size, offset)
        yield page
        if len(page) < size:
            return
        offset += len(page)


def _primed(it: Iterator[Page]) -> Iterable[Page]:
    """The pages with the first one read now (its errors raised here, before any byte is sent)."""
    first = next(it, None)
    return it if first is None else itertools.chain([first], it)


def encode(package: Package, fmt: Format, pages_: Iterable[Page]) -> Iterator[bytes]:
    return ENCODERS[fmt.ext](package.resource.columns, pages_)


def download(rt: Runtime, tenant: str, name: str, ext: str, key: str | None = None) -> Download:
    """The download of the open dataset ``name`` in format ``ext``: OpenDatasetNotFound (404), a format it is
    not given in (404), ConditionalDataset (403: how to apply) unless ``key`` is an approved application's for
    it (KeyRefused, 403, saying why not), ReleaseBlocked (403) when the de-identification gate blocked its
    release, or the data resource system's refusals. Every page passes the gate on its way out."""
    package = find_package(rt, tenant, name)
    fmt = next((f for f in formats_of(package) if f.ext == ext), None)
    if fmt is None:
        given = ", ".join(f"records.{f.ext}" for f in formats_of(package))
        why = " (it has no geometry item)" if ext in FORMATS else ""
        raise FormatNotAvailable(f"{name} is not downloaded as {ext!r}{why}; it is given as {given}", name=name)
    reader, grant = None, None
    if package.conditional:
        if key is None:
            refuse_conditional(package)
        app = check_key(rt, tenant, package.name, str(key))
        reader, grant = reader_of(app), f"application:{app.id}"
    if not package.datastore:
        raise OpenDatasetNotFound(
            f"the records of {name} are not served yet (its catalogue entry names no entity types or table that "
            "back it); its metadata is at /api/3/action/package_show",
            name=name,
        )
    items = tuple(c.id for c in package.resource.columns)
    released = gate(rt, tenant, package)

    def read(limit: int, offset: int) -> Page:
        got = read_open_records(rt, tenant, package.code, items, limit=limit, offset=offset, route=ROUTE,
                                reader=reader, grant=grant)  # fmt: skip
        return released(got.records)

    body = encode(package, fmt, _primed(pages(read, rt.settings.max_limit)))
    count_use(rt, tenant, package.name, "download")
    return Download(package, fmt, body)
