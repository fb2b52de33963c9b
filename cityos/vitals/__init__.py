"""City vital signs (城市运行数字体征): declared indicators computed live, four-level warnings, forecasts.

Other packages use the vital signs through what this module exports: the service functions and the
typed answers they return.
"""

from cityos.vitals.component import component
from cityos.vitals.definitions import Catalogue, Indicator, Thresholds, load_catalogue
from cityos.vitals.errors import InvalidDefinition
from cityos.vitals.forecast import DAY_MS
from cityos.vitals.levels import LEVEL_NAMES, level_of
from cityos.vitals.replay import Observed, ReplayReport, newest_value_ms, replay
from cityos.vitals.schemas import (
    BacktestRow,
    ForecastPublic,
    PlacesPublic,
    ValuePublic,
    WarningPublic,
)
from cityos.vitals.service import (
    HISTORY_DAYS,
    backtest,
    catalogue,
    define_missing,
    ensure_definitions,
    entity_attrs,
    forecast_of,
    history,
    list_warnings,
    places,
)

__all__ = [
    "DAY_MS",
    "HISTORY_DAYS",
    "LEVEL_NAMES",
    "BacktestRow",
    "Catalogue",
    "ForecastPublic",
    "Indicator",
    "InvalidDefinition",
    "Observed",
    "PlacesPublic",
    "ReplayReport",
    "Thresholds",
    "ValuePublic",
    "WarningPublic",
    "backtest",
    "catalogue",
    "component",
    "define_missing",
    "ensure_definitions",
    "entity_attrs",
    "forecast_of",
    "history",
    "level_of",
    "list_warnings",
    "load_catalogue",
    "newest_value_ms",
    "places",
    "replay",
]
