// The open data portal's pages: each renders its JSON twin (the same URL with .json); the dataset page previews
// records through the Action API's datastore_search, with filters and sorting, and counts its usage.
import { html, show, href } from "/static/js/dom.js";
import { initChart } from "/static/js/fonts.js";
import { applyWords, getLang, setLang, t } from "/opendata/static/words.js";

const PORTAL = { "X-Cityos-Portal": "page", Accept: "application/json" }; // a view is counted by the page itself
const main = document.getElementById("main");
let rerender = () => {};

async function getJson(url) {
  const r = await fetch(url, { headers: PORTAL });
  const body = await r.json();
  if (!r.ok) throw new Error(body.detail || body.title || `HTTP ${r.status}`);
  return body;
}

async function action(name, params) {
  const r = await fetch(`/api/3/action/${name}`, {
    method: "POST", headers: { ...PORTAL, "Content-Type": "application/json" }, body: JSON.stringify(params),
  });
  const body = await r.json();
  if (!body.success) {
    const e = body.error || {};
    throw new Error(e.message || Object.entries(e).filter(([k]) => k !== "__type").map(([k, v]) => `${k}: ${v}`).join("; "));
  }
  return body.result;
}

function links(json, api) {
  document.getElementById("json-link").href = href(json);
  document.getElementById("api-link").href = href(api);
}

const opening = (o) => t(o === "conditional" ? "conditional" : "unconditional");
const extra = (d, key) => (d.extras.find((e) => e.key === key) || {}).value || "";

function card(d) {
  const cond = extra(d, "opening_type") === "conditional";
  return html`<li data-name="${d.name}"><h3><a href="${href(`/opendata/datasets/${encodeURIComponent(d.name)}`)}">${d.title}</a></h3>
    <span class="badge${cond ? " conditional" : ""}">${opening(extra(d, "opening_type"))}</span>
    <span class="muted">${d.organization.title} · ${d.groups.map((g) => g.title).join("、")} · ${d.resources.map((r) => r.format).join(", ")}</span>
    <p>${d.notes}</p></li>`;
}

// --- home: search, facets, the datasets found ---------------------------------------------------------------

async function home() {
  const params = new URLSearchParams(location.search);
  document.getElementById("q").value = params.get("q") || "";
  const page = await getJson(`/opendata/index.json?${params}`);
  links(`/opendata/index.json?${params}`, page.api);
  rerender = () => renderHome(page, params);
  rerender();
}

function facetLink(params, field, name) {
  const p = new URLSearchParams(params);
  if (p.get(field) === name) p.delete(field); else p.set(field, name);
  p.delete("page");
  return `/opendata/?${p}`;
}

function facetName(field, item) {
  if (field === "opening_type") return opening(item.name);
  return item.display_name || item.name;
}

function renderHome(page, params) {
  const facets = Object.entries(page.facets).map(([field, items]) => html`<section data-facet="${field}">
    <h3>${t(`facet.${field}`)}</h3><ul>${items.map((i) => html`<li><a href="${href(facetLink(params, field, i.name))}"
      data-value="${i.name}" aria-current="${page.chosen[field] === i.name ? "true" : "false"}">${facetName(field, i)}</a>
      <span class="count">${i.count}</span></li>`)}</ul></section>`);
  const pages = Math.ceil(page.count / page.rows);
  const move = (n) => { const p = new URLSearchParams(params); p.set("page", n); return `/opendata/?${p}`; };
  show(main, html`<div class="layout"><aside class="facets" aria-label="facets">
      ${Object.keys(page.chosen).length ? html`<a href="/opendata/">${t("clear")}</a>` : ""}${facets}</aside>
    <section aria-labelledby="found"><h2 id="found"><span id="count">${page.count}</span> ${t("found")}</h2>
      <label>${t("sort")} <select id="sort">${page.sorts.map((s) => html`<option value="${s}" ${s === page.sort ? html`selected` : ""}>${t(`sort.${s}`)}</option>`)}</select></label>
      ${page.results.length ? html`<ol class="results" id="results">${page.results.map(card)}</ol>` : html`<p>${t("none")}</p>`}
      <nav class="pager">${page.page > 1 ? html`<a href="${href(move(page.page - 1))}">${t("prev")}</a> ` : ""}
        ${page.page < pages ? html`<a href="${href(move(page.page + 1))}">${t("next")}</a>` : ""}</nav></section></div>`);
  document.getElementById("sort").addEventListener("change", (e) => {
    const p = new URLSearchParams(params); p.set("sort", e.target.value); p.delete("page");
    location.href = `/opendata/?${p}`;
  });
}

