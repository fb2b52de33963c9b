"""The demo's department feeds into the base registries (数据归集, issue 18 item 6): the fictitious
residents of :func:`cityos.demo.registries.persons` fed by five departments whose records overlap and disagree
in planted ways, so that the feeds page and the source's conflict list have something true to show, and a
test can check a run against exactly what was planted.

* public security (公安, HP-01-01-0001): identity and registered address of everyone, the one source of
  those items; a few records malformed on purpose (a wrong check character, no ID number);
* civil affairs (民政, HP-11-03-0001 婚姻登记): the marital status of a share of the married, divorced and
  widowed (its own item), with the party's name, a few written with a variant character;
* human resources (人社, HP-16-01-0001 参保): the social security state of a share of the working-age insured
  (its own item), with the mobile given to the insurer, a few of them another number;
* health (卫健, HP-09-02-0001): the birth certificate number of those born from 2010 (its own item), with the
  birth date the hospital recorded, a few a day off;
* a street office (南京东路街道, HP-01-01-0004): its residents' list with the neighbourhood committee (its own
  item), mobiles and addresses, a few of each disagreeing (another number; the address written without the
  city), and two records with a wrong check character.

The last few persons are newborns, born in the weeks before the day the demo is fed. Two more feeds
(:func:`policy_feeds`) give what the policies of 政策找人 read beside: health's only-child certificates and
human resources' list of the uninsured.

Each feed's records are built from the persons that public security's feed registers (its malformed records
left out), so every conflict a run finds is one that was planted.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cityos.demo import registries
from cityos.demo.district import build_district
from cityos.demo.registries import AS_OF, address_variant, name_variant, persons

PERSONS = 100_000  # the figure: a feed of this many takes about 30 s
SEED = 18
SOURCE = "public-security"
STREET = "南京东路街道"
NEIGHBOURHOODS = ("贵州居委会", "福州居委会", "云南中路居委会", "新桥居委会", "宁波居委会", "江阴居委会",
                  "长江居委会", "定兴居委会")  # fmt: skip
# 形近、同音的异写字: a name written with a variant (the civil affairs records that disagree)
VARIANTS = {"伟": "玮", "华": "化", "明": "铭", "芳": "方", "丽": "莉", "敏": "民", "军": "君", "杰": "洁",
            "静": "晶", "婷": "亭", "斌": "彬", "涛": "滔", "娟": "鹃", "霞": "侠", "强": "蔷", "勇": "永",
            "磊": "垒", "宇航": "宇杭", "晨": "辰", "玲": "琳", "艳": "燕"}  # fmt: skip


@dataclass(frozen=True)
class DemoFeed:
    """One department's feed: its records (item name -> value) and what was planted in it: the (ID number,
    item) pairs that disagree with public security's values, and the malformed records' indices in the batch."""

    department: str
    code: str
    records: list[dict[str, str]]
    conflicts: frozenset[tuple[str, str]]
    rejections: tuple[int, ...] = ()


def _age(born: str) -> int:
    return AS_OF.year - int(born[:4])


def _other_mobile(rng: random.Random, mobile: str) -> str:
    return mobile[:3] + f"{(int(mobile[3:]) + rng.randrange(1, 10**8)) % 10**8:08d}"


def _variant(name: str) -> str | None:
    for plain, variant in VARIANTS.items():
        if name.endswith(plain):
            return name[: -len(plain)] + variant
    return None


def _wrong_check(id_card: str) -> str:
    return id_card[:-1] + ("0" if id_card[-1] != "0" else "1")


def _public_security(people: Sequence[dict[str, str]], rng: random.Random) -> DemoFeed:
    items = ("idCard", "name", "gender", "birthDate", "mobile", "registeredAddress")
    records = [{i: p[i] for i in items} for p in people]
    bad = sorted(rng.sample(range(len(records)), max(2, len(records) // 1000)))
    for n, at in enumerate(bad):
        if n % 2:
            del records[at]["idCard"]
        else:
            records[at]["idCard"] = _wrong_check(records[at]["idCard"])
    return DemoFeed(SOURCE, "HP-01-01-0001", records, frozenset(), tuple(bad))


def _civil_affairs(people: Sequence[dict[str, str]], rng: random.Random) -> DemoFeed:
    records, planted = [], set()
    for n, p in enumerate(p for p in people if p["maritalStatus"] != "未婚"):
        if rng.random() >= 0.25:  # the registrations this office made
            continue
        name = p["name"]
        variant = _variant(name) if rng.random() < 0.04 else None
        if variant is not None:
            name = variant
            planted.add((p["idCard"], "partyAName"))
        kind = "离婚登记" if p["maritalStatus"] == "离婚" else "结婚登记"
        records.append({"partyA": p["idCard"], "partyAName": name, "maritalStatus": p["maritalStatus"],
                        "certificateNo": f"J310101-{2000 + n % 24}-{n:06d}", "kind": kind})  # fmt: skip
    return DemoFeed("civil-affairs", "HP-11-03-0001", records, frozenset(planted))


def _human_resources(people: Sequence[dict[str, str]], rng: random.Random) -> DemoFeed:
    records, planted = [], set()
    for p in people:
        if p["socialSecurity"] != "城镇职工参保" or not 18 <= _age(p["birthDate"]) < 60 or rng.random() >= 0.5:
            continue
        mobile = p["mobile"]
        if rng.random() < 0.03:
            mobile = _other_mobile(rng, mobile)
            planted.add((p["idCard"], "mobile"))
        records.append({"idCard": p["idCard"], "socialSecurity": p["socialSecurity"], "mobile": mobile,
                        "state": "正常参保", "contributionBase": str(rng.randrange(7310, 36549))})  # fmt: skip
    return DemoFeed("human-resources", "HP-16-01-0001", records, frozenset(planted))


def _health(people: Sequence[dict[str, str]], rng: random.Random) -> DemoFeed:
    records, planted = [], set()
    for n, p in enumerate(p for p in people if p["birthDate"] >= "2010-01-01"):
        born = p["birthDate"]
        if rng.random() < 0.03:
            born = (date.fromisoformat(born) + timedelta(days=rng.choice((-1, 1)))).isoformat()
            planted.add((p["idCard"], "birthDate"))
        records.append({"idCard": p["idCard"], "birthCertificateNo": f"O31{born[:4]}{n:07d}", "birthDate": born})
    return DemoFeed("health", "HP-09-02-0001", records, frozenset(planted))


def _street_office(people: Sequence[dict[str, str]], rng: random.Random) -> DemoFeed:
    records: list[dict[str, str]] = []
    planted: set[tuple[str, str]] = set()
    for p in people:
        if p["street"] != STREET:
            continue
        mobile, address, roll = p["mobile"], p["registeredAddress"], rng.random()
        if roll < 0.04:  # the number the committee's visit noted
            mobile = _other_mobile(rng, mobile)
            planted.add((p["idCard"], "mobile"))
        elif roll < 0.08:  # the same address written the street's way, without the city
            address = address.removeprefix("上海市")
            planted.add((p["idCard"], "registeredAddress"))
        records.append({"idCard": p["idCard"], "name": p["name"], "mobile": mobile, "registeredAddress": address,
                        "neighbourhood": rng.choice(NEIGHBOURHOODS)})  # fmt: skip
    bad = sorted(rng.sample(range(len(records)), min(2, len(records))))
    for at in bad:  # typed in by hand: the check character wrong
        planted.discard((records[at]["idCard"], "mobile"))
        planted.discard((records[at]["idCard"], "registeredAddress"))
        records[at]["idCard"] = _wrong_check(records[at]["idCard"])
    return DemoFeed("street-office", "HP-01-01-0004", records, frozenset(planted), tuple(bad))


NEWBORN_SHARE = 2000  # one newborn for every this many persons (at least one)
ONLY_CHILD_SHARE = 0.3  # of those born 1940-1975, the parents holding an only child's certificate (光荣证)


def _people(count: int, seed: int, avoid: Collection[str], on: date | None) -> list[dict[str, str]]:
    """The ``count`` fictitious persons of the feeds: :func:`persons` and, the last of them, a few newborns
    born in the weeks before ``on`` (today), not those whose ID numbers are in ``avoid``."""
    babies = max(1, count // NEWBORN_SHARE) if count >= 10 else 0
    made = persons(count - babies, seed) + registries.newborns(babies, on or datetime.now(UTC).date(), seed + 7)
    return [p for p in made if p["idCard"] not in avoid]


def demo_feeds(count: int = PERSONS, seed: int = SEED, *, avoid: Collection[str] = (),
               on: date | None = None) -> list[DemoFeed]:  # fmt: skip
    """The five feeds of ``count`` fictitious persons (fewer by those whose ID numbers are in ``avoid``: the
    demo's residents, entities of their own), public security's first; the same for the same seed and day
    ``on`` (today: the newborns are born in the weeks before it)."""
    people = _people(count, seed, avoid, on)
    source = _public_security(people, random.Random(seed + 1))
    bad = set(source.rejections)
    kept = [p for n, p in enumerate(people) if n not in bad]  # in the registry after it
    return [source, _civil_affairs(kept, random.Random(seed + 2)), _human_resources(kept, random.Random(seed + 3)),
            _health(kept, random.Random(seed + 4)), _street_office(kept, random.Random(seed + 5))]  # fmt: skip


def policy_feeds(count: int = PERSONS, seed: int = SEED, *, avoid: Collection[str] = (),
                 on: date | None = None) -> list[DemoFeed]:  # fmt: skip
    """The feeds the policies (政策找人, cityos.onestop.policies) read beside public security's, of the same
    persons as :func:`demo_feeds`: health's only-child certificates (HP-09-04-0001, 独生子女父母光荣证) of a share
    ``ONLY_CHILD_SHARE`` of those born 1940-1975, and human resources' social security state (HP-16-01-0002) of
    the working-age persons not insured (未参保). Nothing planted: they agree with the registry."""
    people = _people(count, seed, avoid, on)
    bad = set(_public_security(people, random.Random(seed + 1)).rejections)
    kept = [p for n, p in enumerate(people) if n not in bad]
    rng = random.Random(seed + 8)
    certificates = [{"idCard": p["idCard"], "onlyChildCertificate": f"DS310101-{p['birthDate'][:4]}-{n:06d}"}
                    for n, p in enumerate(kept)
                    if "1940" <= p["birthDate"][:4] <= "1975" and rng.random() < ONLY_CHILD_SHARE]  # fmt: skip
    uninsured = [{"idCard": p["idCard"], "socialSecurity": p["socialSecurity"]} for p in kept
                 if p["socialSecurity"] == "未参保" and 16 <= _age(p["birthDate"]) < 60]  # fmt: skip
    return [DemoFeed("health", "HP-09-04-0001", certificates, frozenset()),
            DemoFeed("human-resources", "HP-16-01-0002", uninsured, frozenset())]  # fmt: skip


# --- the legal entities (法人库) and places (空间地理库) registries ------------------------------------------

VISITED_SHARE = 0.02  # of the enterprises, those the street office's list names (by name and domicile only)


def _key_of(entities: Sequence[dict[str, str]]) -> dict[str, str]:
    return {e["id"]: e["creditCode"] for e in entities}


def _visits(entities: Sequence[dict[str, str]], rng: random.Random) -> DemoFeed:
    """The street office's list of the enterprises it visited (HP-02-09-0001): no credit code, names and
    domiciles spelt its own way, a few enterprises the registry does not hold; resolved to the registry."""
    records = []
    for e in rng.sample(list(entities), max(1, round(VISITED_SHARE * len(entities)))):
        name, _ = name_variant(e["name"], rng)
        domicile, _ = address_variant(e["domicile"], rng)
        records.append({"name": name, "domicile": domicile, "legalRepresentative": e["legalRepresentative"],
                        "gridContact": rng.choice(NEIGHBOURHOODS).removesuffix("居委会") + "网格员",
                        "visitedOn": f"{AS_OF.year}-{rng.randrange(1, 12):02d}-{rng.randrange(1, 28):02d}",
                        })  # fmt: skip
    return DemoFeed("street-office", "HP-02-09-0001", records, frozenset())


def registry_feeds(entities: int, seed: int = SEED) -> list[DemoFeed]:
    """The feeds of the legal entities and places registries, market regulation's and planning's first:
    ``entities`` fictitious enterprises registered, with tax's and human resources' records of them (a share
    of names written otherwise: conflicts), the street office's keyless visits list (entity resolution), and
    the district's buildings, standard addresses and housing's records (a share of floors disagreeing)."""
    companies = registries.entities(entities, seed)
    keys = _key_of(companies)
    items = ("creditCode", "name", "kind", "legalRepresentative", "registeredCapital", "domicile", "foundedOn")
    registered = DemoFeed("market-regulation", "HP-02-01-0001", [{i: c[i] for i in items} for c in companies],
                          frozenset())  # fmt: skip
    out = [registered]
    for department, code, made in (("tax", "HP-02-04-0001", registries.tax_records(companies)),
                                   ("human-resources", "HP-16-04-0001",
                                    registries.insured_employer_records(companies))):  # fmt: skip
        planted = frozenset((keys[d.key], d.item) for d in made.defects)
        out.append(DemoFeed(department, code, made.records, planted))
    out.append(_visits(companies, random.Random(seed + 6)))
    buildings = [e for e in build_district(sensors=13) if e["type"] == "Building"]
    housing = registries.housing_records(buildings)
    out += [DemoFeed("planning-resources", "HP-03-03-0001", registries.building_records(buildings), frozenset()),
            DemoFeed("planning-resources", "HP-03-02-0001", registries.address_records(buildings), frozenset()),
            DemoFeed("housing", "HP-08-05-0001", housing.records,
                     frozenset((d.key, d.item) for d in housing.defects))]  # fmt: skip
    return out
