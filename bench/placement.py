"""Benchmark of placing reports (cityos.cases.placing). Prints figures; asserts nothing.

100,000 random points over the demo district's bounding box and a margin (about two fifths of them in no
grid: the river, the margin), placed two ways in one run over the same geometries (10 units, 50 grids, 10 streets):
  - baseline: a plain loop of ``polygon.contains(point)`` over every polygon of each level, unprepared;
  - index: ``PlaceIndex.at`` one point at a time (what a report costs: a lookup grid of cells per level built
    with an STRtree, prepared polygons for the cells on a border, the STRtree for the nearest area);
and the ratio index / baseline in placements per second. Both answers are compared point by point (grid).

Run: .venv/bin/python bench/placement.py [--points N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from shapely.geometry import Point, shape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cityos.cases.placing import PlaceIndex
from cityos.context import core_term_map, parse_entity
from cityos.demo.district import build_district

KINDS = {"ManagementUnit": "unit", "Grid": "grid", "Street": "street"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    entities = [e for e in build_district(sensors=0) if e["type"] in KINDS]
    tm = core_term_map()
    parsed = [parse_entity(e, tm, now="2026-11-21T08:00:00Z") for e in entities]
    index = PlaceIndex((p.id, p.types, p.attrs) for p in parsed)
    # fresh, unprepared polygons for the baseline (the index prepared its own)
    polygons = [(KINDS[e["type"]], e["id"], shape(e["location"]["value"])) for e in entities]
    district = next(e for e in build_district(sensors=0) if e["type"] == "District")
    west, south, east, north = shape(district["location"]["value"]).bounds
    pad_x, pad_y = (east - west) * 0.06, (north - south) * 0.06
    rng = random.Random(args.seed)
    points = [
        (rng.uniform(west - pad_x, east + pad_x), rng.uniform(south - pad_y, north + pad_y)) for _ in range(args.points)
    ]

    t0 = time.perf_counter()
    baseline: list[str | None] = []
    for lon, lat in points:
        p = Point(lon, lat)
        found: dict[str, str] = {}
        for level, pid, poly in polygons:
            if level not in found and poly.contains(p):
                found[level] = pid
        baseline.append(found.get("grid"))
    base_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    placed = [index.at(lon, lat) for lon, lat in points]
    index_s = time.perf_counter() - t0

    agree = sum(1 for b, p in zip(baseline, placed, strict=True) if b is None or b == p.grid)
    inside = sum(1 for b in baseline if b is not None)
    nearest = sum(1 for b, p in zip(baseline, placed, strict=True) if b is None and p.grid is not None)
    base_rate, index_rate = len(points) / base_s, len(points) / index_s
    print(f"points: {len(points):,} ({inside:,} inside a grid; {nearest:,} more placed by the nearest within 30 m)")
    print(f"baseline (polygon.contains over {len(polygons)} polygons): {base_rate:,.0f} placements/s")
    print(f"index (PlaceIndex.at: a lookup grid of cells, STRtree): {index_rate:,.0f} placements/s "
          f"({index_s / len(points) * 1e6:.1f} µs each)")  # fmt: skip
    print(f"ratio index / baseline: {index_rate / base_rate:.1f}x; same grid where the baseline found one: "
          f"{agree:,}/{len(points):,}")  # fmt: skip


if __name__ == "__main__":
    main()
