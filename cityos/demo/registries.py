"""Registry records for the demo and the benchmarks: plainly fictitious but realistic Huangpu-like persons
(自然人) and legal entities (法人), and defects planted in them at given rates, so that a quality run can be
checked to find exactly what was planted (issue 18, items 3 and 6).

Every record is invented from a seed and says so in its ``source`` item (:data:`SYNTHETIC`), which a page
can show. Identifiers are valid in format yet plainly synthetic:

* ID numbers: Huangpu's region code 310101, a birth date drawn from an ageing central district's age
  structure, a sequence in 900-995 (odd for men, even for women: real numbers rarely run that high), and a
  valid GB 11643 check character;
* unified social credit codes: ``91`` (an enterprise registered by market regulation), 310101, an
  organisation code starting ``CY`` (for cityos) with its GB 11714 check character, and a valid GB 32100
  check character.

Records are dicts of strings keyed by the catalogue's item names (HP-01-01-0001 for persons, HP-02-01-0001
for legal entities) plus ``id`` (the record key), ``street`` (the subdistrict), ``updatedAt`` and
``source``. 100,000 persons take about a second.

The other departments' feeds of the base registries are made from these and from the demo district's
buildings: tax (HP-02-04-0001) and human resources (HP-16-04-0001) for the same enterprises, planning and
natural resources' buildings (HP-03-03-0001) and standard addresses (HP-03-02-0001), housing's property use
and floors (HP-08-05-0001), each with disagreements planted where another department is the source.
"""

from __future__ import annotations

import random
import re
from bisect import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

from cityos.core.identifiers import CREDIT_CHARSET, ID_CHECK, credit_check_character, id_check_character
from cityos.demo.district import REFERENCE_TIME, ROAD_NAMES, STREET_NAMES
from cityos.demo.people import AREA_CODE, GIVEN_FEMALE, GIVEN_MALE, MOBILE_PREFIXES, SURNAMES

SYNTHETIC = "cityos synthetic registry (合成演示数据, fictitious: not a real person or enterprise)"
AS_OF = datetime.fromisoformat(REFERENCE_TIME.replace("Z", "+00:00"))
FRESH_WITHIN = timedelta(days=90)  # records are updated within this before AS_OF; stale ones are older
FIRST_SEQUENCE = 900  # ID sequences 900-995: valid in format, plainly synthetic

# The share of persons born in each decade (a central district with many older residents).
_DECADES = ((1925, 2), (1935, 5), (1945, 10), (1955, 16), (1965, 16), (1975, 13), (1985, 14), (1995, 11),
            (2005, 8), (2015, 5))  # fmt: skip
_MARRIAGE = ("未婚", "已婚", "离婚", "丧偶")
SOCIAL_SECURITY = ("城镇职工参保", "城乡居民参保", "退休", "未参保")
MARITAL_STATUS = _MARRIAGE
_TRADE_NAMES = ("申江", "浦江", "外滩", "豫园", "新天地", "金陵", "南浦", "海上", "东方", "云间", "明珠", "江南",
                "恒远", "瑞丰", "嘉禾", "华亭", "永新", "同和", "宏达", "锦程")  # fmt: skip
INDUSTRIES = (("零售业", "商贸"), ("餐饮业", "餐饮管理"), ("软件和信息技术服务业", "信息科技"),
              ("商务服务业", "企业管理咨询"), ("租赁业", "物业管理"), ("金融业", "投资管理"),
              ("文化艺术业", "文化传播"), ("住宿业", "酒店管理"), ("建筑装饰业", "建筑装饰工程"),
              ("专业技术服务业", "工程设计"))  # fmt: skip
ENTITY_KINDS = ("有限责任公司", "股份有限公司", "有限责任公司(自然人独资)", "外商投资企业")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code check


@dataclass(frozen=True)
class Defect:
    """One planted defect: its kind, the key of the record it is in, and the item it touches."""

    kind: str  # check-digit | missing | stale | duplicate | mismatch | disagreement
    key: str
    item: str


