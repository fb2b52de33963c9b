"""The Action API's answers, described for ``/docs``: CKAN's envelope. The routes answer the JSON the
actions make (:mod:`cityos.opendata.actions`); these models only describe it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CkanAnswer(BaseModel):
    """A successful action: its result (a list, an object or text, by action)."""

    help: str = Field(description="the URL of help_show for this action")
    success: Literal[True]
    result: Any


class CkanErrorDetail(BaseModel):
    """CKAN's error: its type, and a message (a Validation Error names its fields instead, each with a list
    of what is wrong)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)

    type_: Literal["Not Found Error", "Validation Error", "Authorization Error", "Search Query Error"] = Field(
        alias="__type"
    )
    message: str | None = None


class CkanErrorAnswer(BaseModel):
    help: str
    success: Literal[False]
    error: CkanErrorDetail


ERROR_TEXT = {
    400: "A Search Query Error; or not an action call (an unknown action, a body that is not a JSON object): "
    'CKAN\'s "Bad request - ..." string',
    403: "Authorization Error: a conditional (有条件开放) dataset's records need an approved application",
    404: "Not Found Error: no open dataset, resource, organisation or group by that id",
    409: "Validation Error: the parameters named are missing or wrong",
}


def documented() -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of the action routes."""
    out: dict[int | str, dict[str, Any]] = {200: {"model": CkanAnswer}}
    for status, text in ERROR_TEXT.items():
        out[status] = {"model": CkanErrorAnswer, "description": text}
    return out
