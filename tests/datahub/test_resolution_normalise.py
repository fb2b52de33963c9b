"""The normalisers of entity resolution (Hypothesis): idempotent on any text; the variants a department writes
of one enterprise name or one address normalise equal; branches of one company stay apart."""

from __future__ import annotations

import random

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cityos.datahub.resolution_text import (
    address_stem,
    chinese_number,
    name_parts,
    normalise_address,
    normalise_name,
    normalise_text,
)
from cityos.demo import registries as reg

CHINESE = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4E80), min_size=1, max_size=4)
NOISE = "上海市黄浦区有限责任公司股份集团（）()【】 　·-,.号弄室楼层一二三〇十百0123456789０１２"
TEXT = st.one_of(st.text(max_size=30), st.text(alphabet=NOISE, max_size=30))


@given(TEXT)
@example("A´")  # NFKC reads ´ as a space and a combining accent: the space dropped, the accent composes
def test_the_normalisers_are_idempotent(text: str) -> None:
    for normalise in (normalise_name, normalise_address, normalise_text):
        once = normalise(text)
        assert normalise(once) == once


TRADES = st.text(alphabet="华新盛达恒瑞丰嘉禾永鑫泰隆昌源祥瀚越锦宏", min_size=2, max_size=3)
BUSINESS = st.sampled_from([b for _, b in reg.INDUSTRIES])


@given(TRADES, BUSINESS, st.booleans(), st.integers(0, 2**32))
def test_the_variants_of_one_name_normalise_equal(trade: str, business: str, group: bool, seed: int) -> None:
    name = f"上海{trade}{business}{'（集团）' if group else ''}有限公司"
    variant, kinds = reg.name_variant(name, random.Random(seed))
    assert normalise_name(variant) == normalise_name(name), kinds


@given(st.integers(0, 2**32))
def test_the_variants_of_one_address_normalise_equal(seed: int) -> None:
    rng = random.Random(seed)
    address = reg.entities(1, seed=seed % 1000)[0]["domicile"]
    variant, kinds = reg.address_variant(address, rng)
    assert normalise_address(variant) == normalise_address(address), kinds
    assert address_stem(variant) == address_stem(address)


@given(TRADES, BUSINESS, st.sampled_from(["南京东路", "淮海中路", "九江路"]), st.sampled_from(["分公司", "营业部"]))
def test_a_branch_is_not_its_head_office_nor_another_branch(trade: str, business: str, road: str, kind: str) -> None:
    head = f"上海{trade}{business}有限公司"
    branch, other = name_parts(f"{head}{road}{kind}"), name_parts(f"{head}福州路{kind}")
    assert branch.core == other.core == name_parts(head).core
    assert len({branch.text, other.text, normalise_name(head)}) == 3


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("上海华新商贸有限公司", "华新商贸有限公司"),
        ("华新（上海）商贸有限责任公司", "华新商贸有限公司"),
        ("上海市 黄浦区华新商贸股份有限公司", "华新商贸有限公司"),
        ("上海华新商贸(集团)有限公司", "华新商贸有限公司"),
        ("【上海】华新商贸集团有限公司", "华新商贸有限公司"),
        ("上海华新商贸有限公司南京东路分公司", "华新商贸有限公司南京东路分公司"),
        ("ＡＢＣ咨询有限公司", "abc咨询有限公司"),
    ],
)
def test_names_as_departments_write_them(written: str, normal: str) -> None:
    assert normalise_name(written) == normal


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("上海市黄浦区南京东路123弄4号501室", "南京东路123弄4号501"),
        ("南京东路一百二十三弄四号五〇一室", "南京东路123弄4号501"),
        ("黄浦区南京东路１２３弄４号５楼501", "南京东路123弄4号501"),
        ("上海南京东路123弄4-501", "南京东路123弄4号501"),
        ("上海黄浦区四川中路88號", "四川中路88号"),  # 四川: a numeral that is a road's name stays
        ("九江路二百零一号二○一室", "九江路201号201"),
    ],
)
def test_addresses_as_departments_write_them(written: str, normal: str) -> None:
    assert normalise_address(written) == normal


@given(st.integers(0, 9999))
def test_a_chinese_numeral_reads_back(n: int) -> None:
    assert chinese_number(reg.chinese_numeral(str(n), positional=True)) == str(n)
