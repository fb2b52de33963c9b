"""package_search over the demo's open datasets, pure (issue 19, item 3): q, fq, sort, paging, facets, and
the Search Query Errors of what it cannot read."""

from __future__ import annotations

import pytest
from opendata_samples import demo_packages

from cityos.opendata.errors import SearchQueryError
from cityos.opendata.search import Index, Query, search


@pytest.fixture(scope="module")
def index() -> Index:
    return Index(demo_packages())


def test_everything_by_default_newest_first_then_by_name(index: Index) -> None:
    found = search(index, Query(rows=1000))
    assert found.count == len(index.packages) >= 30
    assert [p.name for p in found.results] == sorted(p.name for p in index.packages)  # all modified alike
    assert found.sort == "score desc, metadata_modified desc"


def test_q_matches_every_word_over_title_notes_tags_and_organisation(index: Index) -> None:
    assert {p.name for p in search(index, Query(q="空气质量")).results} >= {"hp-06-01-0001"}
    both = search(index, Query(q="停车 泊位")).results
    assert both and all("停车" in (p.title + p.notes + "".join(p.tags)) for p in both)
    assert {p.organization.name for p in search(index, Query(q="区气象局", rows=100)).results} == {"meteorology"}
    assert search(index, Query(q="no-such-word-anywhere")).count == 0
    assert search(index, Query(q="*:*")).count == len(index.packages)


def test_a_title_match_ranks_first(index: Index) -> None:
    found = search(index, Query(q="空气质量", rows=100)).results
    assert "空气质量" in found[0].title


def test_fq_filters_by_fields_joined_by_and(index: Index) -> None:
    env = search(index, Query(fq="groups:environment", rows=100)).results
    assert env and {g.name for p in env for g in p.groups} == {"environment"}
    cond = search(index, Query(fq='opening_type:conditional AND organization:"market-regulation"', rows=100))
    assert {p.name for p in cond.results} == {"hp-02-01-0001", "hp-02-01-0002"}
    same = search(index, Query(fq="extras_opening_type:conditional +organization:market-regulation", rows=100))
    assert same.count == cond.count
    not_env = search(index, Query(fq="-groups:environment", rows=1000))
    assert not_env.count == len(index.packages) - len(env)
    fq = "tags:空气质量 res_format:CSV license_id:sh-public-data-open update_cycle:real-time"
    tagged = search(index, Query(fq=fq))
    assert [p.name for p in tagged.results] == ["hp-06-01-0001"]
    assert search(index, Query(q="organization:meteorology")).count == 2


def test_rows_and_start_page_through_the_same_order(index: Index) -> None:
    whole = [p.name for p in search(index, Query(rows=1000, sort="name asc")).results]
    pages = [
        p.name
        for start in range(0, len(whole), 7)
        for p in search(index, Query(rows=7, start=start, sort="name asc")).results
    ]
    assert pages == whole
    assert search(index, Query(rows=0)).results == [] and search(index, Query(rows=0)).count == len(whole)


def test_sorts(index: Index) -> None:
    titles = [p.title for p in search(index, Query(rows=1000, sort="title_string asc")).results]
    assert titles == sorted(titles)
    names = [p.name for p in search(index, Query(rows=1000, sort="name desc")).results]
    assert names == sorted(names, reverse=True)


def test_facets_count_the_hits_with_display_names(index: Index) -> None:
    fields = ("organization", "groups", "license_id", "res_format", "opening_type", "update_cycle", "tags")
    found = search(index, Query(fq="groups:transport", facet_fields=fields, facet_limit=-1))
    assert found.facets["groups"][0].name == "transport" and found.facets["groups"][0].count == found.count
    assert found.facets["groups"][0].display_name == "交通"
    orgs = {i.name: i for i in found.facets["organization"]}
    assert orgs["transport"].display_name == "区交通委" and sum(i.count for i in orgs.values()) == found.count
    opening = {i.name: (i.display_name, i.count) for i in found.facets["opening_type"]}
    assert opening["conditional"] == ("有条件开放", 1)
    everything = search(index, Query(facet_fields=("groups",), facet_limit=3))
    counts = [i.count for i in everything.facets["groups"]]
    assert len(counts) == 3 and counts == sorted(counts, reverse=True)
    assert sum(i.count for i in search(index, Query(facet_fields=("groups",), facet_limit=-1)).facets["groups"]) == (
        everything.count
    )


@pytest.mark.parametrize(
    ("query", "names"),
    [
        (Query(fq="colour:red"), "colour"),
        (Query(fq='groups:"environment'), "groups"),
        (Query(fq="environment"), "environment"),
        (Query(q="a OR b"), "OR"),
        (Query(sort="popularity desc"), "popularity"),
        (Query(sort="name sideways"), "sideways"),
        (Query(facet_fields=("colour",)), "colour"),
    ],
)
def test_what_it_cannot_read_is_a_search_query_error_naming_it(index: Index, query: Query, names: str) -> None:
    with pytest.raises(SearchQueryError) as caught:
        search(index, query)
    assert names in caught.value.message and caught.value.status == 400
