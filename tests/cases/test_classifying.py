"""The classifier of a process: an API process loads it in the background when it starts; a request that needs
it before it is ready answers 503 with Retry-After while everything else works; outside a request it is waited
for, or loaded on first use."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Api, running, shipped_classifier, wait_for

from cityos.cases.classifier import Classifier
from cityos.cases.classifying import (
    RETRY_AFTER_SECONDS,
    ClassifierLoader,
    ClassifierSlot,
    load_saved_or_shipped,
    slot,
)
from cityos.cases.errors import InvalidCasesConfig
from cityos.errors import Unavailable
from cityos.runtime import Runtime

GARBAGE = {"text": "小区门口的垃圾桶满了三天没人清运，臭气熏天", "lon": 121.48, "lat": 31.23}


class Held:
    """A loader that loads only once released."""

    def __init__(self, model: Classifier) -> None:
        self.model = model
        self.release = threading.Event()
        self.calls = 0

    def __call__(self) -> Classifier:
        self.calls += 1
        assert self.release.wait(60), "the test never released the loader"
        return self.model


@pytest.fixture(scope="module")
def model() -> Classifier:
    return shipped_classifier()  # the run's, from its model cache


@pytest.fixture
def held(rt: Runtime, model: Classifier) -> Iterator[Held]:
    loader = Held(model)
    rt.parts.put(ClassifierSlot, ClassifierSlot(loader))  # before the app starts: its runner loads this one
    yield loader
    loader.release.set()


@pytest.fixture
def api(held: Held, api: Api) -> Iterator[Api]:
    """The API of conftest, started with the held loader in place."""
    yield api
    held.release.set()  # the load ends in its thread (the app's stop does not wait for it)


def test_the_api_starts_loading_the_classifier_when_it_starts(api: Api, held: Held) -> None:
    assert running(api, ClassifierLoader).slot is slot(api.rt)
    wait_for(lambda: held.calls == 1)  # no request asked for it
    assert api.get("/health").json()["loading"] == ["cases classifier"]  # an operator sees it loading
    held.release.set()
    wait_for(lambda: api.get("/health").json()["loading"] == [])


def test_a_request_that_needs_the_classifier_answers_503_until_it_is_ready(
    api: Api, held: Held, model: Classifier
) -> None:
    for path, body in (
        ("/cases", GARBAGE),
        ("/cases/batch", {"reports": [GARBAGE]}),
        ("/cases/routing/dry-run", {"text": GARBAGE["text"]}),
    ):
        r = api.post(path, json=body)
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["type"].endswith("/unavailable") and problem["retryAfter"] == RETRY_AFTER_SECONDS
        assert "try again" in problem["detail"] and "give the category" in problem["detail"]
    # everything else works meanwhile: a report with its category, the dry run of a category, the reads
    given = api.post("/cases", json={**GARBAGE, "category": "garbage-uncollected", "lon": 121.40})
    assert given.status_code == 201, given.text
    assert api.post("/cases/routing/dry-run", json={"category": "streetlight-out"}).status_code == 200
    assert api.get("/cases").json()["total"] == 1
    held.release.set()
    assert slot(api.rt).wait(timeout=60) is model
    r = api.post("/cases", json=GARBAGE)
    assert r.status_code == 201, r.text
    assert r.json()["case"]["classification"]["sub"] == "garbage-uncollected"
    assert held.calls == 1


def test_the_api_description_shows_the_503(api: Api) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for path in ("/cases", "/cases/batch", "/cases/routing/dry-run"):
        answer = paths[path]["post"]["responses"]["503"]
        assert answer["content"]["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem"


def test_an_app_that_stops_does_not_wait_for_the_classifier(rt: Runtime, model: Classifier) -> None:
    from fastapi.testclient import TestClient

    from cityos.app import create_app

    loader = Held(model)
    loading = ClassifierSlot(loader)
    rt.parts.put(ClassifierSlot, loading)
    with TestClient(create_app(runtime=rt)):
        wait_for(lambda: loader.calls == 1)
    assert not loading.ready  # the app stopped while the load was held: its stop did not wait for it
    loader.release.set()
    assert loading.wait(timeout=60) is model and loader.calls == 1  # the load goes on and ends in its thread


def test_outside_a_server_the_classifier_loads_on_first_use(model: Classifier) -> None:
    calls: list[int] = []

    def load() -> Classifier:
        calls.append(1)
        return model

    s = ClassifierSlot(load)
    assert not s.ready
    assert s.wait(timeout=60) is model and s.now() is model and s.ready
    assert calls == [1]


def test_a_classifier_that_does_not_load_says_why() -> None:
    def refuse() -> Classifier:
        raise InvalidCasesConfig("cases-classifier.joblib: saved with another scikit-learn; retrain it")

    s = ClassifierSlot(refuse)
    with pytest.raises(InvalidCasesConfig, match="retrain it"):
        s.wait(timeout=60)
    with pytest.raises(InvalidCasesConfig, match="retrain it"):
        s.now()  # not a 503: waiting would not help


def test_a_retrained_classifier_wins_over_a_late_load(model: Classifier) -> None:
    loader = Held(model)
    s = ClassifierSlot(loader)
    s.start()
    with pytest.raises(Unavailable):
        s.now()
    retrained = Classifier(model.pipeline, model.taxonomy, threshold=0.9)
    s.put(retrained)
    loader.release.set()
    assert s.join(timeout=60)
    assert loader.calls == 1 and s.now() is retrained


def test_a_saved_classifier_is_loaded_else_the_shipped_one(model: Classifier, tmp_path: Path) -> None:
    path = tmp_path / "cases-classifier.joblib"
    assert load_saved_or_shipped(path) is model
    model.save(path)
    loaded = load_saved_or_shipped(path)
    assert loaded is not model and loaded.classes == model.classes
