"""The complaint classifier: Chinese text in, a sub-category of the taxonomy out, with how sure it is.

Words (jieba) and character uni- and bi-grams, both TF-IDF, feed a linear SVM over the sub-categories, calibrated
into probabilities. The main category is chosen first, as the one with the largest summed probability of its subs,
then the best sub inside it: the main category decides who handles a case, so it is the figure to get right, and
summing lets ten weak votes for "housing" beat one strong vote elsewhere.

Besides the complaints it is given, every training run also learns each sub-category's own name, description and
keywords from the taxonomy, so every sub-category is a class even before the first case of it.

When the main category's probability is below the threshold (default 0.6) the prediction ``needs_confirmation``:
a dispatcher confirms or corrects it. Confirmed corrections go back in through :func:`retrain`, which learns from
the shipped training split plus the corrections (each counted twice). No HTTP, no SQL: pure functions on text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import platform
import threading
import warnings
from collections.abc import Iterable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

import numpy as np
import sklearn
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from cityos.cases.errors import InvalidCasesConfig
from cityos.cases.model_cache import cached
from cityos.cases.models import Alternative, Evaluation, MainScore, Prediction
from cityos.cases.taxonomy import DEFAULT_PATH as TAXONOMY_PATH
from cityos.cases.taxonomy import Taxonomy, load_taxonomy
from cityos.errors import InvalidInput

DATA_PATH = Path(__file__).with_name("data") / "complaints.jsonl"
DEFAULT_THRESHOLD = 0.6
CORRECTION_WEIGHT = 2.0
KNOWN_TEXTS = 4096  # predictions kept per classifier, by text
ROW_AT_A_TIME = 32  # texts up to this many are featurised one by one (faster than sparse matrices for a few)
FORMAT_VERSION = 1  # of a saved classifier file; bump when the pipeline's shape changes

# City terms jieba's general dictionary splits badly; the taxonomy's keywords are added too.
CITY_WORDS = (
    "窨井盖",
    "井盖",
    "占道经营",
    "跨门营业",
    "跨门经营",
    "飞线充电",
    "电瓶车",
    "电动车",
    "共享单车",
    "群租",
    "群租房",
    "二房东",
    "违章搭建",
    "违建",
    "阳光房",
    "承重墙",
    "高空抛物",
    "消防通道",
    "消火栓",
    "消防栓",
    "渣土车",
    "油烟",
    "下立交",
    "公厕",
    "小广告",
    "牛皮癣",
    "僵尸车",
    "红绿灯",
    "信号灯",
    "斑马线",
    "候车亭",
    "健身器材",
    "架空线",
    "垃圾箱房",
    "湿垃圾",
    "干垃圾",
    "液化气",
    "煤气罐",
    "煤气味",
    "燃气",
    "化粪池",
    "雨水口",
    "随申拍",
    "随申办",
    "物业费",
    "业委会",
    "居委会",
    "广场舞",
    "打桩机",
    "夜间施工",
    "独居老人",
    "预付卡",
)

Example = tuple[str, str]  # (text, sub-category code)


# --- tokenising ---------------------------------------------------------------------------------------------------

_jieba_lock = threading.Lock()
_jieba: Any = None
_PUNCT = set(" \t\r\n，。！？、；：,.!?;:（）()【】[]“”\"'‘’…~～-—/")


def _tokenizer(extra_words: Iterable[str] = ()) -> Any:
    """A private jieba tokenizer (the global one is left alone), loaded quietly once per process."""
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            with warnings.catch_warnings():
                # jieba imports pkg_resources, which warns on newer setuptools; the test run turns warnings to errors.
                warnings.simplefilter("ignore")
                import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for word in CITY_WORDS:
                tokenizer.add_word(word)
            _jieba = tokenizer
        for word in extra_words:
            _jieba.add_word(word)
        return _jieba


def _tokenize(text: str) -> list[str]:
    """Words of a text, punctuation dropped. Module-level so a saved pipeline pickles it by name."""
    return [w for w in _tokenizer().lcut(text) if w not in _PUNCT and w.strip()]


def _keyword_words(taxonomy: Taxonomy) -> list[str]:
    return sorted({k for s in taxonomy.subs for k in s.keywords})


def _pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(tokenizer=_tokenize, token_pattern=None, lowercase=False, sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)),
        ]
    )
    # Character uni- and bi-grams carry most of the signal and survive wordings jieba splits differently; longer
    # n-grams and word bi-grams only memorise phrasings. A linear SVM, calibrated by 3-fold cross-validation, gives
    # probabilities that are honest enough to decide what a dispatcher must confirm, and trains in seconds.
    model = CalibratedClassifierCV(LinearSVC(C=0.3, max_iter=5000, random_state=0), cv=3)
    return Pipeline([("features", features), ("model", model)])


def taxonomy_examples(taxonomy: Taxonomy) -> list[Example]:
    """Each sub-category's own words as examples: its name, description and keywords (together and one by one).

    They seed every sub-category with a few examples, so the classifier knows all of the taxonomy (a new
    sub-category is predictable before anyone has filed a case in it) and always has enough for calibration.
    """
    out = []
    for s in taxonomy.subs:
        out += [(s.name.zh, s.code), (s.description.zh, s.code), ("，".join(s.keywords), s.code)]
        out += [(k, s.code) for k in s.keywords]
    return out


# --- the classifier -----------------------------------------------------------------------------------------------


class _TfidfUnion:
    """The features of a fitted ``FeatureUnion`` of TF-IDF vectorizers for a few texts, as (column, value) pairs
    per text: the same arithmetic as scikit-learn's ``transform`` (each analyzer's terms counted, sublinear tf,
    times idf, each vectorizer's part scaled to unit length, parts side by side), without the input checks and
    sparse matrices that cost most of a single report's time. Tests hold the two equal."""

    def __init__(self, union: FeatureUnion) -> None:
        self.parts: list[tuple[Any, dict[str, int], np.ndarray, bool, int]] = []
        offset = 0
        for _name, vec in union.transformer_list:
            self.parts.append((vec.build_analyzer(), vec.vocabulary_, vec.idf_, vec.sublinear_tf, offset))
            offset += len(vec.vocabulary_)

    @staticmethod
    def fits(union: Any) -> bool:
        if not isinstance(union, FeatureUnion) or union.transformer_weights:
            return False
        return all(
            type(v) is TfidfVectorizer and v.use_idf and v.norm == "l2" and not v.binary and v.dtype == np.float64
            for _n, v in union.transformer_list
        )

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for analyze, vocabulary, idf, sublinear, offset in self.parts:
            counts: dict[int, int] = {}
            for term in analyze(text):
                j = vocabulary.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            cols = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=float, count=len(counts))
            v = (np.log(tf) + 1.0 if sublinear else tf) * idf[cols]
            v /= np.sqrt(np.dot(v, v))
            columns.append(cols + offset)
            values.append(v)
        if not columns:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        return np.concatenate(columns), np.concatenate(values)


