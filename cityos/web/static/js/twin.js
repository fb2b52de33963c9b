// The digital twin of one minimum management unit: what is inside, its live state, its indicators with
// history and forecast bands, warnings, cases, anomaly diagnosis and a what-if run (模拟推演).

import { ApiError, get, post } from "./api.js";
import { stateName } from "./cases.js";
import { departmentName, getLang, levelName, num, pick, t, time } from "./i18n.js";
import { html, show } from "./dom.js";
import { LEVEL_COLORS } from "./map.js";
import { levelBadge } from "./panels.js";
import { initChart } from "./fonts.js";

const charts = [];
const VERDICTS = {
  normal: ["正常", "normal"], event: ["真实事件", "a real event"], sensor: ["传感器故障", "a sensor fault"],
  unclear: ["不确定", "unclear"], unknown: ["无法判断", "cannot tell"],
};

function disposeCharts() {
  while (charts.length) charts.pop().dispose();
}

function chart(el) {
  const c = initChart(el);
  charts.push(c);
  new ResizeObserver(() => { if (el.offsetWidth) c.resize(); }).observe(el);
  return c;
}

const axisStyle = { axisLine: { lineStyle: { color: "#4a6a8a" } }, axisLabel: { color: "#93a8bd" },
  splitLine: { lineStyle: { color: "#1c334b" } } };

function thresholdLines(thresholds) {
  if (!thresholds) return [];
  return [["blue", 1], ["yellow", 2], ["orange", 3], ["red", 4]]
    .filter(([k]) => thresholds[k] !== undefined && thresholds[k] !== null)
    .map(([k, lv]) => ({ yAxis: thresholds[k], lineStyle: { color: LEVEL_COLORS[lv], type: "dashed" },
      label: { formatter: levelName(lv), color: LEVEL_COLORS[lv], position: "insideEndTop" } }));
}

