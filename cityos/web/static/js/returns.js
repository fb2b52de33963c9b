// 数据属地返还 / District return: the standing return grants (the city's entries returned to a district's tenant,
// by its polygon or its name in an address), one grant's runs (when, who, incremental or full, the records
// read, those written: new, changed, removed, and those unchanged, how long it took), a button that runs one
// now (the big-data centre's token or an administrator, in the city tenant), and in a district's tenant the
// records returned to it, read as its own reads are (governed and audited). Route: #/data/returns[/<grant id>].

import { get, post } from "./api.js";
import { getLang, t, time } from "./i18n.js";
import { href, html, show } from "./dom.js";

const enc = encodeURIComponent;
const COUNTS = ["read", "new", "changed", "removed", "unchanged"];
const cell = (v) => (v === undefined || v === null ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));
const num = (n, d = 0) => Number(n).toLocaleString(getLang() === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: d });
const stateWord = (s) => t(`ret.state.${s}`);
// A district's token reads the grants to its own tenant; the city's reads every one.
const isDistrict = (me, g) => Boolean(me.tenant) && me.tenant === g.tenant;

function grantTable(grants, chosen, me, can) {
  if (!grants.length) return html`<p class="muted">${t("ret.none")}</p>`;
  return html`<table id="ret-grants"><thead><tr><th>${t("ret.district")}</th><th>${t("ret.entries")}</th>
    <th>${t("ret.area")}</th><th>${t("data.state")}</th><th>${t("ret.watermark")}</th><th>${t("ret.made")}</th><th></th></tr></thead>
    <tbody>${grants.map((g) => html`<tr data-grant="${g.id}"${g.id === chosen ? html` aria-current="true"` : ""}>
      <td>${g.district}<div class="small muted">${t("ret.tenant")}: ${g.tenant}</div></td>
      <td>${g.codes.map((c) => html`<div><a href="${href(`#/data/entry/${enc(c)}`)}">${c}</a></div>`)}</td>
      <td>${g.area || g.areaEntity ? t("ret.byPolygon") : t("ret.byName")}${g.areaEntity ? html`<div class="small muted">${g.areaEntity}</div>` : ""}</td>
      <td><span class="gstate" data-rstate="${g.state}">${stateWord(g.state)}</span>${g.reason ? html`<div class="small muted">${g.reason}</div>` : ""}</td>
      <td>${g.watermark ? time(g.watermark, true) : t("ret.never")}</td>
      <td>${g.madeBy}<div class="small muted">${time(g.madeAt, true)}</div></td>
      <td class="moves"><a href="${href(`#/data/returns/${enc(g.id)}`)}" data-open="${g.id}">${t("ret.runs")}</a>
        ${g.state === "standing" && can("returns:write") && !isDistrict(me, g)
          ? html`<button type="button" class="primary" data-run="${g.id}">${t("ret.runNow")}</button>` : ""}</td></tr>`)}</tbody></table>`;
}

function runTable(runs) {
  if (!runs.length) return html`<p class="muted">${t("ret.noRuns")}</p>`;
  return html`<table id="ret-runs"><thead><tr><th>${t("data.at")}</th><th>${t("ret.by")}</th><th>${t("ret.kind")}</th>
    ${COUNTS.map((k) => html`<th class="num">${t(`ret.${k}`)}</th>`)}<th class="num">${t("ret.touched")}</th>
    <th class="num">${t("ret.seconds")}</th></tr></thead>
    <tbody>${runs.map((r) => html`<tr data-run="${r.id}"><td>${time(r.at, true)}</td><td>${r.by}</td>
      <td>${t(r.full ? "ret.full" : "ret.incremental")}${r.since ? html`<div class="small muted">${t("ret.since")} ${time(r.since, true)}</div>` : ""}</td>
      ${COUNTS.map((k) => html`<td class="num" data-count="${k}">${num(r[k])}</td>`)}
      <td class="num" data-count="touched">${num(r.new + r.changed + r.removed)}</td>
      <td class="num" data-count="seconds">${num(r.seconds, 2)}</td></tr>`)}</tbody></table>`;
}

// The records of one returned entry as the district's tenant holds them, read through the rules.
function recordTable(read) {
  const items = [...read.shown, ...Object.keys(read.masked)];
  if (!read.records.length) return html`<p class="muted">${t("ret.noRecords")}</p>`;
  return html`<table class="ret-records" data-code="${read.code}"><thead><tr><th>${t("obj.record")}</th>${items.map((i) =>
    html`<th>${i}${read.masked[i] ? html` <span class="small muted">(${t("ret.masked")})</span>` : ""}</th>`)}</tr></thead>
    <tbody>${read.records.map((r) => html`<tr data-record="${r.id}"><td class="small">${r.id}</td>${items.map((i) =>
      html`<td>${cell(r[i])}</td>`)}</tr>`)}</tbody></table>`;
}

export async function renderReturns(el, grantId, { me, can, toast }) {
  show(el, html`<section class="panel" aria-labelledby="ret-title">
      <h3 id="ret-title">${t("ret.title")}</h3><p class="muted small">${t("ret.hint")}</p>
      <p class="error" id="ret-error" role="alert"></p>
      <div id="ret-list" aria-live="polite"></div></section>
    <section class="panel" id="ret-detail" aria-live="polite"${grantId ? "" : html` hidden`}></section>
    <section class="panel" id="ret-returned" aria-labelledby="ret-returned-title" hidden>
      <h3 id="ret-returned-title">${t("ret.returned")}</h3><p class="muted small">${t("ret.returnedHint")}</p>
      <div id="ret-records"></div></section>`);
  const errEl = el.querySelector("#ret-error");
  const r = await get("/datahub/returns?limit=100", { total: true });
  const grants = r.data;
  const chosen = grantId || (grants[0] && grants[0].id) || "";
  show(el.querySelector("#ret-list"), html`<p class="muted small" id="ret-total">${num(r.total)} ${t("ret.count")}</p>
    ${grantTable(grants, chosen, me, can)}`);
  const loadRuns = async (id) => {
    const at = el.querySelector("#ret-detail");
    const g = grants.find((x) => x.id === id);
    if (!g) { at.hidden = true; return; }
    at.hidden = false;
    try {
      const runs = await get(`/datahub/returns/${enc(id)}/runs?limit=100`, { total: true });
      show(at, html`<h3 id="ret-runs-title" data-grant="${g.id}">${t("ret.runsOf")} ${g.district} · ${g.codes.join(", ")}</h3>
        <p class="muted small" id="ret-run-total">${num(runs.total)} ${t("ret.runCount")}</p>${runTable(runs.data)}`);
    } catch (e) {
      show(at, html`<p class="error" role="alert">${e.message}</p>`);
    }
  };
  el.querySelectorAll("[data-run]").forEach((b) => b.addEventListener("click", async () => {
    errEl.textContent = "";
    b.disabled = true;
    try {
      const run = await post(`/datahub/returns/${enc(b.dataset.run)}/runs`);
      toast(`${t("ret.runNow")} ✓ ${num(run.new + run.changed + run.removed)} ${t("ret.touched")}`);
      await loadRuns(b.dataset.run);
    } catch (e) {
      errEl.textContent = e.message;
    } finally {
      b.disabled = false;
    }
  }));
  if (chosen) await loadRuns(chosen);
  // In the district's tenant: what the standing grants returned to it, read as the district reads.
  const codes = [...new Set(grants.filter((g) => isDistrict(me, g) && g.state === "standing").flatMap((g) => g.codes))];
  if (!codes.length || !can("datasets:read")) return;
  const box = el.querySelector("#ret-returned");
  box.hidden = false;
  const parts = await Promise.all(codes.map(async (code) => {
    try {
      const read = await get(`/datahub/datasets/${enc(code)}/records?limit=20&purpose=${enc(t("ret.title"))}`);
      return html`<h4>${read.name} · ${code} · <span data-returned-total="${code}">${num(read.total ?? read.records.length)}</span>
        ${t("ret.records")}</h4>${recordTable(read)}`;
    } catch (e) {
      return html`<h4>${code}</h4><p class="error">${e.message}</p>`;
    }
  }));
  show(el.querySelector("#ret-records"), html`${parts}`);
}