class _SigmoidEnsemble:
    """The probabilities of a fitted ``CalibratedClassifierCV`` over linear models with sigmoid (Platt)
    calibration, computed as a few array operations: scikit-learn's own ``predict_proba`` checks its input once
    per class and calibrator (3 × 61 times for one report), which costs more than the arithmetic. The same
    formula as scikit-learn's (per model: the decision function, ``expit(-(a·f + b))`` per class, normalised over
    the classes, a uniform distribution where all are 0; the mean over the models); tests hold the two equal."""

    def __init__(self, model: CalibratedClassifierCV) -> None:
        self.weights: list[Any] = []  # per model: (features x classes) coefficients, sparse-friendly
        self.biases: list[np.ndarray] = []
        self.a: list[np.ndarray] = []
        self.b: list[np.ndarray] = []
        self.columns: list[np.ndarray] = []  # per model: the column of each of its classes in the answer
        n = len(model.classes_)
        for part in model.calibrated_classifiers_:
            est = part.estimator
            self.weights.append(np.ascontiguousarray(est.coef_.T))
            self.biases.append(np.asarray(est.intercept_, dtype=float))
            self.a.append(np.array([c.a_ for c in part.calibrators], dtype=float))
            self.b.append(np.array([c.b_ for c in part.calibrators], dtype=float))
            self.columns.append(np.searchsorted(model.classes_, est.classes_))
        self.n_classes = n

    @staticmethod
    def fits(model: Any) -> bool:
        """Whether ``model`` is one this computes exactly: sigmoid-calibrated linear models, more than two classes."""
        if not isinstance(model, CalibratedClassifierCV) or model.method != "sigmoid" or len(model.classes_) < 3:
            return False
        return all(
            hasattr(p.estimator, "coef_") and len(p.calibrators) == len(p.estimator.classes_)
            for p in model.calibrated_classifiers_
        )

    def predict_proba(self, features: Any) -> np.ndarray:
        """``features``: a (texts x features) matrix, or a list of (columns, values) rows."""
        rows = features if isinstance(features, list) else None
        out = np.zeros((len(rows) if rows is not None else features.shape[0], self.n_classes))
        for w, bias, a, b, columns in zip(self.weights, self.biases, self.a, self.b, self.columns, strict=True):
            if rows is not None:
                decision = np.array([vals @ w[cols] for cols, vals in rows]).reshape(len(rows), -1) + bias
            else:
                decision = np.asarray(features @ w) + bias
            proba = np.zeros_like(out)
            proba[:, columns] = expit(-(a * decision + b))
            total = proba.sum(axis=1, keepdims=True)
            proba = np.divide(proba, total, out=np.full_like(proba, 1 / self.n_classes), where=total != 0)
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
            out += proba
        return out / len(self.weights)


