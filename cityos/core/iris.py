"""Identifiers as IRIs (RFC 3987): which characters an id or a name may hold, and how an IRI is written
where only ASCII may go (an HTTP header such as ``Location``).

Ids and names may hold any character an IRI holds, Chinese included, but no control character: C0
(U+0000 to U+001F), DEL and C1 (U+007F to U+009F) are outside every IRI production, and PostgreSQL
cannot store U+0000 at all.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from pydantic import AfterValidator

CONTROLS = "\x00-\x1f\x7f-\x9f"
_CONTROL = re.compile(f"[{CONTROLS}]")
# RFC 3986 pchar without "%": what a path segment holds as it is. Everything else (non-ASCII as its
# UTF-8 octets, "/", "?", "#", "%", spaces) is percent-encoded, so that the segment decodes back to the id.
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"


def control_character(text: str) -> str | None:
    """The first control character in ``text``, described for a person (``U+0000 at position 4``),
    or None when there is none.

    >>> control_character("urn:ngsi-ld:A:a\\x00b")
    'U+0000 at position 15'
    """
    found = _CONTROL.search(text)
    return None if found is None else f"U+{ord(found.group()):04X} at position {found.start()}"


def no_control_characters(text: str) -> str:
    """``text`` as it is; ValueError when it holds a control character (a pydantic validator)."""
    where = control_character(text)
    if where is not None:
        raise ValueError(f"holds the control character {where}: ids and names may not hold control characters")
    return text


def uri_segment(iri: str) -> str:
    """An IRI written as one URI path segment: each non-ASCII character as its percent-encoded UTF-8
    octets (RFC 3987 section 3.1), and the characters that would end or split a segment percent-encoded
    as well, so that a server decoding the path gets ``iri`` back.

    >>> uri_segment("urn:ngsi-ld:Street:南京路")
    'urn:ngsi-ld:Street:%E5%8D%97%E4%BA%AC%E8%B7%AF'
    """
    return quote(iri, safe=_SEGMENT_SAFE)


def where_nul(value: Any) -> str | None:
    """Where a JSON value holds U+0000 first, in a string or a member name (PostgreSQL stores none): the
    path (``reporter.name``; ``""`` for the value itself, ``the name 'a.b'`` for a member name), or None."""
    todo: list[tuple[str, Any]] = [("", value)]
    while todo:
        path, v = todo.pop(0)
        if isinstance(v, str) and "\x00" in v:
            return path
        items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
        for key, item in items:
            name = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return f"the name {name!r}"
            todo.append((name, item))
    return None


def holds_nul(value: Any) -> bool:
    """Whether a JSON value holds U+0000 in a string or a member name anywhere (PostgreSQL stores none). JSON
    writes U+0000 as the escape ``\\u0000`` only: a value whose JSON text lacks it holds none (the walk is asked
    only when it is there, as a backslash written before ``u0000`` also shows it, or when the value is not JSON)."""
    if isinstance(value, str):
        return "\x00" in value
    try:
        text = orjson.dumps(value)
    except TypeError:
        return where_nul(value) is not None
    return b"\\u0000" in text and where_nul(value) is not None


def no_nul(text: str) -> str:
    """``text`` as it is; ValueError when it holds U+0000 (a pydantic validator for free text)."""
    if "\x00" in text:
        raise ValueError(f"holds the character U+0000 at position {text.index(chr(0))}, which cannot be stored")
    return text


# A name or id from a request that is stored or looked up as it is: any text but control characters.
Name = Annotated[str, AfterValidator(no_control_characters)]
# Free text from a request (comments, descriptions): line breaks and tabs are welcome, U+0000 is not.
Text = Annotated[str, AfterValidator(no_nul)]