// --- a dataset: metadata, preview, downloads, usage, error report ---------------------------------------------

const preview = { filters: {}, sort: "", offset: 0, limit: 20, records: [] };

async function dataset(name) {
  const url = `/opendata/datasets/${encodeURIComponent(name)}.json`;
  const page = await getJson(url);
  links(url, page.api);
  document.title = `${page.dataset.title} · ${t("title")}`;
  rerender = () => { renderDataset(page); if (page.preview.available) loadPreview(page); };
  rerender();
}

function metaRows(d) {
  const rows = [
    ["meta.code", extra(d, "catalogue_code")], ["meta.organization", html`<a href="${href(`/opendata/organizations/${d.organization.name}`)}">${d.organization.title}</a>`],
    ["meta.groups", d.groups.map((g) => html`<a href="${href(`/opendata/groups/${g.name}`)}">${g.title}</a> `)],
    ["meta.opening", opening(extra(d, "opening_type"))], ["meta.conditions", extra(d, "open_conditions")],
    ["meta.cycle", extra(d, "update_cycle")], ["meta.license", d.license_title], ["meta.created", d.metadata_created],
    ["meta.modified", d.metadata_modified], ["meta.items", extra(d, "open_items")],
    ["meta.withheld", extra(d, "withheld_items") || "—"], ["meta.tags", d.tags.map((x) => x.name).join("、")],
  ];
  return rows.map(([k, v]) => html`<tr><th>${t(k)}</th><td>${v}</td></tr>`);
}

function renderDataset(page) {
  const d = page.dataset;
  const p = page.preview;
  show(main, html`<h2 id="dataset-title">${d.title}</h2><p>${d.notes}</p>
    <section aria-labelledby="meta-h"><h3 id="meta-h">${t("meta.title")}</h3><table class="meta" id="meta">${metaRows(d)}</table></section>
    <section aria-labelledby="dl-h"><h3 id="dl-h">${t("downloads.title")}</h3><ul id="downloads">${page.downloads.map((x) =>
      html`<li><a href="${href(x.url)}" data-format="${x.format}" download>${x.name} (${x.format})</a></li>`)}</ul></section>
    <section aria-labelledby="pv-h"><h3 id="pv-h">${t("preview.title")}</h3>
      ${p.available ? html`<form class="filters" id="filter-form"><label>${t("preview.field")} <select name="field">${p.fields.map((f) =>
          html`<option value="${f.id}">${f.label}</option>`)}</select></label>
        <label>${t("preview.value")} <input name="value" size="16"></label><button type="submit">${t("preview.filter")}</button>
        <button type="button" id="filter-clear">${t("preview.clear")}</button> <span id="preview-total" class="muted"></span></form>
        <p id="preview-error" class="error" role="alert" hidden></p>
        <div class="preview-wrap"><table class="preview" id="preview"></table></div>
        <div id="report"></div>` : html`<p id="preview-why">${p.why}</p>`}</section>
    <section aria-labelledby="use-h"><h3 id="use-h">${t("usage.title")}</h3>
      <p id="usage-totals" data-views="${page.usage.totals.view}">${t("usage.view")} ${page.usage.totals.view} · ${t("usage.download")}
        ${page.usage.totals.download} · ${t("usage.api")} ${page.usage.totals.api}</p>
      <div id="usage-chart" class="chart" role="img" aria-label="${t("usage.title")}"></div></section>
    ${extra(d, "opening_type") === "conditional" ? applySection(d) : ""}`);
  drawUsage(page.usage);
  if (extra(d, "opening_type") === "conditional") wireApply(d);
  if (!p.available) return;
  const form = document.getElementById("filter-form");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const field = form.elements.field.value;
    const value = form.elements.value.value.trim();
    const type = (p.fields.find((f) => f.id === field) || {}).type;
    preview.filters = value ? { [field]: type === "numeric" && value !== "" && !Number.isNaN(Number(value)) ? Number(value) : value } : {};
    preview.offset = 0;
    loadPreview(page);
  });
  document.getElementById("filter-clear").addEventListener("click", () => {
    preview.filters = {}; form.elements.value.value = ""; loadPreview(page);
  });
}

