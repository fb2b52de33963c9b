"""Open311 GeoReport v2 representations: services, service definitions, requests, tokens and errors.

Pure functions, no HTTP and no SQL; the routes call them. Field names, element names and status codes follow the
GeoReport v2 specification (http://wiki.open311.org/GeoReport_v2/):

- A sub-category of the taxonomy is a service; its ``code`` is the ``service_code`` and its main category's name is
  the service ``group``.
- Every service has one optional attribute, ``urgency`` (a ``singlevaluelist``), so ``metadata`` is true and
  clients can exercise service definitions and ``attribute[code]=value`` fields.
- Errors are a list of ``{code, description}``. The HTTP status is 404 for something named that does not exist (an
  unknown ``service_code``, as the spec lists for GET service definition and POST requests), 403 for a missing or
  wrong ``api_key`` (checked by the route) and 400 for everything else. When a POST has several problems all are
  reported at once, in form order (``service_code`` first), and the answer takes the status of the first one.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from cityos.cases.taxonomy import LocalText, Taxonomy
from cityos.cases.workflow import TERMINAL

Lang = Literal["zh", "en"]

LANGS: tuple[str, ...] = ("zh", "en")
DESCRIPTION_MAX = 4000  # the spec's limit for a request's description
STATUSES: tuple[str, ...] = ("open", "closed")
# Workflow states that are over for the citizen; every other state is "open".
CLOSED_STATES = frozenset(str(s) for s in TERMINAL)

_LIST_HINT = "GET services lists the service codes"


class Open311Error(Exception):
    """One GeoReport error: the HTTP ``status``, the ``code`` in the body (the status unless told) and a
    ``description`` meant to be read by the person using the client."""

    def __init__(self, status: int, description: str, code: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.code = status if code is None else code
        self.description = description

    def __repr__(self) -> str:
        return f"Open311Error({self.status}, {self.description!r})"


class Open311Errors(Exception):
    """Every problem found in one request; the answer's status is that of the first."""

    def __init__(self, errors: Sequence[Open311Error]) -> None:
        if not errors:
            raise ValueError("Open311Errors needs at least one error")
        self.errors = list(errors)
        super().__init__("; ".join(e.description for e in self.errors))

    @property
    def status(self) -> int:
        return self.errors[0].status


def errors_body(errs: Sequence[Open311Error]) -> list[dict[str, Any]]:
    """The GeoReport error list: one ``{code, description}`` per error."""
    return [{"code": e.code, "description": e.description} for e in errs]


# --- services -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Choice:
    key: str
    name: LocalText


@dataclass(frozen=True)
class _Attribute:
    code: str
    datatype: str
    required: bool
    order: int
    description: LocalText
    datatype_description: LocalText
    values: tuple[_Choice, ...] = ()


# The one attribute every service offers. Optional, so a client that ignores service definitions can still post.
_ATTRIBUTES: tuple[_Attribute, ...] = (
    _Attribute(
        code="urgency",
        datatype="singlevaluelist",
        required=False,
        order=1,
        description=LocalText(
            zh="是否危及人身安全或需要立即处置？不确定时选“一般”。",
            en="Is anyone in danger, or does this need attention right away? If unsure, choose Normal.",
        ),
        datatype_description=LocalText(zh="从列表中选择一项", en="Choose one value from the list"),
        values=(
            _Choice("normal", LocalText(zh="一般", en="Normal")),
            _Choice("urgent", LocalText(zh="紧急", en="Urgent")),
        ),
    ),
)


def _check_lang(lang: str) -> Lang:
    if lang in LANGS:
        return cast(Lang, lang)
    raise Open311Error(400, f"language {lang!r} is not offered; use one of: {', '.join(LANGS)}")


def _text(text: LocalText, lang: Lang) -> str:
    return text.zh if lang == "zh" else text.en


def service_list(taxonomy: Taxonomy, lang: str = "zh") -> list[dict[str, Any]]:
    """GET services: one service per sub-category, in taxonomy order, with names in ``lang``."""
    lg = _check_lang(lang)
    return [
        {
            "service_code": sub.code,
            "service_name": _text(sub.name, lg),
            "description": _text(sub.description, lg),
            "metadata": bool(_ATTRIBUTES),
            "type": "realtime",  # POST answers with the new case's id at once
            "keywords": ",".join(sub.keywords),
            "group": _text(taxonomy.main(sub.main).name, lg),
        }
        for sub in taxonomy.subs
    ]


