"""The demo's objections (数据异议纠错): departments that read residents' records through their grants object to
values they read, and the source (public security) has taken them up, corrected or rejected them, on the days
it would have (``now=`` in the past), so that the objections page shows every state, an overdue one first,
and the departments that read a corrected value have its notice.

Loading again adds nothing: an objection a department has made on that item of that record already is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cityos import cases, datahub
from cityos.datahub import ObjectionAction
from cityos.demo.people import PERSON_CODE, Resident
from cityos.runtime import Runtime

ACCEPT, CORRECT, REJECT = ObjectionAction.ACCEPT, ObjectionAction.CORRECT, ObjectionAction.REJECT
SOURCE = "public-security"


@dataclass(frozen=True)
class DemoObjection:
    """``department`` objects to ``item`` of the ``who``-th resident, ``days_ago``; the source's moves follow,
    each (action, days ago, reason)."""

    department: str
    who: int  # index into the residents
    item: str
    evidence: str
    days_ago: float
    proposed: str | None = None
    moves: tuple[tuple[ObjectionAction, float, str | None], ...] = ()


def demo_objections(residents: list[Resident]) -> list[DemoObjection]:
    """Five objections on records the demo's reads touched (the first household's, the seventh's)."""
    first = residents[0]
    seventh = next(r for r in residents if r.household == 7)
    new_mobile = first.mobile[:-4] + f"{(int(first.mobile[-4:]) + 4321) % 10000:04d}"
    i7 = residents.index(seventh)
    return [
        # submitted (已提交) yesterday: the record reads as disputed
        DemoObjection("civil-affairs", 0, "registeredAddress",
                      "低保申请人提交的房屋租赁合同和居住证明显示其已迁居，户籍地址门牌号与登记不一致", 1,
                      first.address.replace("号", "号（待核）", 1)),
        # submitted twelve days ago and never taken up: past five working days, overdue (已逾期)
        DemoObjection("emergency-management", 0, "name",
                      "汛前入户核对时户主出示的居民身份证姓名与名单不一致，疑为录入错字", 12),
        # taken up (核实中)
        DemoObjection("civil-affairs", i7, "registeredAddress",
                      "入户核查低保家庭时发现该户门牌已因旧区改造调整", 4, None, ((ACCEPT, 3, None),)),
        # corrected (已更正): those who read the old mobile are told
        DemoObjection("housing", 0, "mobile", "意见征询短信退回：号码已停机；居民在居委会登记了新号码", 9, new_mobile,
                      ((ACCEPT, 8, None), (CORRECT, 6, None))),
        # rejected (已驳回) with a reason
        DemoObjection("civil-affairs", i7, "birthDate", "申请人自述出生日期与登记不符", 20, None,
                      ((REJECT, 17, "经调取户籍原始档案和出生医学证明核实，登记的出生日期无误"),)),
    ]  # fmt: skip


def load_objections(rt: Runtime, tenant: str, residents: list[Resident], now: datetime | None = None) -> int:
    """Make and move the demo's objections a department has not made yet: how many were made."""
    now = now or datetime.now(UTC)
    lender = cases.CalendarLender(rt)  # the working-day calendar the time limits are counted on
    lender.start()
    made = 0
    for o in demo_objections(residents):
        record = residents[o.who].entity_id
        held = datahub.list_objections(rt, tenant, objector=o.department, record_id=record, limit=100)
        if any(h.item == o.item for h in held):
            continue
        at = now - timedelta(days=o.days_ago)
        obj = datahub.submit_objection(rt, tenant, PERSON_CODE, record, o.item, o.evidence, o.department,
                                       o.department, proposed=o.proposed, now=at)  # fmt: skip
        for action, days_ago, reason in o.moves:
            datahub.move_objection(rt, tenant, obj.id, action, SOURCE, SOURCE, reason=reason,
                                   now=now - timedelta(days=days_ago))  # fmt: skip
        made += 1
    return made
