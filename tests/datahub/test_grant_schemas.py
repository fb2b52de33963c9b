"""The grant routes' bodies: camelCase, exact times with a zone, nothing unknown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from cityos.datahub import GrantAction, GrantMove, GrantRequest, Narrowing

ASK = {
    "code": "HP-03-01-02-0001",
    "scenario": "低保资格核验",
    "purpose": "核验",
    "legalBasis": "《社会救助暂行办法》",
    "items": ["name"],
    "endsAt": "2027-06-04T20:00:00+08:00",
}


def test_a_request_body() -> None:
    r = GrantRequest.model_validate(ASK)
    assert r.legal_basis == "《社会救助暂行办法》" and r.ends_at == datetime(2027, 6, 4, 12, tzinfo=UTC)
    assert r.starts_at is None and r.lifts is None


@pytest.mark.parametrize(
    "bad",
    [
        {"endsAt": "2027-06-04T20:00:00"},  # no time zone
        {"items": []},
        {"scenario": ""},
        {"department": "health"},  # the department is the token's
        {"masked": False},  # nothing in a request lifts masking
    ],
)
def test_a_bad_request_body(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        GrantRequest.model_validate({**ASK, **bad})


def test_a_move_body_and_its_narrowing() -> None:
    assert GrantMove.model_validate({"action": "approve"}).narrowing() is None
    m = GrantMove.model_validate({"action": "narrow", "items": ["name"], "lifts": "general-3", "reason": "最小必要"})
    assert m.action == GrantAction.NARROW
    assert m.narrowing() == Narrowing(items=("name",), lifts="general-3")
    with pytest.raises(ValidationError):
        GrantMove.model_validate({"action": "expire"})  # expiry is no move: it comes with the time
    with pytest.raises(ValidationError):
        GrantMove.model_validate({"action": "approve", "state": "approved"})
