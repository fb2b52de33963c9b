"""What the answer models of the packages (their ``schemas.py``) share: numbers sent as they are, and
members left out of an answer when they have no value.

The answers were plain dicts before they had types, and clients read them as they were: a member some
answers leave out (a measure's ``unitCode``, a dead letter's ``payloadHex``) stays left out rather than
sent as null, and a whole number stays ``5`` rather than ``5.0``.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import Field, WithJsonSchema

T = TypeVar("T")

# int | float keeps what it is given (Pydantic would turn an int into a float for a float field); the
# API description says "number", which covers both.
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]


def _is_none(value: object) -> bool:
    return value is None


def _never_null(schema: dict[str, Any]) -> None:
    """The field's JSON schema without its null branch: the member is left out, never sent as null."""
    schema.pop("default", None)
    branches = [s for s in schema.pop("anyOf", ()) if s != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches


# A member that may be left out: None in Python, absent (never null) from its JSON and from its schema.
# Declare it ``x: Omittable[str] = None`` (or ``= Field(None, description=…)``).
Omittable = Annotated[T | None, Field(exclude_if=_is_none, json_schema_extra=_never_null)]
