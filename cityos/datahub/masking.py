"""Masking (脱敏): a data item's values shown to a reader who may not see them in full, by the item's kind
(``cityos.datahub.models.ITEM_KINDS``), with the common Chinese conventions:

- id-card: the first 6 and last 4 kept, the 15-digit old form too (``110101********1234``);
- mobile: the first 3 and last 4 digits (``138****5678``);
- phone: the area code and the last 4 digits (``021-****1234``); a mobile number as a mobile;
- name: the surname kept, compound ones (``COMPOUND_SURNAMES``) whole (``张*``, ``欧阳**``);
- address: cut after the first street-level segment (街道, 大道, 路, 街, 镇, 乡), else after the district
  (``上海市黄浦区南京东路****``);
- email: the first character and the domain (``w***@example.org``);
- credit-code: the first 8 of the 18 kept (registration authority, type and the registering division:
  public facts of what and where), the organisation code and the check character hidden
  (``91310101**********``);
- geo: coordinates rounded to 2 decimals, about 1 km (``[121.48, 31.24]``);
- date: the year (``1990``);
- text, number, code: fully (``***``).

A value of the wrong type for its kind (a number as a name, an ID number of 17 digits) is masked fully,
never passed through; None stays None (there is nothing to hide). No function here raises on any input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from itertools import compress, repeat
from operator import add, eq, is_, itemgetter, not_
from typing import Any

from cityos.core.masks import FULL, keep, mask_email, mask_mobile, mobile_digits

# 复姓: the compound surnames kept whole (the common ones; a name starting with one of them and longer than
# two characters keeps two)
COMPOUND_SURNAMES = frozenset(
    (
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "司空",
        "夏侯",
        "令狐",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "万俟",
        "闻人",
        "赫连",
        "澹台",
        "公冶",
        "宗政",
        "濮阳",
        "太叔",
        "申屠",
        "呼延",
        "钟离",
        "拓跋",
    )
)
GEO_DECIMALS = 2  # 0.01 degree of latitude is about 1.1 km

_ID_CARD = re.compile(r"[1-9]\d{16}[\dXx]|[1-9]\d{14}")
_MOBILE = re.compile(r"(?:\+?86[\s.-]?)?1[3-9](?:[\s.-]?\d){9}")
_PHONE = re.compile(r"(?:\(?(?P<area>0\d{2,3})\)?[\s-]?)?(?P<number>\d{7,8})(?:[-转]\d{1,6})?")
_HAN_NAME = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fff·•]{0,15}")
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z .'-]{0,63}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
_STREET = re.compile(r"街道|大道|路|街|镇|乡")  # the first one found ends the part kept
_DIGIT = re.compile(r"\d")
_HAN_2_3 = re.compile(r"[\u4e00-\u9fff]{2,3}")
_ADMIN = re.compile(r"[\u4e00-\u9fff]{1,9}?(?:特别行政区|自治区|自治州|省|市|州|盟|区|县|旗)")
_NOT_ADMIN = ("小区", "社区", "园区", "校区", "景区", "街区", "营区", "厂区", "库区")
_YEAR = re.compile(r"^([12]\d{3})(?:-\d{2}(?:-\d{2})?(?:[T ].*)?|年.*)?$")
_SPACES = re.compile(r"[\s]+")
_GEOMETRIES = frozenset({"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"})
_GEO_KEYS = frozenset({"type", "coordinates"})


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None


def mask_id_card(value: Any) -> Any:
    text = _text(value)
    if text is None or not _ID_CARD.fullmatch(text := _SPACES.sub("", text)):
        return FULL
    return keep(6, 4)(text)


def mask_mobile_number(value: Any) -> Any:
    text = _text(value)
    if text is None or not _MOBILE.fullmatch(text) or len(mobile_digits(text)) != 11:
        return FULL
    return mask_mobile(text)


def mask_phone(value: Any) -> Any:
    """A fixed-line number keeps its area code and last four digits; a mobile number its mobile mask."""
    text = _text(value)
    if text is None:
        return FULL
    if _MOBILE.fullmatch(text):
        return mask_mobile(text)
    m = _PHONE.fullmatch(text)
    if m is None:
        return FULL
    area, number = m.group("area"), m.group("number")
    return (area + "-" if area else "") + "*" * (len(number) - 4) + number[-4:]


def mask_name(value: Any) -> Any:
    text = _text(value)
    if text is None:
        return FULL
    if _HAN_NAME.fullmatch(text):
        head = 2 if len(text) > 2 and text[:2] in COMPOUND_SURNAMES else 1
        return text[:head] + "*" * max(len(text) - head, 1)
    if _LATIN_NAME.fullmatch(text):
        return text[0] + "***"
    return FULL


def mask_address(value: Any) -> Any:
    text = _text(value)
    if not text:
        return FULL
    m = _STREET.search(text)
    kept = text[: m.end()] if m else _admin_prefix(text)
    if not kept or _DIGIT.search(kept):
        return FULL
    return kept + "****"


def _admin_prefix(text: str) -> str:
    """The province, city, district and county a text starts with (上海市黄浦区), and nothing below them."""
    end = 0
    while (m := _ADMIN.match(text, end)) is not None and not m.group(0).endswith(_NOT_ADMIN):
        end = m.end()
    return text[:end]


def mask_email_address(value: Any) -> Any:
    text = _text(value)
    if text is None or not _EMAIL.fullmatch(text):
        return FULL
    return mask_email(text)


def mask_credit_code(value: Any) -> Any:
    text = _text(value)
    if text is None or not _CREDIT_CODE.fullmatch(text := text.upper()):
        return FULL
    return keep(8, 0)(text)


def _round_coordinates(coords: Any) -> Any:
    """Coordinates (a position or nested lists of them) rounded to GEO_DECIMALS; None when not coordinates."""
    if isinstance(coords, list) and coords and all(_is_number(c) for c in coords):
        return [round(float(c), GEO_DECIMALS) for c in coords]
    if isinstance(coords, list) and coords:
        rounded = [_round_coordinates(c) for c in coords]
        return None if any(r is None for r in rounded) else rounded
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e300


def mask_geo(value: Any) -> Any:
    """A GeoJSON geometry (or a bare position) with its coordinates rounded to about 1 km."""
    if isinstance(value, dict) and value.get("type") in _GEOMETRIES and set(value) <= _GEO_KEYS | {"bbox"}:
        rounded = _round_coordinates(value.get("coordinates"))
        return FULL if rounded is None else {"type": value["type"], "coordinates": rounded}
    if isinstance(value, list):
        rounded = _round_coordinates(value)
        return FULL if rounded is None else rounded
    return FULL


def mask_date(value: Any) -> Any:
    """A date, date-time or 1990年5月 kept to its year; NGSI-LD's {"@type": "DateTime", "@value": …} too."""
    if isinstance(value, dict) and set(value) == {"@type", "@value"}:
        return {"@type": value["@type"], "@value": mask_date(value["@value"])}
    text = _text(value)
    m = _YEAR.match(text) if text is not None else None
    return m.group(1) if m else FULL