def _unknown_code(code: str) -> Open311Error:
    return Open311Error(404, f"service_code {code!r} was not found; {_LIST_HINT}")


def service_definition(taxonomy: Taxonomy, code: str, lang: str = "zh") -> dict[str, Any]:
    """GET services/{code}: the service's attributes; Open311Error 404 for an unknown code."""
    lg = _check_lang(lang)
    if not taxonomy.has_sub(code):
        raise _unknown_code(code)
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": _text(a.datatype_description, lg),
                "order": a.order,
                "description": _text(a.description, lg),
                "values": [{"key": v.key, "name": _text(v.name, lg)} for v in a.values],
            }
            for a in _ATTRIBUTES
        ],
    }


# --- POST requests --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewRequest:
    """A checked POST requests form. ``lon`` is the form's ``long``; empty fields are None, as the spec says an empty
    optional argument means the same as an absent one."""

    service_code: str
    lat: float | None = None
    lon: float | None = None
    address_string: str | None = None
    address_id: str | None = None
    description: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    media_url: str | None = None
    attributes: dict[str, str] = field(default_factory=dict, hash=False)


_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTACT_FIELDS = ("device_id", "account_id", "first_name", "last_name", "phone")


def parse_request(form: Mapping[str, str], taxonomy: Taxonomy) -> NewRequest:
    """Check a POST requests form; raise Open311Errors listing every problem found.

    ``jurisdiction_id`` and ``api_key`` are not looked at (one jurisdiction; the route checks the key), and other
    unknown fields are ignored.
    """
    value = _form_reader(form)
    errors: list[Open311Error] = []

    code = value("service_code")
    if code is None:
        errors.append(Open311Error(400, f"service_code is required; {_LIST_HINT}"))
    elif not taxonomy.has_sub(code):
        errors.append(_unknown_code(code))

    lat, lon = _location(value, errors)
    address_string, address_id = value("address_string"), value("address_id")
    if value("lat") is None and value("long") is None and address_string is None and address_id is None:
        errors.append(
            Open311Error(
                400,
                "a location is required: send lat and long (WGS84 decimal degrees), "
                "or address_string (e.g. street, number, district), or address_id",
            )
        )

    description = value("description")
    if description is not None and len(description) > DESCRIPTION_MAX:
        errors.append(
            Open311Error(
                400, f"description is {len(description)} characters long; shorten it to {DESCRIPTION_MAX} or fewer"
            )
        )

    email = value("email")
    if email is not None and not _EMAIL.match(email):
        errors.append(Open311Error(400, f"email {email!r} is not an email address (name@example.org)"))

    media_url = value("media_url")
    if media_url is not None and not _is_web_url(media_url):
        errors.append(Open311Error(400, f"media_url {media_url!r} must be an http:// or https:// URL"))

    attributes = _attributes(form, errors)

    if errors:
        raise Open311Errors(errors)
    assert code is not None  # a missing code was an error above
    contacts = {name: value(name) for name in _CONTACT_FIELDS}
    return NewRequest(
        service_code=code,
        lat=lat,
        lon=lon,
        address_string=address_string,
        address_id=address_id,
        description=description,
        email=email,
        media_url=media_url,
        attributes=attributes,
        **contacts,
    )


def _form_reader(form: Mapping[str, str]) -> Callable[[str], str | None]:
    def value(name: str) -> str | None:
        raw = form.get(name)
        if raw is None:
            return None
        text = raw.strip()
        return text or None

    return value


