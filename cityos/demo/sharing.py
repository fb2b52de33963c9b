"""The demo's data sharing (授权共享): the residents of the personal dataset, grants between the district's
departments in every state of the workflow, and a few reads through the approved ones, so that the grant
pages, the audit chain and "who used my data" have something to show and masking is visible.

Each grant goes through the workflow as a department would move it, on the days it would have (``now=`` in
the past: an expired grant was asked for and approved months ago, for a period that has ended). Loading
again adds nothing: residents, grants (by department, entry and scenario) and reads (by a person they touch)
already there are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cityos import datahub
from cityos.datahub import GrantAction, Narrowing, Reader
from cityos.demo.objections import load_objections
from cityos.demo.people import FIRST_ROAD, PERSON_CODE, Resident, build_residents, load_people
from cityos.runtime import Runtime

APPROVE, NARROW, REFUSE, REVOKE = GrantAction.APPROVE, GrantAction.NARROW, GrantAction.REFUSE, GrantAction.REVOKE
ALL = None  # a grant for every item of its entry
RELIEF, LIFT, FLOOD = "低保资格核验", "老旧小区加装电梯意见征询", "防汛人员转移名单"


@dataclass(frozen=True)
class Step:
    """A move of the provider's, ``days_ago`` before the load; a narrow keeps ``items`` and/or ends the grant
    ``lasts_days`` after it was asked for."""

    action: GrantAction
    days_ago: float
    reason: str | None = None
    items: tuple[str, ...] | None = None
    lasts_days: int | None = None


@dataclass(frozen=True)
class DemoGrant:
    """A grant as its department asked for it, ``asked_days_ago``, for ``lasts_days``, and what became of it."""

    department: str
    code: str
    scenario: str
    purpose: str
    legal_basis: str
    items: tuple[str, ...] | None
    lifts: str | None
    asked_days_ago: float
    lasts_days: int
    steps: tuple[Step, ...] = ()


SOCIAL_ASSISTANCE = "《社会救助暂行办法》（国务院令第649号）；《上海市社会救助条例》"
POLICY_MATCHING = "政策找人"  # the scenario policy matching reads under (cityos.onestop.policy_matching.SCENARIO)
ONESTOP = "一网通办"  # the scenario one-stop services fetch evidence under (cityos.onestop.evidence.SCENARIO)
ONCE_ONLY = (
    "《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》（国发〔2018〕27号）；"
    "《上海市公共数据和一网通办管理办法》"
)
PERSON_ITEMS = ("idCard", "name", "gender", "birthDate", "registeredAddress")

GRANTS: tuple[DemoGrant, ...] = (
    # approved (已授权): in force now
    DemoGrant("civil-affairs", PERSON_CODE, RELIEF,
              "核对最低生活保障申请人及共同生活家庭成员的身份、年龄和户籍", SOCIAL_ASSISTANCE,
              ("idCard", "name", "gender", "birthDate", "registeredAddress"), "general-3", 40, 365,
              (Step(APPROVE, 38),)),
    DemoGrant("emergency-management", PERSON_CODE, FLOOD,
              "汛前核定低洼地区和危旧房屋居民的转移安置名单，逐户通知并落实转移责任人",
              "《中华人民共和国防洪法》；《上海市防汛条例》",
              ("name", "gender", "birthDate", "mobile", "registeredAddress"), "general-4", 20, 180,
              (Step(APPROVE, 19),)),
    DemoGrant("operations-center", "HP-04-04-0001", "一网统管火灾隐患联动处置",
              "独居老人家中烟感报警推送城运平台，派单街道和网格上门核查", "《上海市消防条例》",
              ALL, None, 60, 730, (Step(APPROVE, 57),)),
    # approved, narrowed (缩小范围后批准)
    DemoGrant("housing", PERSON_CODE, LIFT,
              "向拟加装电梯楼栋的户籍居民征询意见，统计同意比例并通知表决结果",
              "《关于进一步做好本市既有多层住宅加装电梯工作的若干意见》",
              ("idCard", "name", "mobile", "registeredAddress"), "general-4", 12, 365,
              (Step(NARROW, 10, "意见征询以门牌为单位，无需公民身份号码；授权期限以本轮征询周期为限",
                    items=("name", "mobile", "registeredAddress"), lasts_days=180),)),
    DemoGrant("civil-affairs", "HP-16-01-0001", RELIEF,
              "核对低保申请家庭成员的参保状态和缴费基数，作为收入核定的参考", SOCIAL_ASSISTANCE,
              ALL, "general-4", 30, 365,
              (Step(NARROW, 27, "收入核定无需工作单位代码，按最小必要原则不予提供",
                    items=("idCard", "state", "contributionBase")),)),
    # requested (待审批): for the provider's data officer to decide
    DemoGrant("human-resources", PERSON_CODE, "人才引进落户审核",
              "核验引进人才及随迁配偶、子女的户籍状况，审核落户条件", "《上海市引进人才申办本市常住户口办法》",
              ("idCard", "name", "gender", "birthDate", "registeredAddress"), "general-4", 2, 365),
    DemoGrant("health", "HP-11-02-0001", "家庭医生签约服务",
              "为独居、失能老人优先安排家庭医生签约和上门巡诊", "《上海市养老服务条例》",
              ALL, "general-3", 1, 365),
    DemoGrant("education", "HP-01-01-0002", "义务教育入学资格审核",
              "核验适龄儿童及其法定监护人在本区的居住登记", "《中华人民共和国义务教育法》",
              ("idCard", "residentialAddress", "registeredOn"), None, 3, 120),
    # refused (不予授权)
    DemoGrant("market-regulation", PERSON_CODE, "消费投诉回访",
              "补全投诉人的联系电话，开展办结回访", "《市场监督管理投诉举报处理暂行办法》",
              ("name", "mobile"), "general-4", 16, 365,
              (Step(REFUSE, 15, "回访应使用投诉人自行提供的联系方式；户籍人口信息限于民生保障、社会治理"
                                "场景共享，本场景不符合共享条件"),)),
    DemoGrant("urban-management", "HP-04-02-0001", "占道经营执法取证",
              "调取重点区域人流数据作为占道经营的执法证据", "《上海市市容环境卫生管理条例》",
              ALL, None, 25, 90,
              (Step(REFUSE, 24, "人流监测数据仅用于大客流安全管理，不作执法证据；取证请使用执法记录和"
                                "现场勘验"),)),
    # revoked (已撤销)
    DemoGrant("health", PERSON_CODE, "老年人流感疫苗接种通知",
              "通知60周岁以上户籍老人预约接种流感疫苗", "《中华人民共和国疫苗管理法》",
              ("name", "birthDate", "mobile", "registeredAddress"), "general-4", 90, 365,
              (Step(APPROVE, 88),
               Step(REVOKE, 10, "本季集中接种通知已结束，按最小必要原则撤销；后续通知经家庭医生签约渠道"))),
    DemoGrant("operations-center", "HP-15-04-0002", "城运事件关联分析",
              "将火灾警情与城运事件、12345工单关联分析", "《上海市城市运行“一网统管”建设三年行动计划》",
              ALL, None, 200, 730,
              (Step(APPROVE, 198), Step(REVOKE, 30, "城运平台已接入火灾警情实时推送接口，本授权不再使用"))),
    # expired (已到期): approved for a period that has ended
    DemoGrant("civil-affairs", PERSON_CODE, "高龄老人营养补贴发放核对",
              "核对80周岁以上户籍老人的年龄和户籍，发放高龄营养补贴", "《上海市老年人权益保障条例》",
              ("idCard", "name", "birthDate", "registeredAddress"), "general-3", 400, 365,
              (Step(APPROVE, 398),)),
    DemoGrant("emergency-management", "HP-04-02-0001", "国庆假日大客流应急保障",
              "国庆假日外滩、南京路步行街大客流预警和疏导", "《上海市实施〈中华人民共和国突发事件应对法〉办法》",
              ALL, None, 75, 15, (Step(APPROVE, 74),)),
    # approved for 一网通办 (once-only evidence, 两个免于提交: cityos.onestop.evidence): the departments that
    # implement the bundles' items fetch an applicant's own record at the applicant's request, ID numbers masked
    # (public security provides the persons' entry and market regulation the enterprises': they need no grant)
    # (housing's asks for fewer items than its grant for lift consultations: a read naming no scenario is served
    # by the grant that shows the most, and housing's objections are on values that one showed)
    *(DemoGrant(dept, PERSON_CODE, ONESTOP, f"一网通办{what}：经申请人同意调取本人户籍信息作为申请材料，免于提交",
                ONCE_ONLY, items, "general-4", 5, 1095, (Step(APPROVE, 4),))
      for dept, what, items in (("health", "出生一件事、预防接种", PERSON_ITEMS),
                                ("human-resources", "社会保障卡、退休一件事", PERSON_ITEMS),
                                ("civil-affairs", "婚姻、社会救助", PERSON_ITEMS),
                                ("housing", "二手房交易", ("idCard", "name")),
                                ("market-regulation", "开办餐饮店、企业变更", PERSON_ITEMS),
                                ("tax", "二手房交易纳税申报", PERSON_ITEMS))),
    *(DemoGrant(dept, "HP-02-01-0001", ONESTOP, f"一网通办{what}：经申请企业同意调取本企业登记信息作为申请材料",
                ONCE_ONLY, None, "general-2", 5, 1095, (Step(APPROVE, 4),))
      for dept, what in (("tax", "企业变更涉税事项"), ("fire-rescue", "开办餐饮店消防安全承诺"),
                         ("city-appearance", "户外招牌设置"), ("health", "开办餐饮店"))),
    DemoGrant("housing", "HP-03-03-0001", ONESTOP, "一网通办二手房交易：核验交易房屋的建筑信息", ONCE_ONLY, None,
              "general-3", 5, 1095, (Step(APPROVE, 4),)),
    # approved for 政策找人 (policy matching, cityos.onestop.policies): the policies' departments read the items
    # their conditions name over the whole register, and notify those eligible
    *(DemoGrant(dept, PERSON_CODE, POLICY_MATCHING, f"政策找人{what}：按政策条件筛查符合条件的户籍居民并推送政策",
                basis, items, "general-4", 6, 1095, (Step(APPROVE, 5),))
      for dept, what, basis, items in (
          ("civil-affairs", "高龄津贴、百岁老人长寿保健金", "《上海市老年人权益保障条例》",
           ("birthDate", "registeredAddress")),
          ("health", "独生子女父母奖励、老年人流感疫苗", "《上海市人口与计划生育条例》",
           ("gender", "birthDate", "registeredAddress")),
          ("human-resources", "新生儿医保参保、城乡居民养老保险", "《上海市城乡居民基本医疗保险办法》",
           ("birthDate",)))),
)  # fmt: skip


@dataclass(frozen=True)
class DemoRead:
    """A read of a department's through its grant for ``scenario``: the residents it asks for (``q`` over the
    entry's items) and one of them, by whose record the audit chain tells whether it was read already."""

    department: str
    scenario: str
    q: str
    witness: Resident


