"""The demo district's residents: a few hundred synthetic ``Person`` entities, the records of the personal
dataset HP-01-01-0001 户籍人口基本信息 (its items: ID number, name, gender, birth date, mobile, registered
address), kept by the entry's provider.

Every value is invented from a seed: names from a short list of surnames and given names, ID numbers
well-formed for the masking and the audit (Huangpu's area code 310101, the birth date, a sequence whose
parity is the gender, a valid GB 11643 check character), mobiles on common prefixes, addresses on the demo
district's roads. People live in households (共同生活家庭成员) sharing an address, as a 低保 check reads them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cityos import context as hub
from cityos import datahub
from cityos.core.identifiers import id_check_character
from cityos.core.timefmt import now_iso
from cityos.demo.district import ROAD_NAMES
from cityos.runtime import Runtime

PERSON_CODE = "HP-01-01-0001"  # 户籍人口基本信息: the entry the residents are the records of
PEOPLE = 300
SEED = 17
AREA_CODE = "310101"  # 上海市黄浦区
FIRST_ROAD = "瞿溪路"  # the first household's road: the demo's reads all touch it (see cityos.demo.sharing)
SYNTHETIC = "cityos demo: synthetic (合成演示数据, not a real person)"

SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "朱", "沈", "顾", "陆",
            "蒋", "钱", "姚", "欧阳")  # fmt: skip
# given names by the decade's fashion: (born before 1975, born later)
GIVEN_MALE = (("建国", "国平", "志强", "海峰", "伟", "强", "军", "勇", "明", "华"),
              ("俊杰", "浩然", "子轩", "文斌", "磊", "杰", "涛", "斌", "宇航", "晨"))  # fmt: skip
GIVEN_FEMALE = (("秀英", "桂兰", "美华", "丽萍", "雪梅", "芳", "娟", "敏", "丽", "霞"),
                ("佳怡", "欣怡", "雨婷", "梓涵", "慧敏", "静", "艳", "玲", "思琪", "婷"))  # fmt: skip
MOBILE_PREFIXES = ("133", "135", "136", "137", "138", "139", "150", "151", "158", "177", "186", "188", "189")

_YOUNGEST = date(2023, 12, 31)


@dataclass(frozen=True)
class Resident:
    """One synthetic person of the register."""

    entity_id: str
    id_card: str
    name: str
    gender: str  # 男 or 女
    birth_date: date
    mobile: str
    address: str
    household: int


def id_number(birth: date, sequence: int) -> str:
    """An 18-character ID number of Huangpu: area code, birth date, 3-digit sequence (odd: male), check."""
    first17 = f"{AREA_CODE}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_character(first17)


class _Register:
    """Draws the residents one household at a time, keeping ID numbers unique."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.people: list[Resident] = []
        self.ids: set[str] = set()

    def birth(self, first: int, last: int) -> date:
        start = date(first, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(last, 12, 31) - start).days + 1))

    def id_card(self, birth: date, male: bool) -> str:
        while True:
            sequence = self.rng.randrange(0, 990) // 2 * 2 + (1 if male else 0)  # 996-999: centenarians
            number = id_number(birth, sequence)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def add(self, surname: str, male: bool, birth: date, address: str, household: int) -> None:
        given = self.rng.choice((GIVEN_MALE if male else GIVEN_FEMALE)[birth.year >= 1975])
        mobile = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
        n = len(self.people) + 1
        self.people.append(Resident(f"urn:ngsi-ld:Person:hp-{n:04d}", self.id_card(birth, male), surname + given,
                                    "男" if male else "女", birth, mobile, address, household))  # fmt: skip

    def address(self, road: str) -> str:
        number = self.rng.randrange(1, 800)
        room = f"{self.rng.randrange(1, 7)}{self.rng.randrange(1, 5):02d}室"
        if self.rng.random() < 0.6:  # a lane (弄) of old houses, most of the district's homes
            return f"上海市黄浦区{road}{number}弄{self.rng.randrange(1, 40)}号{room}"
        return f"上海市黄浦区{road}{number}号{room}"

    def household(self, household: int, road: str) -> None:
        """A household of one to four: the head, a spouse, a child, an elderly parent."""
        rng = self.rng
        size = rng.choices((1, 2, 3, 4), weights=(30, 35, 25, 10))[0]
        address = self.address(road)
        male = rng.random() < 0.5
        surname, spouse_surname = rng.choice(SURNAMES), rng.choice(SURNAMES)
        head = self.birth(1938, 1992)
        self.add(surname, male, head, address, household)
        if size >= 2:
            spouse = min(head + timedelta(days=rng.randrange(-1500, 1500)), _YOUNGEST)
            self.add(spouse_surname, not male, spouse, address, household)
        child = head + timedelta(days=rng.randrange(24 * 365, 34 * 365))
        if size >= 3 and child <= _YOUNGEST:
            self.add(surname if male else spouse_surname, rng.random() < 0.5, child, address, household)
        parent = head - timedelta(days=rng.randrange(22 * 365, 30 * 365))
        if size >= 4 and parent.year >= 1925:
            self.add(surname if male else spouse_surname, False, parent, address, household)


def build_residents(count: int = PEOPLE, seed: int = SEED) -> list[Resident]:
    """``count`` residents in households, the same for the same seed; the first household on ``FIRST_ROAD``."""
    register = _Register(random.Random(seed))
    household = 0
    while len(register.people) < count:
        household += 1
        register.household(household, FIRST_ROAD if household == 1 else register.rng.choice(ROAD_NAMES))
    return register.people[:count]


def person_entity(r: Resident) -> dict[str, Any]:
    """The resident as an NGSI-LD entity (normalized): the entry's items and a note that it is invented."""
    values = {"idCard": r.id_card, "name": r.name, "gender": r.gender, "birthDate": r.birth_date.isoformat(),
              "mobile": r.mobile, "registeredAddress": r.address, "dataProvider": SYNTHETIC}  # fmt: skip
    return {"id": r.entity_id, "type": "Person", **{k: {"type": "Property", "value": v} for k, v in values.items()}}


def load_people(rt: Runtime, tenant: str, residents: list[Resident]) -> int:
    """Create the residents the data hub does not hold yet, as entities of the person entry's provider (一数一源:
    public security keeps the register); those it holds are left as they are. How many were created."""
    provider = datahub.get_entry(rt, tenant, PERSON_CODE).provider
    held = hub.keepers(rt, tenant, [r.entity_id for r in residents])
    new = [r for r in residents if r.entity_id not in held]
    if not new:
        return 0
    tm, now = hub.term_map(rt), now_iso()
    ops = []
    for r in new:
        parsed = hub.parse_entity(person_entity(r), tm, now=now)
        ops.append((r.entity_id, hub.m_create(parsed)))
    outcomes = hub.apply(rt, tenant, ops, creates=True, writer=hub.Writer(provider))
    for o in outcomes:
        if o.error is not None:
            raise o.error
    return len(new)
