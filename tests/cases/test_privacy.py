"""The masking of personal data in a case's free text (cityos/cases/privacy.py), as the public views use it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityos.cases.privacy import mask_text


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ("电话13800138000", "电话138****8000"),
        ("手机 +86 138-0013-8000。", "手机 138****8000。"),
        ("拨 86 138 0013 8000 找我", "拨 138****8000 找我"),
        ("身份证310101199001011234", "身份证3****************4"),
        ("证件号 11010519491231002x 丢了", "证件号 1****************x 丢了"),
        ("老证 310101900101123，", "老证 3*************3，"),
        ("我叫王小明，住3号楼", "我叫王**，住3号楼"),
        ("联系人：李四 13700001111", "联系人：李* 137****1111"),
        ("本人王芳反映噪音", "本人王*反映噪音"),
        ("我是张三住在3号楼", "我是张*住在3号楼"),
        ("写信到 wang.li@example.org", "写信到 w***@example.org"),
        # what is not personal stays as it was
        ("我是附近居民，路灯不亮", "我是附近居民，路灯不亮"),
        ("罚款13800元，工单号2024010112345678901", "罚款13800元，工单号2024010112345678901"),
        ("座机 021-63211234", "座机 021-63211234"),
        ("138001380001 不是手机号", "138001380001 不是手机号"),
    ],
)
def test_mask_text(said: str, shown: str) -> None:
    assert mask_text(said) == shown


def test_the_reporters_own_data_is_masked_wherever_it_appears() -> None:
    text = "王建国说路灯坏了，请找王建国，座机021-63211234"
    assert mask_text(text, ["王建国", "021-63211234"]) == "王**说路灯坏了，请找王**，座机0***********"
    assert mask_text("李说路灯坏了", ["李"]) == "李说路灯坏了"  # a surname alone is no name to hunt for
    assert mask_text(None) is None and mask_text("") == ""


mobiles = st.builds(
    lambda second, rest, seps, prefix: prefix + "1" + second + "".join(s + d for s, d in zip(seps, rest, strict=True)),
    st.sampled_from("3456789"),
    st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9),
    st.lists(st.sampled_from(["", "", " ", "-", "."]), min_size=9, max_size=9),
    st.sampled_from(["", "+86", "86 ", "+86-"]),
)


@given(mobiles, st.sampled_from(["电话", "手机：", "Tel ", "回电"]), st.sampled_from(["", "。", " 谢谢", "，王"]))
def test_every_mobile_number_is_masked_however_it_is_written(mobile: str, before: str, after: str) -> None:
    digits = "".join(c for c in mobile if c.isdigit())[-11:]
    shown = mask_text(before + mobile + after)
    assert shown == before + digits[:3] + "****" + digits[-4:] + after
