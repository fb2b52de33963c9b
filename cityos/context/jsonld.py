"""JSON-LD ``@context`` handling for the NGSI-LD API: term ↔ IRI mapping, remote contexts, Link headers.

NGSI-LD (ETSI GS CIM 009) needs only the IRI-mapping part of JSON-LD: attribute names, sub-attribute
names and type names are terms that the request's ``@context`` maps to IRIs. This module implements
that part of the JSON-LD 1.1 context processing and IRI expansion/compaction algorithms:

- term definitions as strings, as objects with ``@id`` (or ``@reverse``), or ``null``;
- prefixes and compact IRIs (``ex:temp``), with JSON-LD 1.1's prefix rule (a plain term whose IRI
  ends with ``: / ? # [ ] @``, or ``@prefix: true``); blank nodes and ``x://`` IRIs stay as they are;
- ``@vocab`` for terms that have no definition, ``@import``, nested lists and URL references.

The NGSI-LD core context is always in effect and protected: a user context may use its prefixes but
cannot redefine its terms (a redefinition is ignored). A user ``@vocab`` replaces the core context's
default vocabulary for terms nobody defines. Unlike full JSON-LD, every definition is expanded against
the merged context (user terms, then core terms on top), so a user term may use a core prefix whatever
the order of the list; a term mapped to ``null`` falls back to ``@vocab`` instead of being dropped,
because NGSI-LD cannot drop an attribute. Type scoping, containers, languages and ``@base`` play no
part in naming NGSI-LD attributes and are ignored.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import httpx
import orjson

from cityos.context.errors import BadRequestData, InvalidRequest, LdContextNotAvailable, NgsiLdError
from cityos.core.addresses import refusal

log = logging.getLogger(__name__)

JSONLD_CONTEXT_REL: Final = "http://www.w3.org/ns/json-ld#context"
CORE_CONTEXT_URL: Final = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
#: URLs clients use for the core context; all mean the shipped v1.9 document and are never fetched.
CORE_CONTEXT_URLS: Final = frozenset(
    {"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"}
    | {f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.{n}.jsonld" for n in range(3, 10)}
)
CORE_CONTEXT: Final[dict[str, Any]] = orjson.loads(
    Path(__file__).with_name("ngsi-ld-core-context-v1.9.jsonld").read_bytes()
)

ACCEPT: Final = "application/ld+json, application/json;q=0.9"
MAX_DEPTH = 8  # URL references followed inside one another
MAX_DOCUMENTS = 32  # remote documents one context may pull in
MAX_TERM_MAPS = 1024
MAX_DOCUMENT_CACHE = 256
MAX_NAMES_CACHED = 50_000  # per term map; names past this are computed each time, not remembered

KEYWORDS: Final = frozenset(
    {
        "@base",
        "@container",
        "@context",
        "@direction",
        "@graph",
        "@id",
        "@import",
        "@included",
        "@index",
        "@json",
        "@language",
        "@list",
        "@nest",
        "@none",
        "@prefix",
        "@propagate",
        "@protected",
        "@reverse",
        "@set",
        "@type",
        "@value",
        "@version",
        "@vocab",
    }
)
_KEYWORD_FORM = re.compile(r"^@[A-Za-z]+$")
_GEN_DELIMS = frozenset(":/?#[]@")
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")

JsonLdContext = str | dict[str, Any] | list[Any] | None


# --- parsing local contexts -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Def:
    """One term definition as written: ``id`` is None when the IRI derives from the term itself."""

    id: str | None
    simple: bool  # written as a plain string
    prefix: bool | None  # an explicit @prefix


@dataclass(frozen=True, slots=True)
class _Local:
    """One local context (a JSON object): its term definitions and keywords that matter here."""

    terms: dict[str, _Def | None]
    has_vocab: bool
    vocab: str | None
    import_url: str | None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return "a string"


def _parse_def(term: str, value: Any, where: str) -> _Def | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _Def(value, True, None)
    if not isinstance(value, dict):
        raise InvalidRequest(
            f"{where} is invalid: term {term!r} maps to {_kind(value)}; map it to an IRI string, "
            "an object with @id, or null"
        )
    if "@id" in value and "@reverse" in value:
        raise InvalidRequest(f"{where} is invalid: term {term!r} has both @id and @reverse")
    iri = value.get("@id", value.get("@reverse"))
    has_iri = "@id" in value or "@reverse" in value
    if has_iri and iri is None:
        return None
    if has_iri and not isinstance(iri, str):
        raise InvalidRequest(f"{where} is invalid: the @id of term {term!r} is {_kind(iri)}, not an IRI string")
    if not isinstance(value.get("@type", ""), str):
        raise InvalidRequest(f"{where} is invalid: the @type of term {term!r} must be a string")
    container = value.get("@container")
    if container is not None and not (
        isinstance(container, str) or (isinstance(container, list) and all(isinstance(c, str) for c in container))
    ):
        raise InvalidRequest(f"{where} is invalid: the @container of term {term!r} must be a string or a list")
    prefix = value.get("@prefix")
    if prefix is not None and not isinstance(prefix, bool):
        raise InvalidRequest(f"{where} is invalid: the @prefix of term {term!r} must be true or false")
    return _Def(iri, False, prefix)


def _parse_local(ctx: dict[str, Any], where: str, *, scoped: bool = False) -> _Local:
    """One local context's definitions. ``scoped``: term definitions may carry a context of their own, as the
    core context's do; a user @context's shall not (NGSI-LD v1.9, clause 5.5.7)."""
    terms: dict[str, _Def | None] = {}
    has_vocab, vocab, import_url = False, None, None
    for key, value in ctx.items():
        if key == "@vocab":
            if value is not None and not isinstance(value, str):
                raise InvalidRequest(f"{where} is invalid: @vocab is {_kind(value)}, not an IRI string or null")
            has_vocab, vocab = True, value
        elif key == "@import":
            if not isinstance(value, str):
                raise InvalidRequest(f"{where} is invalid: @import is {_kind(value)}, not a URL string")
            import_url = value
        elif key.startswith("@"):
            continue  # @version, @protected, @language, @base, ...: no bearing on names
        elif not key:
            raise InvalidRequest(f"{where} is invalid: a term must not be the empty string")
        else:
            if not scoped and isinstance(value, dict) and "@context" in value:
                raise BadRequestData(
                    f"{where} is not allowed: term {key!r} carries a scoped @context of its own, which a user "
                    "@context shall not (NGSI-LD clause 5.5.7): define the terms at the top level"
                )
            terms[key] = _parse_def(key, value, where)
    return _Local(terms, has_vocab, vocab, import_url)


# --- the term map -----------------------------------------------------------------------------------


class _Builder:
    """Expands every definition of a merged context to its IRI (JSON-LD's Create Term Definition)."""

    def __init__(self, defs: dict[str, _Def], vocab_raw: str | None, seed: Mapping[str, str | None]) -> None:
        self.defs = defs
        self.vocab_raw = vocab_raw
        self.iris: dict[str, str | None] = dict(seed)
        self._active: set[str] = set()
        self._vocab: str | None = None

    def vocab(self) -> str:
        if self._vocab is not None:
            return self._vocab
        if self.vocab_raw is None or "@vocab" in self._active:
            raise InvalidRequest("the @context is invalid: @vocab is defined through itself")
        self._active.add("@vocab")
        iri = self.expand(self.vocab_raw, exclude=None, use_vocab=False)
        self._active.discard("@vocab")
        if iri is None or not (_ABSOLUTE.match(iri) or iri.startswith("_:")):
            raise InvalidRequest(
                f"the @context is invalid: @vocab {self.vocab_raw!r} is neither an absolute IRI "
                "(such as https://example.org/ns#) nor a compact IRI"
            )
        self._vocab = iri
        return iri

    def iri_of(self, term: str) -> str | None:
        if term in self.iris:
            return self.iris[term]
        if term in self._active:
            raise InvalidRequest(f"the @context is invalid: the definition of term {term!r} depends on itself")
        self._active.add(term)
        d = self.defs[term]
        iri = self.expand(term if d.id is None else d.id, exclude=term)
        self._active.discard(term)
        self.iris[term] = iri
        return iri

    def is_prefix(self, term: str) -> bool:
        d = self.defs[term]
        if d.prefix is not None:
            return d.prefix
        if not d.simple or ":" in term or "/" in term:
            return False
        iri = self.iri_of(term)
        return iri is not None and (iri[-1:] in _GEN_DELIMS or iri.startswith("_:"))

    def expand(self, value: str, *, exclude: str | None, use_vocab: bool = True) -> str | None:
        """IRI expansion of ``value``; ``exclude`` is the term being defined (not its own prefix)."""
        if value.startswith("@"):
            if value in KEYWORDS:
                return value
            if _KEYWORD_FORM.match(value):
                return None  # JSON-LD ignores keyword-like strings it does not know
        if value != exclude and value in self.defs:
            return self.iri_of(value)
        prefix, colon, suffix = value.partition(":")
        if colon:
            if prefix == "_" or suffix.startswith("//"):
                return value
            if prefix != exclude and prefix in self.defs and self.is_prefix(prefix):
                base = self.iri_of(prefix)
                return value if base is None else base + suffix
            return value
        return self.vocab() + value if use_vocab else None


class TermMap:
    """Term ↔ IRI mapping of one resolved ``@context``, the NGSI-LD core context included.

    ``context`` is the value to echo as ``@context`` in responses; ``key`` is a stable text key for
    caching things that depend on the context (equal for equal context values).
    """

    __slots__ = (
        "_compacted",
        "_expanded",
        "_prefix_list",
        "_prefixes",
        "_reverse",
        "context",
        "key",
        "vocab",
    )

    def __init__(
        self,
        *,
        context: Any,
        key: str,
        vocab: str,
        iris: dict[str, str],
        prefixes: dict[str, str],
        reverse: dict[str, str],
    ) -> None:
        self.context = context
        self.key = key
        self.vocab = vocab
        self._prefixes = prefixes
        # longest prefix IRI first, then the shortest term
        self._prefix_list = sorted(
            ((iri, t) for t, iri in prefixes.items()), key=lambda p: (-len(p[0]), len(p[1]), p[1])
        )
        self._reverse = reverse
        self._expanded: dict[str, str] = dict(iris)
        self._compacted: dict[str, str] = dict(reverse)

    def __repr__(self) -> str:
        return f"TermMap({self.key[:80]})"

    def expand(self, term: str) -> str:
        """The IRI that ``term`` (a term, compact IRI or IRI) names under this context."""
        iri = self._expanded.get(term)
        if iri is None:
            iri = self._expand_undefined(term)
            if len(self._expanded) < MAX_NAMES_CACHED:
                self._expanded[term] = iri
        return iri

    def _expand_undefined(self, term: str) -> str:
        if term.startswith("@") and (term in KEYWORDS or _KEYWORD_FORM.match(term)):
            return term
        prefix, colon, suffix = term.partition(":")
        if colon:
            base = self._prefixes.get(prefix)
            if base is not None and not suffix.startswith("//"):
                return base + suffix
            return term
        return self.vocab + term

    def compact(self, iri: str) -> str:
        """The shortest name for ``iri`` that expands back to it: a term, a vocab-relative name,
        a compact IRI (longest matching prefix), or else the IRI itself."""
        name = self._compacted.get(iri)
        if name is None:
            name = self._compact_new(iri)
            if len(self._compacted) < MAX_NAMES_CACHED:
                self._compacted[iri] = name
        return name

    def _compact_new(self, iri: str) -> str:
        if iri.startswith(self.vocab) and len(iri) > len(self.vocab):
            rest = iri[len(self.vocab) :]
            if self.expand(rest) == iri:
                return rest
        for base, term in self._prefix_list:
            if iri.startswith(base) and len(iri) > len(base):
                candidate = f"{term}:{iri[len(base) :]}"
                if self.expand(candidate) == iri:
                    return candidate
        return iri


def _term_map(builder: _Builder, *, context: Any, key: str) -> TermMap:
    vocab = builder.vocab()
    iris: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    reverse: dict[str, str] = {}
    for term in builder.defs:
        iri = builder.iri_of(term)
        if iri is None:
            continue
        iris[term] = iri
        if builder.is_prefix(term):
            prefixes[term] = iri
        best = reverse.get(iri)
        if best is None or _preference(term) < _preference(best):
            reverse[iri] = term
    return TermMap(context=context, key=key, vocab=vocab, iris=iris, prefixes=prefixes, reverse=reverse)


def _preference(term: str) -> tuple[bool, bool, int, str]:
    """Sort key of the terms naming one IRI: user terms before core ones, plain terms before compact
    IRIs, then the shortest, then the first in code-point order."""
    return (term in _CORE_DEFS, ":" in term, len(term), term)


_CORE_LOCAL = _parse_local(CORE_CONTEXT["@context"], "the NGSI-LD core @context", scoped=True)
_CORE_DEFS: dict[str, _Def] = {t: d for t, d in _CORE_LOCAL.terms.items() if d is not None}
_CORE_MAP = _term_map(
    _Builder(_CORE_DEFS, _CORE_LOCAL.vocab, {}),
    context=CORE_CONTEXT_URL,
    key=orjson.dumps(CORE_CONTEXT_URL).decode(),
)
DEFAULT_VOCAB: Final = _CORE_MAP.vocab
# Core terms are protected and their definitions use only core prefixes, so their IRIs never change.
_CORE_IRIS: dict[str, str] = dict(_CORE_MAP._expanded)


def core_term_map() -> TermMap:
    """The term map of the NGSI-LD core context alone (what a request without a context uses)."""
    return _CORE_MAP


def _build(locals_: list[_Local | None], *, context: Any, key: str) -> TermMap:
    """The term map of user local contexts applied in order, with the core context protected on top."""
    user: dict[str, _Def] = {}
    vocab_raw: str | None = None
    for local in locals_:
        if local is None:  # a null context: forget the user definitions so far
            user.clear()
            vocab_raw = None
            continue
        for term, d in local.terms.items():
            if term in _CORE_DEFS:
                continue  # protected: a user context cannot redefine a core term
            if d is None:
                user.pop(term, None)
            else:
                user[term] = d
        if local.has_vocab:
            vocab_raw = local.vocab
    if not user and vocab_raw is None:
        return TermMap(
            context=context,
            key=key,
            vocab=_CORE_MAP.vocab,
            iris=_CORE_IRIS,
            prefixes=_CORE_MAP._prefixes,
            reverse=_CORE_MAP._reverse,
        )
    return _term_map(_Builder({**user, **_CORE_DEFS}, vocab_raw or DEFAULT_VOCAB, _CORE_IRIS), context=context, key=key)


# --- resolving contexts -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Resolution:
    """Bookkeeping while one context value is resolved."""

    documents: int = 0
    expires: float | None = None

    def depends_until(self, expires: float) -> None:
        self.expires = expires if self.expires is None else min(self.expires, expires)


def _unavailable(url: str, reason: str) -> LdContextNotAvailable:
    return LdContextNotAvailable(f"cannot use the JSON-LD @context at {url}: {reason}")


def _invalid(url: str, reason: str) -> BadRequestData:
    """A remote @context fetched but not valid: BadRequestData (NGSI-LD 5.5.6), not LdContextNotAvailable."""
    return BadRequestData(f"the JSON-LD @context at {url} is not valid: {reason}")


def _check_remote(value: Any, url: str, depth: int = 0) -> None:
    """Refuse a fetched document whose own local contexts are invalid, so that it is not cached."""
    if isinstance(value, str) or value is None:
        return
    if depth > MAX_DEPTH:
        raise _invalid(url, "its @context is nested too deeply")
    if isinstance(value, list):
        for item in value:
            _check_remote(item, url, depth + 1)
    elif isinstance(value, dict):
        if "@context" in value:
            _check_remote(value["@context"], url, depth + 1)
            return
        try:
            _parse_local(value, "it", scoped=True)  # checked where it is used: the fetched copy is kept
        except InvalidRequest as exc:
            raise _invalid(url, exc.detail) from None
    else:
        raise _invalid(url, f"its @context is {_kind(value)}, not an object, a URL or a list")


class ContextResolver:
    """Turns request ``@context`` values into :class:`TermMap` objects, fetching and caching remote ones.

    URLs are looked up, in order, among the core context URLs, in ``stored`` (the server's own
    contexts: a callable returning the document or None), in the memory cache of fetched documents,
    and else fetched over HTTP(S). Successful fetches are cached for ``cache_seconds`` and reported to
    ``on_fetch(url, document)``; failures raise :class:`LdContextNotAvailable` and are never cached.
    Safe to share between threads.
    """

    def __init__(
        self,
        stored: Callable[[str], dict[str, Any] | None] | None = None,
        *,
        timeout: float = 5.0,
        cache_seconds: float = 3600.0,
        on_fetch: Callable[[str, dict[str, Any]], None] | None = None,
        max_bytes: int = 2 * 1024 * 1024,
        allow_private: bool = True,
    ) -> None:
        self._stored = stored
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._on_fetch = on_fetch
        self._max_bytes = max_bytes
        self._allow_private = allow_private
        self._lock = threading.Lock()
        self._maps: dict[bytes, tuple[TermMap, float | None]] = {}
        self._documents: dict[str, tuple[Any, float]] = {}
        self._inflight: dict[str, Future[tuple[Any, float]]] = {}
        self._generation = 0  # bumped by forget(), so a resolve that overlapped it caches nothing

    @property
    def core(self) -> TermMap:
        """The term map of the core context alone."""
        return core_term_map()

    def resolve(self, context: JsonLdContext) -> TermMap:
        """The term map of ``context`` (a URL, an object, a list of those, or None for the core alone).

        Raises InvalidRequest for a malformed context and LdContextNotAvailable when a remote
        context cannot be fetched.
        """
        if context is None:
            return core_term_map()
        if isinstance(context, str) and context in CORE_CONTEXT_URLS:
            return core_term_map()
        if not isinstance(context, str | dict | list):
            raise InvalidRequest(f"the @context must be a URL, an object or a list of those, not {_kind(context)}")
        try:
            key = orjson.dumps(context)
        except TypeError as exc:
            raise InvalidRequest(f"the @context is not plain JSON: {exc}") from None
        hit = self._maps.get(key)
        now = time.monotonic()
        if hit is not None and (hit[1] is None or hit[1] > now):
            return hit[0]
        generation = self._generation
        resolution = _Resolution()
        locals_: list[_Local | None] = []
        self._collect(context, None, (), locals_, resolution)
        tm = _build(locals_, context=context, key=key.decode())
        with self._lock:
            if generation != self._generation:
                return tm
            self._maps.pop(key, None)
            while len(self._maps) >= MAX_TERM_MAPS:
                del self._maps[next(iter(self._maps))]  # oldest first
            self._maps[key] = (tm, resolution.expires)
        return tm

    def cached(self, context: JsonLdContext) -> TermMap | None:
        """The term map of ``context`` if it is at hand without fetching anything, else None.

        Lets an event loop answer the common case inline and send only a possible fetch to a thread.
        """
        if context is None or (isinstance(context, str) and context in CORE_CONTEXT_URLS):
            return core_term_map()
        if isinstance(context, str) and not context.startswith(("http://", "https://")):
            return None
        try:
            key = orjson.dumps(context)
        except TypeError:
            return None
        hit = self._maps.get(key)
        if hit is not None and (hit[1] is None or hit[1] > time.monotonic()):
            return hit[0]
        return None

    def forget(self, url: str | None = None) -> None:
        """Drop the cached document of ``url`` (all documents when None) and every cached term map,
        e.g. after a stored context was deleted or to reload a remote one."""
        with self._lock:
            if url is None:
                self._documents.clear()
            else:
                self._documents.pop(url, None)
            self._maps.clear()
            self._generation += 1

    def _collect(
        self, value: Any, base: str | None, chain: tuple[str, ...], out: list[_Local | None], res: _Resolution
    ) -> None:
        where = "the @context" if base is None else f"the @context at {base}"
        if value is None:
            out.append(None)
        elif isinstance(value, str):
            url = urljoin(base, value) if base else value
            if url in CORE_CONTEXT_URLS:
                return  # the core context is always in effect
            document = self._follow(url, chain, res)
            self._collect(document, url, (*chain, url), out, res)
        elif isinstance(value, list):
            for item in value:
                self._collect(item, base, chain, out, res)
        elif isinstance(value, dict):
            if "@context" in value:  # a whole context document
                self._collect(value["@context"], base, chain, out, res)
                return
            local = _parse_local(value, where)
            if local.import_url is not None:
                local = self._import(local, urljoin(base, local.import_url) if base else local.import_url, chain, res)
            out.append(local)
        else:
            raise InvalidRequest(
                f"{where} is invalid: an entry is {_kind(value)}; use a URL, an object or a list of those"
            )

    def _follow(self, url: str, chain: tuple[str, ...], res: _Resolution) -> Any:
        if url in chain:
            raise InvalidRequest(f"the @context at {url} includes itself (through {' -> '.join(chain)})")
        if len(chain) >= MAX_DEPTH:
            raise InvalidRequest(f"the @context nests URL references more than {MAX_DEPTH} deep (at {url})")
        res.documents += 1
        if res.documents > MAX_DOCUMENTS:
            raise InvalidRequest(f"the @context pulls in more than {MAX_DOCUMENTS} documents")
        value, expires = self._document(url)
        res.depends_until(expires)
        return value

    def _import(self, local: _Local, url: str, chain: tuple[str, ...], res: _Resolution) -> _Local:
        value = self._follow(url, chain, res)
        if not isinstance(value, dict) or "@import" in value:
            raise InvalidRequest(f"the @context imported from {url} must be a single object without @import")
        imported = _parse_local(value, f"the @context at {url}")
        return _Local(
            {**imported.terms, **local.terms},
            local.has_vocab or imported.has_vocab,
            local.vocab if local.has_vocab else imported.vocab,
            None,
        )

    def _document(self, url: str) -> tuple[Any, float]:
        """The ``@context`` value of the document at ``url`` and when what is derived from it expires."""
        if self._stored is not None:
            doc = self._stored(url)
            if doc is not None:
                return doc.get("@context", doc), time.monotonic() + self._cache_seconds
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidRequest(f"the @context {url!r} is neither a known context nor an http(s) URL")
        cached = self._documents.get(url)
        if cached is not None and cached[1] > time.monotonic():
            return cached
        with self._lock:
            future = self._inflight.get(url)
            owner = future is None
            if future is None:
                future = self._inflight[url] = Future()
        if not owner:
            try:
                return future.result()
            except NgsiLdError as exc:  # a fresh exception: one object must not be raised in many threads
                raise type(exc)(exc.detail, **exc.extra) from None
        try:
            body = self._fetch(url)
            entry = (body["@context"], time.monotonic() + self._cache_seconds)
            with self._lock:
                self._documents.pop(url, None)
                while len(self._documents) >= MAX_DOCUMENT_CACHE:
                    del self._documents[next(iter(self._documents))]
                self._documents[url] = entry
            future.set_result(entry)
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            with self._lock:
                del self._inflight[url]
        if self._on_fetch is not None:
            try:
                self._on_fetch(url, body)
            except Exception:
                log.exception("recording the fetched @context %s failed", url)
        return entry

    def _fetch(self, url: str) -> dict[str, Any]:
        deadline = time.monotonic() + self._timeout
        chunks: list[bytes] = []
        try:
            hooks = {} if self._allow_private else {"request": [_refuse_private_hosts]}
            with (
                httpx.Client(
                    timeout=self._timeout, follow_redirects=True, headers={"Accept": ACCEPT}, event_hooks=hooks
                ) as client,
                client.stream("GET", url) as response,
            ):
                if not response.is_success:
                    raise _unavailable(url, f"the server answered HTTP {response.status_code}")
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise _unavailable(url, f"the document is larger than {self._max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise _unavailable(url, f"the document did not arrive within {self._timeout:g} s")
                    chunks.append(chunk)
        except _PrivateHost as exc:
            raise _unavailable(url, str(exc)) from None
        except httpx.TimeoutException:
            raise _unavailable(url, f"no answer within {self._timeout:g} s") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _unavailable(url, f"{type(exc).__name__}: {exc}") from None
        try:
            body = orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError:
            raise _invalid(url, "the answer is not JSON") from None
        if not isinstance(body, dict) or "@context" not in body:
            raise _invalid(url, "the answer is not a JSON-LD context document (an object with @context)")
        _check_remote(body["@context"], url)
        return body


class _PrivateHost(Exception):
    pass


def _refuse_private_hosts(request: httpx.Request) -> None:
    """Refuse to fetch from loopback, private, link-local or reserved addresses (and redirects there).

    A client names the URL, so without this the server could be made to read internal services
    (``cityos.core.addresses``).
    """
    host = request.url.host
    why = refusal(host, request.url.port or 443)
    if why is not None:
        hint = "" if "resolved" in why else "; set CITYOS_CONTEXT_ALLOW_PRIVATE=true to allow contexts from such hosts"
        raise _PrivateHost(f"not fetched: {why}{hint}")


# --- Link headers -----------------------------------------------------------------------------------


def link_header(url: str) -> str:
    """A ``Link`` header value pointing at the JSON-LD context ``url``."""
    return f'<{url}>; rel="{JSONLD_CONTEXT_REL}"; type="application/ld+json"'


def _split_links(value: str) -> list[str]:
    """The comma-separated link values of a Link header; commas inside <...> or quotes do not split."""
    parts: list[str] = []
    start, in_url, in_quotes, escaped = 0, False, False, False
    for i, ch in enumerate(value):
        if in_quotes:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_quotes = False
        elif in_url:
            in_url = ch != ">"
        elif ch == "<":
            in_url = True
        elif ch == '"':
            in_quotes = True
        elif ch == ",":
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return [p.strip() for p in parts if p.strip()]


def _parse_link(link: str) -> tuple[str, dict[str, str]]:
    """``<url>; name=value; name="value"`` → (url, parameters); ValueError names what is wrong."""
    if not link.startswith("<"):
        raise ValueError("it must start with <URL>")
    end = link.find(">")
    if end < 0:
        raise ValueError("the URL is not closed with '>'")
    url = link[1:end].strip()
    if not url:
        raise ValueError("the URL between < and > is empty")
    params: dict[str, str] = {}
    rest, i = link[end + 1 :], 0
    while True:
        while i < len(rest) and rest[i].isspace():
            i += 1
        if i == len(rest):
            return url, params
        if rest[i] != ";":
            raise ValueError(f"expected ';' before {rest[i:]!r}")
        i += 1
        name_start = i
        while i < len(rest) and rest[i] not in "=;":
            i += 1
        name = rest[name_start:i].strip().lower()
        if not name:
            if rest[name_start:].strip():
                raise ValueError("a parameter has no name")
            return url, params
        if " " in name or "\t" in name:
            raise ValueError(f"parameter name {name!r} has spaces")
        pvalue = ""
        if i < len(rest) and rest[i] == "=":
            i += 1
            while i < len(rest) and rest[i].isspace():
                i += 1
            if i < len(rest) and rest[i] == '"':
                i += 1
                chars: list[str] = []
                while i < len(rest) and rest[i] != '"':
                    if rest[i] == "\\" and i + 1 < len(rest):
                        i += 1
                    chars.append(rest[i])
                    i += 1
                if i == len(rest):
                    raise ValueError(f"the quoted value of {name!r} is not closed")
                i += 1
                pvalue = "".join(chars)
            else:
                value_start = i
                while i < len(rest) and rest[i] != ";":
                    i += 1
                pvalue = rest[value_start:i].strip()
        params.setdefault(name, pvalue)  # RFC 8288: later occurrences of a parameter are ignored


def parse_link_header(value: str | None) -> str | None:
    """The URL of the JSON-LD context link (``rel="http://www.w3.org/ns/json-ld#context"``) in a Link
    header, or None when there is none. A malformed context link raises InvalidRequest; malformed
    links of other relations are ignored."""
    if value is None or not value.strip():
        return None
    found: list[str] = []
    for link in _split_links(value):
        try:
            url, params = _parse_link(link)
        except ValueError as exc:
            if "json-ld#context" in link:
                raise InvalidRequest(
                    f"the JSON-LD context link in the Link header is malformed ({exc}): {link!r}; send "
                    f"{link_header('https://example.org/context.jsonld')}"
                ) from None
            continue
        if JSONLD_CONTEXT_REL not in params.get("rel", "").split():
            continue
        if not _ABSOLUTE.match(url) or any(ch.isspace() for ch in url):
            raise InvalidRequest(f"the JSON-LD context link <{url}> in the Link header is not an absolute URL")
        if url not in found:
            found.append(url)
    if len(found) > 1:
        raise InvalidRequest(
            f"the Link header names {len(found)} JSON-LD contexts ({', '.join(found)}); send one "
            "(a context document may list several)"
        )
    return found[0] if found else None
