"""q_exact: the attributes a q compares only for equality with given values (a lookup by a value the reader
holds), which the read guard lets a department match on an item it sees masked."""

from __future__ import annotations

import pytest

from cityos.context import parse_q, q_attributes, q_exact


@pytest.mark.parametrize(
    ("q", "exact"),
    [
        ('idCard=="310101199001011234"', {"idCard"}),
        ('idCard=="a";name=="张伟"', {"idCard", "name"}),
        ('idCard=="a","b";name=="张伟"', {"name"}),  # a list: many guesses at once
        ('idCard=="a"|idCard=="b"', set()),  # likewise
        ('idCard=="a";idCard=="b"', set()),  # a second term on it
        ('idCard=="a"|idCard~="^3101"', set()),  # also read by pattern
        ('idCard>="3101"', set()),
        ('idCard=="a".."b"', set()),  # a range
        ('idCard!="a"', set()),
        ("idCard", set()),  # exists: not a comparison with a value
        ('address.street=="南京东路"', set()),  # a sub-attribute
        ('address[street]=="南京东路"', set()),  # a key into the value
        ('(idCard=="a"|name=="b");age>3', set()),  # under an or
        ('idCard=="a";(name=="b"|age>3)', {"idCard"}),
    ],
)
def test_q_exact(q: str, exact: set[str]) -> None:
    expr = parse_q(q)
    assert q_exact(expr) == exact and exact <= q_attributes(expr)
