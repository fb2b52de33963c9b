"""The ``collation`` of an ordered query (NGSI-LD v1.9, clause 4.23.3): how strings compare.

Without a collation strings compare by code point (``Zebra`` before ``Ähre``). A collation is a BCP 47
language tag (``und`` for the root collation, ``de``, ``de-u-co-phonebk``); an answer is then ordered in
three levels as the Unicode Collation Algorithm does: first the base letters (accents and case set
aside, so ``á`` ranks with ``a``), then the accents, then the case (small before capital). This is an
approximation of the root collation, without a tailoring table: the one tailoring applied is the German
phone book's (``-u-co-phonebk``: ``ä`` as ``ae``, ``ö`` as ``oe``, ``ü`` as ``ue``). A tag that is not
well formed is BadRequestData, never a silent code-point order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from cityos.context.errors import BadRequestData

# RFC 5646 well-formedness, simplified: a language subtag, then subtags of 1 to 8 letters or digits
_TAG = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")
_UMLAUT = "\u0308"

CollationKey = Callable[[str], Any]


def parse_collation(tag: Any) -> CollationKey | None:
    """The key function of a ``collation`` tag (None: code-point order); BadRequestData for a tag that is not a
    well-formed BCP 47 language tag."""
    if tag is None:
        return None
    if not isinstance(tag, str) or not _TAG.match(tag.strip()):
        raise BadRequestData(
            f"collation {tag!r} is not a BCP 47 language tag: write und (the root collation), de, zh or "
            "de-u-co-phonebk",
            parameter="collation",
        )
    subtags = tag.strip().lower().split("-")
    phonebook = subtags[0] == "de" and "phonebk" in subtags
    return lambda text: _key(text, phonebook)


def _key(text: str, phonebook: bool) -> tuple[str, str, str]:
    base: list[str] = []
    accents: list[str] = []
    case: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if phonebook and ch == _UMLAUT and base and base[-1] in "aou":
                base.append("e")
                continue
            accents.append(ch)
            continue
        folded = ch.casefold()
        base.append(folded)
        accents.append("\x00")  # one slot per letter: an unaccented letter ranks before an accented one
        case.append("1" if ch != folded else "0")  # small before capital
    return ("".join(base), "".join(accents), "".join(case))
