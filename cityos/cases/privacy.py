"""Personal data masked in what the public and reporters see of a case (its text, result and address).

Pure functions over strings; the rules are data (``RULES``), applied in order:

- resident ID card numbers: the 18-digit form (the last may be X) and the old 15-digit form, with a plausible
  birth date, are kept to their first and last character (``3********************X``);
- e-mail addresses keep their first character and the domain (``w***@example.org``);
- mainland mobile numbers, ``1[3-9]`` and nine more digits, with or without ``+86``/``86`` and with spaces,
  dots or dashes anywhere, keep their first three and last four digits (``138****8000``);
- a name said after ``我是``, ``我叫``, ``我姓``, ``本人``, ``名叫``, ``联系人``, ``姓名``, ``报告人``,
  ``反映人`` or ``来电人`` keeps its first character, the surname (``我叫王**``); a name is one to three Han
  characters ending where the text goes on with punctuation, a space, a digit, a title (先生, 女士, 小姐)
  or a word such as 电话, 手机, 反映, 住, 在, so ``我是附近居民`` is left alone;
- and the names, phone numbers and e-mail addresses the case's reporters gave, wherever they appear.

jieba's part-of-speech tag for person names (``nr``) is not used: its tagger loads a dictionary of its own
(seconds, tens of MB) and tags many road and place names of an address (中山, 淮海) as names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cityos.core.masks import keep, mask_email, mask_mobile

_HAN = "\u4e00-\u9fff"
_ID_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_INTRODUCERS = ("我是", "我叫", "我姓", "本人", "名叫", "联系人", "姓名", "报告人", "反映人", "来电人")
_NAME_ENDS = (
    "先生",
    "女士",
    "小姐",
    "电话",
    "手机",
    "号码",
    "联系",
    "反映",
    "投诉",
    "来电",
    "说",
    "住",
    "在",
    "家",
    "的",
)
MIN_GIVEN_NAME = 2  # a reporter's name of one character (a surname alone) would mask every such character


@dataclass(frozen=True)
class Rule:
    """What to look for (the ``value`` group, or the whole match) and how to mask it."""

    kind: str
    pattern: re.Pattern[str]
    mask: Callable[[str], str]


RULES: tuple[Rule, ...] = (
    Rule(
        "id-card",
        re.compile(
            rf"(?<![0-9A-Za-z])(?P<value>[1-9]\d{{5}}(?:18|19|20)\d{{2}}{_ID_DATE}\d{{3}}[0-9Xx]"
            rf"|[1-9]\d{{7}}{_ID_DATE}\d{{3}})(?![0-9A-Za-z])"
        ),
        keep(1, 1),
    ),
    # starts only where a run of such characters starts: no rescan of a long run from each of its characters
    Rule(
        "email",
        re.compile(r"(?<![A-Za-z0-9._%+-])(?P<value>[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"),
        mask_email,
    ),
    Rule("mobile", re.compile(r"(?<![\d+])(?P<value>(?:\+?86[\s.-]?)?1[3-9](?:[\s.-]?\d){9})(?!\d)"), mask_mobile),
    Rule(
        "name",
        re.compile(
            rf"(?:{'|'.join(_INTRODUCERS)})[:：\s]*(?P<value>[{_HAN}·]{{1,3}}?)"
            rf"(?=$|[^{_HAN}·]|{'|'.join(_NAME_ENDS)})"
        ),
        keep(1, 0),
    ),
)


def _apply(rule: Rule, text: str) -> str:
    def one(m: re.Match[str]) -> str:
        start, end = m.span("value")
        return m.string[m.start() : start] + rule.mask(m.group("value")) + m.string[end : m.end()]

    return rule.pattern.sub(one, text)


def _known(text: str, values: Iterable[str]) -> str:
    """Each value a reporter gave, wherever it appears, kept to its first character."""
    for value in sorted({v.strip() for v in values if v and len(v.strip()) >= MIN_GIVEN_NAME}, key=len, reverse=True):
        text = text.replace(value, keep(1, 0)(value))
    return text


def mask_text(text: str | None, known: Iterable[str] = ()) -> str | None:
    """``text`` with ID card numbers, e-mail addresses, mobile numbers and names masked; ``known`` are the
    reporters' own names, phones and e-mails, masked wherever they appear. None stays None."""
    if not text:
        return text
    for rule in RULES:
        text = _apply(rule, text)
    return _known(text, known)


def reporter_values(*reporters: Mapping[str, Any] | None) -> list[str]:
    """What of each reporter's data might be repeated in a case's text: name, phone, e-mail."""
    return [str(r[k]) for r in reporters if r for k in ("name", "phone", "email") if r.get(k)]
