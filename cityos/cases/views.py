"""Cases as the API shows them: a projection row as staff see it, the public view, the history's steps."""

from __future__ import annotations

from cityos.cases.privacy import mask_text, reporter_values
from cityos.cases.schemas import CaseView, PublicCase, Reported, Step
from cityos.cases.store import Row
from cityos.cases.timelimits import iso

_PUBLIC = set(PublicCase.model_fields)
_FREE_TEXT = ("text", "result", "address")  # what a person wrote, where a name or a number may be


def case_view(row: Row) -> CaseView:
    """A case as staff see it."""
    return CaseView(
        id=row["id"],
        state=row["state"],
        source=row["source"],
        category=row["category"],
        main_category=row["main_category"],
        priority=row["priority"],
        text=row["text"],
        address=row.get("address"),
        lon=row.get("lon"),
        lat=row.get("lat"),
        grid=row.get("grid"),
        street=row.get("street"),
        unit=row.get("unit"),
        placement=row.get("placement"),
        department=row.get("department"),
        cooperating=list(row.get("cooperating") or []),
        reporter=row.get("reporter"),
        attachments=list(row.get("attachments") or []),
        classification=row.get("classification"),
        needs_confirmation=bool(row.get("needs_confirmation")),
        origin=row.get("origin"),
        routing=row.get("routing"),
        time_limit=row.get("time_limit"),
        due_at=iso(row.get("due_at_ms")),
        remind_at=iso(row.get("remind_at_ms")),
        approximate_due=bool(row.get("approximate")),
        escalation_level=row["escalation_level"],
        reports=row.get("reports", 1),
        returns=row.get("returns", 0),
        reopens=row.get("reopens", 0),
        rating=row.get("rating"),
        result=row.get("result"),
        merged_into=row.get("merged_into"),
        created_at=iso(row["created_at_ms"]),
        updated_at=iso(row["updated_at_ms"]),
        handled_at=iso(row.get("handled_at_ms")),
        closed_at=iso(row.get("closed_at_ms")),
        version=row["version"],
        follow_token=row["follow_token"],
    )


def public_view(case: CaseView) -> PublicCase:
    """A case as the public and its reporters see it, everywhere they see one (Open311, follow links, the
    answer to a report): no reporter data and no follow token, nothing internal, and the personal data in
    its free text (text, result, address) masked (:mod:`cityos.cases.privacy`)."""
    shown = case.model_dump(include=_PUBLIC)
    known = reporter_values(case.reporter)
    for name in _FREE_TEXT:
        shown[name] = mask_text(shown[name], known)
    return PublicCase.model_validate(shown)


def for_reporter(out: Reported) -> Reported:
    """A report's answer as a caller who may not read cases sees it (a reporter app): the public view of the
    case, whether the report opened it or was linked to an earlier reporter's, and this report's own token."""
    if isinstance(out.case, CaseView):
        return out.model_copy(update={"case": public_view(out.case)})
    return out


def steps(rows: list[Row]) -> list[Step]:
    """A case's history rows as the API shows them."""
    return [
        Step(seq=r["seq"], at=r["at"], action=r["action"], actor=r["actor"], role=r["role"], reason=r["reason"],
             data=r["data"], from_=r["from_state"], to=r["to_state"])
        for r in rows
    ]  # fmt: skip
