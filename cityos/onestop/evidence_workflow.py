"""The workflow of one material's evidence in one application (两个免于提交), as a transition table and the pure
function that enforces it.

Nothing is fetched before the applicant asks (the EU Once-Only Technical System's explicit request): a
``preview`` is the applicant's call, fetches the material from a base registry (or the applicant's
e-certificate wallet) and shows it (``previewed``, 已预览). The applicant then ``confirm``s it (``confirmed``,
已确认调取: the evidence is attached to the material) or ``decline``s (``declined``, 已拒绝调取, to be
uploaded); a material may be declined before any preview too. A declined material is never fetched again for
that application: ``preview`` is not allowed from ``declined`` (nor from ``uploaded``). ``upload`` is always
open but after a confirm: a file for a material (``uploaded``, 已上传), again to replace it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cityos.onestop.evidence_errors import EvidenceMoveRefused


class EvidenceState(StrEnum):
    PREVIEWED = "previewed"  # 已预览: fetched and shown, the applicant has not decided
    CONFIRMED = "confirmed"  # 已确认调取: the fetched evidence is the material (免于提交)
    DECLINED = "declined"  # 已拒绝调取: never fetched again; to be uploaded
    UPLOADED = "uploaded"  # 已上传: the applicant's file is the material


class EvidenceAction(StrEnum):
    PREVIEW = "preview"
    CONFIRM = "confirm"
    DECLINE = "decline"
    UPLOAD = "upload"


STATE_LABELS: dict[EvidenceState, tuple[str, str]] = {
    EvidenceState.PREVIEWED: ("已预览", "Previewed"),
    EvidenceState.CONFIRMED: ("已确认调取", "Fetched with consent"),
    EvidenceState.DECLINED: ("已拒绝调取，待上传", "Declined, to be uploaded"),
    EvidenceState.UPLOADED: ("已上传", "Uploaded"),
}

S, A = EvidenceState, EvidenceAction
# (state before, None: no evidence yet; action) -> state after: every step a material's evidence takes
TRANSITIONS: dict[tuple[EvidenceState | None, EvidenceAction], EvidenceState] = {
    (None, A.PREVIEW): S.PREVIEWED,
    (S.PREVIEWED, A.PREVIEW): S.PREVIEWED,  # fetched again (the record may have changed): audited again
    (S.PREVIEWED, A.CONFIRM): S.CONFIRMED,
    (None, A.DECLINE): S.DECLINED,
    (S.PREVIEWED, A.DECLINE): S.DECLINED,
    (None, A.UPLOAD): S.UPLOADED,
    (S.PREVIEWED, A.UPLOAD): S.UPLOADED,  # the applicant chose to upload instead: as a decline
    (S.DECLINED, A.UPLOAD): S.UPLOADED,
    (S.UPLOADED, A.UPLOAD): S.UPLOADED,  # a new file replaces the old
}


@dataclass(frozen=True)
class Step:
    before: EvidenceState | None
    action: EvidenceAction
    after: EvidenceState


def allowed(state: EvidenceState | None) -> list[EvidenceAction]:
    """The actions a material's evidence in ``state`` may take, in the table's order."""
    return [a for (s, a) in TRANSITIONS if s == state]


def step(state: EvidenceState | None, action: EvidenceAction, material: str) -> Step:
    """The step ``action`` makes from ``state``; EvidenceMoveRefused (409) naming the state and what is allowed
    when the table has no such step."""
    after = TRANSITIONS.get((state, action))
    if after is None:
        now = state.value if state is not None else "nothing fetched or uploaded yet"
        can = ", ".join(a.value for a in allowed(state)) or "nothing"
        why = " (the applicant declined it: it is never fetched again; upload it)" if state in (
            S.DECLINED, S.UPLOADED) and action == A.PREVIEW else ""  # fmt: skip
        raise EvidenceMoveRefused(
            f"material {material!r} is {now}: {action.value} is not allowed{why}; allowed: {can}",
            state=state.value if state is not None else None,
            allowed=[a.value for a in allowed(state)],
        )
    return Step(state, action, after)
