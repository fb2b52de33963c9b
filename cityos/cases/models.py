"""Domain types of the cases package that more than one module needs without the classifier's libraries:
what the classifier thinks of a complaint, and how well it does on a labelled set."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Alternative(BaseModel):
    model_config = ConfigDict(frozen=True)

    sub: str
    main: str
    probability: float


class Prediction(BaseModel):
    """What the classifier thinks a complaint is about.

    ``confidence`` is the main category's probability (its subs summed): it decides ``needs_confirmation``.
    ``sub_confidence`` is the chosen sub-category's own probability.
    """

    model_config = ConfigDict(frozen=True)

    sub: str
    main: str
    confidence: float
    sub_confidence: float
    alternatives: list[Alternative] = Field(description="the three most probable sub-categories, best first")
    needs_confirmation: bool


class MainScore(BaseModel):
    count: int
    correct: int
    accuracy: float


class Evaluation(BaseModel):
    """Top-1 accuracy on a labelled set; ``per_main`` is keyed by the true main category."""

    count: int
    main_accuracy: float
    sub_accuracy: float
    per_main: dict[str, MainScore]
    needs_confirmation: int = Field(description="how many predictions fell below the threshold")
    confident_main_accuracy: float | None = Field(description="main accuracy on the predictions above the threshold")


class AddressMatch(BaseModel):
    """The building or unit a report's address was matched to, shown to the dispatcher to check."""

    model_config = ConfigDict(frozen=True)

    entity: str = Field(description="the matched Building or ManagementUnit id")
    text: str = Field(description="its street address (or name) as the district holds it")
    by: str = Field(description="address: its street address is in the report's; name: its name is")


class PlacementView(BaseModel):
    """Where a report was placed and how: ``coordinates`` (its point in the polygons), ``address`` (matched to
    a building or unit), ``reporter`` (the places it named); ``method`` None: unplaced, ``reason`` says why."""

    model_config = ConfigDict(frozen=True)

    method: str | None = Field(None, description="coordinates | address | reporter; null when unplaced")
    unit: str | None = None
    grid: str | None = None
    street: str | None = None
    distance_m: float | None = Field(
        None, description="metres to the nearest grid or street, when the point lay on none"
    )
    point: tuple[float, float] | None = Field(None, description="(lon, lat) of the matched address, for routing")
    address_match: AddressMatch | None = None
    reason: str | None = Field(None, description="why it is unplaced")