@dataclass(frozen=True)
class Defective:
    """Records with defects planted, what was planted, and the keys of every record a defect touched (the
    original of a duplicate included): a second feed built from the others disagrees only where planted."""

    records: list[dict[str, Any]]
    defects: list[Defect]
    touched: frozenset[str]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _updated(rng: random.Random, as_of: datetime) -> str:
    return _stamp(as_of - timedelta(seconds=rng.randrange(int(FRESH_WITHIN.total_seconds() // 3))))


def _pick(rng: random.Random, values: Sequence[str], cumulative: Sequence[int]) -> str:
    return values[bisect(cumulative, rng.random() * cumulative[-1])]


def _marriage(rng: random.Random, age: int) -> str:
    if age < 22:
        return "未婚"
    return _pick(rng, _MARRIAGE, (3, 63, 70, 100) if age >= 75 else (25, 90, 98, 100) if age < 35 else (6, 86, 96, 100))


def _social_security(rng: random.Random, age: int) -> str:
    if age >= 60:
        return _pick(rng, SOCIAL_SECURITY, (5, 15, 98, 100))
    if age < 18:
        return _pick(rng, SOCIAL_SECURITY, (0, 92, 92, 100))
    return _pick(rng, SOCIAL_SECURITY, (78, 90, 90, 100))


def _address(rng: random.Random) -> str:
    road, number = rng.choice(ROAD_NAMES), rng.randrange(1, 800)
    room = f"{rng.randrange(1, 7)}{rng.randrange(1, 5):02d}室"
    if rng.random() < 0.6:  # a lane (弄) of old houses, most of the district's homes
        return f"上海市黄浦区{road}{number}弄{rng.randrange(1, 40)}号{room}"
    return f"上海市黄浦区{road}{number}号{room}"


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def persons(count: int, seed: int = 18, *, as_of: datetime = AS_OF) -> list[dict[str, str]]:
    """``count`` fictitious residents, the same for the same seed, with unique valid-format ID numbers."""
    rng = random.Random(seed)
    starts = [date(y, 1, 1).toordinal() for y, _ in _DECADES]
    cumulative = list(accumulate(w for _, w in _DECADES))
    last = min(as_of.date(), date(2024, 12, 31)).toordinal()
    taken: dict[tuple[int, int], int] = {}  # (birth ordinal, sex) -> sequences used
    out = []
    for n in range(1, count + 1):
        start = starts[bisect(cumulative, rng.random() * cumulative[-1])]
        born = min(start + rng.randrange(3653), last)
        male = rng.random() < 0.49
        while taken.get((born, male), 0) >= 48:  # 48 sequences a day and sex: the next day has room
            born -= 1
        used = taken[(born, male)] = taken.get((born, male), 0) + 1
        birth = date.fromordinal(born)
        first17 = f"{AREA_CODE}{birth:%Y%m%d}{FIRST_SEQUENCE + 2 * (used - 1) + male:03d}"
        age = as_of.year - birth.year
        given = rng.choice((GIVEN_MALE if male else GIVEN_FEMALE)[birth.year >= 1975])
        out.append({
            "id": f"P{n:07d}",
            "idCard": first17 + id_check_character(first17),
            "name": rng.choice(SURNAMES) + given,
            "gender": "男" if male else "女",
            "birthDate": birth.isoformat(),
            "mobile": _mobile(rng),
            "registeredAddress": _address(rng),
            "street": rng.choice(STREET_NAMES),
            "maritalStatus": _marriage(rng, age),
            "socialSecurity": _social_security(rng, age),
            "updatedAt": _updated(rng, as_of),
            "source": SYNTHETIC,
        })  # fmt: skip
    return out


NEWBORN_DAYS = 80  # newborns are born within this many days before the day the demo is fed


def newborns(count: int, on: date, seed: int = 19) -> list[dict[str, str]]:
    """``count`` fictitious babies born in the ``NEWBORN_DAYS`` days before ``on`` (the day the demo is fed: a
    newborn is one at the time the policies run), not insured yet, the same for the same ``on`` and seed; ID
    numbers of their own (born after every person :func:`persons` makes)."""
    rng = random.Random(seed)
    taken: dict[tuple[int, bool], int] = {}
    out = []
    for n in range(1, count + 1):
        birth = on - timedelta(days=rng.randrange(1, NEWBORN_DAYS))
        male = rng.random() < 0.51
        used = taken[(birth.toordinal(), male)] = taken.get((birth.toordinal(), male), 0) + 1
        first17 = f"{AREA_CODE}{birth:%Y%m%d}{FIRST_SEQUENCE + 2 * (used - 1) + male:03d}"
        out.append({
            "id": f"N{n:05d}",
            "idCard": first17 + id_check_character(first17),
            "name": rng.choice(SURNAMES) + rng.choice((GIVEN_MALE if male else GIVEN_FEMALE)[True]),
            "gender": "男" if male else "女",
            "birthDate": birth.isoformat(),
            "mobile": _mobile(rng),  # a parent's
            "registeredAddress": _address(rng),
            "street": rng.choice(STREET_NAMES),
            "maritalStatus": "未婚",
            "socialSecurity": "未参保",
            "updatedAt": datetime.combine(on, datetime.min.time(), UTC).isoformat().replace("+00:00", "Z"),
            "source": SYNTHETIC,
        })  # fmt: skip
    return out


def _org_code(serial: int) -> str:
    """A GB 11714 organisation code ``CY`` + 6 digits + its check character."""
    body = f"CY{serial:06d}"
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(serial: int) -> str:
    """The fictitious unified social credit code of the ``serial``-th synthetic enterprise."""
    first17 = "91" + AREA_CODE + _org_code(serial)
    return first17 + credit_check_character(first17)


def entities(count: int, seed: int = 18, *, as_of: datetime = AS_OF) -> list[dict[str, str]]:
    """``count`` fictitious legal entities registered in the district, the same for the same seed."""
    rng = random.Random(seed)
    first_day, last_day = date(1992, 1, 1).toordinal(), as_of.date().toordinal()
    out = []
    for n in range(1, count + 1):
        industry, business = rng.choice(INDUSTRIES)
        representative = rng.choice(SURNAMES) + rng.choice(rng.choice((GIVEN_MALE, GIVEN_FEMALE))[rng.random() < 0.5])
        out.append({
            "id": f"E{n:06d}",
            "creditCode": credit_code(n),
            "name": f"上海{rng.choice(_TRADE_NAMES)}{business}有限公司" if n % 7 else
                    f"上海{rng.choice(_TRADE_NAMES)}{rng.choice(_TRADE_NAMES)}{business}有限公司",
            "kind": rng.choice(ENTITY_KINDS),
            "legalRepresentative": representative,
            "registeredCapital": str(rng.choice((10, 50, 100, 200, 500, 1000, 5000)) * 10_000),
            "domicile": _address(rng),
            "street": rng.choice(STREET_NAMES),
            "industry": industry,
            "foundedOn": date.fromordinal(rng.randrange(first_day, last_day)).isoformat(),
            "updatedAt": _updated(rng, as_of),
            "source": SYNTHETIC,
        })  # fmt: skip
    return out


def _wrong_check(value: str, rng: random.Random) -> str:
    alphabet = ID_CHECK if len(value) == 18 and value[:17].isdigit() else CREDIT_CHARSET
    return value[:-1] + rng.choice([c for c in alphabet if c != value[-1]])


def plant_defects(
    records: Sequence[Mapping[str, str]],
    rates: Mapping[str, float],
    *,
    seed: int = 7,
    identifier: str = "idCard",
    required: Sequence[str] = ("mobile", "registeredAddress"),
    as_of: datetime = AS_OF,
) -> Defective:
    """Copies of ``records`` with defects planted at ``rates`` (kind -> share of the records), each in a
    record of its own: ``check-digit`` (the identifier's check character changed), ``missing`` (one of the
    ``required`` items emptied or dropped), ``stale`` (``updatedAt`` older than :data:`FRESH_WITHIN`),
    ``mismatch`` (the gender item disagrees with the ID number; persons only) and ``duplicate`` (a second
    record, with a key of its own, repeating a record's identifier and items)."""
    rng = random.Random(seed)
    counts = {kind: round(rate * len(records)) for kind, rate in rates.items()}
    chosen = rng.sample(range(len(records)), sum(counts.values()))
    out = [dict(r) for r in records]
    defects: list[Defect] = []
    touched: set[str] = set()
    at = 0
    for kind, count in counts.items():
        for i in chosen[at : at + count]:
            r = out[i]
            touched.add(r["id"])
            if kind == "duplicate":
                twin = {**r, "id": f"{r['id']}-dup"}
                out.append(twin)
                touched.add(twin["id"])
                defects.append(Defect(kind, twin["id"], identifier))
                continue
            item = _plant(kind, r, rng, identifier, required, as_of)
            defects.append(Defect(kind, r["id"], item))
        at += count
    return Defective(out, defects, frozenset(touched))


def _plant(
    kind: str, r: dict[str, str], rng: random.Random, identifier: str, required: Sequence[str], as_of: datetime
) -> str:
    if kind == "check-digit":
        r[identifier] = _wrong_check(r[identifier], rng)
        return identifier
    if kind == "missing":
        item = rng.choice(required)
        if rng.random() < 0.5:
            r[item] = ""
        else:
            del r[item]
        return item
    if kind == "stale":
        r["updatedAt"] = _stamp(as_of - FRESH_WITHIN - timedelta(days=rng.randrange(1, 700)))
        return "updatedAt"
    if kind == "mismatch":
        r["gender"] = "女" if r["gender"] == "男" else "男"
        return "gender"
    raise ValueError(f"unknown defect kind {kind!r}: one of check-digit, missing, stale, duplicate, mismatch")


def second_feed(
    records: Iterable[Mapping[str, str]],
    items: Mapping[str, Sequence[str]],
    rate: float,
    *,
    seed: int = 11,
    by: str = "idCard",
    skip: frozenset[str] = frozenset(),
) -> Defective:
    """Another department's feed of ``items`` (item -> the values it may take) for the records, keyed by
    ``by``, disagreeing with the records on one item in a share ``rate`` of them. Records whose key is in
    ``skip`` (those :func:`plant_defects` touched) are left out. The defects name the records' keys."""
    rng = random.Random(seed)
    feed: list[dict[str, str]] = []
    defects: list[Defect] = []
    names = list(items)
    for r in records:
        if r["id"] in skip:
            continue
        row: dict[str, Any] = {by: r[by], **{i: r[i] for i in names}, "source": SYNTHETIC}
        if rng.random() < rate:
            item = rng.choice(names)
            row[item] = rng.choice([v for v in items[item] if v != r[item]])
            defects.append(Defect("disagreement", r["id"], item))
        feed.append(row)
    return Defective(feed, defects, frozenset(d.key for d in defects))


# --- entity resolution (实体识别, issue 18 item 1): variant spellings with the truth kept --------------------

_SYLLABLES = "华新盛达恒瑞丰嘉禾永鑫泰隆昌源祥瀚越锦宏亿凯博卓润德安康裕信诚汇银福力辰星沪申弘远"
_CN_DIGITS = "〇一二三四五六七八九"
_WIDE = str.maketrans("0123456789()", "０１２３４５６７８９（）")
_NARROW = str.maketrans("０１２３４５６７８９（）", "0123456789()")


@dataclass(frozen=True)
class ResolutionCase:
    """A registry of legal entities and a feed without its key: each feed record a variant spelling of a
    registry entity's name and address (``truth``: that entity's ``id``) or a record of none (``None``): a
    look-alike name, another branch of a registered company, a neighbour in the same building, a stranger.
    ``kinds`` names the variations written into each feed record."""

    registry: list[dict[str, str]]
    feed: list[dict[str, str]]
    truth: list[str | None]
    kinds: list[tuple[str, ...]]


def distinct_entities(count: int, seed: int = 18, *, branches: float = 0.05) -> list[dict[str, str]]:
    """``count`` fictitious legal entities (as :func:`entities`) whose names differ once normalised, a share
    ``branches`` of them branches (分公司) of another at an address of their own."""
    rng = random.Random(seed * 31 + 1)
    out, taken = entities(count, seed), set[tuple[str, str]]()
    for r in out:
        while True:
            size = 2 if len(taken) < count // 4 or rng.random() < 0.5 else 3  # 2 syllables: 18,920 names
            trade = rng.choice(_TRADE_NAMES) if rng.random() < 0.1 else "".join(rng.sample(_SYLLABLES, size))
            business = rng.choice(INDUSTRIES)[1]
            if (trade, business) not in taken:
                break
        taken.add((trade, business))
        form = "股份有限公司" if r["kind"] == "股份有限公司" else "有限公司"
        r["name"] = f"上海{trade}{business}{'（集团）' if rng.random() < 0.05 else ''}{form}"
    heads = out[: max(1, count // 2)]
    for r in rng.sample(out[count // 2 :], round(count * branches)):  # a branch of a head in the first half
        r["name"] = f"{rng.choice(heads)['name']}{rng.choice(ROAD_NAMES)}分公司"
    return out


def chinese_numeral(number: str, positional: bool) -> str:
    """A number written in Chinese: positional (123 → 一百二十三) or digit by digit (201 → 二〇一)."""
    n = int(number)
    if not positional or n == 0 or n >= 10_000:
        return "".join(_CN_DIGITS[int(d)] for d in number)
    out, units = "", ((1000, "千"), (100, "百"), (10, "十"))
    for size, unit in units:
        digit, n = divmod(n, size)
        if digit:
            out += ("" if size == 10 and not out and digit == 1 else _CN_DIGITS[digit]) + unit
        elif out and n:
            out += "" if out.endswith("零") else "零"
    return out + (_CN_DIGITS[n] if n else "")


def name_variant(name: str, rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """A spelling of an enterprise name a department might write, and the variations made."""
    kinds = rng.sample(("city", "district", "region-bracket", "form", "group", "width", "space"), rng.randint(1, 3))
    rest = name.removeprefix("上海")
    for kind in kinds:
        if kind == "form":
            shorter = "股份" in rest  # a 股份有限公司 written 有限公司; a 有限公司 written 有限责任公司
            rest = rest.replace("股份有限公司", "有限公司") if shorter else rest.replace("有限公司", "有限责任公司")
        elif kind == "group":
            rest = rest.replace("（集团）", rng.choice(("(集团)", "集团", "")))
        elif kind == "width":
            rest = rest.translate(_NARROW if "（" in rest else _WIDE)
        elif kind == "space":
            at = rng.randrange(1, len(rest))
            rest = rest[:at] + rng.choice((" ", "　", "·")) + rest[at:]
    if "region-bracket" in kinds:
        return f"{rest[:2]}（上海）{rest[2:]}", tuple(kinds)
    prefix = "上海" if "city" not in kinds else rng.choice(("", "上海市"))
    return prefix + ("黄浦区" if "district" in kinds else "") + rest, tuple(kinds)


def address_variant(address: str, rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """A spelling of an address (as :func:`entities` writes them) a department might write, and the variations."""
    kinds = rng.sample(("city", "numerals", "full-width", "room", "space"), rng.randint(1, 3))
    rest = address.removeprefix("上海市黄浦区")
    for kind in kinds:
        if kind == "numerals":
            parts = re.split(r"(\d+)", rest)
            rest = "".join(chinese_numeral(p, positional=parts[i + 1:][:1] != ["室"]) if p.isdigit() else p
                           for i, p in enumerate(parts))  # fmt: skip
        elif kind == "full-width":
            rest = rest.translate(_WIDE)
        elif kind == "room" and rest.endswith("室") and "弄" in rest:
            room = re.search(r"号(\d+)室$", rest)
            if room is not None:
                forms = (f"号{room[1]}", f"号{room[1][0]}楼{room[1]}室", f"-{room[1]}")
                rest = rest[: room.start()] + rng.choice(forms)
    if "space" in kinds:  # between two characters that are not digits: a space splits no number
        at = rng.choice([i for i in range(1, len(rest)) if not (rest[i - 1].isdigit() and rest[i].isdigit())])
        rest = rest[:at] + " " + rest[at:]
    prefix = rng.choice(("", "上海", "黄浦区", "上海市")) if "city" in kinds else "上海市黄浦区"
    return prefix + rest, tuple(kinds)


def _typo(name: str, rng: random.Random) -> str:
    """One character of the trade name (after 上海, before the line of business) written wrong."""
    at = rng.choice((2, 3))
    return name[:at] + rng.choice([c for c in _SYLLABLES if c != name[at]]) + name[at + 1 :]


def resolution_case(
    count: int = 2000,
    feed: int = 600,
    seed: int = 18,
    *,
    typos: float = 0.06,
    lookalikes: float = 0.08,
    branches: float = 0.05,
    neighbours: float = 0.04,
    strangers: float = 0.03,
) -> ResolutionCase:
    """A registry of ``count`` distinct entities and a street office's list of ``feed`` enterprises by name
    and address (half with a legal representative), the same for the same seed. Each share of ``feed`` is a
    kind of record: ``typos`` (a registry entity with its name misspelt, or its room number), ``lookalikes``
    (a registry name with one trade-name character changed, at another address: not that entity),
    ``branches`` (another branch of a registered company, at another address), ``neighbours`` (another
    enterprise in a registered one's building), ``strangers``; the rest are variant spellings of registry
    entities. Every feed record has its name and address spelt variously (:func:`name_variant`,
    :func:`address_variant`)."""
    rng = random.Random(seed * 7 + 3)
    registry = distinct_entities(count, seed)
    names = {r["name"] for r in registry}
    heads = [r for r in registry if "分公司" not in r["name"]]
    case = ResolutionCase(registry, [], [], [])
    shares = (("typo", typos), ("lookalike", lookalikes), ("branch", branches), ("neighbour", neighbours),
              ("stranger", strangers))  # fmt: skip
    plan = [kind for kind, share in shares for _ in range(round(share * feed))]
    plan += ["variant"] * (feed - len(plan))
    rng.shuffle(plan)
    for kind, entity in zip(plan, rng.sample(registry, feed), strict=True):
        truth: str | None = entity["id"]
        name, address, person = entity["name"], entity["domicile"], entity["legalRepresentative"]
        if kind == "typo" and rng.random() < 0.7:
            name = _typo(name, rng)
        elif kind == "typo":
            address = address[:-2] + rng.choice([d for d in "0123456789" if d != address[-2]]) + "室"
        elif kind in ("lookalike", "branch", "stranger"):
            truth, address, person = None, _address(rng), rng.choice(SURNAMES) + rng.choice(GIVEN_MALE[1])
            if kind == "lookalike":
                name = _typo(name, rng)
            elif kind == "branch":
                name = f"{rng.choice(heads)['name']}{rng.choice(ROAD_NAMES)}{rng.choice(('分公司', '第二分公司'))}"
            else:
                name = f"上海{''.join(rng.sample(_SYLLABLES, 3))}{rng.choice(INDUSTRIES)[1]}有限公司"
        elif kind == "neighbour":
            truth, person = None, rng.choice(SURNAMES) + rng.choice(GIVEN_FEMALE[1])
            name = f"上海{''.join(rng.sample(_SYLLABLES, 3))}{rng.choice(INDUSTRIES)[1]}有限公司"
            address = re.sub(r"\d+室$", f"{rng.randrange(7, 10)}{rng.randrange(5, 9):02d}室", address)
        if truth is None and name in names:
            truth, kind = entity["id"], "variant"  # a made-up name that is a registered one: a plain variant
            name, address, person = entity["name"], entity["domicile"], entity["legalRepresentative"]
        name, name_kinds = name_variant(name, rng)
        address, address_kinds = address_variant(address, rng)
        record = {"name": name, "address": address}
        if rng.random() < 0.5:
            record["legalRepresentative"] = person
        case.feed.append(record)
        case.truth.append(truth)
        case.kinds.append((kind, *name_kinds, *address_kinds))
    return case


TAX_STATUS = ("正常", "正常", "正常", "正常", "非正常户", "注销")
TAX_RATING = ("A", "B", "B", "M", "C", "D")
CONTRIBUTION = ("正常缴费", "正常缴费", "正常缴费", "欠费", "暂停缴费")
_USE = {"residential": "住宅", "apartments": "住宅", "office": "办公", "retail": "商业", "commercial": "商业",
        "hotel": "旅馆", "school": "教育"}  # fmt: skip


def _name_variant(name: str, rng: random.Random) -> str:
    """The same enterprise's name written as a department may have it: the form of business spelled out, the
    city dropped, or a character swapped for a homophone."""
    variants = [name.replace("有限公司", "有限责任公司"), name.removeprefix("上海"), name.replace("上海", "上海市", 1)]
    return rng.choice([v for v in variants if v != name] or [name + "（分公司）"])


def _enterprise_feed(entities: Sequence[Mapping[str, str]], rate: float, seed: int, own: Any) -> Defective:
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    defects: list[Defect] = []
    planted = set(rng.sample(range(len(entities)), round(rate * len(entities))))
    for n, e in enumerate(entities):
        name = e["name"]
        if n in planted:  # the name as this department holds it, not as market regulation registered it
            name = _name_variant(name, rng)
            defects.append(Defect("disagreement", e["id"], "name"))
        records.append({"creditCode": e["creditCode"], "name": name, **own(rng, e), "source": SYNTHETIC})
    return Defective(records, defects, frozenset(d.key for d in defects))


def tax_records(entities: Sequence[Mapping[str, str]], rate: float = 0.02, *, seed: int = 21) -> Defective:
    """Tax's feed (HP-02-04-0001) of the enterprises :func:`entities` made: registration status and tax credit
    rating (tax is their source), with the name in a share ``rate`` (exactly, rounded) written otherwise than
    market regulation registered it (a conflict: market regulation is the name's source)."""
    return _enterprise_feed(
        entities,
        rate,
        seed,
        lambda rng, e: {"taxStatus": rng.choice(TAX_STATUS), "taxCreditRating": rng.choice(TAX_RATING)},
    )


def insured_employer_records(entities: Sequence[Mapping[str, str]], rate: float = 0.02, *, seed: int = 22) -> Defective:
    """Human resources' feed (HP-16-04-0001) of the same enterprises: insured employees and contribution state
    (its own items), with a share ``rate`` of names disagreeing with market regulation's."""
    return _enterprise_feed(
        entities,
        rate,
        seed,
        lambda rng, e: {"insuredEmployees": rng.randrange(1, 400), "contributionState": rng.choice(CONTRIBUTION)},
    )


def building_code(entity_id: str) -> str:
    """The building code of a district ``Building`` (its id's last part): the places registry's record key."""
    return entity_id.rsplit(":", 1)[-1]


def _buildings(district: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [e for e in district if e.get("type") == "Building"]


def building_records(district: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Planning and natural resources' feed (HP-03-03-0001) of the district's buildings (the ``Building``
    entities of :func:`cityos.demo.district.build_district`), keyed by their building codes."""
    out = []
    for b in _buildings(district):
        out.append({"buildingCode": building_code(b["id"]), "name": b["name"]["value"],
                    "address": b["address"]["value"]["streetAddress"],
                    "floorsAboveGround": b["floorsAboveGround"]["value"],
                    "floorsBelowGround": b["floorsBelowGround"]["value"], "source": SYNTHETIC})  # fmt: skip
    return out


def address_records(district: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Planning and natural resources' standard address library (HP-03-02-0001): one doorplate per building
    of the district, with a fictitious address code (310101 and a serial) and a postal code."""
    out = []
    for n, b in enumerate(_buildings(district), 1):
        street = b["address"]["value"]["streetAddress"]
        out.append({"buildingCode": building_code(b["id"]), "standardAddress": f"上海市黄浦区{street}",
                    "addressCode": f"310101{n:08d}", "doorplate": street, "doorplateCode": f"310101{n:08d}",
                    "postalCode": f"2000{(n % 21) + 1:02d}", "source": SYNTHETIC})  # fmt: skip
    return out


def housing_records(district: Iterable[Mapping[str, Any]], rate: float = 0.05, *, seed: int = 23) -> Defective:
    """Housing's feed (HP-08-05-0001) of the district's buildings: property use and dwellings (its own items)
    and the floors above ground it counted, which in a share ``rate`` disagree with planning's survey (a
    conflict: planning and natural resources is the floors' source). Defects name the building codes."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    defects: list[Defect] = []
    buildings = _buildings(district)
    planted = set(rng.sample(range(len(buildings)), round(rate * len(buildings))))
    for n, b in enumerate(buildings):
        code, floors = building_code(b["id"]), b["floorsAboveGround"]["value"]
        category = (b["category"]["value"] or ["public"])[0]
        if n in planted:  # an added storey on the roof, or the mezzanine not counted
            floors = floors + 1 if floors < 3 or rng.random() < 0.5 else floors - 1
            defects.append(Defect("disagreement", code, "floorsAboveGround"))
        dwellings = rng.randrange(4, 30) * floors if _USE.get(category) == "住宅" else 0
        records.append({"buildingCode": code, "propertyUse": _USE.get(category, "公共设施"), "dwellings": dwellings,
                        "floorsAboveGround": floors, "source": SYNTHETIC})  # fmt: skip
    return Defective(records, defects, frozenset(d.key for d in defects))