// --- applying for a conditional dataset, and the applicant's page ------------------------------------------

function applySection(d) {
  return html`<section aria-labelledby="apply-h" id="apply"><h3 id="apply-h">${t("apply.title")}</h3>
    <p class="muted">${t("apply.intro")} <a href="${href("/opendata/my-application")}">${t("apply.mine")}</a></p>
    <form id="apply-form" class="apply-form">
      <fieldset><legend>${t("apply.kind")}</legend>
        <label><input type="radio" name="kind" value="enterprise" checked> ${t("apply.enterprise")}</label>
        <label><input type="radio" name="kind" value="person"> ${t("apply.person")}</label></fieldset>
      <label>${t("apply.name")} <input name="name" required maxlength="256"></label>
      <label>${t("apply.organisation")} <input name="organisation" maxlength="256"></label>
      <label>${t("apply.contact")} <input name="contact" required maxlength="256"></label>
      <label>${t("apply.scenario")} <input name="scenario" required maxlength="512"></label>
      <label>${t("apply.purpose")} <textarea name="purpose" rows="3" required maxlength="4000"></textarea></label>
      <div><button type="submit">${t("apply.send")}</button></div>
      <p id="apply-error" class="error" role="alert" hidden></p></form>
    <div id="apply-result" role="status"></div></section>`;
}

let applied = null; // the answer to this page's application: kept so that a language switch still shows the key

function showApplied(answer) {
  document.getElementById("apply-form").hidden = true; // the key is shown this once: the form is not sent twice
  show(document.getElementById("apply-result"), html`<p data-application="${answer.application.id}">${t("apply.sent")}
    <b>${answer.application.id}</b> · ${answer.application.stateZh}</p>
    <p>${t("apply.key")}</p><p><code id="apply-key">${answer.key}</code></p>
    <p class="muted">${t("apply.keyOnce")} <a href="${href("/opendata/my-application")}">${t("apply.mine")}</a></p>`);
}

function wireApply(d) {
  if (applied && applied.application.dataset === d.name) { showApplied(applied); return; }
  const form = document.getElementById("apply-form");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = form.elements;
    const body = { dataset: d.name, kind: f.kind.value, name: f.name.value.trim(), contact: f.contact.value.trim(),
      organisation: f.organisation.value.trim() || null, scenario: f.scenario.value.trim(), purpose: f.purpose.value.trim() };
    const err = document.getElementById("apply-error");
    const r = await fetch("/opendata/applications", { method: "POST", headers: { ...PORTAL, "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await r.json();
    if (!r.ok) { err.textContent = answer.detail || answer.title; err.hidden = false; return; }
    err.hidden = true;
    applied = answer;
    showApplied(answer);
  });
}

function when(v) { return v ? new Date(v).toLocaleString(getLang() === "zh" ? "zh-CN" : "en-GB", { hour12: false }) : "—"; }

function mine() {
  links("/opendata/my-application.json", "/api/3/action/help_show?name=datastore_search");
  document.title = `${t("mine.title")} · ${t("title")}`;
  let last = null;
  const render = () => {
    show(main, html`<h2 id="mine-title">${t("mine.title")}</h2><p class="muted">${t("mine.intro")}</p>
      <form id="mine-form" autocomplete="off"><label>${t("mine.key")} <input name="key" id="mine-key" size="52" required
        spellcheck="false" placeholder="odk_…"></label> <button type="submit">${t("mine.look")}</button></form>
      <p id="mine-error" class="error" role="alert" hidden></p><div id="mine" aria-live="polite"></div>`);
    const form = document.getElementById("mine-form");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const err = document.getElementById("mine-error");
      const r = await fetch("/opendata/my-application.json", { headers: { ...PORTAL, Authorization: form.elements.key.value.trim() } });
      const answer = await r.json();
      if (!r.ok) { err.textContent = answer.detail || answer.title; err.hidden = false; show(document.getElementById("mine"), html``); return; }
      err.hidden = true;
      last = answer;
      showMine(answer);
    });
    if (last) showMine(last);
  };
  rerender = render;
  render();
}

