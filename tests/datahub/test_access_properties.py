"""Properties of the access decision over any mix of grants: nothing is shown in full above what a grant in
force for the reader and the scenario lifts, and a conditional entry opens only through such a grant."""

from __future__ import annotations

from datetime import timedelta

from datahub_samples import ALL, ITEMS, MS, NOW, OTHER, OTHER_SCENARIO, READER, SCALE, SCENARIO, entry, grant
from hypothesis import given
from hypothesis import strategies as st

from cityos.datahub import Grant, GrantState, SharingType, decide, in_force

RANK = {lv.name: lv.rank for lv in SCALE.levels}
LEVEL = {i.name: i.level for i in ITEMS}
OFFSETS = st.sampled_from([-timedelta(days=400), -timedelta(days=1), -MS, timedelta(0), MS, timedelta(days=1)])


@st.composite
def grants(draw: st.DrawFn) -> Grant:
    start = NOW + draw(OFFSETS)
    return grant(
        draw(st.sampled_from(list(GrantState))),
        id=draw(st.text("abcdef", min_size=1, max_size=4)),
        department=draw(st.sampled_from([READER, OTHER])),
        scenario=draw(st.sampled_from([SCENARIO, OTHER_SCENARIO])),
        items=draw(st.none() | st.sets(st.sampled_from(ALL), min_size=1).map(lambda s: tuple(sorted(s)))),
        starts=start,
        ends=start + draw(st.sampled_from([MS, timedelta(days=1), timedelta(days=500)])),
        lifts=draw(st.sampled_from([None, *RANK])),
        code=draw(st.sampled_from(["HP-03-01-02-0001", "HP-99-0001"])),
    )


@given(
    st.sampled_from(list(SharingType)),
    st.lists(grants(), max_size=6),
    st.sampled_from([None, SCENARIO, OTHER_SCENARIO]),
)
def test_nothing_is_shown_in_full_beyond_a_grant_in_force(
    sharing: SharingType, given_grants: list[Grant], scenario: str | None
) -> None:
    e = entry(sharing)
    access = decide(READER, e, given_grants, scenario, NOW, SCALE)
    counted = [
        g for g in given_grants
        if g.department == READER and g.code == e.code and in_force(g, NOW) and scenario in (None, g.scenario)
    ]  # fmt: skip
    assert set(access.masked) <= set(access.shown)
    for name in set(access.shown) - set(access.masked):
        lifted = [RANK[g.lifts or "general-2"] for g in counted if g.items is None or name in g.items]
        assert RANK[LEVEL[name]] <= max([RANK["general-2"], *lifted] if sharing == "unconditional" else lifted)
    if sharing == SharingType.CONDITIONAL:
        assert access.allowed == bool(counted)
        assert access.grant is None or access.grant in {g.id for g in counted}
    if sharing == SharingType.NONE:
        assert not access.allowed and access.shown == ()