export async function renderTwin(el, unitId, { onOpenCase }) {
  disposeCharts();
  show(el, html`<p class="muted">…</p>`);
  let d;
  try {
    d = await get(`/twin/units/${encodeURIComponent(unitId)}`);
  } catch (e) {
    show(el, html`<p class="error">${e.message}</p><p><a href="#/">${t("twin.back")}</a></p>`);
    return;
  }
  const u = d.unit;
  const worst = Math.max(0, ...d.indicators.map((i) => i.level || 0));
  show(el, html`
    <header>
      <h2 id="twin-title">${pick(u.name)}</h2>
      ${levelBadge(worst)}
      <span class="muted">${u.category || ""} · ${pick(u.street && u.street.name)} · ${pick(u.grid && u.grid.name)}${address(u.address)}</span>
      <a href="#/">${t("twin.back")}</a>
    </header>
    <section class="panel" aria-labelledby="twin-ind-title">
      <h3 id="twin-ind-title">${t("twin.indicators")}</h3>
      <table><thead><tr><th>${t("twin.name")}</th><th>${t("twin.value")}</th><th>${t("twin.state")}</th><th></th></tr></thead>
      <tbody>${d.indicators.length ? d.indicators.map((i) => html`<tr>
        <td>${pick(i.name)}</td><td class="num">${num(i.value)} ${i.unit || ""}</td><td>${levelBadge(i.level)}</td>
        <td><button type="button" data-show="${i.id}">${t("twin.history")}</button>
            <button type="button" data-diagnose="${i.id}">${t("twin.diagnose")}</button></td></tr>`)
        : html`<tr><td colspan="4" class="muted">${t("twin.none")}</td></tr>`}</tbody></table>
      <div id="diagnosis" aria-live="polite"></div>
    </section>
    <section class="panel" aria-labelledby="twin-chart-title">
      <h3 id="twin-chart-title">${t("twin.history")} <span id="chart-name" class="muted"></span></h3>
      <div id="ind-chart" class="chart" role="img" aria-label="${t("twin.history")}"></div>
    </section>
    <section class="panel wide" aria-labelledby="whatif-title">
      <h3 id="whatif-title">${t("twin.whatif")}</h3>
      ${d.whatIf.length ? html`<form class="whatif-form" id="whatif-form">
        <label>${t("twin.input")} <select name="indicator">${d.whatIf.map((w) => html`<option value="${w.indicator}">${pick(w.name)}</option>`)}</select></label>
        <label>${t("twin.change")} <input name="change" type="number" value="50" min="-90" max="500" step="5" required></label>
        <label>${t("twin.minutes")} <input name="minutes" type="number" value="60" min="5" max="240" step="5" required></label>
        <button type="submit" class="primary">${t("twin.run")}</button>
      </form>
      <p class="summary" id="whatif-summary" aria-live="polite" hidden></p>
      <p class="error" id="whatif-error" role="alert"></p>
      <div id="whatif-chart" class="chart" role="img" aria-label="${t("twin.whatif")}"></div>` : html`<p class="muted">${t("twin.noWhatif")}</p>`}
    </section>
    <section class="panel" aria-labelledby="twin-warn-title">
      <h3 id="twin-warn-title">${t("twin.warnings")}</h3>
      <ol class="list">${d.warnings.length ? d.warnings.map((w) => html`<li>${levelBadge(w.level)} ${indicatorName(d, w.indicator)} · ${num(w.value)} · ${time(w.raisedAt, true)}${w.active ? "" : ` · ${time(w.clearedAt, true)}`}</li>`)
        : html`<li class="muted">${t("warnings.none")}</li>`}</ol>
      <h3>${t("twin.cases")}</h3>
      <ol class="list">${d.cases.length ? d.cases.map((c) => html`<li><button type="button" class="case-row linkish" data-case="${c.id}">
        <span class="text">${c.text || c.category}</span><span class="state">${stateName(c.state)}</span>
        <span class="meta">${departmentName(c.department)} · ${time(c.createdAt, true)}</span></button></li>`)
        : html`<li class="muted">${t("cases.none")}</li>`}</ol>
    </section>
    <section class="panel" aria-labelledby="twin-contents-title">
      <h3 id="twin-contents-title">${t("twin.contents")}</h3>
      <p>${Object.entries(d.sensorCounts).map(([k, n]) => html`<span class="tag">${k} × ${n}</span>`)}</p>
      <h3>${t("twin.sensors")} (${d.sensors.length})</h3>
      <div class="scroll sensor-list"><table><thead><tr><th>${t("twin.name")}</th><th>${t("twin.type")}</th><th>${t("twin.value")}</th><th>${t("twin.state")}</th></tr></thead>
      <tbody>${d.sensors.map((s) => html`<tr><td>${s.name || s.id}</td><td>${s.type}</td><td class="num">${num(s.value)} ${s.unit || ""}</td>
        <td>${s.online === true ? t("details.online") : s.online === false ? html`<b>${t("details.offline")}</b>` : t("details.never")}</td></tr>`)}</tbody></table></div>
      <h3>${t("twin.buildings")} (${d.buildings.length})</h3>
      <p>${d.buildings.length ? d.buildings.map((b) => html`<span class="tag">${pick(b.name)} · ${b.floors ?? "?"}F</span>`) : t("twin.none")}</p>
    </section>`);
  el.querySelectorAll("[data-case]").forEach((b) => b.addEventListener("click", () => onOpenCase(b.dataset.case)));
  const indChart = chart(el.querySelector("#ind-chart"));
  const showHistory = (id) => showIndicator(indChart, d, id, unitId, el.querySelector("#chart-name"));
  el.querySelectorAll("[data-show]").forEach((b) => b.addEventListener("click", () => showHistory(b.dataset.show)));
  el.querySelectorAll("[data-diagnose]").forEach((b) => b.addEventListener("click", () =>
    diagnose(el.querySelector("#diagnosis"), d, b.dataset.diagnose, unitId)));
  const first = d.indicators.find((i) => i.hasForecast && i.thresholds) || d.indicators[0];
  if (first) showHistory(first.id);
  const form = el.querySelector("#whatif-form");
  if (form) {
    const wChart = chart(el.querySelector("#whatif-chart"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = Object.fromEntries(new FormData(form).entries());
      runWhatIf(el, wChart, unitId, { indicator: f.indicator, change: Number(f.change) / 100, minutes: Number(f.minutes) });
    });
  }
}

// An address as the data hub holds it: a PostalAddress object or a plain string.
function address(a) {
  if (!a) return "";
  const text = typeof a === "string" ? a : [a.addressLocality, a.streetAddress].filter(Boolean).join(" ");
  return text ? ` · ${text}` : "";
}

function indicatorName(d, id) {
  const i = d.indicators.find((x) => x.id === id);
  return i ? pick(i.name) : id;
}

