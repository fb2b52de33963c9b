// 数据质量 / Data quality: each department's score (its datasets' latest scores weighted by their records) and
// each dataset's, with the six dimensions; a dataset's runs as a trend; a run's rules with their results and
// its failing records with the reason (values masked for the reader by the server). A data officer sees its
// own department's datasets, operators and the big-data centre all. Route: #/data/quality[/<code>[/<run>]].

import { get, post } from "./api.js";
import { departmentName, t, time } from "./i18n.js";
import { href, html, show } from "./dom.js";

const enc = encodeURIComponent;
const DIMENSIONS = ["completeness", "uniqueness", "validity", "timeliness", "consistency", "accuracy"];
const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
const level = (v) => (v === null || v === undefined ? "none" : v >= 0.95 ? "good" : v >= 0.8 ? "fair" : "poor");
const score = (v) => html`<span class="qscore" data-qlevel="${level(v)}">${pct(v)}</span>`;
const dims = (d) => DIMENSIONS.map((k) => html`<td data-dim="${k}">${pct(d[k])}</td>`);
const dimHeads = () => DIMENSIONS.map((k) => html`<th>${t(`q.dim.${k}`)}</th>`);
const qhref = (...parts) => href(`#/data/quality/${parts.map(enc).join("/")}`);

function departmentTable(list) {
  if (!list.length) return html`<p class="muted">${t("q.noRuns")}</p>`;
  return html`<table id="q-departments"><thead><tr><th>${t("q.department")}</th><th>${t("q.score")}</th>${dimHeads()}
    <th>${t("q.datasets")}</th><th>${t("q.records")}</th></tr></thead>
    <tbody>${list.map((d) => html`<tr data-department="${d.department}"><td>${departmentName(d.department)}</td>
      <td>${score(d.score)}</td>${dims(d.dimensions)}<td>${d.datasets}</td><td>${d.records}</td></tr>`)}</tbody></table>`;
}

function datasetTable(list) {
  if (!list.length) return html``;
  return html`<table id="q-datasets"><thead><tr><th>${t("data.code")}</th><th>${t("q.department")}</th>
    <th>${t("q.score")}</th>${dimHeads()}<th>${t("q.records")}</th><th>${t("q.at")}</th></tr></thead>
    <tbody>${list.map((d) => html`<tr data-dataset="${d.dataset}"><td><a href="${qhref(d.dataset)}">${d.dataset}</a></td>
      <td>${departmentName(d.department)}</td><td>${score(d.score)}</td>${dims(d.dimensions)}<td>${d.records}</td>
      <td>${time(d.at, true)}</td></tr>`)}</tbody></table>`;
}

// The trend of a dataset's scores over its runs, oldest to newest, as a line on a 0-100% scale.
function trend(runs) {
  const points = runs.filter((r) => r.score !== null).reverse();
  if (points.length < 2) return html`<p class="muted small" id="q-trend" data-points="${points.length}">${t("q.fewRuns")}</p>`;
  const w = 320, h = 80, step = w / (points.length - 1);
  const xy = points.map((r, i) => `${(i * step).toFixed(1)},${(h - r.score * h).toFixed(1)}`).join(" ");
  return html`<svg id="q-trend" data-points="${points.length}" viewBox="-4 -4 ${w + 8} ${h + 8}" width="${w + 8}" height="${h + 8}"
    role="img" aria-label="${t("q.trend")}"><polyline fill="none" stroke="currentColor" stroke-width="2" points="${xy}"></polyline>
    ${points.map((r, i) => html`<circle cx="${(i * step).toFixed(1)}" cy="${(h - r.score * h).toFixed(1)}" r="3"><title>${time(r.at, true)} ${pct(r.score)}</title></circle>`)}</svg>`;
}

function runTable(runs, code, current) {
  if (!runs.length) return html`<p class="muted">${t("q.noRuns")}</p>`;
  return html`<table id="q-runs"><thead><tr><th>${t("q.at")}</th><th>${t("q.trigger")}</th><th>${t("q.score")}</th>
    <th>${t("q.records")}</th></tr></thead><tbody>${runs.map((r) => html`<tr data-run="${r.id}"${r.id === current ? html` aria-current="true"` : ""}>
      <td><a href="${qhref(code, r.id)}">${time(r.at, true)}</a></td><td>${t(`q.by.${r.trigger || "api"}`)}${r.feedRun ? html`<div class="small muted">${r.feedRun}</div>` : ""}</td>
      <td>${score(r.score)}</td><td>${r.records}</td></tr>`)}</tbody></table>`;
}