def _location(value: Callable[[str], str | None], errors: list[Open311Error]) -> tuple[float | None, float | None]:
    """lat and long as floats when both are given and valid; an error for each problem otherwise."""
    raw_lat, raw_lon = value("lat"), value("long")
    if raw_lat is None and raw_lon is None:
        return None, None
    if raw_lat is None or raw_lon is None:
        missing, given = ("lat", "long") if raw_lat is None else ("long", "lat")
        errors.append(
            Open311Error(
                400,
                f"{given} was sent without {missing}; send both lat and long, or use address_string or address_id",
            )
        )
        return None, None
    lat = _coordinate(raw_lat, "lat", 90.0, errors)
    lon = _coordinate(raw_lon, "long", 180.0, errors)
    if lat is None or lon is None:
        return None, None
    return lat, lon


def _coordinate(raw: str, name: str, limit: float, errors: list[Open311Error]) -> float | None:
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        errors.append(Open311Error(400, f"{name} {raw!r} is not a number; send WGS84 decimal degrees, e.g. 31.2304"))
        return None
    if not -limit <= number <= limit:
        errors.append(Open311Error(400, f"{name} {raw!r} is out of range; it must be between {-limit:g} and {limit:g}"))
        return None
    return number


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _attributes(form: Mapping[str, str], errors: list[Open311Error]) -> dict[str, str]:
    """The ``attribute[code]`` fields, checked against the service definition (the same for every service)."""
    known = {a.code: a for a in _ATTRIBUTES}
    out: dict[str, str] = {}
    for key, raw in form.items():
        if not key.startswith("attribute"):
            continue
        match = _ATTRIBUTE_KEY.match(key)
        if match is None:
            errors.append(Open311Error(400, f"field {key!r} is not of the form attribute[code]=value"))
            continue
        code, many = match.group(1), match.group(2)
        attribute = known.get(code)
        if attribute is None:
            offered = ", ".join(known) or "none"
            errors.append(Open311Error(400, f"attribute {code!r} is not defined; the attributes are: {offered}"))
            continue
        if many and attribute.datatype != "multivaluelist":
            errors.append(Open311Error(400, f"attribute {code!r} takes one value: send attribute[{code}]=value"))
            continue
        text = raw.strip()
        if not text:  # empty means not sent
            continue
        keys = [v.key for v in attribute.values]
        if keys and text not in keys:
            errors.append(Open311Error(400, f"attribute {code!r} cannot be {text!r}; use one of: {', '.join(keys)}"))
            continue
        out[code] = text
    for attribute in _ATTRIBUTES:
        if attribute.required and attribute.code not in out:
            errors.append(Open311Error(400, f"attribute[{attribute.code}] is required for this service"))
    return out


# --- requests -------------------------------------------------------------------------------------------------------


def request_view(case: Mapping[str, Any], taxonomy: Taxonomy, lang: str = "zh") -> dict[str, Any]:
    """A case as a GeoReport request, in the spec's field order.

    ``status_notes`` is the handling result for a closed request when there is one (it says why it was closed),
    else the latest note.
    """
    lg = _check_lang(lang)
    code = case["category"]
    # A retired sub-category must not break listing old cases: fall back to its code as the name.
    service_name = _text(taxonomy.sub(code).name, lg) if taxonomy.has_sub(code) else code
    status = "closed" if case["state"] in CLOSED_STATES else "open"
    notes = case.get("result") if status == "closed" else None
    attachments = case.get("attachments") or []
    return {
        "service_request_id": str(case["id"]),
        "status": status,
        "status_notes": notes or case.get("last_note"),
        "service_name": service_name,
        "service_code": code,
        "description": case.get("text"),
        "agency_responsible": case.get("department"),
        "service_notice": "",
        "requested_datetime": _w3c(case["created_at"]),
        "updated_datetime": _w3c(case["updated_at"]),
        "expected_datetime": _w3c(case.get("due_at")),
        "address": case.get("address"),
        "address_id": None,
        "zipcode": None,
        "lat": case.get("lat"),
        "long": case.get("lon"),
        "media_url": attachments[0] if attachments else None,
    }


