"""The access decision over every sharing type × reader kind × grant state × scenario × lifted level × granted
items, against the rules written out plainly here; and the cases people ask about, row by row."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from datahub_samples import (
    ALL,
    ITEMS,
    MS,
    NOW,
    OTHER,
    OTHER_SCENARIO,
    PROVIDER,
    READER,
    SCALE,
    SCENARIO,
    SOURCE,
    entry,
    grant,
)

from cityos.datahub import Access, Grant, GrantState, SharingType, decide

RANK = {lv.name: lv.rank for lv in SCALE.levels}
LEVEL = {i.name: i.level for i in ITEMS}
KIND = {i.name: i.kind for i in ITEMS}

READERS = {  # reader kind -> (department, city)
    "provider": (PROVIDER, False),
    "city": (None, True),
    "source": (SOURCE, False),  # the one source of idNumber
    "department": (READER, False),
    "nobody": (None, False),
}
GRANT_STATES = ("none", "requested", "approved", "not-started", "expired", "refused", "revoked")
READ_SCENARIOS = (None, SCENARIO, OTHER_SCENARIO)  # the grants are all for SCENARIO
LIFTS = (None, "general-1", "general-4", "important", "core")
GRANTED = (None, ("name", "mobile", "idNumber"))


def _grants(state: str, department: str | None, lifts: str | None, items: tuple[str, ...] | None) -> list[Grant]:
    if state == "none" or department is None:
        return []
    g = grant(department=department, lifts=lifts, items=items)
    return [
        {
            "requested": replace(g, state=GrantState.REQUESTED),
            "approved": g,
            "not-started": replace(g, starts_at=(NOW + MS).isoformat()),
            "expired": replace(g, ends_at=NOW.isoformat()),
            "refused": replace(g, state=GrantState.REFUSED),
            "revoked": replace(g, state=GrantState.REVOKED),
        }[state]
    ]


@dataclass(frozen=True)
class Expect:
    allowed: bool
    shown: frozenset[str] = frozenset()
    masked: frozenset[str] = frozenset()


def _above(items: set[str] | frozenset[str], level: str) -> frozenset[str]:
    return frozenset(i for i in items if RANK[LEVEL[i]] > RANK[level])


def rules(sharing: SharingType, reader: str, state: str, scenario: str | None, lifts: str | None,
          granted: tuple[str, ...] | None) -> Expect:  # fmt: skip
    """The rules of docs/api.md, written plainly."""
    if reader == "provider":
        return Expect(True, frozenset(ALL))
    if reader == "city":
        return Expect(True, frozenset(ALL), _above(set(ALL), "important"))
    if reader == "nobody":
        return Expect(False)
    counts = state == "approved" and scenario in (None, SCENARIO)
    in_grant = set(granted or ALL)
    if sharing == SharingType.NONE:
        shown: set[str] = set()
        masked: set[str] = set()
    elif sharing == SharingType.UNCONDITIONAL:
        shown = set(ALL)
        masked = set(_above(shown, "general-2"))
        if counts:
            lifted = lifts if lifts is not None and RANK[lifts] > RANK["general-2"] else "general-2"
            masked = (masked - in_grant) | _above(in_grant, lifted)
    elif counts:
        shown = in_grant
        masked = set(_above(shown, lifts or "general-2"))
    else:
        shown, masked = set(), set()
    if reader == "source":
        shown, masked = shown | {"idNumber"}, masked - {"idNumber"}
    return Expect(bool(shown), frozenset(shown), frozenset(masked))


SCENARIO_IDS = {None: "any-scenario", SCENARIO: "same-scenario", OTHER_SCENARIO: "other-scenario"}
CASES = [
    pytest.param(
        *case,
        id=f"{case[0]}-{case[1]}-{case[2]}-{SCENARIO_IDS[case[3]]}-lifts-{case[4] or 'default'}-"
        f"{'some' if case[5] else 'all'}-items",
    )
    for case in itertools.product(SharingType, READERS, GRANT_STATES, READ_SCENARIOS, LIFTS, GRANTED)
]


@pytest.mark.parametrize(("sharing", "reader", "state", "scenario", "lifts", "granted"), CASES)
def test_the_decision_follows_the_rules(sharing: SharingType, reader: str, state: str, scenario: str | None,
                                        lifts: str | None, granted: tuple[str, ...] | None) -> None:  # fmt: skip
    department, city = READERS[reader]
    access = decide(department, entry(sharing), _grants(state, department, lifts, granted), scenario, NOW, SCALE,
                    city=city)  # fmt: skip
    want = rules(sharing, reader, state, scenario, lifts, granted)
    assert (access.allowed, set(access.shown), set(access.masked)) == (want.allowed, want.shown, want.masked)
    assert list(access.shown) == [i for i in ALL if i in access.shown]  # in the entry's order
    assert all(KIND[name] == kind for name, kind in access.masked.items())
    assert set(access.masked) <= set(access.shown)
    assert (access.refusal is None) == access.allowed
    if not access.allowed and reader != "nobody":
        assert entry().code in (access.refusal or "") and PROVIDER in (access.refusal or "")


def _read(sharing: SharingType, grants: list[Grant], scenario: str | None = None, department: str = READER) -> Access:
    return decide(department, entry(sharing), grants, scenario, NOW, SCALE)


def test_a_conditional_entry_without_a_grant_names_the_grant_to_request() -> None:
    access = _read(SharingType.CONDITIONAL, [], SCENARIO)
    assert not access.allowed
    assert access.refusal is not None
    for said in (
        "HP-03-01-02-0001",
        "有条件共享",
        f"for scenario {SCENARIO!r}",
        f"from {PROVIDER!r}",
        "POST /datahub/grants",
    ):
        assert said in access.refusal


def test_the_refusal_says_why_a_grant_does_not_count() -> None:
    grants = [grant(id="g-old", ends=NOW), grant(GrantState.REQUESTED, id="g-new")]
    refusal = _read(SharingType.CONDITIONAL, grants).refusal or ""
    assert "grant g-old expired at" in refusal and "grant g-new awaits the provider's decision" in refusal
    refusal = _read(SharingType.CONDITIONAL, [grant(id="g1")], OTHER_SCENARIO).refusal or ""
    assert f"grant g1 is for scenario {SCENARIO!r}, not {OTHER_SCENARIO!r}" in refusal


def test_a_not_shared_entry_is_refused_to_every_department() -> None:
    access = _read(SharingType.NONE, [grant()])
    assert not access.allowed and "不予共享" in (access.refusal or "") and "no grant opens it" in (access.refusal or "")


def test_a_grant_shows_its_items_only_masked_above_its_level() -> None:
    access = _read(SharingType.CONDITIONAL, [grant(items=("name", "mobile", "district"), lifts="general-3")])
    assert access == Access(allowed=True, grant="g1", shown=("district", "name", "mobile"), masked={"mobile": "mobile"})


def test_a_grant_for_one_scenario_never_opens_another() -> None:
    assert not _read(SharingType.CONDITIONAL, [grant(scenario=SCENARIO)], OTHER_SCENARIO).allowed
    assert _read(SharingType.CONDITIONAL, [grant(scenario=SCENARIO)], SCENARIO).allowed


def test_grants_of_others_or_of_other_entries_do_not_count() -> None:
    assert not _read(SharingType.CONDITIONAL, [grant(department=OTHER)]).allowed
    assert not _read(SharingType.CONDITIONAL, [grant(code="HP-99-0001")]).allowed


def test_of_several_grants_the_widest_is_used() -> None:
    narrow = grant(id="g-narrow", items=("district",), lifts="core")
    wide = grant(id="g-wide", items=None, lifts="general-2")
    wider_lift = grant(id="g-wide-lift", items=None, lifts="general-4")
    assert _read(SharingType.CONDITIONAL, [narrow, wide, wider_lift]).grant == "g-wide-lift"
    assert _read(SharingType.CONDITIONAL, [narrow, wide, wider_lift], SCENARIO).grant == "g-wide-lift"


def test_masking_is_never_lifted_without_a_grant_in_force() -> None:
    """Whatever grants a department has that do not count, it sees nothing above general-2 in full."""
    above = {i.name for i in ITEMS if RANK[i.level] > RANK["general-2"]}
    not_counting = [
        grant(GrantState.REQUESTED, lifts="core"),
        grant(GrantState.REFUSED, lifts="core"),
        grant(GrantState.REVOKED, lifts="core"),
        grant(lifts="core", ends=NOW),
        grant(lifts="core", starts=NOW + MS),
        grant(lifts="core", department=OTHER),
        grant(lifts="core", code="HP-99-0001"),
    ]
    for sharing in (SharingType.UNCONDITIONAL, SharingType.CONDITIONAL):
        for scenario in (None, SCENARIO, OTHER_SCENARIO):
            access = _read(sharing, not_counting, scenario)
            assert not (above & (set(access.shown) - set(access.masked)))
    # and a grant for one scenario lifts nothing when another is read
    access = _read(SharingType.UNCONDITIONAL, [grant(lifts="core")], OTHER_SCENARIO)
    assert set(access.masked) == above and access.grant is None


def test_an_unconditional_entry_lifted_by_a_grant() -> None:
    access = _read(SharingType.UNCONDITIONAL, [grant(items=("mobile",), lifts="important")])
    assert access.grant == "g1" and access.shown == ALL
    assert set(access.masked) == {"name", "idNumber", "guardCode"}  # mobile lifted; name is not in the grant


def test_a_lower_grant_never_masks_what_unconditional_sharing_shows() -> None:
    access = _read(SharingType.UNCONDITIONAL, [grant(lifts="general-1")])
    assert "householdSize" not in access.masked


def test_exactly_at_the_end_the_grant_no_longer_opens() -> None:
    g = grant(ends=NOW + timedelta(hours=1))
    e = entry()
    assert decide(READER, e, [g], None, NOW + timedelta(hours=1) - MS, SCALE).allowed
    assert not decide(READER, e, [g], None, NOW + timedelta(hours=1), SCALE).allowed


def test_the_source_department_reads_its_items_in_full_anywhere() -> None:
    for sharing in SharingType:
        access = decide(SOURCE, entry(sharing), [], None, NOW, SCALE)
        assert access.allowed and "idNumber" in access.shown and "idNumber" not in access.masked


def test_an_item_of_an_unknown_level_is_masked() -> None:
    e = entry(SharingType.UNCONDITIONAL)
    e = replace(e, items=(*e.items, replace(e.items[0], name="mystery", level="top-secret")))
    assert "mystery" in decide(READER, e, [grant(lifts="core")], None, NOW, SCALE).masked
    assert "mystery" not in decide(PROVIDER, e, [], None, NOW, SCALE).masked


def test_the_levels_lifted_are_configurable() -> None:
    e = entry(SharingType.UNCONDITIONAL)
    assert set(decide(READER, e, [], None, NOW, SCALE, default_lift="general-4").masked) == {"idNumber", "guardCode"}
    assert set(decide(None, e, [], None, NOW, SCALE, city=True, city_lift="general-3").masked) == {
        "mobile",
        "idNumber",
        "guardCode",
    }
