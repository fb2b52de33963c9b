"""The assistant's passages and their BM25 index: each service item's and bundle's guide cut into passages (its
name and result, conditions, materials, time limits, fee, handling mode, legal basis; a bundle's items), the
words of each found by jieba, and scored by ``bm25s``. Pure of HTTP and SQL: built from the items and bundles
it is given."""

from __future__ import annotations

import logging
import math
import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

from cityos.core.yamltext import parse_yaml
from cityos.onestop.catalogue import shipped
from cityos.onestop.models import Bundle, ServiceItem

DATA = Path(__file__).parent / "data" / "assistant.yaml"
TargetKind = Literal["item", "bundle"]
HANDLING = {"online": "全程网办", "on-site": "窗口办理", "both": "网上办理或窗口办理"}
KINDS = {"person": "自然人", "enterprise": "法人及其他组织"}
# punctuation and spaces jieba returns as words of their own
_PUNCT = set(" \t\r\n，。！？、；：,.!?;:（）()【】[]《》<>“”\"'‘’…~～-—/·「」『』")


@dataclass(frozen=True)
class Settings:
    """The assistant's data (``data/assistant.yaml``): the threshold, limits, section names and words."""

    threshold: float
    question_max_chars: int
    cited_max: int
    cite_share: float
    answer_max_chars: int
    unknown_weight: float
    title_weight: float
    event_phrases: tuple[str, ...]
    event_weight: float
    sections: dict[str, str]
    stopwords: frozenset[str]
    synonyms: tuple[tuple[str, ...], ...]


def _settings(raw: dict[str, Any]) -> Settings:
    where = str(DATA)
    threshold = float(raw["threshold"])
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"{where}: threshold {threshold} is not between 0 and 1")
    groups = tuple(tuple(str(w) for w in g) for g in raw.get("synonyms", []))
    for n, g in enumerate(groups):
        if len(g) < 2:
            raise ValueError(f"{where}: synonyms group {n + 1} {list(g)} needs two words or more")
    return Settings(threshold=threshold, question_max_chars=int(raw["question_max_chars"]),
                    cited_max=int(raw["cited_max"]), cite_share=float(raw["cite_share"]),
                    answer_max_chars=int(raw["answer_max_chars"]), unknown_weight=float(raw["unknown_weight"]),
                    title_weight=float(raw["title_weight"]),
                    event_phrases=tuple(str(p) for p in raw.get("event_phrases", [])),
                    event_weight=float(raw.get("event_weight", 0.0)),
                    sections={str(k): str(v) for k, v in raw["sections"].items()},
                    stopwords=frozenset(str(w) for w in raw.get("stopwords", [])), synonyms=groups)  # fmt: skip


@cache
def settings() -> Settings:
    """The shipped assistant data, read once."""
    return _settings(parse_yaml(DATA.read_text(encoding="utf-8")))


# --- passages -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Passage:
    """A piece of one guide: whose (``item:HP-WJ-0001`` or ``bundle:newborn``), which section, its text as the
    guide states it, and the guide page it is on."""

    target: str
    kind: TargetKind
    code: str
    title: str  # the item's or bundle's name
    heading: str  # what every passage of the guide is about: the name, and the item's result or the bundle's tags
    section: str  # a key of the sections in data/assistant.yaml
    text: str
    department: str  # the item's implementing department, the bundle's lead department (whose queue a handover is)

    @property
    def guide(self) -> str:
        return f"/onestop/guide/{self.code}" if self.kind == "item" else f"/onestop/guide/bundles/{self.code}"


def _department(code: str) -> str:
    return shipped().departments.get(code, code)


def _certificate(code: str | None) -> str:
    return "办结通知（不发证照）" if code is None else shipped().certificates.get(code, (code, code))[0]


