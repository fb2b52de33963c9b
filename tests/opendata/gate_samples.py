"""Entries, policies and records for the de-identification gate's tests: a residents' register whose small
street would re-identify its people by birth date and gender, and a street-by-age aggregate."""

from __future__ import annotations

from typing import Any

from cityos.datahub import CatalogueEntry, DataItem, OpeningType, SharingType
from cityos.opendata import Policy, parse_policy

DEFAULTS: dict[str, Any] = {
    "maxLevel": {"unconditional": "general-2", "conditional": "general-3"},
    "direct": ["id-card", "name", "mobile", "email"],
    "directOfPersons": ["address", "credit-code", "phone", "geo"],
    "personCreditCodes": ["92"],
}
BIG, SMALL = "上海市黄浦区南京东路街道", "上海市黄浦区小东门街道"


def entry(code: str, items: tuple[DataItem, ...], opening: OpeningType = OpeningType.UNCONDITIONAL) -> CatalogueEntry:
    return CatalogueEntry(
        code=code, name="测试数据集", abstract="门控测试用。", provider="public-security",
        classification=("测试", "开放"), format="file", items=items, sharing=SharingType.UNCONDITIONAL,
        opening=opening, update_cycle="monthly", published="2026-01-01",
    )  # fmt: skip


RESIDENTS = entry(
    "T-01-0001",
    (
        DataItem("idCard", "公民身份号码", "id-card", "general-2"),
        DataItem("name", "姓名", "name", "general-2"),
        DataItem("gender", "性别", "code", "general-1"),
        DataItem("birthDate", "出生日期", "date", "general-2"),
        DataItem("address", "居住地址", "address", "general-2"),
        DataItem("income", "收入", "number", "general-4"),
    ),
)

STATS = entry(
    "T-01-0002",
    (
        DataItem("street", "街道", "code", "general-1"),
        DataItem("ageGroup", "年龄段", "code", "general-1"),
        DataItem("residents", "常住人口数", "number", "general-1"),
    ),
)


def policy(**entries: Any) -> Policy:
    return parse_policy({"defaults": DEFAULTS, "entries": entries}, "test-policy")


def residents_policy(generalise_birth: bool) -> Policy:
    rules: dict[str, Any] = {"address": "street"}
    if generalise_birth:
        rules["birthDate"] = {"years": 5}
    own = {"subject": "persons", "quasi": ["gender", "birthDate", "address"], "generalise": rules}
    return parse_policy({"defaults": DEFAULTS, "entries": {RESIDENTS.code: own}}, "test-policy")


def residents() -> list[dict[str, Any]]:
    """400 residents of a big street, born 1960-1999, and 10 of a small street, all born 1950-1954: each
    of the small street's is alone in their birth date, gender and street; in 5-year bands, 5 share each."""
    out = []
    for i in range(400):
        year, gender = 1960 + (i // 2) % 40, "男女"[i % 2]
        out.append(_person(i, gender, f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d}", f"{BIG}南京东路{i}号"))
    for j in range(10):
        out.append(_person(400 + j, "男女"[j % 2], f"195{j // 2}-0{1 + j % 9}-1{j}", f"{SMALL}中华路{j}弄{j}号"))
    return out


def _person(n: int, gender: str, born: str, address: str) -> dict[str, Any]:
    return {"idCard": f"31010119600101{n:04d}", "name": f"居民{n}", "gender": gender, "birthDate": born,
            "address": address, "income": 5000 + n}  # fmt: skip


def stats(small: int = 2) -> list[dict[str, Any]]:
    cells = [(s, a) for s in ("南京东路", "外滩", "半淞园路") for a in ("0-17", "18-59", "60+")]
    rows = [{"street": s, "ageGroup": a, "residents": 120 + 7 * i} for i, (s, a) in enumerate(cells)]
    rows[4]["residents"] = small  # 外滩, 18-59
    return rows
