"""Digital twin (数字孪生 · 一张图): the district's spatial hierarchy for the map, the live state of a minimum
management unit, and what-if runs (模拟推演) over the vital-sign forecasts.

Other packages use the twin through what this module exports.
"""

from cityos.twin.component import component
from cityos.twin.sensors import sensor_value

__all__ = ["component", "sensor_value"]