@dataclass(frozen=True)
class Shared:
    """What the demo's sharing holds after a load, and how much of it the load added."""

    people: int
    people_new: int
    grants: int
    grants_new: int
    reads_new: int
    objections_new: int = 0


def _household(residents: list[Resident], n: int) -> list[Resident]:
    return [r for r in residents if r.household == n]


def demo_reads(residents: list[Resident]) -> list[DemoRead]:
    """The reads: civil affairs checks two 低保 applicants' households by their ID numbers, emergency management
    lists the residents of two low-lying roads, housing those of a road where lifts are to be added."""
    out = []
    for n in (1, 7):  # one lookup per member: a masked ID number is matched by one value at a time
        out += [DemoRead("civil-affairs", RELIEF, f'idCard=="{r.id_card}"', r) for r in _household(residents, n)]
    first = residents[0]
    out.append(DemoRead("emergency-management", FLOOD, f'registeredAddress~="{FIRST_ROAD}|半淞园路"', first))
    out.append(DemoRead("housing", LIFT, f'registeredAddress~="{FIRST_ROAD}"', first))
    return out


def _ask(rt: Runtime, tenant: str, g: DemoGrant, now: datetime) -> None:
    entry = datahub.get_entry(rt, tenant, g.code)
    asked = now - timedelta(days=g.asked_days_ago)
    ends = asked + timedelta(days=g.lasts_days)
    record = datahub.request_grant(rt, tenant, entry, g.department, g.scenario, g.purpose, g.legal_basis, g.items,
                                   None, ends, g.lifts, g.department, now=asked)  # fmt: skip
    for step in g.steps:
        narrowing = None
        if step.action == NARROW:
            end = asked + timedelta(days=step.lasts_days) if step.lasts_days else None
            narrowing = Narrowing(items=step.items, ends_at=end)
        datahub.move_grant(rt, tenant, entry, record.grant.id, step.action, entry.provider, entry.provider,
                           step.reason, narrowed=narrowing, now=now - timedelta(days=step.days_ago))  # fmt: skip


