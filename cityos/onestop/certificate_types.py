"""The e-certificate types cityos issues (data: ``data/certificate_types.yaml``), each mapped to the national
e-certificate catalogue's certificate name, with the claims its credentialSubject carries. From them: the check
of a credential's claims, the JSON Schema served at its ``credentialSchema`` URL, and the JSON-LD context of
the certificate terms. Pure, besides reading the shipped file once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Literal

from cityos.core.yamltext import parse_yaml

ClaimType = Literal["string", "date", "integer", "number", "boolean"]
CLAIM_TYPES = ("string", "date", "integer", "number", "boolean")
_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
MAX_CLAIM = 2000  # characters of one string claim
V2_TERMS = frozenset({"id", "type", "name", "description"})


@dataclass(frozen=True)
class Claim:
    name: str
    label: str
    type: ClaimType
    required: bool = True


@dataclass(frozen=True)
class CertificateType:
    code: str  # the credential's type term, e.g. BusinessLicence
    name: str  # zh-CN
    name_en: str
    catalogue_name: str  # the national catalogue's certificate name (证照名称)
    catalogue_code: str | None  # the catalogue's type code (证照类型代码), when the city has filled it in
    subject: Literal["person", "enterprise"]
    department: str  # the issuing department's principal name
    office: str  # its name on the credential
    valid_years: int | None
    claims: tuple[Claim, ...]


def _claim(where: str, raw: dict[str, Any]) -> Claim:
    name, kind = raw.get("name"), raw.get("type", "string")
    if not isinstance(name, str) or not _TERM.fullmatch(name) or name in ("id", "type"):
        raise ValueError(f"{where}: a claim's name is a term of letters and digits (not id or type), not {name!r}")
    if kind not in CLAIM_TYPES:
        raise ValueError(f"{where}.{name}: type is one of {', '.join(CLAIM_TYPES)}, not {kind!r}")
    return Claim(name, str(raw.get("label", name)), kind, bool(raw.get("required", True)))


def parse(text: str, source: str = "certificate_types.yaml") -> dict[str, CertificateType]:
    """The types of a catalogue file by code; ValueError naming the file, the entry and the field."""
    found: dict[str, CertificateType] = {}
    for n, raw in enumerate((parse_yaml(text) or {}).get("types") or []):
        code = raw.get("code") if isinstance(raw, dict) else None
        where = f"{source}: types[{n}]" + (f" ({code})" if code else "")
        if not isinstance(code, str) or not _TERM.fullmatch(code) or code in found:
            raise ValueError(f"{where}: code is a new term of letters and digits")
        if raw.get("subject") not in ("person", "enterprise"):
            raise ValueError(f"{where}: subject is person or enterprise")
        missing = [k for k in ("name", "name_en", "catalogue_name", "department", "office") if not raw.get(k)]
        if missing:
            raise ValueError(f"{where}: {missing[0]} is missing")
        claims = tuple(_claim(where, c) for c in raw.get("claims") or [])
        found[code] = CertificateType(code, raw["name"], raw["name_en"], raw["catalogue_name"],
                                      raw.get("catalogue_code"), raw["subject"], raw["department"], raw["office"],
                                      raw.get("valid_years"), claims)  # fmt: skip
    return found


@cache
def catalogue() -> dict[str, CertificateType]:
    """The shipped types, by code."""
    text = resources.files("cityos.onestop").joinpath("data/certificate_types.yaml").read_text("utf-8")
    return parse(text)


def _value_problem(claim: Claim, value: object) -> str | None:
    if claim.type == "string":
        ok = isinstance(value, str) and 0 < len(value.strip()) <= MAX_CLAIM
        return None if ok else f"is text of 1 to {MAX_CLAIM} characters"
    if claim.type == "date":
        try:
            date.fromisoformat(value if isinstance(value, str) else "")
        except ValueError:
            return "is a date, YYYY-MM-DD"
        return None
    if claim.type == "integer":
        return None if isinstance(value, int) and not isinstance(value, bool) else "is an integer"
    if claim.type == "number":
        return None if isinstance(value, int | float) and not isinstance(value, bool) else "is a number"
    return None if isinstance(value, bool) else "is true or false"


def claims_problem(kind: CertificateType, claims: dict[str, Any]) -> tuple[str, str] | None:
    """The first claim that is missing, unknown or of the wrong type: (field, what it should be)."""
    known = {c.name: c for c in kind.claims}
    for name in claims:
        if name not in known:
            return name, f"is not a claim of {kind.code} ({kind.name}): its claims are {', '.join(known)}"
    for claim in kind.claims:
        if claim.name not in claims or claims[claim.name] is None:
            if claim.required:
                return claim.name, f"is required ({claim.label})"
            continue
        problem = _value_problem(claim, claims[claim.name])
        if problem:
            return claim.name, f"{problem} ({claim.label})"
    return None


def schema_url(base_url: str, code: str) -> str:
    return f"{base_url}/onestop/schemas/{code}.json"


def context_url(base_url: str) -> str:
    return f"{base_url}/onestop/contexts/certificates.jsonld"


def _claim_schema(claim: Claim) -> dict[str, Any]:
    if claim.type == "date":
        return {"type": "string", "format": "date", "title": claim.label}
    return {"type": claim.type, "title": claim.label}


def json_schema(kind: CertificateType, base_url: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a credential of the type: its types, issuer and subject's claims."""
    subject = {"type": "object", "properties": {"id": {"type": "string"}, **{c.name: _claim_schema(c)
               for c in kind.claims}}, "required": ["id", *[c.name for c in kind.claims if c.required]]}  # fmt: skip
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_url(base_url, kind.code),
        "title": f"{kind.name} ({kind.name_en})",
        "description": f"全国电子证照目录: {kind.catalogue_name}"
        + (f" ({kind.catalogue_code})" if kind.catalogue_code else ""),
        "type": "object",
        "properties": {
            "type": {"type": "array", "contains": {"const": kind.code}},
            "issuer": {"type": "object", "required": ["id", "name"]},
            "validFrom": {"type": "string", "format": "date-time"},
            "credentialSubject": subject,
        },
        "required": ["@context", "type", "issuer", "validFrom", "credentialSubject", "credentialStatus", "proof"],
    }


def context(base_url: str) -> dict[str, Any]:
    """The JSON-LD context of the certificate terms: each type and claim a term of the city's vocabulary."""
    vocab = f"{base_url}/onestop/vocab#"
    terms: dict[str, Any] = {"@protected": True}
    for kind in catalogue().values():
        terms[kind.code] = {"@id": vocab + kind.code}
        for claim in kind.claims:
            if claim.name not in V2_TERMS:  # a protected term of credentials/v2 may not be defined again
                terms.setdefault(claim.name, {"@id": vocab + claim.name})
    return {"@context": {"@version": 1.1, **terms}}
