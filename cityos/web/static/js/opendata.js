// 公共数据开放 · 开放申请 / Open data applications: the applications for the conditional (有条件开放) datasets a
// reviewer decides (a department: those of its own datasets; the big-data centre, operators, administrators:
// all), filtered by state; each with the applicant, the purpose and scenario, the history, and the decision
// its state allows: approve with terms and a period, refuse with a reason, revoke an approval with a reason.
// Route: #/opendata.

import { call, post } from "./api.js";
import { departmentName, t, time } from "./i18n.js";
import { html, show } from "./dom.js";

const enc = encodeURIComponent;
const STATES = ["submitted", "approved", "refused", "revoked", "expired"];
const DAY = 86_400_000;

function event(e) {
  return html`<li>${time(e.at, true)} · ${t(`od.action.${e.action}`)} · ${e.by}${e.byDepartment ? ` (${departmentName(e.byDepartment)})` : ""}${e.reason ? html` · <q>${e.reason}</q>` : ""}</li>`;
}

function decisionForms(a) {
  const moves = a.allowedMoves;
  const until = new Date(Date.now() + 180 * DAY).toISOString().slice(0, 10);
  return html`${moves.includes("approve") ? html`<form class="inline-form od-approve" data-action="approve">
      <label>${t("od.terms")} <textarea name="terms" rows="2" maxlength="8000">${t("od.termsDefault")}</textarea></label>
      <label>${t("od.until")} <input type="date" name="until" value="${until}" required></label>
      <button type="submit" class="primary">${t("od.approve")}</button><span class="error" role="alert"></span></form>` : ""}
    ${moves.includes("refuse") ? html`<form class="inline-form od-refuse" data-action="refuse">
      <label>${t("od.reason")} <input name="reason" maxlength="2000" size="40"></label>
      <button type="submit">${t("od.refuse")}</button><span class="error" role="alert"></span></form>` : ""}
    ${moves.includes("revoke") ? html`<form class="inline-form od-revoke" data-action="revoke">
      <label>${t("od.reason")} <input name="reason" maxlength="2000" size="40"></label>
      <button type="submit">${t("od.revoke")}</button><span class="error" role="alert"></span></form>` : ""}`;
}

function application(a) {
  return html`<li class="panel" data-application="${a.id}" data-state="${a.state}">
    <p><b><a href="/opendata/datasets/${enc(a.dataset)}" target="_blank" rel="noopener">${a.dataset}</a></b> · ${departmentName(a.provider)}
      · <span class="od-state" data-state="${a.state}">${a.stateZh}</span>${a.endsAt ? html` · ${t("od.endsAt")} ${time(a.endsAt, true)}` : ""}</p>
    <p class="small">${a.name}${a.organisation ? ` · ${a.organisation}` : ""} · ${t(`od.kind.${a.kind}`)} · ${a.contact}</p>
    <p class="small">${t("od.scenario")}: ${a.scenario}</p>
    <p class="small">${t("od.purpose")}: ${a.purpose}</p>
    ${a.terms ? html`<p class="small">${t("od.terms")}: ${a.terms}</p>` : ""}
    <details><summary class="small">${t("od.history")}</summary><ol class="small">${a.history.map(event)}</ol></details>
    ${decisionForms(a)}</li>`;
}

export async function renderOpendata(el, { me, toast }) {
  const can = (p) => me.permissions.includes("*") || me.permissions.includes(p);
  const scope = me.department && me.department !== "big-data" ? ` · ${departmentName(me.department)}` : "";
  show(el, html`<header><h2 id="od-title" tabindex="-1">${t("od.title")}</h2>
    <p><a href="/opendata/" target="_blank" rel="noopener">${t("od.portal")}</a></p></header>
    <div class="data-body"><section class="panel" aria-labelledby="od-list-title"><h3 id="od-list-title">${t("od.list")}${scope}</h3>
      <form class="inline-form" id="od-filter"><label>${t("od.state")} <select name="state" id="od-state">
        <option value="">${t("od.all")}</option>${STATES.map((s) => html`<option value="${s}" ${s === "submitted" ? html`selected` : ""}>${t(`od.state.${s}`)}</option>`)}</select></label></form>
      <div id="od-list" aria-live="polite"></div></section></div>`);
  if (!can("applications:read")) {
    show(el.querySelector("#od-list"), html`<p class="muted">${t("forbidden")}</p>`);
    return;
  }
  const list = async () => {
    const chosen = el.querySelector("#od-state").value;
    const got = await call("GET", `/opendata/applications?limit=200${chosen ? `&state=${enc(chosen)}` : ""}`, undefined, { total: true });
    const box = el.querySelector("#od-list");
    if (!box) return; // the page was left meanwhile
    show(box, got.data.length
      ? html`<p class="muted small" id="od-total">${got.total} ${t("od.count")}</p><ol class="list" id="od-applications">${got.data.map(application)}</ol>`
      : html`<p class="muted" id="od-empty">${t("od.empty")}</p>`);
    box.dataset.shown = chosen || "all"; // which state the list shows, once it is drawn
    if (!can("applications:decide")) box.querySelectorAll("form").forEach((f) => f.remove());
    box.querySelectorAll("form[data-action]").forEach((form) => form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const id = form.closest("[data-application]").dataset.application;
      const error = form.querySelector(".error");
      const action = form.dataset.action;
      const body = { action };
      if (action === "approve") {
        body.terms = form.elements.terms.value.trim();
        const day = form.elements.until.value; // the period ends at the end of that day, Beijing time
        body.endsAt = day ? `${day}T23:59:59+08:00` : null;
      } else {
        body.reason = form.elements.reason.value.trim();
        if (!body.reason) { error.textContent = t("od.needsReason"); return; }
      }
      try {
        await post(`/opendata/applications/${enc(id)}/decision`, body);
        toast(t(`od.done.${action}`));
        await list();
      } catch (e) {
        error.textContent = e.message;
      }
    }));
  };
  el.querySelector("#od-state").addEventListener("change", () => list().catch((e) => toast(e.message)));
  try {
    await list();
  } catch (e) {
    if (el.querySelector("#od-list")) show(el.querySelector("#od-list"), html`<p class="error" role="alert">${e.message}</p>`);
  }
}