function showMine(a) {
  const state = getLang() === "zh" ? a.stateZh : a.stateEn;
  const rows = [["mine.dataset", html`<a href="${href(`/opendata/datasets/${encodeURIComponent(a.dataset)}`)}">${a.dataset}</a>`],
    ["mine.state", html`<b id="mine-state" data-state="${a.state}">${state}</b>`], ["mine.provider", a.provider],
    ["mine.scenario", a.scenario], ["mine.applied", when(a.createdAt)]];
  if (a.terms) rows.push(["mine.terms", html`<span id="mine-terms">${a.terms}</span>`]);
  if (a.endsAt) rows.push(["mine.ends", html`<span id="mine-ends">${when(a.endsAt)}</span>`]);
  if (a.reason) rows.push(["mine.reason", html`<span id="mine-reason">${a.reason}</span>`]);
  show(document.getElementById("mine"), html`<table class="meta" id="mine-table">${rows.map(([k, v]) => html`<tr><th>${t(k)}</th><td>${v}</td></tr>`)}</table>
    ${a.opens ? html`<p id="mine-use">${t("mine.use")}</p><ul>${a.use.map((u) => html`<li><code>${u}</code></li>`)}</ul>` : ""}
    <h3>${t("mine.steps")}</h3><ol id="mine-steps">${a.steps.map((s) => html`<li data-action="${s.action}">${when(s.at)} · ${t(`mine.action.${s.action}`)}${s.byDepartment ? ` · ${s.byDepartment}` : ""}${s.reason ? ` · ${s.reason}` : ""}</li>`)}</ol>`);
}

function cell(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return v.zh || JSON.stringify(v);
  return String(v);
}

async function loadPreview(page) {
  const p = page.preview;
  const err = document.getElementById("preview-error");
  const params = { resource_id: p.resource_id, limit: preview.limit, offset: preview.offset, filters: preview.filters };
  if (preview.sort) params.sort = preview.sort;
  let result;
  try { result = await action("datastore_search", params); err.hidden = true; } catch (e) {
    err.textContent = e.message; err.hidden = false; return;
  }
  preview.records = result.records;
  const [sortField, sortDir] = (preview.sort || " ").split(" ");
  const table = document.getElementById("preview");
  table.dataset.sort = preview.sort;
  show(table, html`<thead><tr>${p.fields.map((f) => html`<th scope="col" aria-sort="${f.id === sortField ? (sortDir === "desc" ? "descending" : "ascending") : "none"}">
      <button type="button" data-sort="${f.id}">${f.label}${f.id === sortField ? (sortDir === "desc" ? " ↓" : " ↑") : ""}</button></th>`)}
      ${page.report.available ? html`<th></th>` : ""}</tr></thead>
    <tbody>${result.records.map((r, i) => html`<tr data-row="${i}">${p.fields.map((f) => html`<td data-field="${f.id}" title="${cell(r[f.id])}">${cell(r[f.id])}</td>`)}
      ${page.report.available ? html`<td><button type="button" class="report" data-report="${i}">${t("preview.report")}</button></td>` : ""}</tr>`)}</tbody>`);
  document.getElementById("preview-total").textContent = `${result.total ?? result.records.length} ${t("preview.total")}`;
  table.querySelectorAll("[data-sort]").forEach((b) => b.addEventListener("click", () => {
    const f = b.dataset.sort;
    preview.sort = f === sortField && sortDir === "asc" ? `${f} desc` : `${f} asc`;
    loadPreview(page);
  }));
  table.querySelectorAll("[data-report]").forEach((b) => b.addEventListener("click", () => reportForm(page, preview.records[Number(b.dataset.report)])));
}

