"""Bad input never gets a 500: random bodies and parameters always get a 2xx or a 4xx problem document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
attr_shapes = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["Property", "Relationship", "GeoProperty", "LanguageProperty", "Nonsense"])},
        optional={
            "value": json_values,
            "object": json_values,
            "languageMap": json_values,
            "observedAt": json_values,
            "unitCode": json_values,
            "datasetId": json_values,
        },
    ),
)
entity_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "id": st.one_of(st.just("urn:ngsi-ld:Fuzz:1"), st.text(max_size=20), json_values),
            "type": st.one_of(st.just("Fuzz"), st.text(max_size=10), json_values),
        },
        optional={"a": attr_shapes, "location": attr_shapes, "scope": json_values, "@context": json_values},
    ),
)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
query_params = st.fixed_dictionaries(
    {"type": st.one_of(st.just("Fuzz"), texts)},
    optional={
        "q": texts,
        "attrs": texts,
        "id": texts,
        "idPattern": texts,
        "georel": texts,
        "geometry": texts,
        "coordinates": texts,
        "geoproperty": texts,
        "limit": texts,
        "offset": texts,
        "options": texts,
        "pick": texts,
        "omit": texts,
        "count": texts,
        "lang": texts,
    },
)


@pytest.fixture(scope="module")
def fuzz_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    from fastapi.testclient import TestClient

    from cityos.app import create_app
    from cityos.auth.service import create_token
    from cityos.bus.memory import MemoryBus
    from cityos.config import Settings
    from cityos.runtime import Runtime
    from cityos.store.engine import Database
    from cityos.store.migrate import upgrade

    db = Database(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'cityos.db'}")
    upgrade(db)
    rt = Runtime(Settings(database_url=db.url), db, MemoryBus())
    token = create_token(db, "fuzzer", role="admin")
    with TestClient(create_app(runtime=rt), raise_server_exceptions=False) as client:
        yield Api(client, token)
    db.dispose()


def _check(r: Any) -> None:
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        body = r.json()
        assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == r.status_code


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=entity_bodies)
def test_random_entity_bodies(fuzz_api: Api, body: Any) -> None:
    _check(fuzz_api.post("/ngsi-ld/v1/entities", json=body))
    _check(fuzz_api.post("/ngsi-ld/v1/entityOperations/upsert", json=[body]))
    _check(fuzz_api.patch("/ngsi-ld/v1/entities/urn:ngsi-ld:Fuzz:1", json=body))
    _check(fuzz_api.patch("/ngsi-ld/v1/entities/urn:ngsi-ld:Fuzz:1/attrs/a", json=body))


@FUZZ
@given(params=query_params)
def test_random_query_parameters(fuzz_api: Api, params: dict[str, str]) -> None:
    _check(fuzz_api.get("/ngsi-ld/v1/entities", params=params))