def mask_fully(_value: Any) -> Any:
    return FULL


MASKS: Mapping[str, Callable[[Any], Any]] = {
    "id-card": mask_id_card,
    "mobile": mask_mobile_number,
    "phone": mask_phone,
    "name": mask_name,
    "address": mask_address,
    "email": mask_email_address,
    "credit-code": mask_credit_code,
    "geo": mask_geo,
    "date": mask_date,
    "text": mask_fully,
    "number": mask_fully,
    "code": mask_fully,
}


def mask_value(kind: str, value: Any) -> Any:
    """``value`` masked as a value of ``kind``; an unknown kind, or any surprise, masks it fully."""
    if value is None:
        return None
    try:
        return MASKS.get(kind, mask_fully)(value)
    except Exception:  # a mask that fails on an odd value must not show it
        return FULL


def mask_record(record: Mapping[str, Any], masked: Mapping[str, str]) -> dict[str, Any]:
    """A flat record (column -> value) with the ``masked`` items (name -> kind) masked; a copy."""
    out = dict(record)
    for name, kind in masked.items():
        if name in out:
            out[name] = mask_value(kind, out[name])
    return out


# --- a page of records at once -------------------------------------------------------------------------------
# The fast forms below mask the common well-formed value of a kind with string methods alone (no regex, no
# call chain), about a third of mask_value's cost, and hand every other value to mask_value: their answers are
# the same for every input (tests/datahub/test_masking.py checks it with generated values).