function ruleTable(run) {
  return html`<table id="q-rules"><thead><tr><th>${t("q.rule")}</th><th>${t("q.dimension")}</th><th>${t("q.checked")}</th>
    <th>${t("q.failed")}</th><th>${t("q.score")}</th></tr></thead><tbody>${run.results.map((r) => html`<tr data-rule="${r.rule}">
      <td>${r.rule}${r.description ? html`<div class="small muted">${r.description}</div>` : ""}</td><td>${t(`q.dim.${r.dimension}`)}</td>
      <td>${r.checked}</td><td>${r.failed ? html`<button type="button" class="link" data-failures="${r.rule}">${r.failed}</button>` : "0"}</td>
      <td>${score(r.score)}</td></tr>`)}</tbody></table>`;
}

function failureTable(list, total) {
  if (!list.length) return html`<p class="muted">${t("q.noFailures")}</p>`;
  return html`<p class="muted small" id="q-failure-total">${total} ${t("q.failuresCount")}</p><table id="q-failures">
    <thead><tr><th>${t("obj.record")}</th><th>${t("q.rule")}</th><th>${t("q.reason")}</th></tr></thead>
    <tbody>${list.map((f) => html`<tr data-record="${f.record}"><td class="small">${f.record}</td><td>${f.rule}</td><td>${f.reason}</td></tr>`)}</tbody></table>`;
}

export async function renderQuality(el, code, runId, { can, toast }) {
  show(el, html`<section class="panel" aria-labelledby="q-title"><h3 id="q-title">${t("q.title")}</h3>
      <p class="muted small">${t("q.hint")}</p>
      ${can("quality:run") ? html`<form id="q-run-form" class="inline-form" aria-label="${t("q.runNow")}">
        <label>${t("data.code")} <input name="dataset" required value="${code || ""}" placeholder="HP-01-01-0001"></label>
        <button type="submit" class="primary">${t("q.runNow")}</button><span class="error" id="q-error" role="alert"></span></form>` : ""}
      <h4>${t("q.byDepartment")}</h4><div id="q-dept-list"></div>
      <h4>${t("q.byDataset")}</h4><div id="q-dataset-list"></div></section>
    <section class="panel" aria-labelledby="q-detail-title" id="q-detail"${code ? "" : " hidden"}>
      <h3 id="q-detail-title">${code || ""}</h3><div id="q-trend-box"></div><div id="q-run-list"></div>
      <div id="q-run"></div><div id="q-failure-list" aria-live="polite"></div></section>`);
  const form = el.querySelector("#q-run-form");
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const dataset = new FormData(form).get("dataset").trim();
      el.querySelector("#q-error").textContent = "";
      try {
        const run = await post("/datahub/quality/runs", { dataset });
        toast(`${t("q.runNow")} ✓ ${pct(run.score)}`);
        location.hash = `#/data/quality/${enc(dataset)}/${enc(run.id)}`;
      } catch (e) {
        el.querySelector("#q-error").textContent = e.message;
      }
    });
  }
  const scores = await get("/datahub/quality/scores");
  show(el.querySelector("#q-dept-list"), departmentTable(scores.departments));
  show(el.querySelector("#q-dataset-list"), datasetTable(scores.datasets));
  if (!code) return;
  const runs = await get(`/datahub/quality/runs?dataset=${enc(code)}&limit=50`);
  const current = runId || (runs[0] && runs[0].id);
  show(el.querySelector("#q-trend-box"), trend(runs));
  show(el.querySelector("#q-run-list"), runTable(runs, code, current));
  if (!current) return;
  const run = await get(`/datahub/quality/runs/${enc(current)}`);
  show(el.querySelector("#q-run"), html`<h4 id="q-run-title" data-run="${run.id}">${t("q.run")} ${time(run.at, true)} ·
    ${t("q.score")} ${score(run.score)} · ${run.records} ${t("q.records")}</h4>${ruleTable(run)}`);
  const failures = async (rule) => {
    const r = await get(`/datahub/quality/runs/${enc(run.id)}/failures?limit=200${rule ? `&rule=${enc(rule)}` : ""}`, { total: true });
    show(el.querySelector("#q-failure-list"), failureTable(r.data, r.total));
  };
  el.querySelectorAll("[data-failures]").forEach((b) => b.addEventListener("click", () => failures(b.dataset.failures)));
  await failures(null);
}