async function showIndicator(c, d, id, unitId, nameEl) {
  const ind = d.indicators.find((x) => x.id === id);
  nameEl.textContent = ind ? `· ${pick(ind.name)}` : "";
  const scope = encodeURIComponent(unitId);
  const hist = await get(`/vitals/indicators/${encodeURIComponent(id)}?scope=${scope}&hours=6&limit=2000`);
  let fc = null;
  if (ind && ind.hasForecast) {
    try { fc = await get(`/vitals/indicators/${encodeURIComponent(id)}/forecast?scope=${scope}`); } catch (e) { fc = null; }
  }
  const past = hist.history.map((h) => [h.at, h.value]);
  const series = [{ name: pick(ind && ind.name) || id, type: "line", showSymbol: false, data: past, lineStyle: { width: 2 },
    markLine: { silent: true, symbol: "none", data: thresholdLines(ind && ind.thresholds) } }];
  if (fc && fc.points.length) {
    const lo = fc.points.map((p) => [p.at, p.lo95]);
    const band = fc.points.map((p) => [p.at, p.hi95 - p.lo95]);
    series.push(
      { name: t("twin.band"), type: "line", stack: "band", data: lo, lineStyle: { opacity: 0 }, showSymbol: false, silent: true },
      { name: t("twin.band"), type: "line", stack: "band", data: band, lineStyle: { opacity: 0 }, showSymbol: false,
        areaStyle: { color: "rgba(79,179,255,.25)" }, silent: true },
      { name: t("twin.forecast"), type: "line", data: fc.points.map((p) => [p.at, p.mean]), showSymbol: false,
        lineStyle: { type: "dashed", width: 2 } },
    );
  }
  c.setOption({
    backgroundColor: "transparent", animation: false,
    tooltip: { trigger: "axis", valueFormatter: (v) => num(v) },
    legend: { top: 0, textStyle: { color: "#e6eef6" }, data: [pick(ind && ind.name) || id, t("twin.forecast"), t("twin.band")] },
    grid: { left: 50, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "time", ...axisStyle },
    yAxis: { type: "value", name: ind ? ind.unit : "", ...axisStyle },
    title: past.length ? undefined : { text: t("twin.noHistory"), left: "center", top: "middle", textStyle: { color: "#93a8bd", fontSize: 14 } },
    series,
  }, true);
}

async function diagnose(el, d, id, unitId) {
  show(el, html`…`);
  try {
    const r = await get(`/vitals/indicators/${encodeURIComponent(id)}/diagnosis?scope=${encodeURIComponent(unitId)}`);
    const v = VERDICTS[r.verdict] || [r.verdict, r.verdict];
    show(el, html`<h3>${t("twin.diagnosis")} · ${indicatorName(d, id)}</h3>
      <p><b>${v[getLang() === "zh" ? 0 : 1]}</b> (z ${num(r.z)}) — ${r.baselineReason ? pick(r.baselineReason) : r.explanation}</p>
      ${r.sensors.length ? html`<table><tbody>${r.sensors.map((s) => html`<tr><td>${s.entity.split(":").pop()}</td><td class="num">${num(s.value)}</td><td class="num">z ${num(s.z)}</td><td${s.baselineReason ? html` title="${pick(s.baselineReason)}"` : ""}>${s.baselineStatus && s.baselineStatus !== "ok" ? t(`baseline.${s.baselineStatus}`) : s.pattern}</td></tr>`)}</tbody></table>` : ""}`);
  } catch (e) {
    show(el, html`<p class="error">${e.message}</p>`);
  }
}

async function runWhatIf(el, c, unitId, body) {
  const errEl = el.querySelector("#whatif-error");
  const sumEl = el.querySelector("#whatif-summary");
  errEl.textContent = "";
  let r;
  try {
    r = await post(`/twin/units/${encodeURIComponent(unitId)}/whatif`, body);
  } catch (e) {
    errEl.textContent = e instanceof ApiError ? e.message : String(e);
    return;
  }
  sumEl.hidden = false;
  sumEl.textContent = pick(r.summary);
  // the first derived series with thresholds is what a duty officer watches; the input is shown too
  const main = r.series.find((s) => s.thresholds) || r.series[0];
  const steps = r.steps;
  const levelMarks = main.scenarioLevels.map((lv, i) => ({ lv, i })).filter((x) => x.lv > 0);
  c.setOption({
    backgroundColor: "transparent", animation: false,
    tooltip: { trigger: "axis", valueFormatter: (v) => num(v) },
    legend: { top: 0, textStyle: { color: "#e6eef6" } },
    grid: { left: 50, right: 90, top: 40, bottom: 30 },
    xAxis: { type: "time", ...axisStyle },
    yAxis: { type: "value", name: main.unit, ...axisStyle },
    series: [
      { name: `${pick(main.name)} · ${t("twin.baseline")}`, type: "line", showSymbol: false,
        data: steps.map((s, i) => [s, main.baseline[i]]), lineStyle: { type: "dashed" } },
      { name: `${pick(main.name)} · ${t("twin.scenario")}`, type: "line", showSymbol: true, symbolSize: 6,
        data: steps.map((s, i) => ({ value: [s, main.scenario[i]], itemStyle: { color: LEVEL_COLORS[main.scenarioLevels[i]] } })),
        lineStyle: { width: 3 },
        markLine: { silent: true, symbol: "none", data: thresholdLines(main.thresholds) },
        markPoint: levelMarks.length ? { data: [{ coord: [steps[levelMarks[levelMarks.length - 1].i], main.scenario[levelMarks[levelMarks.length - 1].i]],
          value: levelName(Math.max(...main.scenarioLevels)), itemStyle: { color: LEVEL_COLORS[Math.max(...main.scenarioLevels)] } }] } : undefined },
    ],
  }, true);
}