def load_grants(rt: Runtime, tenant: str, now: datetime | None = None) -> int:
    """Ask for and decide the demo's grants a department does not hold yet (same entry and scenario): how many."""
    now = now or datetime.now(UTC)
    new = 0
    for g in GRANTS:
        held = datahub.list_grants(rt, tenant, department=g.department, code=g.code, limit=1000)
        if any(r.grant.scenario == g.scenario for r in held):
            continue
        _ask(rt, tenant, g, now)
        new += 1
    return new


def _purpose(department: str, scenario: str) -> str:
    return next(g.purpose for g in GRANTS if g.department == department and g.scenario == scenario)


def load_reads(rt: Runtime, tenant: str, residents: list[Resident]) -> int:
    """Read through the approved grants, as the departments' systems would: each read is audited under the
    persons it touched. A read whose witness was read already by its department for its scenario is skipped."""
    done = 0
    for read in demo_reads(residents):
        seen = datahub.reads_of_subject(rt, tenant, datahub.subject_hash(rt, read.witness.id_card), limit=1000)
        if any(s.department == read.department and s.scenario == read.scenario for s in seen):
            continue
        purpose = _purpose(read.department, read.scenario)
        reader = Reader(read.department, read.department, False, read.scenario, purpose)
        datahub.read_records(rt, tenant, PERSON_CODE, reader, q=read.q, limit=100)
        done += 1
    return done


def load_sharing(rt: Runtime, tenant: str) -> Shared:
    """The residents, the grants, the reads and the objections of the demo, each added once (the catalogue
    loaded first)."""
    residents = build_residents()
    people_new = load_people(rt, tenant, residents)
    grants_new = load_grants(rt, tenant)
    reads_new = load_reads(rt, tenant, residents)
    objections_new = load_objections(rt, tenant, residents)  # on values the reads returned
    return Shared(len(residents), people_new, len(GRANTS), grants_new, reads_new, objections_new)
