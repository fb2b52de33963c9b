"""Service items and a bundle in the shape of 开办餐饮店一件事, built here (the catalogue is another part)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

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
