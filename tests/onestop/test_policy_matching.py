"""Policy matching runs (政策找人 · 免申即享) on SQLite and PostgreSQL: a run reads the registry as the policy's
department under its grant for 政策找人 (a bulk read, every chunk audited), notifies exactly the eligible, and a
rerun, or a run interrupted and run again, notifies no one twice; a run is done in the background by the
onestop role's runner, with its progress, and one left by a process that died is taken again (failed after a
few); a grant-mode notice is confirmed (意愿确认) into a grant recorded with its inputs, or declined; without a
grant the run is refused naming the grant, before anything is read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from cityos import context as hub
from cityos import datahub
from cityos.demo.people import id_number
from cityos.demo.sharing import load_grants
from cityos.onestop import policy_matching as matching
from cityos.onestop.policy_errors import NoticeMoveRefused, NoticeNotFound, PolicyRunRefused
from cityos.onestop.policy_runner import PolicyRunner
from cityos.runtime import Runtime

T = "default"
ON = date(2026, 12, 6)
HP = "上海市黄浦区南京东路100号201室"
# (birth date, male, address, social security, only-child certificate)
PEOPLE: list[tuple[str, bool, str, str | None, str | None]] = [
    ("1940-03-01", True, HP, "退休", None),  # 86: 高龄津贴
    ("1946-12-06", False, HP, "退休", None),  # 80 today: 高龄津贴
    ("1946-12-07", False, HP, "退休", None),  # 79 until tomorrow
    ("1930-05-05", True, "上海市静安区南京西路1号", "退休", None),  # 96, another district
    ("2026-11-01", True, HP, None, None),  # a newborn not insured
    ("2026-10-01", False, HP, "城乡居民参保", None),  # a newborn insured
    ("1965-01-02", False, HP, "城镇职工参保", "DS310101-0001"),  # 61, an only child's mother: reward
    ("1970-01-02", True, HP, "城镇职工参保", "DS310101-0002"),  # 56, father: not yet
]


def card_of(n: int, born: str, male: bool) -> str:
    """The ID number of the ``n``-th test person."""
    return id_number(date.fromisoformat(born), 900 + 2 * n + male)


def _person(rt: Runtime, n: int, born: str, male: bool, address: str, insured: str | None,
            certificate: str | None) -> tuple[str, dict[str, Any]]:  # fmt: skip
    card = card_of(n, born, male)
    entity_id = datahub.registry_entity_id(rt, datahub.REGISTRIES[0], card)
    values = {"idCard": card, "name": f"测试{n}", "gender": "男" if male else "女", "birthDate": born,
              "registeredAddress": address, "socialSecurity": insured, "onlyChildCertificate": certificate}  # fmt: skip
    doc = {"id": entity_id, "type": "Person",
           **{k: {"type": "Property", "value": v} for k, v in values.items() if v is not None}}  # fmt: skip
    return entity_id, doc


def _load(rt: Runtime, people: list[tuple[str, bool, str, str | None, str | None]]) -> list[str]:
    tm, made = hub.term_map(rt), [_person(rt, n, *p) for n, p in enumerate(people)]
    ops = [(i, hub.m_create(hub.parse_entity(doc, tm, now="2026-12-06T00:00:00Z"))) for i, doc in made]
    for o in hub.apply(rt, T, ops, creates=True, writer=hub.Writer("public-security")):
        assert o.error is None, o.error
    return [i for i, _ in made]


@pytest.fixture
def town(rt: Runtime) -> Iterator[tuple[Runtime, list[str]]]:
    datahub.load_catalogue(rt, T, by="test")
    load_grants(rt, T)
    yield rt, _load(rt, PEOPLE)


def _notified(rt: Runtime, code: str) -> list[str]:
    return sorted(n.subject_id for n in matching.policy_notices(rt, T, code, limit=200))


def test_a_run_notifies_exactly_the_eligible_and_audits_its_reads(town: tuple[Runtime, list[str]]) -> None:
    rt, ids = town
    chain = datahub.chain_length(rt)
    run = matching.run_policy(rt, T, "P-ELDER-ALLOWANCE", by="civil-officer", on=ON)
    assert (run.state, run.subjects, run.matched, run.notified) == ("done", len(PEOPLE), 2, 2)
    assert _notified(rt, "P-ELDER-ALLOWANCE") == sorted([ids[0], ids[1]])
    assert run.audit_seqs and datahub.chain_length(rt) > chain
    reads = datahub.reads_of_subject(rt, T, datahub.subject_hash(rt, card_of(0, *PEOPLE[0][:2])))
    assert any(r.department == "civil-affairs" and r.scenario == "政策找人" for r in reads)
    notice = matching.my_notices(rt, T, ids[0])[0]
    assert notice.inputs == {"age": 86, "registeredAddress": HP} and notice.state == "notified"


def test_policies_over_other_entries_match_their_own(town: tuple[Runtime, list[str]]) -> None:
    rt, ids = town
    matching.run_policy(rt, T, "P-NEWBORN-INSURANCE", by="hr-officer", on=ON)
    assert _notified(rt, "P-NEWBORN-INSURANCE") == [ids[4]]
    matching.run_policy(rt, T, "P-ONLY-CHILD-PARENTS", by="health-officer", on=ON)
    assert _notified(rt, "P-ONLY-CHILD-PARENTS") == [ids[6]]


def test_a_rerun_notifies_no_one_twice(town: tuple[Runtime, list[str]]) -> None:
    rt, _ = town
    first = matching.run_policy(rt, T, "P-ELDER-FLU-VACCINE", by="health-officer", on=ON)
    again = matching.run_policy(rt, T, "P-ELDER-FLU-VACCINE", by="health-officer", on=ON)
    assert first.notified == first.matched == 4 and (again.matched, again.notified) == (4, 0)
    assert len(_notified(rt, "P-ELDER-FLU-VACCINE")) == 4
    more = _load(rt, [("1950-01-01", True, HP, "退休", None)])  # a newcomer is notified by the next run
    third = matching.run_policy(rt, T, "P-ELDER-FLU-VACCINE", by="health-officer", on=ON)
    assert (third.matched, third.notified) == (5, 1) and more[0] in _notified(rt, "P-ELDER-FLU-VACCINE")


class Interrupted(Exception):
    pass


def test_a_run_interrupted_and_run_again_notifies_each_once(town: tuple[Runtime, list[str]],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    rt, _ = town
    monkeypatch.setattr(matching, "CHUNK", 3)  # four eligible: two chunks, stopped after the first

    def stop(written: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        matching.run_policy(rt, T, "P-ELDER-FLU-VACCINE", by="health-officer", on=ON, stop=stop)
    assert len(_notified(rt, "P-ELDER-FLU-VACCINE")) == 3
    failed = matching.policy_runs(rt, T, "P-ELDER-FLU-VACCINE")[0]
    assert (failed.state, failed.notified) == ("failed", 3)
    rerun = matching.run_policy(rt, T, "P-ELDER-FLU-VACCINE", by="health-officer", on=ON)
    assert (rerun.matched, rerun.notified) == (4, 1)
    found = _notified(rt, "P-ELDER-FLU-VACCINE")
    assert len(found) == len(set(found)) == 4


def test_a_confirmation_grants_with_a_record_and_a_decline_grants_nothing(town: tuple[Runtime, list[str]]) -> None:
    rt, ids = town
    run = matching.run_policy(rt, T, "P-ELDER-ALLOWANCE", by="civil-officer", on=ON)
    first, second = (matching.my_notices(rt, T, ids[n])[0] for n in (0, 1))
    done = matching.confirm(rt, T, first.id, ids[0], by="citizen:one")
    assert (done.policy_code, done.policy_version, done.confirmed_by, done.run_id) == (
        "P-ELDER-ALLOWANCE",
        1,
        "citizen:one",
        run.id,
    )
    assert done.inputs == first.inputs and done.granted_at_ms >= first.created_at_ms
    with pytest.raises(NoticeMoveRefused):
        matching.confirm(rt, T, first.id, ids[0], by="citizen:one")
    with pytest.raises(NoticeNotFound):  # another's notice is not found
        matching.confirm(rt, T, second.id, ids[0], by="citizen:one")
    assert matching.decline(rt, T, second.id, ids[1], by="citizen:two").state == "declined"
    with pytest.raises(NoticeNotFound):
        matching.granted(rt, T, second.id)
    counts = matching.counts(rt, T)["P-ELDER-ALLOWANCE"]
    assert (counts.notified, counts.pending, counts.granted, counts.declined) == (2, 0, 1, 1)


def test_a_notify_mode_notice_has_nothing_to_confirm(town: tuple[Runtime, list[str]]) -> None:
    rt, ids = town
    matching.run_policy(rt, T, "P-NEWBORN-INSURANCE", by="hr-officer", on=ON)
    notice = matching.my_notices(rt, T, ids[4])[0]
    with pytest.raises(NoticeMoveRefused, match="nothing to confirm"):
        matching.confirm(rt, T, notice.id, ids[4], by="citizen:baby")


def test_without_a_grant_the_run_is_refused_naming_it(rt: Runtime) -> None:
    datahub.load_catalogue(rt, T, by="test")  # no grants loaded
    _load(rt, PEOPLE[:2])
    chain = datahub.chain_length(rt)
    with pytest.raises(PolicyRunRefused, match=r"HP-01-01-0001.*政策找人"):
        matching.run_policy(rt, T, "P-ELDER-ALLOWANCE", by="civil-officer", on=ON)
    assert not matching.policy_runs(rt, T, "P-ELDER-ALLOWANCE")  # refused before a run was recorded
    assert not _notified(rt, "P-ELDER-ALLOWANCE") and datahub.chain_length(rt) == chain  # nothing read


def test_a_run_is_done_in_the_background_with_its_progress(town: tuple[Runtime, list[str]]) -> None:
    rt, ids = town
    started = matching.start_run(rt, T, "P-ELDER-ALLOWANCE", by="civil-officer")
    assert (started.state, started.read, started.matched, started.attempts) == ("running", 0, 0, 0)
    seen: list[int] = []
    runner = PolicyRunner(rt)
    real = matching.execute

    def watched(*args: Any, **kw: Any) -> Any:  # the progress is written as the chunks come
        return real(*args, **kw, on=ON, stop=lambda _: seen.append(matching.get_run(rt, T, started.id).read), chunk=3)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(matching, "execute", watched)
        assert runner.tick() == 1
    done = matching.get_run(rt, T, started.id)
    assert (done.state, done.read, done.subjects, done.matched, done.notified) == ("done", len(PEOPLE),
                                                                                    len(PEOPLE), 2, 2)  # fmt: skip
    assert len(done.audit_seqs) == 3 and done.attempts == 1 and seen == [len(PEOPLE)]
    assert _notified(rt, "P-ELDER-ALLOWANCE") == sorted([ids[0], ids[1]])
    assert runner.tick() == 0  # nothing left to take


class Died(BaseException):  # not an Exception: the process is gone, nothing is recorded
    pass


def test_a_run_left_by_a_dead_process_is_taken_again_and_notifies_each_once(
    town: tuple[Runtime, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, _ = town
    monkeypatch.setattr(matching, "CHUNK", 3)  # four eligible: two chunks of notices, the process dies after one
    run = matching.start_run(rt, T, "P-ELDER-FLU-VACCINE", by="health-officer")
    assert matching.take_next(rt, "dead-process") == (T, run.id)

    def die(written: int) -> None:
        raise Died

    with pytest.raises(Died):
        matching.execute(rt, T, run.id, on=ON, stop=die)
    left = matching.get_run(rt, T, run.id)
    assert (left.state, left.notified) == ("running", 3) and len(_notified(rt, "P-ELDER-FLU-VACCINE")) == 3
    assert PolicyRunner(rt).tick() == 1  # the next holder of the role takes it again, from the start
    done = matching.get_run(rt, T, run.id)
    assert (done.state, done.matched, done.notified, done.attempts) == ("done", 4, 4, 2)
    found = _notified(rt, "P-ELDER-FLU-VACCINE")
    assert len(found) == len(set(found)) == 4


def test_a_run_whose_process_keeps_dying_is_failed_and_can_be_run_again(town: tuple[Runtime, list[str]]) -> None:
    rt, _ = town
    run = matching.start_run(rt, T, "P-ELDER-FLU-VACCINE", by="health-officer")
    for n in range(matching.MAX_ATTEMPTS):
        assert matching.take_next(rt, f"dead-{n}") == (T, run.id)
    assert matching.take_next(rt, "alive") is None
    failed = matching.get_run(rt, T, run.id)
    assert failed.state == "failed" and "stopped 3 times" in (failed.error or "")
    again = matching.run_policy(rt, T, "P-ELDER-FLU-VACCINE", by="health-officer", on=ON)
    assert (again.state, again.matched, again.notified) == ("done", 4, 4)


def test_a_process_stopping_leaves_its_run_to_the_next(town: tuple[Runtime, list[str]]) -> None:
    rt, _ = town
    run = matching.start_run(rt, T, "P-ELDER-ALLOWANCE", by="civil-officer")
    assert matching.take_next(rt, "stopping") == (T, run.id)
    with pytest.raises(matching.Paused):
        matching.execute(rt, T, run.id, on=ON, pause=lambda: True)
    left = matching.get_run(rt, T, run.id)
    assert (left.state, left.attempts) == ("running", 0)
    assert PolicyRunner(rt).tick() == 1 and matching.get_run(rt, T, run.id).state == "done"


def test_the_office_sees_why_masked(town: tuple[Runtime, list[str]]) -> None:
    rt, ids = town
    matching.run_policy(rt, T, "P-ELDER-ALLOWANCE", by="civil-officer", on=ON)
    notice = matching.my_notices(rt, T, ids[0])[0]
    shown = matching.shown_inputs(rt, T, notice.policy, notice.inputs)
    assert shown["age"] == 86 and shown["registeredAddress"] != HP
    assert shown["registeredAddress"].startswith("上海市黄浦区南京东路")
