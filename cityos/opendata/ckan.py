"""The portal's model as CKAN's Action API answers it: package, resource, organisation, group, tag and
licence dicts with the members CKAN clients read. Pure: ``base`` is the server's own URL, which makes the
resources' download URLs absolute."""

from __future__ import annotations

from typing import Any

from cityos.opendata.models import Group, License, Organization, Package, Resource

OPENING_ZH = {"unconditional": "无条件开放", "conditional": "有条件开放"}


def organization_dict(org: Organization, count: int | None = None, *, created: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": org.name, "name": org.name, "title": org.title, "display_name": org.title,
        "description": "", "type": "organization", "is_organization": True, "state": "active",
        "approval_status": "approved", "image_url": "", "image_display_url": "", "created": created,
    }  # fmt: skip
    if count is not None:
        out["package_count"] = count
    return out


def group_dict(group: Group, count: int | None = None, *, created: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": group.name, "name": group.name, "title": group.title, "display_name": group.title,
        "description": f"{group.title} ({group.en})", "type": "group", "is_organization": False, "state": "active",
        "approval_status": "approved", "image_url": "", "image_display_url": "", "created": created,
    }  # fmt: skip
    if count is not None:
        out["package_count"] = count
    return out


def tag_dict(name: str) -> dict[str, Any]:
    return {"id": name, "name": name, "display_name": name, "state": "active", "vocabulary_id": None}


def license_dict(lic: License) -> dict[str, Any]:
    return {
        "id": lic.id, "title": lic.title, "url": lic.url, "od_conformance": lic.od_conformance,
        "osd_conformance": lic.osd_conformance, "family": "", "maintainer": "", "status": "active",
        "domain_content": False, "domain_data": True, "domain_software": False, "is_generic": False,
        "is_okd_compliant": lic.is_open, "is_osi_compliant": False,
    }  # fmt: skip


def resource_dict(p: Package, base: str) -> dict[str, Any]:
    r: Resource = p.resource
    return {
        "id": r.id, "package_id": p.id, "name": r.name, "description": r.description,
        "url": base.rstrip("/") + r.path, "format": r.format, "mimetype": r.mimetype,
        "url_type": "datastore" if p.datastore else None,
        "datastore_active": p.datastore, "position": 0, "state": "active", "created": p.created,
        "last_modified": p.modified, "metadata_modified": p.modified, "size": None, "hash": "",
        "resource_type": None, "cache_url": None, "mimetype_inner": None,
    }  # fmt: skip


def extras(p: Package) -> list[dict[str, str]]:
    pairs = {
        "catalogue_code": p.code,
        "opening_type": p.opening,
        "opening_type_zh": OPENING_ZH.get(p.opening, p.opening),
        "open_conditions": p.open_conditions,
        "update_cycle": p.update_cycle,
        "open_level": p.open_level,
        "open_items": "、".join(c.label for c in p.resource.columns),
        "withheld_items": "、".join(p.withheld),
    }
    if p.conditional:
        pairs["access"] = "有条件开放：记录须经申请获批后凭申请密钥读取 (records need an approved application's key)"
    return [{"key": k, "value": v} for k, v in pairs.items()]


def package_dict(p: Package, base: str, lic: License | None) -> dict[str, Any]:
    """The package as package_show and package_search answer it."""
    org = organization_dict(p.organization)
    return {
        "id": p.id, "name": p.name, "title": p.title, "notes": p.notes, "type": "dataset", "state": "active",
        "private": False, "isopen": bool(lic and lic.is_open), "license_id": p.license_id,
        "license_title": lic.title if lic else p.license_id, "license_url": lic.url if lic else "",
        "version": str(p.version), "url": "", "author": p.organization.title,
        "author_email": None, "maintainer": p.organization.title, "maintainer_email": None,
        "metadata_created": p.created, "metadata_modified": p.modified, "owner_org": p.organization.name,
        "organization": org, "groups": [group_dict(g) for g in p.groups], "tags": [tag_dict(t) for t in p.tags],
        "num_tags": len(p.tags), "resources": [resource_dict(p, base)], "num_resources": 1,
        "extras": extras(p), "relationships_as_object": [], "relationships_as_subject": [],
        "creator_user_id": None,
    }  # fmt: skip
