"""The Q&A assistant (智能客服) as service functions, on SQLite and PostgreSQL: passages cut from every guide, an
answer that starts where the guides say and says nothing the cited passages do not, 'I do not know' below the
threshold, a new version of an item answered at once, and handovers (转人工) queued per department and answered
once."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cityos.onestop import assistant, bundles, item, publish_item, seed_items
from cityos.onestop.assistant_errors import HandoverAnswered, HandoverNotFound, InvalidQuestion
from cityos.onestop.assistant_index import DATA, Index, _settings, passages, query
from cityos.onestop.assistant_index import settings as assistant_settings
from cityos.onestop.catalogue import shipped
from cityos.runtime import Runtime

SECTIONS = {"name", "conditions", "materials", "time", "fee", "handling", "legal"}


def _shipped_index() -> Index:
    return Index(passages(shipped().items.values(), bundles()), assistant_settings())


_SHIPPED_INDEX = cache(_shipped_index)


def test_every_guide_is_cut_into_its_sections() -> None:
    found = passages(shipped().items.values(), bundles())
    by_target: dict[str, set[str]] = {}
    for p in found:
        by_target.setdefault(p.target, set()).add(p.section)
    for code, it in shipped().items.items():
        assert by_target[f"item:{code}"] == SECTIONS
        fee = next(p for p in found if p.target == f"item:{code}" and p.section == "fee")
        assert fee.text.startswith(it.fee) and fee.guide == f"/onestop/guide/{code}"
    for b in bundles():
        assert by_target[f"bundle:{b.code}"] == {"name", "items", "time", "materials"}
        listed = next(p for p in found if p.target == f"bundle:{b.code}" and p.section == "items")
        assert all(shipped().items[part.item].name in listed.text for part in b.items)


def test_a_citizens_words_find_the_guides_words() -> None:
    s = assistant_settings()
    q = query("我家生孩子了", s)
    assert "出生" in q.all and "新生儿" in q.all  # 生孩子 is a phrase of the 出生 group, declared as data
    assert "我" not in q.own  # a stopword
    assert query("二手房过户", s).forms["二手房"] >= {"存量房", "过户"}


def test_the_answer_starts_at_the_bundle_and_cites_its_guide(rt: Runtime) -> None:
    a = assistant.ask(rt, "家里刚生了宝宝，要办哪些手续？")
    assert a.known and a.start is not None
    assert a.start.target == "bundle:newborn" and a.start.link == "/onestop/#/apply/newborn"
    assert a.threshold <= a.confidence <= 1
    assert a.citations and all(c.passage.target == "bundle:newborn" for c in a.citations)
    # the short answer is the start, then the cited passages as the guide states them, and nothing else
    first, *rest = a.text.split("\n")
    assert first == f"建议办理「{a.start.name}」。"
    assert len(rest) == len(a.citations)
    for line, c in zip(rest, a.citations, strict=True):
        label = f"【{c.passage.title} · {assistant_settings().sections[c.passage.section]}】"
        assert line.startswith(label) and c.passage.text.startswith(line[len(label) :].rstrip("…"))


def test_a_question_about_one_item_cites_that_items_section(rt: Runtime) -> None:
    a = assistant.ask(rt, "烟草专卖零售许可证的设定依据是什么")
    assert a.known and a.start is not None and a.start.target == "item:HP-YC-0001"
    assert a.start.link == "/onestop/guide/HP-YC-0001"
    assert a.citations[0].passage.section == "legal"
    assert item(rt, "HP-YC-0001").legal_basis[0] in a.citations[0].passage.text


@pytest.mark.parametrize("question", ["明天会下雨吗", "护照过期了怎么换", "推荐一家好吃的火锅店"])
def test_it_says_it_does_not_know_rather_than_guess(rt: Runtime, question: str) -> None:
    a = assistant.ask(rt, question)
    assert not a.known and a.start is None and a.citations == () and a.text == ""
    assert a.confidence < a.threshold


@pytest.mark.parametrize("question", ["", "   \n", "问" * 201])
def test_an_empty_or_long_question_is_refused(rt: Runtime, question: str) -> None:
    with pytest.raises(InvalidQuestion):
        assistant.ask(rt, question)


def test_a_new_version_of_an_item_is_answered_at_once(rt: Runtime) -> None:
    seed_items(rt)
    before = assistant.ask(rt, "食品经营许可（餐饮服务）收费标准")
    assert before.known and "不收费" in before.citations[0].passage.text
    current = item(rt, "HP-SJ-0002")
    publish_item(rt, "HP-SJ-0002", replace(current, fee="按每份许可证 10 元收取工本费"), by="test", reason="收费调整")
    after = assistant.ask(rt, "食品经营许可（餐饮服务）收费标准，工本费多少")
    fees = [c.passage.text for c in after.citations if c.passage.section == "fee"]
    assert fees == ["按每份许可证 10 元收取工本费。"]


def test_a_handover_waits_in_its_departments_queue_and_is_answered_once(rt: Runtime) -> None:
    found = assistant.hand_over(rt, "开饭店要办消防检查吗", channel="portal", contact="13800138000")
    assert found.state == "waiting" and found.nearest is not None and found.department is not None
    unknown = assistant.hand_over(rt, "护照过期了怎么换", channel="guide")
    assert unknown.nearest is None and unknown.department is None  # the service desk's
    assert [h.id for h in assistant.handovers(rt)] == [found.id, unknown.id]  # the desk sees every one, oldest first
    assert [h.id for h in assistant.handovers(rt, department=found.department)] == [found.id]
    with pytest.raises(HandoverNotFound):  # another department's clerk does not answer it
        assistant.answer_handover(rt, found.id, "可以", by="clerk", department="tobacco")
    done = assistant.answer_handover(rt, found.id, "需要，开业前提交消防安全检查告知承诺。", by="clerk",
                                     department=found.department)  # fmt: skip
    assert done.state == "answered" and done.answered_by == "clerk" and done.answered_at is not None
    with pytest.raises(HandoverAnswered):
        assistant.answer_handover(rt, found.id, "再答一次", by="clerk", department=None)
    assert assistant.handover(rt, found.id).answer == "需要，开业前提交消防安全检查告知承诺。"
    assert [h.id for h in assistant.handovers(rt)] == [unknown.id]
    assert [h.id for h in assistant.handovers(rt, state="answered")] == [found.id]
    with pytest.raises(HandoverNotFound):
        assistant.handover(rt, "no-such-handover")


def test_the_assistant_data_is_checked() -> None:
    raw = yaml.safe_load(Path(DATA).read_text(encoding="utf-8"))
    with pytest.raises(ValueError, match="threshold"):
        _settings({**raw, "threshold": 1.5})
    with pytest.raises(ValueError, match="synonyms group 1"):
        _settings({**raw, "synonyms": [["独"]]})
    assert 0 < _settings(raw).threshold < 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_the_confidence_is_a_share_whatever_the_question(text: str) -> None:
    index = _SHIPPED_INDEX()  # built once: the test is about the confidence, not the index
    q = query(text, assistant_settings())
    for target in ("bundle:newborn", "item:HP-SJ-0002"):
        assert 0.0 <= assistant.confidence(q, index, target, assistant_settings()) <= 1.0
