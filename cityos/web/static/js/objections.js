// 数据异议 / Objections: the data officer of an item's source sees the objections on its items, the overdue
// first, and moves them (accept to verify, correct with the value, reject with a reason); the objector sees
// its own and may withdraw them; each department sees the corrections of values it read (更正通知).
// A record of a dataset read is objected to from the entry page (objectForm). Route: #/data/objections.

import { get, post } from "./api.js";
import { departmentName, getLang, t, time } from "./i18n.js";
import { href, html, show } from "./dom.js";

const enc = encodeURIComponent;
const view = { side: null };
const DECIDES = ["accept", "correct", "reject"];
const cell = (v) => (v === undefined || v === null ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));
const stateWord = (o) => (getLang() === "zh" ? o.stateZh : o.state);

// Who may take a move, as the server's table says: the source (or the city) decides, the objector withdraws.
const mayTake = (o, me, m) => (m === "withdraw" ? me.department === o.objector
  : !me.department || me.department === o.source);

function objectionTable(list, me) {
  if (!list.length) return html`<p class="muted">${t("obj.none")}</p>`;
  return html`<table class="objections"><thead><tr><th>${t("obj.record")}</th><th>${t("obj.objector")}</th>
    <th>${t("obj.value")}</th><th>${t("obj.evidence")}</th><th>${t("obj.due")}</th><th>${t("data.state")}</th><th></th></tr></thead>
    <tbody>${list.map((o) => html`<tr data-objection="${o.id}"${o.overdue ? html` class="overdue"` : ""}>
      <td><a href="${href(`#/data/entry/${enc(o.code)}`)}">${o.code}</a><div class="small">${o.recordId}</div>
        <div class="small"><strong>${o.item}</strong> · ${t("obj.source")}: ${departmentName(o.source)}</div></td>
      <td>${departmentName(o.objector)}<div class="muted small">${time(o.createdAt, true)}</div></td>
      <td>${cell(o.value)}${o.proposedValue != null ? html`<div class="small">→ ${cell(o.proposedValue)}</div>` : ""}
        ${o.correctedValue != null ? html`<div class="small">${t("obj.corrected")}: ${cell(o.correctedValue)}</div>` : ""}</td>
      <td>${o.evidence}${o.reason ? html`<div class="muted small">${t("data.reason")}: ${o.reason}</div>` : ""}</td>
      <td>${time(o.dueAt, true)}${o.overdue ? html` <span class="badge overdue" data-overdue>${t("obj.overdue")}</span>` : ""}</td>
      <td><span class="gstate" data-ostate="${o.state}">${stateWord(o)}</span>
        <details class="small"><summary>${t("data.history")}</summary><ol class="history">${o.history.map((h) =>
          html`<li>${time(h.at, true)} · ${t(`obj.move.${h.action}`)} · ${h.by}${h.byDepartment ? ` (${departmentName(h.byDepartment)})` : ""}${h.reason ? ` — ${h.reason}` : ""}</li>`)}</ol></details></td>
      <td class="moves">${o.allowedMoves.filter((m) => mayTake(o, me, m)).map((m) =>
        html`<button type="button" data-move="${m}" data-objection="${o.id}">${t(`obj.move.${m}`)}</button>`)}</td></tr>`)}</tbody></table>`;
}

function noticeTable(list) {
  if (!list.length) return html`<p class="muted">${t("obj.noNotices")}</p>`;
  return html`<table id="notice-table"><thead><tr><th>${t("data.at")}</th><th>${t("obj.record")}</th>
    <th>${t("obj.before")}</th><th>${t("obj.after")}</th></tr></thead>
    <tbody>${list.map((n) => html`<tr data-notice="${n.objectionId}"><td>${time(n.at, true)}</td>
      <td>${n.code}<div class="small">${n.recordId} · <strong>${n.item}</strong></div></td>
      <td>${cell(n.before)}</td><td>${cell(n.after)}</td></tr>`)}</tbody></table>`;
}

