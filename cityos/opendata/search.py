"""Dataset search, pure and in memory: an :class:`Index` of the portal's packages and :func:`search` over it
with CKAN's package_search semantics: ``q`` (words over title, notes, tags, organisation and groups; all must
match; ``field:value`` terms filter), ``fq`` (``field:value`` terms joined by spaces or AND; ``-field:value``
excludes), ``sort``, ``rows``/``start`` and facet counts.

An index is made once per catalogue version (the postings of each filter field, the sort ranks and the
facet counts of all packages) so that one search is set intersections, a sort of the hits and counts over
them (bench/opendata_search.py).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain

from cityos.opendata.errors import SearchQueryError
from cityos.opendata.models import Package

# the fields fq (and q's field:value terms) filter by and facet.field counts, with their facet titles
FIELDS = {
    "organization": "Organizations",
    "groups": "Groups",
    "tags": "Tags",
    "license_id": "Licenses",
    "res_format": "Formats",
    "opening_type": "Opening type",
    "update_cycle": "Update cycle",
}
FILTER_ONLY = ("name", "id")
ALIASES = {"extras_opening_type": "opening_type", "extras_update_cycle": "update_cycle", "tag": "tags",
           "group": "groups", "license": "license_id"}  # fmt: skip
SORTS = ("score", "metadata_modified", "metadata_created", "title_string", "name")
DEFAULT_SORT = "score desc, metadata_modified desc"
OPENING_NAMES = {"unconditional": "无条件开放", "conditional": "有条件开放"}
_TERM = re.compile(r'\s*([+-]?)(?:([A-Za-z_][A-Za-z0-9_.]*):)?("[^"]*"|[^\s"]+)')


def field_values(p: Package) -> dict[str, tuple[str, ...]]:
    """What a package holds in each filter field."""
    return {
        "organization": (p.organization.name,),
        "groups": tuple(g.name for g in p.groups),
        "tags": p.tags,
        "license_id": (p.license_id,),
        "res_format": (p.resource.format,),
        "opening_type": (p.opening,),
        "update_cycle": (p.update_cycle,),
        "name": (p.name,),
        "id": (p.id,),
    }


def _text(p: Package) -> str:
    parts = [p.title, p.name, p.notes, *p.tags, p.organization.name, p.organization.title,
             *(f"{g.name} {g.title} {g.en}" for g in p.groups)]  # fmt: skip
    return "\n".join(parts).lower()


@dataclass(frozen=True)
class Term:
    field: str | None  # None: a word of free text
    value: str
    negated: bool = False


@dataclass(frozen=True)
class Query:
    q: str = ""
    fq: str = ""
    sort: str = DEFAULT_SORT
    rows: int = 10
    start: int = 0
    facet_fields: tuple[str, ...] = ()
    facet_limit: int = 50
    facet_mincount: int = 1


@dataclass(frozen=True)
class FacetItem:
    name: str
    display_name: str
    count: int


@dataclass(frozen=True)
class Found:
    count: int
    results: list[Package]
    facets: dict[str, list[FacetItem]]
    sort: str


class Index:
    """The packages with what search needs of them, made once."""

    def __init__(self, packages: Iterable[Package]) -> None:
        self.packages = sorted(packages, key=lambda p: p.name)
        self.by_key = {k: p for p in self.packages for k in (p.name, p.id)}
        self.by_resource = {p.resource.id: p for p in self.packages}
        self.texts = _Texts([_text(p) for p in self.packages])
        self.titles = _Texts([p.title.lower() for p in self.packages])
        self.postings: dict[str, dict[str, set[int]]] = {f: {} for f in (*FIELDS, *FILTER_ONLY)}
        self.values: dict[str, list[tuple[str, ...]]] = {f: [] for f in self.postings}
        for i, p in enumerate(self.packages):
            for field, values in field_values(p).items():
                self.values[field].append(values)
                for value in values:
                    self.postings[field].setdefault(value, set()).add(i)
        self.display: dict[str, dict[str, str]] = {
            "organization": {p.organization.name: p.organization.title for p in self.packages},
            "groups": {g.name: g.title for p in self.packages for g in p.groups},
            "opening_type": OPENING_NAMES,
        }
        self.ranks = {
            "metadata_modified": _ranks(self.packages, lambda p: p.modified),
            "metadata_created": _ranks(self.packages, lambda p: p.created),
            "title_string": _ranks(self.packages, lambda p: p.title),
            "name": list(range(len(self.packages))),
        }
        everything = range(len(self.packages))
        self.all_counts = {f: self._count(f, everything) for f in FIELDS}
        self._orders: dict[tuple[tuple[str, bool], ...], list[int]] = {}

    def order(self, fields: tuple[tuple[str, bool], ...]) -> list[int]:
        """Every package's position in the order of ``fields`` (ties by name), made once per order."""
        found = self._orders.get(fields)
        if found is None:
            columns = [(self.ranks[f], -1 if desc else 1) for f, desc in fields] + [(self.ranks["name"], 1)]
            found = sorted(range(len(self.packages)), key=lambda i: tuple(sign * r[i] for r, sign in columns))
            if len(self._orders) < 64:  # the few sorts clients use; an odd one is made each time
                self._orders[fields] = found
        return found

    def _count(self, field: str, hits: Iterable[int]) -> Counter[str]:
        return Counter(chain.from_iterable(map(self.values[field].__getitem__, hits)))

    def counts(self, field: str, hits: list[int], everything: bool) -> Counter[str]:
        """How many of the hits hold each value of ``field`` (more than half of all: all less the others)."""
        if everything:
            return self.all_counts[field]
        if len(hits) * 2 <= len(self.packages):
            return self._count(field, hits)
        rest = set(range(len(self.packages))).difference(hits)
        counts = self.all_counts[field] - self._count(field, rest)
        return counts