def _w3c(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


# --- query parameters -----------------------------------------------------------------------------------------------


def status_filter(value: str | None) -> set[str] | None:
    """The GET requests ``status`` parameter ("open", "closed" or "open,closed"); None when absent (all)."""
    if value is None:
        return None
    wanted = {part.strip().lower() for part in value.split(",") if part.strip()}
    if not wanted:
        return None
    bad = sorted(wanted - set(STATUSES))
    if bad:
        raise Open311Error(
            400, f"status {', '.join(map(repr, bad))} is not known; use open, closed or both (open,closed)"
        )
    return wanted


# The W3C note's full forms, with the time zone the spec makes compulsory.
_W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?P<frac>\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$")


def parse_w3c(value: str, name: str) -> datetime:
    """A W3C date-time parameter (e.g. 2010-01-01T00:00:00Z) as an aware datetime; Open311Error 400 naming the
    parameter otherwise."""
    text = value.strip()
    example = "2010-01-01T00:00:00Z or 2010-01-01T08:00:00+08:00"
    match = _W3C.match(text)
    if match is None:
        hint = ""
        if re.search(r"T[\d:.]+ \d{2}:\d{2}$", text):  # an unescaped '+' in a query string arrives as a space
            hint = "; a '+' in a URL must be sent as %2B"
        raise Open311Error(400, f"{name} {value!r} is not a W3C date-time with a time zone, e.g. {example}{hint}")
    frac = match.group("frac")
    if frac and len(frac) > 7:  # datetime keeps microseconds; drop finer digits rather than refuse them
        text = text.replace(frac, frac[:7], 1)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name} {value!r} is not a real date or time, e.g. {example}") from None


def check_range(start: datetime, end: datetime, max_days: int) -> None:
    """A GET requests date range: ``start_date`` not after ``end_date``, at most ``max_days`` apart; Open311Error
    400 naming both otherwise (an empty answer would hide the mistake)."""
    if start > end:
        raise Open311Error(
            400,
            f"start_date {start.isoformat()} is after end_date {end.isoformat()}: "
            "give the earlier date as start_date (without end_date the range ends now)",
        )
    if end - start > timedelta(days=max_days):
        raise Open311Error(400, f"start_date to end_date may span at most {max_days} days")


# --- XML ------------------------------------------------------------------------------------------------------------

# kind -> (root tag, item tag)
_XML_KINDS: dict[str, tuple[str, str]] = {
    "services": ("services", "service"),
    "service_requests": ("service_requests", "request"),
    "post_response": ("service_requests", "request"),
    "tokens": ("service_requests", "request"),
    "errors": ("errors", "error"),
}
# list field -> tag of each member
_XML_LIST_ITEMS = {"attributes": "attribute", "values": "value"}
# Characters XML 1.0 cannot carry at all; a stray control character in a citizen's text must not break the document.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def to_xml(kind: str, items: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> bytes:
    """The GeoReport XML document for ``items``: UTF-8 with the XML declaration.

    ``kind`` is services, service_definition, service_requests, post_response, tokens or errors. A service
    definition is one mapping (a list holding exactly one is also taken).
    """
    if kind == "service_definition":
        if not isinstance(items, Mapping):
            if len(items) != 1:
                raise ValueError(f"service_definition takes one definition, got {len(items)}")
            items = items[0]
        root = ET.Element("service_definition")
        _fill(root, items)
    else:
        if kind not in _XML_KINDS:
            raise ValueError(f"unknown Open311 XML kind {kind!r}; one of: service_definition, {', '.join(_XML_KINDS)}")
        if isinstance(items, Mapping):
            raise TypeError(f"{kind} takes a list of items")
        root_tag, item_tag = _XML_KINDS[kind]
        root = ET.Element(root_tag)
        for item in items:
            _fill(ET.SubElement(root, item_tag), item)
    # Written by hand: ElementTree's own declaration uses single quotes and lower-case utf-8, the spec shows
    # encoding="UTF-8" and some clients match it literally.
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")


def _fill(element: ET.Element, fields: Mapping[str, Any]) -> None:
    for key, value in fields.items():
        child = ET.SubElement(element, key)
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list | tuple):
            member_tag = _XML_LIST_ITEMS.get(key, "item")
            for member in value:
                if isinstance(member, Mapping):
                    _fill(ET.SubElement(child, member_tag), member)
                else:
                    ET.SubElement(child, member_tag).text = _xml_text(member)
        else:
            child.text = _xml_text(value)


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return _XML_ILLEGAL.sub("", str(value))