def _material(m: Any) -> str:
    free = {"registry": "（免于提交，从基础库共享）", "certificate": "（免于提交，调用电子证照）"}.get(m.source, "")
    return f"{m.name}{'' if m.required else '（非必需）'}{free}"


def item_passages(it: ServiceItem, in_bundles: Sequence[Bundle]) -> list[Passage]:
    """An item's guide cut into passages, one per section."""
    kinds = "、".join(KINDS[k] for k in it.applicant_kinds)
    name = (f"{it.name}（{it.name_en}）。实施主体：{_department(it.department)}；服务对象：{kinds}；"
            f"办理结果：{_certificate(it.certificate_type)}。")  # fmt: skip
    if in_bundles:
        name += "可在" + "、".join(f"「{b.name}」" for b in in_bundles) + "中一并办理。"
    texts = {
        "name": name,
        "conditions": "；".join(it.conditions) + "。",
        "materials": "；".join(_material(m) for m in it.materials) + "。" if it.materials else "无需提交材料。",
        "time": f"法定办结时限 {it.legal_limit_days} 个工作日，承诺办结时限 {it.promised_limit_days} 个工作日。",
        "fee": f"{it.fee}。",
        "handling": f"{HANDLING[it.handling]}。",
        "legal": "；".join(it.legal_basis) + "。",
    }
    heading = it.name if it.certificate_type is None else f"{it.name} {_certificate(it.certificate_type)}"
    return [Passage(f"item:{it.code}", "item", it.code, it.name, heading, s, t, it.department)
            for s, t in texts.items()]  # fmt: skip


def bundle_passages(b: Bundle, items: dict[str, ServiceItem]) -> list[Passage]:
    """A bundle's guide cut into passages: what it is, the items it combines, its time limit and materials."""
    parts = [items[p.item] for p in b.items if p.item in items]
    materials: dict[str, Any] = {}
    for it in parts:
        for m in it.materials:
            materials.setdefault(m.name, m)
    texts = {
        "name": f"{b.name}（{b.name_en}）：{b.description} 牵头部门：{_department(b.lead_department)}；"
                f"服务对象：{KINDS[b.applicant_kind]}。",
        "items": "、".join(it.name for it in parts) + "。",
        "time": f"一件事办理时限 {max((it.promised_limit_days for it in parts), default=0)} 个工作日"
                f"（各事项承诺时限中最长的）。",
        "materials": "；".join(_material(m) for m in materials.values()) + "。",
    }  # fmt: skip
    heading = f"{b.name} {' '.join(b.tags)}"
    return [Passage(f"bundle:{b.code}", "bundle", b.code, b.name, heading, s, t, b.lead_department)
            for s, t in texts.items()]  # fmt: skip


def passages(items: Iterable[ServiceItem], bundles: Sequence[Bundle]) -> list[Passage]:
    """Every passage of the items' and bundles' guides."""
    found = {it.code: it for it in items}
    out: list[Passage] = []
    for it in found.values():
        out += item_passages(it, [b for b in bundles if any(p.item == it.code for p in b.items)])
    for b in bundles:
        out += bundle_passages(b, found)
    return out


# --- words --------------------------------------------------------------------------------------------------

_lock = threading.Lock()


@cache
def _jieba() -> Any:
    """A private jieba tokenizer knowing the synonyms' words (the global one, the classifier's, is left alone)."""
    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jieba imports pkg_resources, which warns on newer setuptools
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        for group in settings().synonyms:
            for word in group:
                if len(word) > 1:
                    tokenizer.add_word(word)
        return tokenizer


def words(text: str, stopwords: frozenset[str], *, search: bool = True) -> list[str]:
    """The words of a text, lower-cased, without punctuation and stopwords: jieba's search mode by default (a
    long word and the shorter words in it, so 申请材料 also counts as 材料), else its precise mode."""
    cut = _jieba().lcut_for_search(text) if search else _jieba().lcut(text)
    out = []
    for w in cut:
        w = w.strip().lower()
        if w and w not in stopwords and not all(c in _PUNCT for c in w):
            out.append(w)
    return out