class _Texts:
    """Lowercased texts, one per package, joined so that finding a word in all of them is a few ``find`` calls
    in C, at most one per package that holds it."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.blob = "\x00".join(t.replace("\x00", " ") for t in texts)
        self.starts = list(chain([0], (n + 1 for n in _cumulative(len(t) for t in texts))))[: len(texts)]

    def __getitem__(self, i: int) -> str:
        return self.texts[i]

    def holding(self, word: str) -> set[int]:
        """The packages whose text holds ``word``."""
        found: set[int] = set()
        blob, starts, pos = self.blob, self.starts, self.blob.find(word)
        while pos != -1:
            doc = bisect_right(starts, pos) - 1
            found.add(doc)
            pos = blob.find(word, starts[doc + 1]) if doc + 1 < len(starts) else -1
        return found


def _cumulative(lengths: Iterable[int]) -> Iterable[int]:
    total = -1
    for n in lengths:
        total += n + 1
        yield total


def _ranks(packages: list[Package], key: Callable[[Package], str]) -> list[int]:
    """Each package's place in the order of ``key``; equal keys share a place (a tie goes to the next key)."""
    keys = [key(p) for p in packages]
    place = {k: rank for rank, k in enumerate(sorted(set(keys)))}
    return [place[k] for k in keys]


def _field(name: str, where: str) -> str:
    field = ALIASES.get(name, name)
    if field not in FIELDS and field not in FILTER_ONLY:
        known = ", ".join([*FIELDS, *FILTER_ONLY])
        raise SearchQueryError(f"{where}: cannot filter by {name!r}; the fields are {known}")
    return field


def parse_terms(text: str, where: str, *, words: bool) -> list[Term]:
    """The terms of ``q`` (``words``: free text allowed) or ``fq``; SearchQueryError naming what is wrong."""
    terms: list[Term] = []
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None or m.end() == pos:
            raise SearchQueryError(f'{where}: cannot read {text[pos:]!r}: write field:value or field:"a value"')
        pos = m.end()
        sign, name, raw = m.group(1), m.group(2), m.group(3)
        value = raw[1:-1] if raw.startswith('"') else raw
        if name is None and raw in ("AND", "&&"):
            continue
        if name is None and raw in ("OR", "||", "NOT"):
            raise SearchQueryError(f"{where}: {raw} is not supported; terms are joined by AND, -field:value excludes")
        if name is None and raw in ("*", "*:*"):
            continue
        if name is None and not words:
            raise SearchQueryError(f"{where}: {raw!r} is not a field:value term")
        if name is not None and value == "*":  # any value: no narrowing
            _field(name, where)
            continue
        terms.append(Term(_field(name, where) if name else None, value if name else value.lower(), sign == "-"))
    return terms