_DIGITS_1_9 = frozenset("123456789")
_MOBILE_SECOND = frozenset("3456789")
_ID_LAST = frozenset("0123456789Xx")


def _fast_id_card(v: Any) -> Any:
    if type(v) is str and len(v) == 18 and v[0] in _DIGITS_1_9 and v[17] in _ID_LAST and v[:17].isdecimal():
        return v[:6] + "********" + v[14:]
    return mask_value("id-card", v)


def _fast_mobile(v: Any) -> Any:
    if type(v) is str and len(v) == 11 and v[0] == "1" and v[1] in _MOBILE_SECOND and v.isascii() and v.isdecimal():
        return v[:3] + "****" + v[7:]
    return mask_value("mobile", v)


def _fast_name(v: Any) -> Any:
    # two or three Han characters with no compound surname: the surname and a star per character
    if type(v) is str and _HAN_2_3.fullmatch(v):
        if len(v) == 2:
            return v[0] + "*"
        if v[:2] not in COMPOUND_SURNAMES:
            return v[0] + "**"
    return mask_value("name", v)


def _fast_geo(v: Any) -> Any:
    # a GeoJSON Point of two floats
    if type(v) is dict and len(v) == 2 and v.get("type") == "Point":
        c = v.get("coordinates")
        if type(c) is list and len(c) == 2:
            x, y = c
            if type(x) is float and type(y) is float and abs(x) < 1e300 and abs(y) < 1e300:
                return {"type": "Point", "coordinates": [round(x, GEO_DECIMALS), round(y, GEO_DECIMALS)]}
    return mask_value("geo", v)


def _fast_date(v: Any) -> Any:
    # a plain date, 1990-05-06: its year
    if (
        type(v) is str
        and len(v) == 10
        and v[4] == v[7] == "-"
        and v[0] in "12"
        and (v[:4] + v[5:7] + v[8:]).isdecimal()
    ):
        return v[:4]
    return mask_value("date", v)


def _fast_fully(v: Any) -> Any:
    return None if v is None else FULL


FAST_MASKS: Mapping[str, Callable[[Any], Any]] = {
    "id-card": _fast_id_card,
    "mobile": _fast_mobile,
    "name": _fast_name,
    "geo": _fast_geo,
    "date": _fast_date,
    "text": _fast_fully,
    "number": _fast_fully,
    "code": _fast_fully,
}


def masker(kind: str) -> Callable[[Any], Any]:
    """The mask of one value of ``kind``: its fast form where it has one, else ``mask_value``."""
    fast = FAST_MASKS.get(kind)
    if fast is not None:
        return fast
    return lambda v: mask_value(kind, v)


# --- a column of values at once -------------------------------------------------------------------------------
# A page's values of one item are masked together: the strings joined by newlines, the common well-formed ones
# masked by the regex engine over the whole column (not a Python call per value), the column split again. The
# patterns match exactly what the item's fast form (or mask_value) masks without stripping, and nothing else;
# their replacements are literal (a group in a replacement costs a Python call per match before Python 3.12),
# the parts kept are matched by lookarounds. A value left as it was (another form, not a string) is masked by
# its fast form alone, so that a column answers as mask_value does value by value (tests/datahub/test_masking.py
# checks it with generated columns).

