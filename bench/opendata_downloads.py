"""Benchmark of the open data portal's CSV download. Prints figures; asserts nothing.

1,000,000 records of an air-quality-like dataset (three numbers, a Chinese station name, a GeoJSON point)
streamed through the download path (:func:`cityos.opendata.downloads.pages` over a page reader, then
:func:`cityos.opendata.exports.csv_stream`: keyValues dicts cut to the open items, objects as JSON, the BOM,
one chunk per page) into a sink that counts the bytes. The page reader hands out pages of ready records, as
the data resource system's read does, so what is timed is the download path itself, not the store. Baseline,
in the same run: the same rows written with Python's ``csv`` module from one list of lists to a file
(the null device).

Then the peak memory of the streaming path (tracemalloc) at a tenth of the rows and at all of them: flat
means the two peaks are about the same (one page at a time), whatever the number of rows.

Target (issue 19): CSV streaming of 1,000,000 rows at >= 0.5 of the rate of the csv module from a list.

Run: .venv/bin/python bench/opendata_downloads.py [--rows N] [--page P]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cityos.opendata.downloads import pages
from cityos.opendata.exports import _rows, csv_stream
from cityos.opendata.models import Column

COLUMNS = (
    Column("pm25", "numeric", "PM2.5浓度"),
    Column("no2", "numeric", "二氧化氮浓度"),
    Column("airQualityIndex", "numeric", "空气质量指数"),
    Column("stationName", "text", "监测站名称"),
    Column("location", "json", "监测点位"),
)


def page_of(size: int) -> list[dict[str, Any]]:
    """One page of records as the data hub's keyValues read gives them (with id and type, which the
    download leaves out)."""
    return [
        {
            "id": f"urn:ngsi-ld:AirQualityObserved:hp-aq-{i:04d}",
            "type": "AirQualityObserved",
            "pm25": 10 + i % 90,
            "no2": 1.5 + i % 40,
            "airQualityIndex": 20 + i % 150,
            "stationName": f"黄浦区第{i % 50}监测站（南京东路）",
            "location": {"type": "Point", "coordinates": [121.48 + i / 1e5, 31.23]},
        }
        for i in range(size)
    ]


def streamed(rows: int, page: list[dict[str, Any]]) -> int:
    size = len(page)

    def read(limit: int, offset: int) -> list[dict[str, Any]]:
        return page[: max(0, min(limit, rows - offset))]

    return sum(len(chunk) for chunk in csv_stream(COLUMNS, pages(read, size)))


def baseline(rows: list[list[Any]]) -> int:
    """The rows written with the csv module to a file (the null device: UTF-8, nothing kept)."""
    with open(os.devnull, "w", encoding="utf-8", newline="") as sink:
        writer = csv.writer(sink, lineterminator="\r\n")
        writer.writerow([c.id for c in COLUMNS])
        writer.writerows(rows)
    return len(rows)


def timed(fn: Any, *args: Any) -> tuple[float, int]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def peak(rows: int, page: list[dict[str, Any]]) -> int:
    tracemalloc.start()
    try:
        streamed(rows, page)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--page", type=int, default=1000, help="records per page (CITYOS_MAX_LIMIT's default)")
    parser.add_argument("--runs", type=int, default=3, help="baseline and stream alternately, this many times each")
    args = parser.parse_args()
    page = page_of(args.page)
    one = _rows(COLUMNS, page)  # the same rows, ready for the csv module
    as_list = [one[i % args.page] for i in range(args.rows)]

    bases, streams, ratios = [], [], []
    stream_bytes = 0
    for _ in range(max(1, args.runs)):  # alternately, so that a shared machine's load falls on both alike
        base_s, _ = timed(baseline, as_list)
        stream_s, stream_bytes = timed(streamed, args.rows, page)
        bases.append(base_s)
        streams.append(stream_s)
        ratios.append(base_s / stream_s)
    del as_list
    base_s, stream_s = statistics.median(bases), statistics.median(streams)
    base_rate, stream_rate = args.rows / base_s, args.rows / stream_s
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"rows: {args.rows:,} in pages of {args.page}; medians of {len(bases)} alternate runs; load {load}")
    print(f"csv module from a list : {base_s:6.2f} s  {base_rate:>12,.0f} rows/s")
    print(f"download path (stream) : {stream_s:6.2f} s  {stream_rate:>12,.0f} rows/s  {stream_bytes:,} bytes")
    print(f"ratio (stream / csv module): median {statistics.median(ratios):.2f}, runs "
          f"{', '.join(f'{r:.2f}' for r in ratios)}  (target >= 0.5)")  # fmt: skip
    small, full = peak(args.rows // 10, page), peak(args.rows, page)
    print(f"peak memory of the stream: {small / 1e6:.2f} MB at {args.rows // 10:,} rows, "
          f"{full / 1e6:.2f} MB at {args.rows:,} rows (ratio {full / small:.2f}: flat is about 1)")  # fmt: skip


if __name__ == "__main__":
    main()
