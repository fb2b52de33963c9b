"""The demo catalogue's open entries as packages, for the tests of the mapping and the search."""

from __future__ import annotations

from cityos.datahub import CatalogueEntry, load_scale, read_catalogue
from cityos.opendata import Package, to_package
from cityos.opendata.mapping import is_open
from cityos.opendata.vocab import licenses, themes

UPDATED = "2026-03-01T08:00:00.000Z"


def demo_entries() -> list[CatalogueEntry]:
    return read_catalogue().entries


def package_of(entry: CatalogueEntry, updated_at: str = UPDATED) -> Package:
    return to_package(
        entry,
        load_scale(),
        updated_at=updated_at,
        departments=read_catalogue().departments,
        themes=themes(),
        license_id=licenses()[0].id,
    )


def demo_packages() -> list[Package]:
    return [package_of(e) for e in demo_entries() if is_open(e)]
