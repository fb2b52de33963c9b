// 数据归集 / Feeds: the departments' feed runs into the persons registry with their counts (new, changed,
// unchanged, conflicting, rejected), one run's rejected records (line and reason) and conflicts, and the
// conflicts on the items a department is the one source of (一数一源): the latest value each other department
// offered beside the registry's, counted per item and per offering department. Runs are listed as they land
// (the list is read again every few seconds while the page is shown). Route: #/data/feeds[/<run id>].

import { get } from "./api.js";
import { departmentName, getLang, t, time } from "./i18n.js";
import { href, html, show } from "./dom.js";

const enc = encodeURIComponent;
const PAGE = 50;
const REFRESH_MS = 5000;
const COUNTS = ["new", "changed", "unchanged", "conflicting", "rejected"];
// The sources of the persons registry's items, which the city picks from (a department sees its own).
const SOURCES = ["public-security", "civil-affairs", "human-resources", "health", "street-office"];
const view = { source: "public-security", item: "", offeredBy: "", offset: 0 };
const cell = (v) => (v === undefined || v === null ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));
const num = (n) => Number(n).toLocaleString(getLang() === "zh" ? "zh-CN" : "en-GB");
// A registry attribute's name in the page's language (the attribute itself when the words do not know it).
const attrName = (a) => (t(`feed.attr.${a}`) === `feed.attr.${a}` ? a : t(`feed.attr.${a}`));

function runTable(runs, chosen) {
  if (!runs.length) return html`<p class="muted">${t("feed.noRuns")}</p>`;
  return html`<table id="feed-runs"><thead><tr><th>${t("data.at")}</th><th>${t("feed.department")}</th>
    <th>${t("feed.entry")}</th><th class="num">${t("feed.records")}</th>${COUNTS.map((k) =>
      html`<th class="num">${t(`feed.${k}`)}</th>`)}<th></th></tr></thead>
    <tbody>${runs.map((r) => html`<tr data-run="${r.id}"${r.id === chosen ? html` aria-current="true"` : ""}>
      <td>${time(r.at, true)}</td><td>${departmentName(r.department)}</td>
      <td><a href="${href(`#/data/entry/${enc(r.code)}`)}">${r.code}</a></td><td class="num">${num(r.records)}</td>
      ${COUNTS.map((k) => html`<td class="num" data-count="${k}">${num(r[k])}</td>`)}
      <td><a href="${href(`#/data/feeds/${enc(r.id)}`)}" data-open="${r.id}">${t("feed.open")}</a></td></tr>`)}</tbody></table>`;
}

function runDetail(run) {
  const rejections = run.rejections || [];
  const conflicts = run.conflicts || [];
  return html`<h3 id="feed-run-title">${t("feed.run")} ${run.id} · ${departmentName(run.department)} · ${run.code}</h3>
    <p class="muted small">${time(run.at, true)} · ${run.by}</p>
    <h4>${t("feed.rejections")} (${num(run.rejected)})</h4>
    ${rejections.length ? html`<table id="feed-rejections"><thead><tr><th class="num">${t("feed.line")}</th>
      <th>${t("feed.record")}</th><th>${t("data.reason")}</th></tr></thead>
      <tbody>${rejections.map((r) => html`<tr><td class="num">${r.line}</td><td>${cell(r.record)}</td><td>${r.reason}</td></tr>`)}</tbody></table>`
    : html`<p class="muted">${t("feed.noRejections")}</p>`}
    <h4>${t("feed.conflicts")} (${num(run.conflicting)})</h4>
    ${conflicts.length ? html`<table id="feed-run-conflicts"><thead><tr><th>${t("feed.record")}</th><th>${t("feed.item")}</th>
      <th>${t("obj.source")}</th><th>${t("feed.offered")}</th></tr></thead>
      <tbody>${conflicts.map((c) => html`<tr><td>${c.record}</td><td>${c.item}</td><td>${departmentName(c.source)}</td>
        <td>${cell(c.offered)}</td></tr>`)}</tbody></table>`
    : html`<p class="muted">${t("feed.noConflicts")}</p>`}`;
}

function chips(kind, counts, chosen, name) {
  const all = Object.values(counts).reduce((a, b) => a + b, 0);
  return html`<div class="chips" role="group" aria-label="${t(`feed.by.${kind}`)}">${t(`feed.by.${kind}`)}:
    <button type="button" data-filter="${kind}" data-value="" aria-pressed="${String(!chosen)}">${t("data.all")} ${num(all)}</button>
    ${Object.entries(counts).map(([k, n]) => html`<button type="button" data-filter="${kind}" data-value="${k}"
      aria-pressed="${String(chosen === k)}">${name(k)} ${num(n)}</button>`)}</div>`;
}

