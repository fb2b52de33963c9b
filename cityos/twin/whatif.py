"""What-if runs (模拟推演): a base indicator's forecast changed by a share for a while, and what the derived
indicators that read it would do, step by step, with the warning level of every step.

Pure: the catalogue, the input's baseline (its forecast means) and the change go in; the series, the
worst point and a sentence for the duty officer come out. Levels are the plain threshold levels
(``level_of`` without hysteresis or minimum duration): a what-if asks where the values would be, not when
the engine would announce it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cityos.vitals import LEVEL_NAMES, Catalogue, Indicator, level_of

Series = dict[str, list[float | None]]  # indicator -> a value per forecast step
LOCAL = ZoneInfo("Asia/Shanghai")
UNIT_ZH = {"persons/m²": "人/平方米", "persons/5 min": "人次/5分钟", "km/h": "公里/小时", "m/s": "米/秒"}


@dataclass(frozen=True)
class Track:
    """One indicator over the forecast steps, without and with the change."""

    indicator: str
    baseline: list[float | None]
    scenario: list[float | None]
    baseline_levels: list[int]
    scenario_levels: list[int]


@dataclass(frozen=True)
class Peak:
    """The worst point of a scenario: the first step at the worst level reached (or, with no level
    reached, the most extreme value) of the derived indicators with thresholds, else of the input."""

    indicator: str
    step: int
    value: float
    level: int


def applies(ind: Indicator, unit_id: str) -> bool:
    """Whether an indicator has values per unit, this unit among them."""
    return ind.scope.level == "unit" and (ind.scope.ids is None or unit_id in ind.scope.ids)


def unit_indicators(cat: Catalogue, unit_id: str) -> list[Indicator]:
    """The catalogue's indicators grouped by unit that include this unit, in catalogue order."""
    return [cat.by_id[i] for i in cat.order if applies(cat.by_id[i], unit_id)]


def affected(cat: Catalogue, input_id: str, unit_id: str | None = None) -> list[str]:
    """The derived indicators that read ``input_id``, directly or through other derived ones, in catalogue
    order (inputs before readers); with ``unit_id``, only those that have values for that unit."""
    reached = {input_id}
    out = []
    for i in cat.order:
        if i in reached or not any(n in reached for n in cat.inputs_of(i)):
            continue
        if unit_id is not None and not applies(cat.by_id[i], unit_id):
            continue
        reached.add(i)
        out.append(i)
    return out


def what_if_inputs(cat: Catalogue, unit_id: str) -> list[tuple[Indicator, list[str]]]:
    """The unit's base indicators that can drive a what-if (they have a forecast to change), each with
    the derived indicators it affects."""
    return [
        (ind, affected(cat, ind.id, unit_id))
        for ind in unit_indicators(cat, unit_id)
        if not ind.derived and ind.forecast is not None
    ]


def outside_inputs(cat: Catalogue, input_id: str, unit_id: str | None = None) -> list[str]:
    """Indicators the affected ones read that the change does not reach: held at their latest value."""
    chain = [input_id, *affected(cat, input_id, unit_id)]
    return sorted({n for d in chain[1:] for n in cat.inputs_of(d)} - set(chain))


def steps_within(minutes: float, step_ms: int, steps: int) -> int:
    """How many of the first forecast steps fall within ``minutes``."""
    return min(steps, max(0, math.ceil(minutes * 60_000 / step_ms)))


def changed(baseline: Sequence[float | None], change: float, steps_in: int) -> list[float | None]:
    """The baseline times (1 + change) over its first ``steps_in`` steps, unchanged after."""
    return [v * (1 + change) if v is not None and k < steps_in else v for k, v in enumerate(baseline)]


def levels(values: Sequence[float | None], ind: Indicator) -> list[int]:
    """The warning level of each value (0 without thresholds or without a value)."""
    t = ind.thresholds
    return [level_of(v, t) if t is not None and v is not None else 0 for v in values]


def run(
    cat: Catalogue,
    input_id: str,
    baseline: Sequence[float | None],
    change: float,
    steps_in: int,
    *,
    others: Mapping[str, float | None] | None = None,
    unit_id: str | None = None,
) -> list[Track]:
    """The input's track, then each affected derived indicator's, evaluated step by step on the baseline
    and on the scenario. ``others``: the latest value of inputs outside the chain (see outside_inputs)."""
    held = dict(others or {})
    base = list(baseline)
    scen = changed(base, change, steps_in)
    b_values: Series = {input_id: base}
    s_values: Series = {input_id: scen}
    tracks = [_track(cat.by_id[input_id], base, scen)]
    for d in affected(cat, input_id, unit_id):
        ind, formula, names = cat.by_id[d], cat.formulas[d], cat.inputs_of(d)

        def at(values: Series, k: int, ind: Indicator = ind, names: list[str] = names) -> dict[str, float | None]:
            return {**ind.constants, **{n: values[n][k] if n in values else held.get(n) for n in names}}

        b_values[d] = [formula.evaluate(at(b_values, k)) for k in range(len(base))]
        s_values[d] = [formula.evaluate(at(s_values, k)) for k in range(len(base))]
        tracks.append(_track(ind, b_values[d], s_values[d]))
    return tracks


