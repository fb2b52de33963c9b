"""The classifier of a process: the one ``cityos cases retrain`` saved in the data directory, else the shipped
one, trained from the shipped complaints (a few seconds; more on a busy or slow machine) by the first process
of the machine and kept in the model cache (``CITYOS_MODEL_CACHE``, default ``<data_dir>/models``), from which
every later start loads it in seconds.

A request never waits for it. Every API process starts loading it in a background thread when it starts
(:class:`ClassifierLoader`, an API runner of the cases component); until it is ready, a request that
needs it (a report without a category, the routing dry run of a text) answers 503 with Retry-After
(:func:`ready_classifier`), and everything else works meanwhile. Outside a request (the cases role's
thread, the CLI, tests calling the services) :func:`classifier` waits for it, or loads it then when nobody
has started loading it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cityos.errors import Unavailable
from cityos.runtime import Runtime

if TYPE_CHECKING:  # scikit-learn and jieba come with the classifier: imported when it loads, not before
    from cityos.cases.classifier import Classifier

log = logging.getLogger(__name__)
MODEL_FILE = "cases-classifier.joblib"  # in the data directory, written by `cityos cases retrain`
RETRY_AFTER_SECONDS = 5

ClassifierSource = Callable[[Runtime], "Classifier"]  # how a use case gets the classifier: waiting, or not


class ClassifierSlot:
    """The process's classifier, loaded once by ``load`` in a background thread."""

    def __init__(self, load: Callable[[], Classifier]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self._model: Classifier | None = None
        self._error: Exception | None = None

    def start(self) -> None:
        """Start loading in a background thread, unless it is loading or loaded already."""
        with self._lock:
            if self._thread is None and not self._done.is_set():
                self._started = time.monotonic()
                self._thread = threading.Thread(target=self._run, name="cases-classifier", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            model = self._load()
        except Exception as exc:  # kept, and raised to whoever asks for the classifier
            log.exception("the case classifier did not load")
            self._settle(None, exc)
        else:
            log.info("the case classifier is ready (%.1f s)", time.monotonic() - self._started)
            self._settle(model, None)

    def _settle(self, model: Classifier | None, error: Exception | None) -> None:
        with self._lock:
            if not self._done.is_set():  # a classifier put in meanwhile (a retrain) wins
                self._model, self._error = model, error
                self._done.set()

    @property
    def ready(self) -> bool:
        return self._done.is_set()

    def now(self) -> Classifier:
        """The classifier if it is loaded; otherwise :class:`Unavailable` (503), and loading starts."""
        if not self._done.is_set():
            self.start()
            waited = time.monotonic() - self._started
            raise Unavailable(
                f"the case classifier is still loading ({waited:.0f} s so far; it takes seconds to a minute after the "
                f"server starts): try again in {RETRY_AFTER_SECONDS} s, or give the category yourself "
                "(GET /cases/taxonomy lists them)",
                retryAfter=RETRY_AFTER_SECONDS,
            )
        return self._result()

    def wait(self, timeout: float | None = None) -> Classifier:
        """The classifier, loading it if nobody has started to, waiting for it at most ``timeout`` seconds."""
        self.start()
        if not self._done.wait(timeout):
            raise Unavailable(f"the case classifier did not load within {timeout} s", retryAfter=RETRY_AFTER_SECONDS)
        return self._result()

    def _result(self) -> Classifier:
        if self._error is not None:
            raise self._error.with_traceback(None)
        assert self._model is not None  # settled without an error
        return self._model

    def join(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for a load under way to end; whether none is under way now."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def put(self, model: Classifier) -> None:
        """Use ``model`` from now on (after a retrain)."""
        with self._lock:
            self._model, self._error = model, None
            self._done.set()


def model_path(rt: Runtime) -> Path:
    return Path(rt.settings.data_dir) / MODEL_FILE


def model_cache(rt: Runtime) -> Path:
    """Where trained models are kept between starts (:mod:`cityos.cases.model_cache`)."""
    return rt.settings.model_cache or Path(rt.settings.data_dir) / "models"


def load_saved_or_shipped(path: Path, cache: Path | None = None) -> Classifier:
    """The classifier saved at ``path``, else the shipped one (once per process: from ``cache`` when a process
    trained it before, else trained, and kept there when a ``cache`` is given)."""
    from cityos.cases.classifier import Classifier, default_classifier

    return Classifier.load(path) if path.exists() else default_classifier(cache)


def slot(rt: Runtime) -> ClassifierSlot:
    """The runtime's classifier slot (a test puts in one with a loader of its own before the app starts)."""
    path, cache = model_path(rt), model_cache(rt)
    return rt.parts.get(ClassifierSlot, lambda: ClassifierSlot(lambda: load_saved_or_shipped(path, cache)))


def classifier(rt: Runtime) -> Classifier:
    """The classifier, waiting for it to load (outside requests: the cases role, the CLI, tests)."""
    return slot(rt).wait()


def ready_classifier(rt: Runtime) -> Classifier:
    """The classifier if it is ready; a request that needs it before then answers 503 with Retry-After."""
    return slot(rt).now()


def use_classifier(rt: Runtime, model: Classifier) -> None:
    """Use ``model`` in this runtime (a server started later loads the saved one from the data directory)."""
    slot(rt).put(model)


class ClassifierLoader:
    """The API runner that starts loading the classifier when the process starts."""

    def __init__(self, rt: Runtime) -> None:
        self.slot = slot(rt)

    @property
    def loading(self) -> str | None:
        """What it loads while it loads (``GET /health`` lists it)."""
        return None if self.slot.ready else "cases classifier"

    def start(self) -> None:
        self.slot.start()

    def close(self) -> None:
        """Nothing to wait for: a stopping process no longer needs the classifier. A load under way goes on in
        its daemon thread (for the next app of this process) or ends with the process; a training cut short
        leaves no file behind (the model cache writes whole files, and its lock goes with the process)."""
        if not self.slot.ready:
            log.info("stopping while the case classifier still loads: not waiting for it")