function conflictTable(found) {
  if (!found.conflicts.length) return html`<p class="muted">${t("feed.noOpen")}</p>`;
  return html`<table id="feed-conflicts"><thead><tr><th>${t("feed.record")}</th><th>${t("feed.item")}</th>
    <th>${t("feed.offeredBy")}</th><th>${t("feed.offered")}</th><th>${t("feed.held")}</th></tr></thead>
    <tbody>${found.conflicts.map((c) => html`<tr data-record="${c.record}" data-item="${c.item}">
      <td>${c.record}</td><td>${attrName(c.item)}<div class="muted small">${c.code} · ${c.offeredAs}</div></td>
      <td>${departmentName(c.department)}<div class="muted small">${time(c.at, true)}</div></td>
      <td class="offered">${cell(c.offered)}</td><td>${cell(c.held)}</td></tr>`)}</tbody></table>`;
}

export async function renderFeeds(el, runId, { me }) {
  const city = !me.department;
  show(el, html`<section class="panel" aria-labelledby="feed-title">
      <h3 id="feed-title">${t("feed.title")}</h3><p class="muted small">${t("feed.hint")}</p>
      <div id="feed-list" aria-live="polite"></div></section>
    <section class="panel" id="feed-run" aria-live="polite"${runId ? "" : html` hidden`}></section>
    <section class="panel" aria-labelledby="conflict-title">
      <h3 id="conflict-title">${t("feed.openTitle")}</h3><p class="muted small">${t("feed.openHint")}</p>
      ${city ? html`<label>${t("feed.source")} <select id="conflict-source">${SOURCES.map((d) =>
        html`<option value="${d}"${d === view.source ? html` selected` : ""}>${departmentName(d)}</option>`)}</select></label>` : ""}
      <p class="muted small" id="conflict-total"></p>
      <div id="conflict-chips"></div><div id="conflict-list"></div>
      <p><button type="button" id="conflict-prev">${t("data.prev")}</button>
        <button type="button" id="conflict-next">${t("data.next")}</button></p></section>`);
  const listEl = el.querySelector("#feed-list");
  const loadRuns = async () => {
    try {
      const r = await get("/datahub/feeds/runs?limit=50", { total: true });
      show(listEl, html`<p class="muted small" id="feed-total">${num(r.total)} ${t("feed.runs")}</p>${runTable(r.data, runId)}`);
    } catch (e) {
      show(listEl, html`<p class="error" role="alert">${e.message}</p>`);
    }
  };
  const loadRun = async () => {
    if (!runId) return;
    const at = el.querySelector("#feed-run");
    try {
      show(at, runDetail(await get(`/datahub/feeds/runs/${enc(runId)}?limit=500`)));
    } catch (e) {
      show(at, html`<p class="error" role="alert">${e.message}</p>`);
    }
  };
  const loadConflicts = async () => {
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(view.offset) });
    if (city) q.set("department", view.source);
    if (view.item) q.set("item", view.item);
    if (view.offeredBy) q.set("offeredBy", view.offeredBy);
    const list = el.querySelector("#conflict-list");
    try {
      const found = await get(`/datahub/feeds/conflicts?${q}`);
      el.querySelector("#conflict-total").textContent = `${num(found.total)} ${t("feed.openCount")}`;
      show(el.querySelector("#conflict-chips"), html`${chips("item", found.byItem, view.item, attrName)}
        ${chips("department", found.byDepartment, view.offeredBy, departmentName)}`);
      show(list, conflictTable(found));
      el.querySelector("#conflict-prev").disabled = view.offset === 0;
      el.querySelector("#conflict-next").disabled = view.offset + PAGE >= found.total;
      el.querySelectorAll("[data-filter]").forEach((b) => b.addEventListener("click", () => {
        view[b.dataset.filter === "item" ? "item" : "offeredBy"] = b.dataset.value;
        view.offset = 0;
        loadConflicts();
      }));
    } catch (e) {
      show(list, html`<p class="error" role="alert">${e.message}</p>`);
    }
  };
  const source = el.querySelector("#conflict-source");
  if (source) source.addEventListener("change", () => {
    Object.assign(view, { source: source.value, item: "", offeredBy: "", offset: 0 });
    loadConflicts();
  });
  el.querySelector("#conflict-prev").addEventListener("click", () => { view.offset = Math.max(0, view.offset - PAGE); loadConflicts(); });
  el.querySelector("#conflict-next").addEventListener("click", () => { view.offset += PAGE; loadConflicts(); });
  await Promise.all([loadRuns(), loadRun(), loadConflicts()]);
  // runs land while a feed goes on (the demo's feed in the background): read the list again while it is shown
  const timer = setInterval(() => {
    if (!listEl.isConnected) { clearInterval(timer); return; }
    loadRuns();
  }, REFRESH_MS);
}
