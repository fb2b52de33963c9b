// 实体识别复核 / Entity resolution review: the records fed without a registry key that the model could not
// match for certain (review decisions), each beside its best candidate and the runner-up with every field's
// values compared, its level, weight and similarity and the candidates' totals (the registry's values masked
// as the reader's access shows them, as the API answers them), settled by the entry's provider or the city:
// the same entity as a candidate, or a new one; and the decisions settled, with who and when.
// Route: #/data/resolutions.

import { get, post } from "./api.js";
import { departmentName, getLang, t, time } from "./i18n.js";
import { html, show } from "./dom.js";

const enc = encodeURIComponent;
const PAGE = 20;
const view = { side: "open", offset: 0 };
const cell = (v) => (v === undefined || v === null || v === "" ? "—" : String(v));
const num = (n, d = 1) => (n === null || n === undefined ? "—"
  : Number(n).toLocaleString(getLang() === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: d }));
const field = (f) => (t(`res.field.${f}`) === `res.field.${f}` ? f : t(`res.field.${f}`));
const level = (l) => (t(`res.level.${l}`) === `res.level.${l}` ? l : t(`res.level.${l}`));
// The short id of a registry entity (urn:ngsi-ld:Organization:<id> -> <id>), the whole one in its title.
const shortId = (urn) => String(urn || "").split(":").pop();

// Who may settle a decision, as the server says: the entry's provider, or the city (a token of no department).
const maySettle = (r, me, can) => can("resolutions:settle") && (!me.department || me.department === r.provider);

// One candidate's column cells for a field: its value, and how it compared (level, weight, similarity).
function compared(score, name) {
  if (!score) return html`<td class="muted">—</td>`;
  const f = score.fields.find((x) => x.field === name);
  if (!f) return html`<td class="muted">—</td>`;
  return html`<td data-field="${name}" data-level="${f.level}">${cell(f.held)}<div class="small muted">${level(f.level)} ·
    ${t("res.weight")} ${num(f.weight, 2)}${f.similarity != null ? ` · ${t("res.similarity")} ${num(f.similarity * 100, 0)}%` : ""}</div></td>`;
}

function candidateHead(score, label) {
  if (!score) return html`<th>${label}</th>`;
  return html`<th data-candidate="${score.candidate}">${label}<div class="small muted" title="${score.candidate}">${shortId(score.candidate)}</div></th>`;
}

function settleButtons(r) {
  const others = r.scored.filter(([c]) => c !== (r.best && r.best.candidate) && c !== (r.runnerUp && r.runnerUp.candidate));
  return html`<div class="moves" role="group" aria-label="${t("res.settle")}">
    ${r.best ? html`<button type="button" class="primary" data-settle="${r.id}" data-outcome="matched" data-entity="${r.best.candidate}">${t("res.sameAsBest")}</button>` : ""}
    ${r.runnerUp ? html`<button type="button" data-settle="${r.id}" data-outcome="matched" data-entity="${r.runnerUp.candidate}">${t("res.sameAsRunnerUp")}</button>` : ""}
    ${others.length ? html`<label class="small">${t("res.otherCandidate")} <select data-other="${r.id}">${others.map(([c, w]) =>
      html`<option value="${c}">${shortId(c)} (${num(w, 1)})</option>`)}</select></label>
      <button type="button" data-settle="${r.id}" data-outcome="matched" data-from-select="true">${t("res.sameAsChosen")}</button>` : ""}
    <button type="button" data-settle="${r.id}" data-outcome="new">${t("res.new")}</button>
    <label class="small">${t("res.note")} <input data-note="${r.id}" maxlength="2000"></label></div>`;
}

function decisionCard(r, ctx) {
  const names = [...new Set([...Object.keys(r.record),
    ...(r.best ? r.best.fields.map((f) => f.field) : []), ...(r.runnerUp ? r.runnerUp.fields.map((f) => f.field) : [])])];
  return html`<article class="panel resolution" data-resolution="${r.id}">
    <h4>${r.code} · ${t("res.line")} ${r.line} · ${departmentName(r.department)}</h4>
    <p class="muted small">${time(r.at, true)} · ${t("res.reason")}: ${r.reason}</p>
    <table class="compare"><thead><tr><th>${t("res.fieldHead")}</th><th>${t("res.record")}</th>
      ${candidateHead(r.best, t("res.best"))}${candidateHead(r.runnerUp, t("res.runnerUp"))}</tr></thead>
      <tbody>${names.map((n) => html`<tr data-row="${n}"><th scope="row">${field(n)}</th><td class="offered">${cell(r.record[n])}</td>
        ${compared(r.best, n)}${compared(r.runnerUp, n)}</tr>`)}
      <tr class="total"><th scope="row">${t("res.total")}</th><td></td>
        <td data-total="best">${r.best ? num(r.best.total, 2) : "—"}</td><td data-total="runnerUp">${r.runnerUp ? num(r.runnerUp.total, 2) : "—"}</td></tr></tbody></table>
    ${maySettle(r, ctx.me, ctx.can) ? settleButtons(r) : html`<p class="muted small">${t("res.byProvider")}: ${departmentName(r.provider)}</p>`}
  </article>`;
}