function reportForm(page, record) {
  const box = document.getElementById("report");
  const p = page.preview;
  show(box, html`<form id="report-form"><h4>${t("report.title")}</h4>
    <label>${t("report.item")} <select name="item">${p.fields.map((f) => html`<option value="${f.id}">${f.label}：${cell(record[f.id])}</option>`)}</select></label>
    <label>${t("report.evidence")} <textarea name="evidence" rows="3" required maxlength="2000"></textarea></label>
    <label>${t("report.proposed")} <input name="proposed"></label>
    <div><button type="submit">${t("report.send")}</button> <button type="button" id="report-cancel">${t("report.cancel")}</button></div>
    <p id="report-result" role="status"></p></form>`);
  const form = document.getElementById("report-form");
  document.getElementById("report-cancel").addEventListener("click", () => show(box, html``));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const row = Object.fromEntries(p.fields.map((f) => [f.id, record[f.id]]));
    const proposed = form.elements.proposed.value.trim();
    const body = { row, item: form.elements.item.value, evidence: form.elements.evidence.value, proposed: proposed || null };
    const out = document.getElementById("report-result");
    const r = await fetch(page.report.url, { method: "POST", headers: { ...PORTAL, "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await r.json();
    if (r.ok) {
      out.className = "";
      out.dataset.objection = answer.id;
      out.textContent = `${t("report.sent")}${answer.source} (${answer.id}), ${t("report.due")} ${answer.due_at.slice(0, 10)}`;
    } else {
      out.className = "error";
      out.textContent = answer.detail || answer.title;
    }
  });
}

function drawUsage(use) {
  const el = document.getElementById("usage-chart");
  const chart = initChart(el);
  const days = use.days.map((d) => d.day.slice(5));
  const series = ["view", "download", "api"].map((k) => ({ name: t(`usage.${k}`), type: "bar", stack: "use", data: use.days.map((d) => d[k]) }));
  chart.setOption({ tooltip: { trigger: "axis" }, legend: { top: 4 }, grid: { left: 40, right: 16, top: 36, bottom: 28 },
    xAxis: { type: "category", data: days }, yAxis: { type: "value", minInterval: 1 }, series });
  el.dataset.views = String(use.totals.view);
}

// --- a department, a theme ------------------------------------------------------------------------------

async function listing(kind, name) {
  const url = `/opendata/${kind}/${encodeURIComponent(name)}.json`;
  const page = await getJson(url);
  links(url, page.api);
  const head = kind === "organizations" ? page.organization : page.group;
  document.title = `${head.title} · ${t("title")}`;
  rerender = () => show(main, html`<h2 id="listing-title">${head.title}</h2><p class="muted">${t(kind)} · ${page.datasets.length} ${t("found")}</p>
    <ol class="results" id="results">${page.datasets.map(card)}</ol>`);
  rerender();
}

async function route() {
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  try {
    if (parts.length === 2 && parts[1] === "my-application") mine();
    else if (parts.length === 3 && parts[1] === "datasets") await dataset(parts[2]);
    else if (parts.length === 3 && (parts[1] === "organizations" || parts[1] === "groups")) await listing(parts[1], parts[2]);
    else await home();
  } catch (e) {
    show(main, html`<h2>${t("notFound")}</h2><p class="error" id="page-error">${e.message}</p>`);
  }
  main.setAttribute("aria-busy", "false");
}

const langButton = document.getElementById("lang");
function words() { applyWords(); langButton.textContent = getLang() === "zh" ? "English" : "中文"; }
langButton.addEventListener("click", () => { setLang(getLang() === "zh" ? "en" : "zh"); words(); rerender(); });
words();
route();
