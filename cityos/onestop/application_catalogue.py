"""Where the applications' routes find what is submitted: a resolver of a bundle's or an item's code and the
merged form's answers into the bundle (or item) and the items that apply, installed in the runtime.

The service items and bundles (``items.py``) and the merged form (``forms.py``: ``validate_answers``,
``applicable_items``) install theirs; :func:`static_catalogue` serves fixed objects (tests, benches, a city's
own list)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol

from cityos.errors import NotFound
from cityos.onestop.application_errors import NoServiceCatalogue
from cityos.onestop.models import Bundle, ServiceItem
from cityos.runtime import Runtime

TargetKind = Literal["bundle", "item"]


class Resolver(Protocol):
    def __call__(self, kind: TargetKind, code: str,
                 answers: Mapping[str, Any]) -> tuple[Bundle | ServiceItem, Sequence[ServiceItem]]:  # fmt: skip
        """The bundle (or item) named, and the items that apply to ``answers``; a declared error (400 naming
        the field, 404 for an unknown code) otherwise."""
        ...


class Catalogues:
    """The resolver this runtime's routes use (a part of the runtime)."""

    def __init__(self) -> None:
        self.resolver: Resolver | None = None


def install_catalogue(rt: Runtime, resolver: Resolver | None) -> None:
    """Resolve submissions with ``resolver`` in this runtime from now on (None: none installed)."""
    rt.parts.get(Catalogues, Catalogues).resolver = resolver


def resolve(rt: Runtime, kind: TargetKind, code: str,
            answers: Mapping[str, Any]) -> tuple[Bundle | ServiceItem, Sequence[ServiceItem]]:  # fmt: skip
    found = rt.parts.find(Catalogues)
    if found is None or found.resolver is None:
        raise NoServiceCatalogue("no service catalogue is installed in this process: the one-stop items component "
                                 "installs it (cityos.onestop.install_catalogue)")  # fmt: skip
    return found.resolver(kind, code, answers)


Applicable = Callable[[Bundle, Mapping[str, Any]], Iterable[str]]


def static_catalogue(items: Iterable[ServiceItem], bundles: Iterable[Bundle] = (), *,
                     applicable: Applicable | None = None) -> Resolver:  # fmt: skip
    """A resolver over fixed items and bundles; ``applicable`` names a bundle's item codes that apply to the
    answers (None: those with no condition)."""
    by_item = {i.code: i for i in items}
    by_bundle = {b.code: b for b in bundles}

    def resolver(kind: TargetKind, code: str,
                 answers: Mapping[str, Any]) -> tuple[Bundle | ServiceItem, Sequence[ServiceItem]]:  # fmt: skip
        if kind == "item":
            if code not in by_item:
                raise NotFound(f"there is no service item {code!r}")
            return by_item[code], [by_item[code]]
        if code not in by_bundle:
            raise NotFound(f"there is no bundle {code!r}")
        bundle = by_bundle[code]
        codes = (list(applicable(bundle, answers)) if applicable is not None
                 else [b.item for b in bundle.items if b.applies_when is None])  # fmt: skip
        return bundle, [by_item[c] for c in codes if c in by_item]

    return resolver