@dataclass(frozen=True)
class Query:
    """A question's own words (jieba's precise mode), each with the words that stand for it: the shorter words
    inside it and the words of its synonym groups (a group counts when one of its words is a word of the
    question or, two characters or longer, a phrase in it)."""

    own: tuple[str, ...]
    forms: dict[str, frozenset[str]] = field(default_factory=dict)  # an own word -> every word standing for it

    @property
    def all(self) -> list[str]:
        """Every word to look for: the own words first."""
        return list(dict.fromkeys([*self.own, *(w for f in self.forms.values() for w in sorted(f))]))


@lru_cache(maxsize=1024)
def _group_words(group: tuple[str, ...], stopwords: frozenset[str]) -> frozenset[str]:
    """The words of a synonym group's words (cut once per process: the groups are data)."""
    return frozenset(x for g in group for x in words(g, stopwords))


def query(text: str, s: Settings) -> Query:
    """The words to look for in the passages, and which of the question's words each stands for."""
    own = tuple(dict.fromkeys(words(text, s.stopwords, search=False)))
    lowered = text.lower()
    forms: dict[str, set[str]] = {w: {w, *words(w, s.stopwords)} for w in own}
    for group in s.synonyms:
        hit = [w for w in group if w in own or (len(w) > 1 and w in lowered)]
        if not hit:
            continue
        meant = _group_words(group, s.stopwords)
        for w in own:  # the word is in the group, or holds or is held by a phrase of it found in the text
            if w in group or any(w in h or h in w for h in hit if len(h) > 1):
                forms[w] |= meant
    return Query(own, {k: frozenset(v) for k, v in forms.items()})


# --- the index ----------------------------------------------------------------------------------------------


class Index:
    """BM25 over the passages (each passage's words: its guide's heading, its section's name and its text), and
    the inverse document frequency of each word (how much a word of a question weighs in the confidence)."""

    def __init__(self, found: list[Passage], s: Settings) -> None:
        import bm25s

        self.passages, self.settings = found, s
        self.words = [words(f"{p.heading} {s.sections[p.section]} {p.text}", s.stopwords) for p in found]
        self.bm25 = bm25s.BM25()
        self.bm25.index(self.words, show_progress=False)
        n = len(found)
        df: dict[str, int] = {}
        for ws in self.words:
            for w in set(ws):
                df[w] = df.get(w, 0) + 1
        self.idf = {w: math.log(1 + (n - d + 0.5) / (d + 0.5)) for w, d in df.items()}
        self.max_idf = max(self.idf.values(), default=1.0)
        by_target: dict[str, list[str]] = {}
        for p, ws in zip(found, self.words, strict=True):
            by_target.setdefault(p.target, []).extend(ws)
        self.targets = list(by_target)  # a guide as one document: which guide a question is about
        self.by_target = {t: set(ws) for t, ws in by_target.items()}
        self.guides = bm25s.BM25()
        self.guides.index([by_target[t] for t in self.targets], show_progress=False)
        # the words of each guide's title (the item's or bundle's name, precise mode)
        self.titles = {p.target: words(p.title, s.stopwords, search=False) for p in found}

    def scores(self, terms: list[str]) -> list[float]:
        """Each passage's BM25 score for the words (0 for every passage when none is known)."""
        known = [w for w in terms if w in self.idf]
        if not known:
            return [0.0] * len(self.passages)
        return [float(x) for x in self.bm25.get_scores(known)]

    def guide_scores(self, terms: list[str]) -> dict[str, float]:
        """Each guide's BM25 score for the words, as one document (by target)."""
        known = [w for w in terms if w in self.idf]
        if not known:
            return dict.fromkeys(self.targets, 0.0)
        return {t: float(x) for t, x in zip(self.targets, self.guides.get_scores(known), strict=True)}
