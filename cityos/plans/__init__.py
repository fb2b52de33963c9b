"""The plans' main indicators (规划主要指标): the figures Shanghai's city digital transformation plans track that
cityos can compute from its own data (网办率, 一件事 usage, e-certificates issued, 案件按时办结率, 物联感知终端数,
共享调用次数, 开放数据集数 …), declared as data (indicators.yaml), read through the owning packages' faces, and
computed live as indicators of the vital-signs engine, with the plans' targets where they state one.

Other packages use it through what this module exports.
"""

from cityos.plans.component import component
from cityos.plans.definitions import ENTITY_ID, ENTITY_TYPE, PlanIndicator, load, shipped
from cityos.plans.runner import PlanFiguresRunner, install, round_once
from cityos.plans.schemas import PlanBoardPublic, PlanIndicatorPublic
from cityos.plans.service import board

__all__ = [
    "ENTITY_ID",
    "ENTITY_TYPE",
    "PlanBoardPublic",
    "PlanFiguresRunner",
    "PlanIndicator",
    "PlanIndicatorPublic",
    "board",
    "component",
    "install",
    "load",
    "round_once",
    "shipped",
]
