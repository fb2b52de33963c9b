"""The evidence workflow's table (两个免于提交), by property: whatever the applicant does in whatever order, a
material is never previewed (fetched) after it was declined or uploaded, a confirm needs a preview, and every
refusal names the steps allowed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityos.onestop.evidence_errors import EvidenceMoveRefused
from cityos.onestop.evidence_workflow import EvidenceAction, EvidenceState, allowed, step

ACTIONS = st.lists(st.sampled_from(list(EvidenceAction)), max_size=12)


@given(ACTIONS)
def test_no_fetch_after_a_decline_or_an_upload_and_no_confirm_without_a_preview(actions: list[EvidenceAction]) -> None:
    state: EvidenceState | None = None
    declined = False
    for action in actions:
        try:
            s = step(state, action, "m")
        except EvidenceMoveRefused as refused:
            assert refused.extra["allowed"] == [a.value for a in allowed(state)]
            assert action not in allowed(state)
            continue
        assert not (declined and action == EvidenceAction.PREVIEW)
        assert action != EvidenceAction.CONFIRM or state == EvidenceState.PREVIEWED
        declined = declined or action in (EvidenceAction.DECLINE, EvidenceAction.UPLOAD)
        state = s.after


def test_a_preview_after_a_decline_says_it_is_never_fetched_again() -> None:
    with pytest.raises(EvidenceMoveRefused, match="never fetched again"):
        step(EvidenceState.DECLINED, EvidenceAction.PREVIEW, "m")
    assert allowed(EvidenceState.CONFIRMED) == []  # consent given: nothing more