class Classifier:
    """A trained pipeline and the taxonomy it maps sub-categories into main categories with."""

    def __init__(self, pipeline: Pipeline, taxonomy: Taxonomy, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.pipeline = pipeline
        self.taxonomy = taxonomy
        self.threshold = threshold
        self.classes: list[str] = [str(c) for c in pipeline.classes_]
        mains = [taxonomy.main_of(c).code for c in self.classes]
        self._mains = sorted(set(mains))
        # (classes x mains) 0/1 matrix: probabilities @ membership = each main's summed probability.
        self._membership = np.array([[m == main for main in self._mains] for m in mains], dtype=float)
        self._class_main = mains
        model = pipeline.named_steps.get("model") if hasattr(pipeline, "named_steps") else None
        self._known: dict[tuple[str, float], Prediction] = {}  # predictions kept by text (frozen: safe to share)
        self._lock = threading.Lock()
        self._fast = _SigmoidEnsemble(model) if _SigmoidEnsemble.fits(model) else None
        union = pipeline.named_steps.get("features") if hasattr(pipeline, "named_steps") else None
        self._rows = _TfidfUnion(union) if self._fast is not None and _TfidfUnion.fits(union) else None

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's probability of each class (:attr:`classes`), as the pipeline computes them."""
        if self._fast is None:
            return np.asarray(self.pipeline.predict_proba(list(texts)))
        if self._rows is not None and len(texts) <= ROW_AT_A_TIME:
            return self._fast.predict_proba([self._rows.row(t) for t in texts])
        return self._fast.predict_proba(self.pipeline.named_steps["features"].transform(list(texts)))

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """Each text's prediction; a text predicted before (exactly the same, under this threshold) is not
        predicted again: the 12345 desk receives the same words many times (a bulk hand-over, a repeated call)."""
        known, threshold = self._known, self.threshold
        found = {t: p for t in texts if (p := known.get((t, threshold))) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        for text, prediction in zip(missing, self._predict(missing), strict=True):
            found[text] = prediction
            with self._lock:  # threads of one process share the classifier
                if len(known) >= KNOWN_TEXTS:
                    known.pop(next(iter(known)))  # the oldest first
                known[(text, threshold)] = prediction
        return [found[t] for t in texts]

    def _predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        probabilities = self.probabilities(texts)
        by_main = probabilities @ self._membership
        out = []
        for p, pm in zip(probabilities, by_main, strict=True):
            main_index = int(np.argmax(pm))
            main = self._mains[main_index]
            inside = [i for i, m in enumerate(self._class_main) if m == main]
            best = max(inside, key=lambda i: p[i])
            top = np.argsort(-p)[:3]
            out.append(
                Prediction(
                    sub=self.classes[best],
                    main=main,
                    confidence=round(float(pm[main_index]), 4),
                    sub_confidence=round(float(p[best]), 4),
                    alternatives=[
                        Alternative(sub=self.classes[i], main=self._class_main[i], probability=round(float(p[i]), 4))
                        for i in top
                    ],
                    needs_confirmation=bool(pm[main_index] < self.threshold),
                )
            )
        return out

    def save(self, path: str | Path) -> None:
        """Write the classifier: a small header (checked before anything else is read), then the pipeline."""
        header = {
            "format": FORMAT_VERSION,
            "sklearn": sklearn.__version__,
            "threshold": self.threshold,
            "classes": self.classes,
            "words": _keyword_words(self.taxonomy),
        }
        target = Path(path)
        partial = target.with_name(target.name + ".partial")
        with partial.open("wb") as f:
            pickle.dump(header, f, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(self.pipeline, f, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(target)  # a reader never sees half a file

    @classmethod
    def load(cls, path: str | Path, taxonomy: Taxonomy | None = None) -> Classifier:
        """Read a saved classifier (a trusted file written by :meth:`save`: it is a pickle)."""
        taxonomy = taxonomy or load_taxonomy()
        try:
            with Path(path).open("rb") as f:
                header = pickle.load(f)
                if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
                    found = header.get("format") if isinstance(header, dict) else None
                    raise InvalidCasesConfig(
                        f"{path}: classifier file format {found!r}, this cityos reads {FORMAT_VERSION}; retrain it"
                    )
                if header["sklearn"] != sklearn.__version__:
                    # A pipeline pickled by another scikit-learn may load and then misbehave: refuse, retrain.
                    raise InvalidCasesConfig(
                        f"{path}: classifier saved with scikit-learn {header['sklearn']}, "
                        f"running {sklearn.__version__}; retrain it"
                    )
                unknown = [c for c in header["classes"] if not taxonomy.has_sub(c)]
                if unknown:
                    raise InvalidCasesConfig(
                        f"{path}: classifier knows sub-categories the taxonomy does not "
                        f"({', '.join(unknown)}); retrain it"
                    )
                _tokenizer(header["words"])  # same segmentation as at training time
                pipeline = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            raise InvalidCasesConfig(f"{path}: cannot read the classifier ({exc})") from exc
        return cls(pipeline, taxonomy, threshold=float(header["threshold"]))


# --- training, data, evaluation -------------------------------------------------------------------------------------


def load_examples(split: Literal["train", "heldout"] | None = None, path: str | Path | None = None) -> list[Example]:
    """The shipped labelled complaints as (text, sub) pairs: one split, or all of them."""
    out = []
    with Path(path or DATA_PATH).open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                if split is None or row["split"] == split:
                    out.append((row["text"], row["sub"]))
    return out


def train(
    examples: Iterable[Example],
    *,
    taxonomy: Taxonomy | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    weights: Iterable[float] | None = None,
) -> Classifier:
    """Fit a classifier on (text, sub) pairs plus the taxonomy's own words; ``weights`` count some examples more."""
    taxonomy = taxonomy or load_taxonomy()
    pairs = list(examples)
    weight_list = [1.0] * len(pairs) if weights is None else [float(w) for w in weights]
    if len(weight_list) != len(pairs):
        raise InvalidInput(f"{len(weight_list)} weights for {len(pairs)} examples")
    unknown = sorted({s for _, s in pairs if not taxonomy.has_sub(s)})
    if unknown:
        raise InvalidInput(f"training examples use sub-categories the taxonomy does not know: {', '.join(unknown)}")
    seeds = taxonomy_examples(taxonomy)
    texts = [t for t, _ in pairs] + [t for t, _ in seeds]
    labels = [s for _, s in pairs] + [s for _, s in seeds]
    _tokenizer(_keyword_words(taxonomy))
    pipeline = _pipeline()
    pipeline.fit(texts, labels, model__sample_weight=np.asarray(weight_list + [1.0] * len(seeds)))
    return Classifier(pipeline, taxonomy, threshold=threshold)


def retrain(
    corrections: Iterable[Example],
    *,
    taxonomy: Taxonomy | None = None,
    weight: float = CORRECTION_WEIGHT,
    threshold: float = DEFAULT_THRESHOLD,
) -> Classifier:
    """Train on the shipped training split plus dispatcher-confirmed corrections, each correction weighted."""
    base = load_examples("train")
    extra = [(t, s) for t, s in corrections if t.strip()]
    return train(
        base + extra, taxonomy=taxonomy, threshold=threshold, weights=[1.0] * len(base) + [weight] * len(extra)
    )


_default: Classifier | None = None
_default_lock = threading.Lock()
CACHE_NAME = "cases-classifier-shipped"  # the shipped classifier's file in a model cache, before its digest


def default_classifier(cache: Path | None = None) -> Classifier:
    """The process's classifier, the shipped one: trained from the shipped training split on first use (2.4 s
    on two quiet cores), or, given a ``cache`` directory, loaded from there when a process trained it before
    (:mod:`cityos.cases.model_cache`; it trains and saves it there otherwise)."""
    global _default
    with _default_lock:
        if _default is None:
            if cache is None:
                _default = train(load_examples("train"))
            else:
                _default = cached(
                    cache, CACHE_NAME, shipped_fingerprint(), lambda: train(load_examples("train")), Classifier.load
                )
        return _default


def _described(value: Any) -> Any:
    """A pipeline setting as text that is the same in every process (no addresses: estimators by class,
    functions by name)."""
    if hasattr(value, "get_params"):
        return type(value).__qualname__  # its own settings are among the pipeline's, flattened
    if isinstance(value, list | tuple):
        return [_described(v) for v in value]
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"
    return repr(value)


def shipped_fingerprint() -> str:
    """A digest of what the shipped classifier is made of: the training data, the taxonomy, the city words,
    the pipeline's settings, the file format and the versions of the libraries that train and pickle it. A
    cached classifier under another digest is stale."""
    digest = hashlib.sha256()
    settings = {k: _described(v) for k, v in sorted(_pipeline().get_params(deep=True).items())}
    libraries = {lib: version(lib) for lib in ("scikit-learn", "numpy", "scipy", "jieba")}
    made_of = [FORMAT_VERSION, DEFAULT_THRESHOLD, CITY_WORDS, settings, libraries, platform.python_version()]
    digest.update(json.dumps(made_of, sort_keys=True, ensure_ascii=False).encode())
    for path in (DATA_PATH, TAXONOMY_PATH):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def set_default_classifier(classifier: Classifier | None) -> None:
    """Swap the process's classifier (after a retrain, or one loaded from disk); None trains afresh on next use."""
    global _default
    with _default_lock:
        _default = classifier


def evaluate(classifier: Classifier, examples: Iterable[Example]) -> Evaluation:
    """Main and sub top-1 accuracy of ``classifier`` on labelled (text, sub) pairs."""
    pairs = list(examples)
    if not pairs:
        raise InvalidInput("nothing to evaluate")
    predictions = classifier.predict_many([t for t, _ in pairs])
    per_main: dict[str, list[int]] = {}
    main_ok = sub_ok = flagged = confident_ok = 0
    for (_, sub), p in zip(pairs, predictions, strict=True):
        true_main = classifier.taxonomy.main_of(sub).code
        hit = p.main == true_main
        main_ok += hit
        sub_ok += p.sub == sub
        flagged += p.needs_confirmation
        confident_ok += hit and not p.needs_confirmation
        tally = per_main.setdefault(true_main, [0, 0])
        tally[0] += 1
        tally[1] += hit
    n = len(pairs)
    return Evaluation(
        count=n,
        main_accuracy=main_ok / n,
        sub_accuracy=sub_ok / n,
        per_main={m: MainScore(count=c, correct=k, accuracy=k / c) for m, (c, k) in sorted(per_main.items())},
        needs_confirmation=flagged,
        confident_main_accuracy=confident_ok / (n - flagged) if n > flagged else None,
    )