_HAN = "[\u4e00-\u9fff]"
_COMPOUND = "|".join(sorted(COMPOUND_SURNAMES))  # all of two characters: a lookbehind of fixed width
# kind -> ((pattern, literal replacement), ...), applied in order over the joined column (MULTILINE)
Forms = tuple[tuple[re.Pattern[str], str], ...]
_COLUMN_FORMS: Mapping[str, Forms] = {
    # _fast_id_card: 18 characters, the first 1-9, decimals to the 17th, the last a digit or X: 7th-14th starred
    "id-card": ((re.compile(r"(?<=^[1-9]\d{5})\d{8}(?=\d{3}[0-9Xx]$)", re.M), "********"),),
    # _fast_mobile: 11 ASCII digits, 1 then 3-9: the 4th-7th starred
    "mobile": ((re.compile(r"(?<=^1[3-9][0-9])[0-9]{4}(?=[0-9]{4}$)", re.M), "****"),),
    # _fast_name: three Han characters not starting with a compound surname, then two Han characters
    "name": (
        (re.compile(rf"(?<=^{_HAN}){_HAN}(?<!^(?:{_COMPOUND})){_HAN}$", re.M), "**"),
        (re.compile(rf"(?<=^{_HAN}){_HAN}$", re.M), "*"),
    ),
    # _fast_date: a plain date, its year
    "date": ((re.compile(r"(?<=^[12]\d{3})-\d{2}-\d{2}$", re.M), ""),),
    # mask_email_address: a well-formed address with no space in it: its first character, *** and its domain
    "email": ((re.compile(r"(?<=^[^@\s])[^@\s]{0,63}(?=@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$)", re.M), "***"),),
}  # fmt: skip
# mask_address without stripping (no space at either end): the part up to the first street-level segment with
# no digit in it, found for every line ('' where there is none), then ****
_ADDRESS_KEPT = re.compile(r"^(?:(?=\S)([^\d\n]*?(?:街道|大道|路|街|镇|乡))(?=[^\n]*(?<=\S)$))?[^\n]*$", re.M)


def _joined(values: list[Any]) -> tuple[list[Any], str] | None:
    """The strings of a column (a value that is not one as '') and their join; None when one holds a newline."""
    try:
        strings, joined = values, "\n".join(values)
    except TypeError:  # None, numbers: masked value by value
        strings = [v if type(v) is str else "" for v in values]
        joined = "\n".join(strings)
    return (strings, joined) if joined.count("\n") == len(values) - 1 else None


def _by_pattern(values: list[Any], forms: Forms, one: Callable[[Any], Any]) -> list[Any]:
    found = _joined(values)
    if found is None:
        return list(map(one, values))
    strings, joined = found
    for pattern, replacement in forms:
        joined = pattern.sub(replacement, joined)
    out = joined.split("\n")
    for i in compress(range(len(values)), map(eq, out, strings)):  # left as it was: not the common form
        out[i] = one(values[i])
    return out


def _addresses(values: list[Any]) -> list[Any]:
    found = _joined(values)
    kept = _ADDRESS_KEPT.findall(found[1]) if found is not None else []
    if len(kept) != len(values):
        return [mask_value("address", v) for v in values]
    out = list(map(add, kept, repeat("****")))
    for i in compress(range(len(values)), map(not_, kept)):  # no street-level part kept: mask_value decides
        out[i] = mask_value("address", values[i])
    return out


# --- masked values kept per process -------------------------------------------------------------------------
# A dataset is read again and again (a scenario's pages, the same persons looked up by many clerks): the masked
# form of each string value is kept per kind, so that a value seen before costs one dict lookup (~50 ns) instead
# of its mask (~1 us). Only strings are kept (an int never equals a string, so no other value can hit), at most
# MEMO_SIZE per kind (the kind's memo is emptied when full: no bookkeeping on the hot path). The values are the
# ones the process reads anyway; nothing of them leaves the process.

MEMO_SIZE = 1 << 16
_MEMO_KINDS = frozenset(("id-card", "mobile", "phone", "name", "address", "email", "credit-code", "date"))
_memos: dict[str, dict[str, Any]] = {kind: {} for kind in _MEMO_KINDS}
_rounding: dict[float, float] = {}  # coordinate -> rounded to GEO_DECIMALS


