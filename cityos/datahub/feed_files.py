"""Feed files for the CLI: a CSV with a header row of item names, or JSON (an array of records, or an object
with ``records``); each record with its line in the file (CSV) or its index in the array (JSON)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cityos.datahub.errors import InvalidFeed


@dataclass(frozen=True)
class FeedFile:
    records: list[Any]
    lines: list[int]  # each record's line (CSV: where it ends, the header being line 1) or index (JSON)


def read_feed_file(path: Path) -> FeedFile:
    """The records of a ``.csv`` or ``.json`` file; InvalidFeed for another suffix or a file that is not JSON."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            records: list[Any] = []
            lines: list[int] = []
            for row in reader:
                records.append({k: v for k, v in row.items() if k is not None})
                lines.append(reader.line_num)
        return FeedFile(records, lines)
    if suffix == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidFeed(f"{path}: not JSON ({exc})") from exc
        items = doc.get("records") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise InvalidFeed(f"{path}: a JSON feed is an array of records, or an object with 'records'")
        return FeedFile(items, list(range(len(items))))
    raise InvalidFeed(f"{path}: a feed file is .csv (a header row of item names) or .json")
