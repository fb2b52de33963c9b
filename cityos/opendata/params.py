"""CKAN action parameters as clients send them: a JSON body's values as they are, a GET query's as strings
(lists and objects JSON-encoded, as CKAN takes them). Each reader names the parameter in the Validation
Error it raises, in CKAN's words."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cityos.opendata.errors import invalid

Params = Mapping[str, Any]
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


def text(params: Params, name: str, default: str | None = None) -> str | None:
    value = params.get(name, default)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise invalid(name, "Must be a string")


def required(params: Params, name: str) -> str:
    value = text(params, name)
    if value is None or not value.strip():
        raise invalid(name, "Missing value")
    return value.strip()


def integer(params: Params, name: str, default: int, *, maximum: int | None = None, most: int | None = None) -> int:
    """A natural number; past ``maximum`` it is lowered to it, as CKAN's configured maxima do; past ``most``
    (an offset no store can page to) it is a Validation Error."""
    value = params.get(name, default)
    if isinstance(value, bool):
        raise invalid(name, "Invalid integer")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise invalid(name, "Invalid integer") from None
    if not isinstance(value, int):
        raise invalid(name, "Invalid integer")
    if value < 0:
        raise invalid(name, "Must be a natural number")
    if most is not None and value > most:
        raise invalid(name, f"Must be at most {most}")
    return min(value, maximum) if maximum is not None else value


def boolean(params: Params, name: str, default: bool) -> bool:
    value = params.get(name, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise invalid(name, "Must be a boolean: true or false")


def _json(params: Params, name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise invalid(name, "Could not parse as valid JSON") from None
    return value


def string_list(params: Params, name: str, *, commas: bool = False) -> list[str] | None:
    """A list of strings: a JSON list (or its JSON text), or one name; with ``commas``, also "a,b,c"."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, str) and not value.lstrip().startswith("["):
        # "a,b" where commas are allowed; else one bare name (what a GET of a one-item list sends)
        return [v.strip() for v in value.split(",") if v.strip()] if commas else [value.strip()]
    value = _json(params, name)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise invalid(name, "Must be a list of strings (JSON)")


def mapping(params: Params, name: str) -> dict[str, Any] | None:
    """An object (or its JSON text)."""
    value = _json(params, name)
    if value is None or isinstance(value, dict):
        return value
    raise invalid(name, "Must be a JSON object")
