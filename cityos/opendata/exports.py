"""An open dataset's records as files, streamed: pure encoders from an iterator of pages of records (each a
list of keyValues dicts) to an iterator of bytes, one chunk per page, so that a download of a million rows
holds one page at a time. The columns are the dataset's open items (:class:`~cityos.opendata.models.Column`),
in their order; whatever else a record holds is left out, as datastore_search leaves it out.

- CSV: UTF-8 with a byte order mark (Excel reads the BOM as "this is UTF-8" and shows Chinese intact), a
  header of the items' names, objects and lists as their JSON text.
- JSON: one array of objects (Datasette's ``_shape=array``).
- GeoJSON: a FeatureCollection, the geometry item as each feature's geometry, the others as properties.
- Parquet: one row group per page; numbers as doubles, geometry and other objects as JSON text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from cityos.opendata.models import Column

Page = list[dict[str, Any]]
BOM = "\ufeff"


@dataclass(frozen=True)
class Format:
    """A download format: its file extension, media type, and its EU file-type code (DCAT-AP's dct:format)."""

    ext: str
    media_type: str
    eu: str
    title: str
    geometry: bool = False  # only for a dataset that has a geometry item


FORMATS = {
    f.ext: f
    for f in (
        Format("csv", "text/csv", "CSV", "CSV (UTF-8, BOM)"),
        Format("json", "application/json", "JSON", "JSON"),
        Format("geojson", "application/geo+json", "GEOJSON", "GeoJSON", geometry=True),
        Format("parquet", "application/vnd.apache.parquet", "PARQUET", "Parquet"),
    )
}


def geometry_of(columns: tuple[Column, ...]) -> Column | None:
    """The dataset's geometry item: its first item of the kind geo (a JSON column in the datastore)."""
    return next((c for c in columns if c.type == "json"), None)


def _rows(columns: tuple[Column, ...], page: Page) -> list[list[Any]]:
    """A page as CSV rows: each item's value (None writes as empty), objects and lists as their JSON text.
    Only the items that may hold objects (geometry, JSON) are looked at twice: this is the hot loop of a
    million-row download."""
    names = [c.id for c in columns]
    objects = [i for i, c in enumerate(columns) if c.type == "json"]
    rows = []
    for record in page:
        row = list(map(record.get, names))
        for i in objects:
            value = row[i]
            if isinstance(value, (dict, list)):
                row[i] = orjson.dumps(value).decode()
        rows.append(row)
    return rows


def csv_stream(columns: tuple[Column, ...], pages: Iterable[Page]) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180's line ends, which Excel expects
    out.write(BOM)
    writer.writerow([c.id for c in columns])
    for page in pages:
        writer.writerows(_rows(columns, page))
        yield out.getvalue().encode("utf-8")
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue().encode("utf-8")


def json_stream(columns: tuple[Column, ...], pages: Iterable[Page]) -> Iterator[bytes]:
    names = [c.id for c in columns]
    first = True
    yield b"["
    for page in pages:
        if not page:
            continue
        body = b",".join(orjson.dumps({n: r.get(n) for n in names}) for r in page)
        yield body if first else b"," + body
        first = False
    yield b"]"


def _feature(record: dict[str, Any], geometry: str, names: list[str]) -> bytes:
    geo = record.get(geometry)
    return orjson.dumps({
        "type": "Feature",
        "geometry": geo if isinstance(geo, dict) and "type" in geo else None,
        "properties": {n: record.get(n) for n in names},
    })  # fmt: skip


def geojson_stream(columns: tuple[Column, ...], pages: Iterable[Page]) -> Iterator[bytes]:
    """A FeatureCollection; ValueError for columns without a geometry item (the caller checks first)."""
    geometry = geometry_of(columns)
    if geometry is None:
        raise ValueError("no geometry item: GeoJSON needs one")
    names = [c.id for c in columns if c is not geometry]
    first = True
    yield b'{"type":"FeatureCollection","features":['
    for page in pages:
        if not page:
            continue
        body = b",".join(_feature(r, geometry.id, names) for r in page)
        yield body if first else b"," + body
        first = False
    yield b"]}"


class _Sink:
    """A write-only file for pyarrow that hands out what was written since the last drain; ``tell`` counts
    every byte written, as Parquet's footer records the offsets of the row groups."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.written = 0
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def drain(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return str(value)


def parquet_stream(columns: tuple[Column, ...], pages: Iterable[Page]) -> Iterator[bytes]:
    """Parquet, one row group per page: a numeric item as double (a value that is not a number: null), the
    others as text (objects and lists as their JSON)."""
    import pyarrow as pa  # imported here: only the Parquet downloads need it
    import pyarrow.parquet as pq

    numeric = {c.id for c in columns if c.type == "numeric"}
    schema = pa.schema(
        [pa.field(c.id, pa.float64() if c.id in numeric else pa.string(), metadata={"label": c.label}) for c in columns]
    )
    sink = _Sink()
    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema) as writer:
        for page in pages:
            if not page:
                continue
            arrays = [
                pa.array(
                    [(_number if c.id in numeric else _text)(r.get(c.id)) for r in page], type=schema.field(c.id).type
                )
                for c in columns
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            yield sink.drain()
    yield sink.drain()


ENCODERS = {"csv": csv_stream, "json": json_stream, "geojson": geojson_stream, "parquet": parquet_stream}