def _track(ind: Indicator, baseline: list[float | None], scenario: list[float | None]) -> Track:
    return Track(ind.id, baseline, scenario, levels(baseline, ind), levels(scenario, ind))


def peak(cat: Catalogue, tracks: Sequence[Track]) -> Peak | None:
    """The worst scenario point (see Peak); None when no step has a value."""
    candidates = [t for t in tracks[1:] if cat.by_id[t.indicator].thresholds is not None] or list(tracks[:1])
    best: tuple[int, int, Peak] | None = None
    for n, t in enumerate(candidates):
        top = max(t.scenario_levels, default=0)
        if top > 0:
            k = t.scenario_levels.index(top)
            value = t.scenario[k]
        else:
            points = [(v, k) for k, v in enumerate(t.scenario) if v is not None]
            if not points:
                continue
            below = (th := cat.by_id[t.indicator].thresholds) is not None and th.direction == "below"
            value, k = min(points, key=lambda p: (p[0], p[1])) if below else max(points, key=lambda p: (p[0], -p[1]))
        assert value is not None
        # the worst level first; then the step that reaches it soonest; then catalogue order
        rank = (-top, k if top > 0 else n)
        if best is None or rank < best[:2]:
            best = (*rank, Peak(t.indicator, k, value, top))
    return best[2] if best else None


def fmt(value: float) -> str:
    """A value as a person reads it: three significant figures or so, no trailing zeros."""
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def summary(
    cat: Catalogue,
    input_id: str,
    change: float,
    minutes: int,
    found: Peak | None,
    steps_ms: Sequence[int],
    baseline_level: int = 0,
) -> dict[str, str]:
    """One sentence in Chinese and in English for the duty officer, times in Shanghai time.
    ``baseline_level``: the worst level the peak's indicator reaches without the change."""
    src = cat.by_id[input_id]
    pct = f"{abs(change) * 100:.4g}%"
    if change > 0:
        zh_if, en_if = f"{src.name.zh}在未来{minutes}分钟增加{pct}时", f"With {src.name.en} {pct} higher"
    elif change < 0:
        zh_if, en_if = f"{src.name.zh}在未来{minutes}分钟减少{pct}时", f"With {src.name.en} {pct} lower"
    else:
        zh_if, en_if = f"{src.name.zh}保持预测水平时", f"With {src.name.en} as forecast"
    en_if += f" for the next {minutes} minutes" if change else ""
    if found is None:
        return {"zh": f"{zh_if}，尚无可计算的数值。", "en": f"{en_if}, no value can be computed yet."}
    ind = cat.by_id[found.indicator]
    at = datetime.fromtimestamp(steps_ms[found.step] / 1000, UTC).astimezone(LOCAL).strftime("%H:%M")
    zh_value = f"{fmt(found.value)} {UNIT_ZH.get(ind.unit, ind.unit)}"
    en_value = f"{fmt(found.value)} {ind.unit}"
    if found.level:
        en_name, zh_colour, _grade = LEVEL_NAMES[found.level]
        zh_also, en_also = "", ""
        if baseline_level >= found.level:  # the change is not what brings it there: say so
            zh_also, en_also = "；不加变化的预测也会达到该级别", "; the forecast without the change reaches it too"
        return {
            "zh": f"{zh_if}，{ind.name.zh}将于{at}达到{zh_colour}色预警（{zh_value}）{zh_also}",
            "en": f"{en_if}, {ind.name.en} reaches {en_name} at {at} ({en_value}){en_also}",
        }
    if ind.thresholds is not None and ind.thresholds.direction == "below":
        return {
            "zh": f"{zh_if}，{ind.name.zh}最低约{zh_value}（{at}），未达预警",
            "en": f"{en_if}, {ind.name.en} bottoms out at {en_value} at {at}, short of every warning level",
        }
    return {
        "zh": f"{zh_if}，{ind.name.zh}最高约{zh_value}（{at}），未达预警",
        "en": f"{en_if}, {ind.name.en} peaks at {en_value} at {at}, below every warning level",
    }
