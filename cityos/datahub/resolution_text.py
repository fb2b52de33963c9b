"""Normalisers of the values entity resolution compares (pure): Chinese enterprise names and addresses as
departments write them, brought to one form so that variants of one name or address compare equal.

A name loses what does not tell enterprises apart: full-width forms (NFKC), whitespace and punctuation, the
city and district prefixes (上海 / 上海市 / 黄浦区, and ``(上海)`` inside the name), the group marker
(集团) and the organisation form's variants (有限责任公司 / 股份有限公司 → 有限公司). What follows the form is
kept apart as the branch (``…有限公司南京东路分公司``): two branches of one company are two legal entities.

An address loses the city and district prefixes, full-width digits, Chinese numerals before a unit
(一百二十三号 → 123号, 二〇一室 → 201室), the floor before a room (2楼201室 → 201), a room's 室 and the
shorthand ``12弄3-201`` (→ 12弄3号201).

Every normaliser is idempotent: it repeats its steps until nothing changes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_CACHE = 1 << 16  # values normalised per process: the candidates of a run are compared many times
_ROUNDS = 64  # each round only shortens or canonicalises: a fixed point comes in one or two

# brackets unified; ○ (a symbol, dropped with the others) read as 〇 (a numeral)
_BRACKETS = str.maketrans(
    {"【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")", "{": "(", "}": ")", "○": "〇"}
)
_PREFIXES = ("中华人民共和国", "中国", "上海市", "上海", "黄浦区")
_REGION_IN_NAME = re.compile(r"\((?:中国|上海市?|黄浦区?)\)")
_FORMS = re.compile(r"(?:\(?集团\)?)?(?:有限责任公司|股份有限公司|有限公司)")
_FORM = "有限公司"
_BRANCH = re.compile(r"(?:分公司|分店|营业部|办事处|分部|门店|店)$")


def _clean(text: str, keep: str = "()") -> str:
    """NFKC (full-width to half-width), lower case, brackets unified; whitespace and punctuation dropped
    except the characters in ``keep``."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_BRACKETS)
    kept = "".join(c for c in text if c in keep or not (c.isspace() or unicodedata.category(c)[0] in "PSZC"))
    # dropping a space can leave a combining mark beside a letter (NFKC reads ´ as space + U+0301): compose
    return unicodedata.normalize("NFKC", kept)


def _strip_prefixes(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                text, changed = text[len(prefix) :], True
    return text


@dataclass(frozen=True)
class NameParts:
    """A normalised enterprise name: the core (the trade name and line of business), the organisation form
    (有限公司 or empty) and the branch (what follows the form, e.g. 南京东路分公司, or empty)."""

    core: str
    form: str
    branch: str

    @property
    def text(self) -> str:
        return self.core + self.form + self.branch


def _name_round(text: str) -> str:
    text = _REGION_IN_NAME.sub("", _clean(text))
    text = _strip_prefixes(text)
    forms = list(_FORMS.finditer(text))
    if forms:  # the last form ends the company's name; what follows is a branch's
        last = forms[-1]
        core, branch = text[: last.start()], text[last.end() :]
        text = _FORMS.sub(_FORM, core) + _FORM + branch
    text = text.replace("(", "").replace(")", "")
    return _strip_prefixes(text)


@lru_cache(maxsize=_CACHE)
def normalise_name(name: str) -> str:
    """One form of an enterprise name, the same for its variants (see the module); idempotent."""
    text = name
    for _ in range(_ROUNDS):
        again = _name_round(text)
        if again == text:
            break
        text = again
    return text


@lru_cache(maxsize=_CACHE)
def name_parts(name: str) -> NameParts:
    """The normalised name cut into core, form and branch."""
    text = normalise_name(name)
    at = text.rfind(_FORM)
    if at >= 0:
        return NameParts(text[:at], _FORM, text[at + len(_FORM) :])
    branch = _BRANCH.search(text)  # no form: a shop's name (…南京东路店) is still a branch
    return NameParts(text, "", "") if branch is None else NameParts(text, "", text[branch.start() :])


_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}  # fmt: skip
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_RUN = re.compile(r"[零〇○一二两三四五六七八九十百千]+(?=[号弄室楼层幢栋座支-]|$)")
_FLOOR_BEFORE_ROOM = re.compile(r"(\d+)(?:楼|层|f)(?=\d)")
_LANE_SHORTHAND = re.compile(r"弄(\d+)-(\d+)")
_ADDRESS_FORMS = str.maketrans({"號": "号", "衖": "弄", "層": "层", "樓": "楼"})


def chinese_number(numeral: str) -> str:
    """Arabic digits of a Chinese numeral: positional (一百二十三 → 123) when it has 十/百/千, else digit by
    digit (二〇一 → 201)."""
    if not any(c in _UNITS for c in numeral):
        return "".join(str(_DIGITS[c]) for c in numeral)
    total, digit = 0, None
    for c in numeral:
        if c in _UNITS:
            total += (1 if digit is None else digit) * _UNITS[c]
            digit = None
        else:
            digit = _DIGITS[c]
    return str(total + (digit or 0))


def _address_round(text: str) -> str:
    text = _strip_prefixes(_clean(text, keep="-").translate(_ADDRESS_FORMS))
    text = _NUMERAL_RUN.sub(lambda m: chinese_number(m.group()), text)
    text = _LANE_SHORTHAND.sub(r"弄\1号\2", text)
    text = _FLOOR_BEFORE_ROOM.sub("", text).replace("号-", "号").replace("-", "")
    text = text.removesuffix("室") if text[-2:-1].isdigit() else text
    return _strip_prefixes(text)


@lru_cache(maxsize=_CACHE)
def normalise_address(address: str) -> str:
    """One form of an address, the same for its variants (see the module); idempotent."""
    text = address
    for _ in range(_ROUNDS):
        again = _address_round(text)
        if again == text:
            break
        text = again
    return text


_STEM = re.compile(r"^\D*?\d+[弄号]")


def address_stem(address: str) -> str:
    """The road and first number of a normalised address (南京东路123弄): the building or lane it is in."""
    text = normalise_address(address)
    stem = _STEM.match(text)
    return stem.group() if stem else text[:24]


@lru_cache(maxsize=_CACHE)
def normalise_text(value: str) -> str:
    """Any other value (a person's name, a phone): full-width forms, case, whitespace and punctuation."""
    text = value
    for _ in range(_ROUNDS):  # lower-casing after NFKC can itself leave a form NFKC changes
        again = _clean(text, keep="")
        if again == text:
            break
        text = again
    return text
