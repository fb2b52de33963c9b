// 规划主要指标 / The plans' main indicators: each with its value, the plan's target (or "set by the operator"),
// its level when below target, its trend over the last days, where the figure comes from and what it counts.
// The headline ones also show in the overview's figures strip. Route: #/plans.

import { get } from "./api.js";
import { getLang, levelName, num, t, time } from "./i18n.js";
import { html, show } from "./dom.js";

const isShare = (unit) => unit.startsWith("share");
export const planValue = (v, unit) => (v === null || v === undefined ? "—"
  : isShare(unit) ? `${(v * 100).toFixed(1)}%` : `${num(v, 0)} ${unit}`);
const name = (i) => (getLang() === "zh" ? i.nameZh : i.nameEn);
const level = (l) => html`<span class="level" data-level="${l || 0}">${levelName(l)}</span>`;

function target(i) {
  if (i.target === null) return html`<span class="muted">${t("plan.operatorTarget")}</span>`;
  return html`${t(i.targetKind === "at-least" ? "plan.atLeast" : "plan.atMost")} ${planValue(i.target, i.unit)}`;
}

// The last value of each day as a small line, with the days and values in its label and title.
function trend(i) {
  const pts = i.trend.filter((d) => d.value !== null);
  const words = pts.map((d) => `${d.day.slice(5)} ${planValue(d.value, i.unit)}`).join(", ");
  if (pts.length < 2) return html`<span class="small muted" data-days="${pts.length}">${words || t("plan.noData")}</span>`;
  const lo = Math.min(...pts.map((d) => d.value)), hi = Math.max(...pts.map((d) => d.value)), span = hi - lo || 1;
  const xy = pts.map((d, n) => `${((n * 100) / (pts.length - 1)).toFixed(1)},${(19 - ((d.value - lo) / span) * 18).toFixed(1)}`);
  return html`<svg class="plan-trend" viewBox="0 0 100 20" preserveAspectRatio="none" role="img" aria-label="${words}"
    data-days="${pts.length}"><title>${words}</title><polyline points="${xy.join(" ")}" fill="none" stroke="#4fb3ff"
    stroke-width="1.5" vector-effect="non-scaling-stroke"/></svg>`;
}

function period(i) {
  return i.periodDays === null ? t("plan.now") : `${t("plan.last")} ${i.periodDays} ${t("plan.days")}`;
}

function table(board) {
  if (!board.indicators.length) return html`<p class="muted" id="plan-empty">${t("plan.empty")}</p>`;
  return html`<table id="plan-table"><thead><tr><th>${t("plan.indicator")}</th><th>${t("plan.value")}</th>
    <th>${t("plan.target")}</th><th>${t("plan.level")}</th><th>${t("plan.trend")} (${board.days} ${t("plan.days")})</th>
    <th>${t("plan.source")}</th><th>${t("plan.definition")}</th></tr></thead><tbody>${board.indicators.map((i) => html`
    <tr data-indicator="${i.id}" data-level="${i.level}"${i.headline ? ' data-headline="true"' : ""}>
      <th scope="row">${name(i)}<div class="small muted">${i.id}</div></th>
      <td class="plan-value">${planValue(i.value, i.unit)}<div class="small muted">${i.at ? time(i.at, true) : ""}</div></td>
      <td class="plan-target">${target(i)}</td><td>${level(i.level)}</td><td>${trend(i)}</td>
      <td class="small"><code>${i.source}</code></td>
      <td class="small plan-definition"><div>${period(i)}</div>${i.definition}</td></tr>`)}</tbody></table>`;
}

export async function renderPlans(el) {
  show(el, html`<header><h2 id="plan-title" tabindex="-1">${t("plan.title")}</h2>
    <p class="muted small">${t("plan.hint")}</p></header><div id="plan-body" aria-live="polite">…</div>`);
  try {
    show(el.querySelector("#plan-body"), table(await get("/plans/indicators?days=7")));
  } catch (e) {
    show(el.querySelector("#plan-body"), html`<p class="error" role="alert">${e.message}</p>`);
  }
}

// The headline indicators as figures of the overview's strip: [label, value, id] like the others.
export async function headlineFigures() {
  const board = await get("/plans/indicators?days=1");
  return board.indicators.filter((i) => i.headline).map((i) => [name(i), planValue(i.value, i.unit), `plan-${i.id}`]);
}