def parse_sort(text: str) -> list[tuple[str, bool]]:
    """``field dir, field dir`` as (field, descending); SearchQueryError for anything else."""
    out = []
    for part in (text or DEFAULT_SORT).split(","):
        bits = part.split()
        if not bits:
            continue
        field, direction = bits[0], (bits[1].lower() if len(bits) > 1 else "asc")
        if field not in SORTS or direction not in ("asc", "desc") or len(bits) > 2:
            raise SearchQueryError(f"sort: {part.strip()!r} is not 'field asc|desc' with a field of {', '.join(SORTS)}")
        out.append((field, direction == "desc"))
    return out


def _filter(index: Index, terms: list[Term], hits: set[int] | None) -> set[int] | None:
    for t in terms:
        if t.field is None:
            continue
        ids = index.postings[t.field].get(t.value, set())
        if t.negated:
            hits = (set(range(len(index.packages))) if hits is None else hits) - ids
        else:
            hits = set(ids) if hits is None else hits & ids
    return hits


def search(index: Index, query: Query) -> Found:
    """The packages that match, the page asked for in the order asked for, and the facet counts."""
    terms = parse_terms(query.q, "q", words=True) + parse_terms(query.fq, "fq", words=False)
    order = parse_sort(query.sort)
    for name in query.facet_fields:
        if ALIASES.get(name, name) not in FIELDS:
            raise SearchQueryError(f"facet.field: cannot count {name!r}; the fields are {', '.join(FIELDS)}")
    filtered = _filter(index, terms, None)
    words = [t.value for t in terms if t.field is None]
    everything = filtered is None and not words
    scores: dict[int, int] = {}
    if words:
        for w in words:
            holding = index.texts.holding(w)
            filtered = holding if filtered is None else filtered & holding
        assert filtered is not None
        in_titles = [index.titles.holding(w) for w in words]
        scores = {i: sum(3 if i in t else 1 for t in in_titles) for i in filtered}
    hits = _ordered(index, order, filtered, scores)
    page = hits[query.start : query.start + query.rows] if query.rows > 0 else []
    facets = {}
    for name in query.facet_fields:
        field = ALIASES.get(name, name)
        counts = index.counts(field, hits, everything)
        display = index.display.get(field, {})
        items = sorted((kv for kv in counts.items() if kv[1] >= query.facet_mincount), key=lambda kv: (-kv[1], kv[0]))
        if query.facet_limit >= 0:
            items = items[: query.facet_limit]
        facets[name] = [FacetItem(v, display.get(v, v), n) for v, n in items]
    return Found(len(hits), [index.packages[i] for i in page], facets, query.sort or DEFAULT_SORT)


def _ordered(index: Index, order: list[tuple[str, bool]], hits: set[int] | None, scores: dict[int, int]) -> list[int]:
    """The hits in the order asked for: the index's order of the sort's fields (made once per sort and kept),
    kept to the hits; then, when relevance comes first, re-sorted by score (stably, so ties keep that order)."""
    fields = tuple((f, d) for f, d in order if f != "score")
    ranked = [i for i in index.order(fields) if i in hits] if hits is not None else list(index.order(fields))
    if scores and order[0][0] == "score":
        ranked.sort(key=lambda i: -scores[i] if order[0][1] else scores[i])
    elif scores and any(f == "score" for f, _ in order):  # relevance after another field: the full key
        ranked.sort(key=_sort_key(index, order, scores))
    return ranked


def _sort_key(index: Index, order: list[tuple[str, bool]], scores: dict[int, int]) -> Callable[[int], tuple[int, ...]]:
    columns: list[tuple[list[int] | dict[int, int], int]] = []
    for field, desc in order:
        ranks = scores if field == "score" else index.ranks[field]
        columns.append((ranks, -1 if desc else 1))
    columns.append((index.ranks["name"], 1))  # ties: by name

    def key(i: int) -> tuple[int, ...]:
        return tuple(sign * (r.get(i, 0) if isinstance(r, dict) else r[i]) for r, sign in columns)

    return key