def forget_masked() -> None:
    """Empty the masked values kept per process (a benchmark's cold read; a test)."""
    for memo in _memos.values():
        memo.clear()
    _rounding.clear()


def memo_of(kind: str) -> dict[str, Any] | None:
    """The masked strings kept for ``kind`` (value -> masked), None for a kind not kept: a page's builder
    (:mod:`cityos.datahub.pages`) reads them as it puts values in; only :func:`mask_column` writes them."""
    return _memos.get(kind)


def masked_point(value: Any) -> dict[str, Any] | None:
    """A GeoJSON Point of two finite floats masked (its coordinates rounded, the roundings kept per process), as
    :func:`mask_value` masks it; None for any other value (for :func:`mask_column` to mask)."""
    if type(value) is dict and len(value) == 2 and value.get("type") == "Point":
        c = value.get("coordinates")
        if type(c) is list and len(c) == 2:
            x, y = c
            if type(x) is float and type(y) is float and abs(x) < 1e300 and abs(y) < 1e300:
                memo = _rounding
                rx, ry = memo.get(x), memo.get(y)
                if rx is None or ry is None:
                    if len(memo) >= MEMO_SIZE:
                        memo.clear()
                    rx = memo[x] = round(x, GEO_DECIMALS)
                    ry = memo[y] = round(y, GEO_DECIMALS)
                return {"type": "Point", "coordinates": [rx, ry]}
    return None


def _remembered(kind: str, values: list[Any]) -> list[Any]:
    """:func:`_masked_column` with the masked strings kept: the values seen before from the memo, the others
    masked together and remembered."""
    memo = _memos[kind]
    try:
        out = list(map(memo.get, values))
    except TypeError:  # an unhashable value (a list, a dict): no memo for this column
        return _masked_column(kind, values)
    missing = list(compress(range(len(values)), map(is_, out, repeat(None))))
    if not missing:
        return out
    fresh = [values[i] for i in missing]
    masked = _masked_column(kind, fresh)
    if len(memo) + len(fresh) > MEMO_SIZE:
        memo.clear()
    memo.update(compress(zip(fresh, masked, strict=True), map(is_, map(type, fresh), repeat(str))))
    for i, m in zip(missing, masked, strict=True):
        out[i] = m
    return out


_POINT = frozenset(("Point",))
_LIST, _FLOAT, _TWO = frozenset((list,)), frozenset((float,)), frozenset((2,))


def _points(values: list[Any]) -> list[Any] | None:
    """A column of GeoJSON Points of two floats each (what _fast_geo masks without mask_value), masked with
    C-level maps: the checks over the whole column, the coordinates rounded a column at a time. None when one
    value is of another form (the column is then masked value by value)."""
    if set(map(type, values)) != {dict} or set(map(len, values)) != _TWO:
        return None
    try:
        if set(map(itemgetter("type"), values)) != _POINT:
            return None
        coords = list(map(itemgetter("coordinates"), values))
    except KeyError:
        return None
    if set(map(type, coords)) != _LIST or set(map(len, coords)) != _TWO:
        return None
    xs, ys = list(map(itemgetter(0), coords)), list(map(itemgetter(1), coords))
    if set(map(type, xs)) | set(map(type, ys)) != _FLOAT:
        return None
    if not (all(map((1e300).__gt__, map(abs, xs))) and all(map((1e300).__gt__, map(abs, ys)))):
        return None  # inf, nan, or too large to be a coordinate: mask_value decides
    rx, ry = _rounded(xs), _rounded(ys)
    return [{"type": "Point", "coordinates": [x, y]} for x, y in zip(rx, ry, strict=True)]


def _rounded(xs: list[float]) -> list[float]:
    """Floats rounded to GEO_DECIMALS (round with digits costs ~0.3 us a call: the roundings are kept too)."""
    memo = _rounding
    out: list[Any] = list(map(memo.get, xs))
    missing = list(compress(range(len(xs)), map(is_, out, repeat(None))))
    if missing:
        if len(memo) + len(missing) > MEMO_SIZE:
            memo.clear()
        for i in missing:
            out[i] = memo[xs[i]] = round(xs[i], GEO_DECIMALS)
    return out


