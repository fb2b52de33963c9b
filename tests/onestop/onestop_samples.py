"""Service items and a bundle in the shape of 开办餐饮店一件事, built here (the catalogue is another part)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from conftest import Api

from cityos.core.identifiers import credit_check_character, id_check_character
from cityos.onestop import Bundle, BundleItem, Material, ServiceItem

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2025, 3, 3, 10, 0, tzinfo=TZ)  # a working Monday


def item(code: str, name: str, department: str, promised: int = 5, legal: int = 20,
         kinds: tuple[str, ...] = ("enterprise",)) -> ServiceItem:  # fmt: skip
    return ServiceItem(
        code=code, version=1, name=name, name_en=code, department=department,
        applicant_kinds=kinds,  # type: ignore[arg-type]
        legal_basis=("《中华人民共和国行政许可法》",), conditions=("申请人依法设立",),
        materials=(Material(code="licence-form", name="申请表", source="upload"),),
        legal_limit_days=legal, promised_limit_days=promised, fee="不收费", handling="online",
    )  # fmt: skip


ITEMS = (
    item("HP-XK-0001", "营业执照", "market-supervision", 3, 15),
    item("HP-XK-0002", "食品经营许可", "market-supervision", 5, 20),
    item("HP-XK-0003", "户外招牌设置", "greening-and-city-appearance", 5, 20),
    item("HP-XK-0004", "消防安全承诺", "fire-rescue", 2, 10),
    item("HP-XK-0005", "烟草专卖零售许可", "tobacco-monopoly", 10, 20),
)
RESTAURANT = Bundle(
    code="restaurant", name="开办餐饮店一件事", name_en="Opening a restaurant", applicant_kind="enterprise",
    items=(*(BundleItem(i.code) for i in ITEMS[:4]), BundleItem("HP-XK-0005", {"==": [{"var": "tobacco"}, True]})),
    lead_department="market-supervision",
)  # fmt: skip
ANSWERS = {"name": "小笼包餐饮有限公司", "tobacco": True, "area": 80}


PERSON = "31010119800101123" + id_check_character("31010119800101123")
COMPANY = "91310101MA1FPX123" + credit_check_character("91310101MA1FPX123")


def _value(q: dict[str, Any]) -> Any:
    """An answer of the question's type (the first option of a choice)."""
    options = [o["value"] for o in q.get("options") or []]
    return {"text": "测试", "integer": int(q.get("min") or 1), "number": float(q.get("min") or 1),
            "boolean": False, "date": "2026-12-01", "choice": options[:1] and options[0],
            "multichoice": options[:1], "id-card": PERSON, "credit-code": COMPANY,
            "phone": "13800138000"}[q["type"]]  # fmt: skip


def answers_for(api: Api, bundle: str, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` and an answer to every other question the form shows for them."""
    questions = {q["code"]: q for q in api.get(f"/onestop/bundles/{bundle}/form", token=None).json()["questions"]}
    answers = dict(given)
    for _ in range(len(questions)):
        checked = api.post(f"/onestop/bundles/{bundle}/form/check", json={"answers": answers}, token=None).json()
        if checked["valid"]:
            return answers
        for error in checked["errors"]:
            answers[error["field"]] = _value(questions[error["field"]])
    raise AssertionError(f"no valid answers found for {bundle}")
