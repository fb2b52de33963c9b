"""The attribute projection language of ``pick`` and ``omit`` (NGSI-LD v1.8, clause 4.21).

A projection is a comma-separated list (``|`` is a comma too) of entity members (``id``, ``type``, attribute
names), each optionally followed by a braced projection of the entity it links to: ``id,name,locatedAt{id,name}``.
Parsing refuses, with a ``BadRequestData`` naming the fault, an empty member (``a,,b``), a brace left
open or closed twice, a brace with nothing in it and characters no member name may hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cityos.context.entity import check_name
from cityos.context.errors import BadRequestData


@dataclass(frozen=True)
class Projection:
    """Members as written (not expanded), each with the projection of its linked entity, if any."""

    members: dict[str, Projection | None] = field(default_factory=dict)

    def names(self) -> list[str]:
        return list(self.members)

    def depth(self) -> int:
        """How many linked entities deep the projection reaches (0 when it names no braced member)."""
        return max((1 + sub.depth() for sub in self.members.values() if sub is not None), default=0)


def parse_projection(text: str, param: str = "pick") -> Projection:
    """The projection a ``pick`` or ``omit`` parameter (or a subscription's member) gives."""
    pos = 0

    def fail(why: str) -> BadRequestData:
        return BadRequestData(f"{param}={text!r}: {why} (write members as id,name,locatedAt{{id,name}})")

    def parse_list(depth: int) -> Projection:
        nonlocal pos
        members: dict[str, Projection | None] = {}
        while True:
            start = pos
            while pos < len(text) and text[pos] not in ",|{}":
                pos += 1
            name = text[start:pos].strip()
            if not name:
                if pos < len(text) and text[pos] == "}":
                    raise fail("a brace holds no member" if not members else "a member is missing before '}'")
                raise fail("a member is missing" + (f" at position {pos}" if pos < len(text) else " at the end"))
            try:
                check_name(name, f"{param} member")
            except BadRequestData:
                raise fail(f"{name!r} is not a member name") from None
            sub: Projection | None = None
            if pos < len(text) and text[pos] == "{":
                pos += 1
                sub = parse_list(depth + 1)
                if pos >= len(text) or text[pos] != "}":
                    raise fail("a brace is not closed")
                pos += 1
            if name in members:
                raise fail(f"{name!r} is named twice")
            members[name] = sub
            if pos >= len(text):
                if depth:
                    raise fail("a brace is not closed")
                return Projection(members)
            if text[pos] in ",|":  # the or-operator of 4.21's grammar: both separate members
                pos += 1
                continue
            if text[pos] == "}":
                if not depth:
                    raise fail("a brace is closed that was never opened")
                return Projection(members)
            raise fail(f"unexpected {text[pos]!r} at position {pos}")

    return parse_list(0)


def check_pick_omit(pick: str | None, omit: str | None, attrs: object) -> tuple[Projection | None, Projection | None]:
    """``pick`` and ``omit`` parsed, refused together with ``attrs`` or when they name the same member."""
    if (pick or omit) and attrs:
        raise BadRequestData("use pick/omit or attrs, not both: attrs is the older form of pick")
    picked = parse_projection(pick, "pick") if pick else None
    omitted = parse_projection(omit, "omit") if omit else None
    if picked and omitted:
        both = sorted(set(picked.members) & set(omitted.members))
        if both:
            raise BadRequestData(f"{', '.join(both)} is both picked and omitted: name a member in one of them")
    return picked, omitted
