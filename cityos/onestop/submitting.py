"""The service catalogue the applications' routes resolve submissions with: a bundle's or an item's code and
the merged form's answers → the bundle (or item) and the latest versions of the items that apply, the answers
checked against the form first (a 400 naming each wrong field)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cityos.onestop.application_catalogue import Resolver, TargetKind
from cityos.onestop.forms import applicable_items, form_for, validate_answers
from cityos.onestop.items import bundle, item, latest_items
from cityos.onestop.models import Bundle, BundleItem, ServiceItem
from cityos.runtime import Runtime


def alone(it: ServiceItem) -> Bundle:
    """A single item applied for on its own, as a bundle of one: its form asks the item's questions."""
    return Bundle(code=it.code, name=it.name, name_en=it.name_en, applicant_kind=it.applicant_kinds[0],
                  items=(BundleItem(it.code),), lead_department=it.department)  # fmt: skip


def catalogue_resolver(rt: Runtime) -> Resolver:
    """A resolver over the runtime's published items and the shipped bundles and questions."""

    def resolve(kind: TargetKind, code: str, answers: Mapping[str, Any]) -> tuple[Bundle | ServiceItem,
                                                                                 Sequence[ServiceItem]]:  # fmt: skip
        if kind == "item":
            it = item(rt, code)
            validate_answers(form_for(alone(it), {it.code: it}), answers)
            return it, [it]
        found = bundle(code)
        current = latest_items(rt, [part.item for part in found.items])
        cleaned = validate_answers(form_for(found, current), answers)
        return found, [current[part.item] for part in applicable_items(found, cleaned)]

    return resolve