function settledTable(list) {
  if (!list.length) return html`<p class="muted">${t("res.noneSettled")}</p>`;
  return html`<table id="res-settled"><thead><tr><th>${t("res.record")}</th><th>${t("res.outcome")}</th><th>${t("res.entity")}</th>
    <th>${t("res.by")}</th><th>${t("data.at")}</th><th>${t("res.note")}</th></tr></thead>
    <tbody>${list.map((r) => html`<tr data-resolution="${r.id}"><td>${Object.values(r.record).slice(0, 2).join(" · ")}
        <div class="small muted">${r.code} · ${t("res.line")} ${r.line} · ${departmentName(r.department)}</div></td>
      <td data-outcome="${r.settlement.outcome}">${t(`res.outcome.${r.settlement.outcome}`)}</td>
      <td title="${r.settlement.entity || ""}">${r.settlement.entity ? shortId(r.settlement.entity) : "—"}</td>
      <td>${r.settlement.by}</td><td>${time(r.settlement.at, true)}</td><td>${cell(r.settlement.note)}</td></tr>`)}</tbody></table>`;
}

export async function renderResolutions(el, ctx) {
  const sides = [["open", "res.open"], ["settled", "res.settled"]];
  show(el, html`<section class="panel" aria-labelledby="res-title">
      <h3 id="res-title">${t("res.title")}</h3><p class="muted small">${t("res.hint")}</p>
      <div class="tabs" role="tablist" id="res-tabs">${sides.map(([k, label]) =>
        html`<button type="button" role="tab" data-side="${k}" aria-selected="${String(k === view.side)}">${t(label)}</button>`)}</div>
      <p class="muted small" id="res-total"></p>
      <p class="error" id="res-error" role="alert"></p>
      <div id="res-list" aria-live="polite"></div>
      <p><button type="button" id="res-prev">${t("data.prev")}</button>
        <button type="button" id="res-next">${t("data.next")}</button></p></section>`);
  const list = el.querySelector("#res-list");
  const errEl = el.querySelector("#res-error");
  let asked = 0; // the newest list asked for: an older answer that comes back later is not shown over it
  const load = async () => {
    const mine = ++asked;
    const settled = view.side === "settled";
    const q = new URLSearchParams({ decision: "review", settled: String(settled), limit: String(PAGE), offset: String(view.offset) });
    try {
      const r = await get(`/datahub/resolutions?${q}`, { total: true });
      if (mine !== asked) return;
      el.querySelector("#res-total").textContent = `${num(r.total, 0)} ${t(settled ? "res.countSettled" : "res.countOpen")}`;
      show(list, settled ? settledTable(r.data)
        : r.data.length ? html`${r.data.map((d) => decisionCard(d, ctx))}` : html`<p class="muted">${t("res.noneOpen")}</p>`);
      el.querySelector("#res-prev").disabled = view.offset === 0;
      el.querySelector("#res-next").disabled = view.offset + PAGE >= r.total;
    } catch (e) {
      if (mine !== asked) return;
      show(list, html`<p class="error" role="alert">${e.message}</p>`);
    }
    list.querySelectorAll("[data-settle]").forEach((b) => b.addEventListener("click", () => settle(b)));
  };
  const settle = async (b) => {
    const id = b.dataset.settle;
    const body = { outcome: b.dataset.outcome };
    if (body.outcome === "matched") {
      body.entity = b.dataset.fromSelect ? list.querySelector(`[data-other="${id}"]`).value : b.dataset.entity;
    }
    const note = list.querySelector(`[data-note="${id}"]`).value.trim();
    if (note) body.note = note;
    errEl.textContent = "";
    try {
      await post(`/datahub/resolutions/${enc(id)}/settle`, body);
      ctx.toast(`${t(`res.outcome.${body.outcome}`)} ✓`);
      await load();
    } catch (e) {
      errEl.textContent = e.message;
    }
  };
  el.querySelectorAll("[data-side]").forEach((b) => b.addEventListener("click", () => {
    view.side = b.dataset.side;
    view.offset = 0;
    el.querySelectorAll("[data-side]").forEach((x) => x.setAttribute("aria-selected", String(x === b)));
    load();
  }));
  el.querySelector("#res-prev").addEventListener("click", () => { view.offset = Math.max(0, view.offset - PAGE); load(); });
  el.querySelector("#res-next").addEventListener("click", () => { view.offset += PAGE; load(); });
  await load();
}