def mask_column(kind: str, values: list[Any]) -> list[Any]:
    """The values of one item of ``kind`` over a page, masked: ``[mask_value(kind, v) for v in values]``."""
    if not values:
        return []
    if kind in _MEMO_KINDS:
        return _remembered(kind, values)
    return _masked_column(kind, values)


def _masked_column(kind: str, values: list[Any]) -> list[Any]:
    if kind in ("text", "number", "code"):
        return [None if v is None else FULL for v in values]
    if kind == "address":
        return _addresses(values)
    if kind == "geo":
        points = _points(values)
        return points if points is not None else list(map(_fast_geo, values))
    forms = _COLUMN_FORMS.get(kind)
    if forms is None:
        return list(map(masker(kind), values))
    return _by_pattern(values, forms, masker(kind))


def mask_records(records: list[dict[str, Any]], masked: Mapping[str, str]) -> None:
    """Mask the ``masked`` items (name -> kind) of every record of a page, in place: for records made for this
    answer alone (a read's own keyValues), where a copy of each would cost as much as the masking. Item by
    item (:func:`mask_column`): the values taken out with a C-level map (the records that lack the item
    skipped only when one does), put back by a plain loop (a store through ``dict.__setitem__`` mapped costs
    twice a subscript assignment's)."""
    for name, kind in masked.items():
        try:
            holding, values = records, list(map(itemgetter(name), records))
        except KeyError:  # not every record holds the item
            holding = list(compress(records, map(dict.__contains__, records, repeat(name))))
            values = list(map(itemgetter(name), holding))
        for record, value in zip(holding, mask_column(kind, values), strict=True):
            record[name] = value


def _is_geometry(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in _GEOMETRIES


def mask_attribute(kind: str, attr: Any) -> Any:
    """One NGSI-LD attribute in any representation: normalized or concise (a Property's ``value``, a
    LanguageProperty's ``languageMap``, a Relationship's ``object``, a VocabProperty's ``vocab``, a
    GeoProperty's geometry), a list of its instances (datasetId), or keyValues (the value itself).
    Metadata (observedAt, unitCode, datasetId) is kept; sub-attributes are kept as they are."""
    if isinstance(attr, list) and attr and all(isinstance(a, dict) and not _is_geometry(a) for a in attr):
        return [mask_attribute(kind, a) for a in attr]
    if not isinstance(attr, dict) or _is_geometry(attr) or set(attr) == {"@type", "@value"}:
        return mask_value(kind, attr)  # keyValues, or a concise GeoProperty / DateTime
    out = dict(attr)
    if "value" in out:
        out["value"] = mask_value(kind, out["value"])
    if "languageMap" in out:
        lm = out["languageMap"]
        out["languageMap"] = {k: mask_value(kind, v) for k, v in lm.items()} if isinstance(lm, dict) else FULL
    for key in ("object", "vocab", "objectList", "vocabList", "valueList", "json"):
        if key in out:
            out[key] = FULL
    if not {"value", "languageMap", "object", "vocab", "objectList", "vocabList", "valueList", "json"} & set(out):
        return mask_value(kind, attr)  # a JSON object as a keyValues value: nothing of it shows
    return out


def mask_entity(entity: Mapping[str, Any], masked: Mapping[str, str]) -> dict[str, Any]:
    """An NGSI-LD entity (normalized, concise or keyValues) with the ``masked`` attributes (name -> kind)
    masked; a copy. Names are matched as the entity spells them (short names or expanded IRIs)."""
    out = dict(entity)
    for name, kind in masked.items():
        if name in out and name not in ("id", "type", "@context"):
            try:
                out[name] = mask_attribute(kind, out[name])
            except Exception:  # an odd shape: nothing of it shows
                out[name] = FULL
    return out
