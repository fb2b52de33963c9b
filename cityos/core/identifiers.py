"""Checks of the identifiers Chinese registries hold, as pure functions: each returns None for a valid value,
or a reason a person can act on ("check digit should be 7, found 3").

* the citizen ID number (公民身份号码, GB 11643-1999): a 6-digit region code, the birth date ``YYYYMMDD``, a
  3-digit sequence (odd for men, even for women) and a check character by ISO 7064 MOD 11-2 (``0-9`` or
  ``X`` for ten);
* the unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from the 31 digits and
  capitals without I, O, Z, S and V: a registration authority, an organisation type, a 6-digit region
  code, a 9-character organisation code and a check character by a weighted MOD 31;
* mainland mobile numbers: 11 digits starting 13-19;
* calendar dates written ``YYYY-MM-DD``.

The check characters are computed here too, so that generators of test and demo data make valid values.
"""

from __future__ import annotations

import re
from datetime import date
from operator import mul

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17-i) mod 11, GB 11643-1999
ID_CHECK = "10X98765432"  # the check character by (weighted sum mod 11)
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^i mod 31, GB 32100-2015
# The province-level prefixes of region codes (GB/T 2260), and 71/81/82 for Taiwan, Hong Kong and Macao.
PROVINCES = frozenset(
    (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
     50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82)
)  # fmt: skip
EARLIEST_BIRTH = date(1900, 1, 1)

_PROVINCE_TEXT = frozenset(str(p) for p in PROVINCES)
_ID_ZERO = ord("0") * sum(ID_WEIGHTS)
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_CREDIT_VALUE = {c: i for i, c in enumerate(CREDIT_CHARSET)}
_CREDIT_SHAPE = re.compile(f"[{CREDIT_CHARSET}]{{18}}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def id_check_character(first17: str) -> str:
    """The GB 11643 check character of an ID number's first 17 digits."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def credit_check_character(first17: str) -> str:
    """The GB 32100 check character of a unified social credit code's first 17 characters."""
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def _date_problem(year: int, month: int, day: int, what: str) -> str | None:
    try:
        date(year, month, day)
    except ValueError:
        return f"{what} {year:04d}-{month:02d}-{day:02d} is not a calendar date"
    return None


def id_card_problem(value: str, today: date | None = None) -> str | None:
    """Why ``value`` is not a valid 18-character citizen ID number, or None. A birth date after ``today``
    (when given) or before 1900 is refused."""
    if len(value) != 18:
        return f"an ID number has 18 characters, found {len(value)}"
    if not _ID_SHAPE.fullmatch(value):
        where = next(i for i, c in enumerate(value) if not (c.isdigit() and c.isascii()) or i == 17)
        return f"an ID number has 17 digits then a digit or X; character {where + 1} is {value[where]!r}"
    if value[:2] not in _PROVINCE_TEXT:
        return f"region code {value[:6]} does not start with a province code ({value[:2]} is none)"
    year, month, day = int(value[6:10]), int(value[10:12]), int(value[12:14])
    try:
        born = date(year, month, day)
    except ValueError:
        return f"birth date {value[6:10]}-{value[10:12]}-{value[12:14]} is not a calendar date"
    if born < EARLIEST_BIRTH or (today is not None and born > today):
        return f"birth date {born.isoformat()} is out of range"
    # The weighted sum over the ASCII codes, less what the code of '0' adds: the fastest form in Python.
    expected = ID_CHECK[(sum(map(mul, value.encode(), ID_WEIGHTS)) - _ID_ZERO) % 11]
    if value[17] != expected:
        return f"check digit should be {expected}, found {value[17]}"
    return None


def id_card_birth(value: str) -> str:
    """The birth date an ID number states, ``YYYY-MM-DD`` (the number is assumed valid)."""
    return f"{value[6:10]}-{value[10:12]}-{value[12:14]}"


def id_card_male(value: str) -> bool:
    """Whether an ID number's sequence states a man (odd) (the number is assumed valid)."""
    return int(value[16]) % 2 == 1


def credit_code_problem(value: str) -> str | None:
    """Why ``value`` is not a valid unified social credit code, or None."""
    if len(value) != 18:
        return f"a unified social credit code has 18 characters, found {len(value)}"
    if not _CREDIT_SHAPE.fullmatch(value):
        where = next(i for i, c in enumerate(value) if c not in _CREDIT_VALUE)
        return (
            f"character {where + 1} is {value[where]!r}; a unified social credit code uses digits and capitals"
            " without I, O, Z, S, V"
        )
    if not value[2:8].isdigit():
        return f"region code (characters 3-8) should be 6 digits, found {value[2:8]}"
    expected = credit_check_character(value[:17])
    if value[17] != expected:
        return f"check character should be {expected}, found {value[17]}"
    return None


def mobile_problem(value: str) -> str | None:
    """Why ``value`` is not a mainland mobile number written as 11 digits, or None."""
    if _MOBILE.fullmatch(value):
        return None
    if not (value.isdigit() and value.isascii()):
        return f"a mobile number is 11 digits only, found {value!r}"
    if len(value) != 11:
        return f"a mobile number has 11 digits, found {len(value)}"
    return f"a mobile number starts with 13 to 19, found {value[:2]}"


def date_problem(value: str) -> str | None:
    """Why ``value`` is not a calendar date written ``YYYY-MM-DD``, or None."""
    m = _DATE.fullmatch(value)
    if not m:
        return f"a date is written YYYY-MM-DD, found {value!r}"
    return _date_problem(int(m[1]), int(m[2]), int(m[3]), "date")
