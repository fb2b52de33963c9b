"""Bounds on the numbers a request may give: one declaration each, shared by every surface.

A paging offset reaches the database as a bound parameter, and SQLite (a signed 64-bit INTEGER) and
PostgreSQL (bigint) refuse larger numbers with an error of their own; a request that asks for one
is answered 400 naming the parameter before any query runs. The bound is far beyond any page a
client walks through: past it, narrow the query instead.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_OFFSET = 1_000_000

Offset = Annotated[
    int, Field(ge=0, le=MAX_OFFSET, description=f"Rows to skip before the page begins (0 to {MAX_OFFSET:,}).")
]
