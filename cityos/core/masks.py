"""Masks of one personal value, shared by the public view of cases (masks found in free text) and the data
resource system (masks by a data item's kind). Pure functions over strings."""

from __future__ import annotations

import re
from collections.abc import Callable

FULL = "***"  # what a value becomes when nothing of it may show
_NOT_DIGIT = re.compile(r"\D")


def keep(head: int, tail: int) -> Callable[[str], str]:
    """A mask that keeps ``head`` characters at the start and ``tail`` at the end, and stars the rest."""

    def mask(value: str) -> str:
        hidden = max(len(value) - head - tail, 1)
        return value[:head] + "*" * hidden + (value[-tail:] if tail else "")

    return mask


def mobile_digits(value: str) -> str:
    """The last eleven digits of a mainland mobile number written with +86, spaces, dots or dashes."""
    return _NOT_DIGIT.sub("", value)[-11:]


def mask_mobile(value: str) -> str:
    """A mainland mobile number kept to its first three and last four digits: ``138****5678``."""
    digits = mobile_digits(value)
    return digits[:3] + "****" + digits[-4:]


def mask_email(value: str) -> str:
    """An e-mail address kept to the first character of its local part and its domain: ``w***@example.org``."""
    local, _, domain = value.partition("@")
    return local[:1] + "***@" + domain