export async function renderObjections(el, { me, toast }) {
  const sides = me.department ? [["source", "obj.onMine"], ["objector", "obj.mine"]] : [["", "data.every"]];
  const side = view.side !== null && sides.some(([k]) => k === view.side) ? view.side : sides[0][0];
  view.side = side;
  show(el, html`<section class="panel" aria-labelledby="obj-title">
      <h3 id="obj-title">${t("obj.title")}</h3>
      <p class="muted small">${t("obj.hint")}</p>
      <div class="tabs" role="tablist" id="obj-tabs">${sides.map(([k, label]) =>
        html`<button type="button" role="tab" data-side="${k}" aria-selected="${String(k === side)}">${t(label)}</button>`)}</div>
      <p class="muted small" id="obj-total"></p>
      <div id="obj-move"></div>
      <p class="error" id="obj-error" role="alert"></p>
      <div id="obj-list" aria-live="polite"></div>
    </section>
    <section class="panel" aria-labelledby="notice-title"><h3 id="notice-title">${t("obj.notices")}</h3>
      <div id="notice-list"></div></section>`);
  const list = el.querySelector("#obj-list");
  const errEl = el.querySelector("#obj-error");
  const moveEl = el.querySelector("#obj-move");
  let asked = 0; // the newest list asked for: an older answer that comes back later is not shown over it
  const load = async () => {
    const mine = ++asked;
    const q = view.side ? `&as=${view.side}` : "";
    try {
      const r = await get(`/datahub/objections?limit=200${q}`, { total: true });
      if (mine !== asked) return;
      el.querySelector("#obj-total").textContent = `${r.total} ${t("obj.count")}`;
      show(list, objectionTable(r.data, me));
    } catch (e) {
      if (mine !== asked) return;
      show(list, html`<p class="error" role="alert">${e.message}</p>`);
    }
    list.querySelectorAll("[data-move]").forEach((b) => b.addEventListener("click", () => ask(b.dataset.objection, b.dataset.move)));
  };
  const move = async (id, action, body) => {
    errEl.textContent = "";
    try {
      await post(`/datahub/objections/${enc(id)}/${action}`, body);
      toast(`${t(`obj.move.${action}`)} ✓`);
      show(moveEl, html``);
      await load();
    } catch (e) {
      errEl.textContent = e.message;
    }
  };
  const ask = async (id, action) => {
    if (action === "accept" || action === "withdraw") { move(id, action, {}); return; }
    const o = await get(`/datahub/objections/${enc(id)}`);
    const field = action === "correct"
      ? html`<label>${t("obj.newValue")} <input name="value" required value="${o.proposedValue != null ? cell(o.proposedValue) : ""}"></label>`
      : html`<label>${t("data.reason")} <textarea name="reason" rows="2" required></textarea></label>`;
    show(moveEl, html`<form id="obj-move-form" class="action-form" aria-label="${t(`obj.move.${action}`)}">
      <p>${t(`obj.move.${action}`)} · ${o.recordId} · ${o.item}</p>${field}
      <button type="submit" class="primary">${t("data.confirm")}: ${t(`obj.move.${action}`)}</button></form>`);
    const form = moveEl.querySelector("form");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = Object.fromEntries(new FormData(form).entries());
      move(id, action, action === "correct" ? { value: f.value } : { reason: f.reason });
    });
    form.querySelector("input, textarea").focus();
  };
  el.querySelectorAll("[data-side]").forEach((b) => b.addEventListener("click", () => {
    view.side = b.dataset.side;
    el.querySelectorAll("[data-side]").forEach((x) => x.setAttribute("aria-selected", String(x === b)));
    load();
  }));
  await load();
  try {
    show(el.querySelector("#notice-list"), noticeTable(await get("/datahub/objection-notices?limit=100")));
  } catch (e) {
    show(el.querySelector("#notice-list"), html`<p class="error">${e.message}</p>`);
  }
}

// The form under a dataset read to object to one item's value of one record read (数据异议).
export function objectForm(el, entry, record, items, { toast }) {
  show(el, html`<form id="object-form" class="action-form" aria-label="${t("obj.object")}">
    <p>${t("obj.object")} · ${record.id}</p>
    <label>${t("obj.item")} <select name="item">${items.map((i) => html`<option value="${i.name}">${i.zh} (${i.name})</option>`)}</select></label>
    <label>${t("obj.evidence")} <textarea name="evidence" rows="2" required></textarea></label>
    <label>${t("obj.proposed")} <input name="proposedValue"></label>
    <p class="error" id="object-error" role="alert"></p>
    <button type="submit" class="primary">${t("obj.submit")}</button></form>`);
  const form = el.querySelector("form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(form).entries());
    const body = { code: entry.code, recordId: record.id, item: f.item, evidence: f.evidence };
    if (f.proposedValue) body.proposedValue = f.proposedValue;
    try {
      const o = await post("/datahub/objections", body);
      toast(`${t("obj.submitted")} ✓`);
      show(el, html`<p class="ok" id="object-done" data-objection="${o.id}">${t("obj.submitted")} · ${departmentName(o.source)} · ${t("obj.due")} ${time(o.dueAt, true)}</p>`);
    } catch (e) {
      el.querySelector("#object-error").textContent = e.message;
    }
  });
  form.querySelector("textarea").focus();
}
