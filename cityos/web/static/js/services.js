// 一网通办 · 办件 / One-stop services: a department's queue of applications (its own; operators every
// department's), filtered by state, oldest first; an application's review with its legal clock and history, and
// buttons for the actions the transition table allows now (a reason asked for where one is required).
// Routes: #/services/queue[/<application id>].

import { get, post } from "./api.js";
import { departmentName, t, time } from "./i18n.js";
import { href, html, show } from "./dom.js";

const enc = encodeURIComponent;
const STATES = ["submitted", "received", "supplement-requested", "suspended", "approved", "rejected",
  "refused-at-intake", "certificate-issued", "withdrawn"];
const NEEDS_REASON = new Set(["refuse", "request-supplement", "suspend", "reject"]);
const APPLICANTS = new Set(["supply", "withdraw"]);
const view = { state: "submitted" };
const stateWord = (s) => t(`svc.state.${s}`);
const clockTag = (c) => html`<span class="svc-clock" data-clock="${c.state || "none"}">${c.state ? t(`svc.clock.${c.state}`) : "—"}</span>`;
const errorText = (e) => html`<p class="error" role="alert">${e.message}</p>`;
// the item's rules (无人干预自动办理): their latest outcome, and each rule with the facts it read
const decisionTag = (d) => (d ? html`<span class="svc-decision" data-outcome="${d.outcome}">${t(`svc.decision.${d.outcome}`)}</span>` : "—");
const actorName = (name) => (name === "rules" ? t("svc.rulesActor") : name);

function traceTable(d) {
  return html`<h4>${t("svc.decision")} · ${decisionTag(d)} <span class="small muted">${time(d.at, true)} · v${d.itemVersion}</span></h4>
    <table id="svc-trace"><thead><tr><th>${t("svc.rule")}</th><th>${t("svc.ruleThen")}</th><th>${t("svc.ruleHolds")}</th>
    <th>${t("svc.reason")}</th><th>${t("svc.ruleInputs")}</th></tr></thead><tbody>${d.trace.map((s) => html`<tr data-rule="${s.rule}" data-holds="${s.holds}">
      <td><code>${s.rule}</code></td><td>${t(`svc.decision.${s.then}`)}</td><td>${s.holds ? "✓" : "✗"}</td>
      <td>${s.reason}<div class="small muted">${s.reasonEn}</div></td>
      <td class="small">${Object.entries(s.inputs).map(([k, v]) => html`<div><code>${k}</code> = ${JSON.stringify(v)}</div>`)}</td></tr>`)}</tbody></table>`;
}

function queueTable(list) {
  if (!list.length) return html`<p class="muted" id="svc-empty">${t("svc.empty")}</p>`;
  return html`<table id="svc-queue"><thead><tr><th>${t("svc.item")}</th><th>${t("svc.department")}</th>
    <th>${t("svc.applicant")}</th><th>${t("svc.state")}</th><th>${t("svc.promisedDue")}</th><th>${t("svc.clock")}</th>
    <th>${t("svc.created")}</th><th>${t("svc.decision")}</th></tr></thead><tbody>${list.map((a) => html`<tr data-application="${a.id}">
      <td><a href="${href(`#/services/queue/${enc(a.id)}`)}">${a.itemName}</a><div class="small muted">${a.item}</div></td>
      <td>${departmentName(a.department)}</td><td class="small">${a.applicant}</td>
      <td data-state="${a.state}">${stateWord(a.state)}</td><td>${a.clock.promisedDue ? time(a.clock.promisedDue, true) : "—"}</td>
      <td>${clockTag(a.clock)}</td><td>${time(a.createdAt, true)}</td><td>${decisionTag(a.decision)}</td></tr>`)}</tbody></table>`;
}

function historyTable(history) {
  return html`<table id="svc-history"><thead><tr><th>${t("svc.at")}</th><th>${t("svc.action")}</th><th>${t("svc.actor")}</th>
    <th>${t("svc.state")}</th><th>${t("svc.reason")}</th></tr></thead><tbody>${history.map((h) => html`<tr data-seq="${h.seq}">
      <td>${time(h.at, true)}</td><td>${t(`svc.act.${h.action}`)}</td><td>${actorName(h.actor)}</td>
      <td data-state="${h.toState}">${stateWord(h.toState)}</td><td>${h.reason || ""}</td></tr>`)}</tbody></table>`;
}

function review(a, can) {
  const c = a.clock;
  const mine = a.allowedActions.filter((x) => (APPLICANTS.has(x) ? can("services:apply") : can("services:handle")));
  return html`<h3 id="svc-review-title" data-application="${a.id}">${a.itemName} <span class="small muted">${a.item} v${a.itemVersion}</span></h3>
    <dl class="facts" id="svc-facts">
      <dt>${t("svc.state")}</dt><dd id="svc-state" data-state="${a.state}">${stateWord(a.state)}</dd>
      <dt>${t("svc.department")}</dt><dd>${departmentName(a.department)}</dd>
      <dt>${t("svc.applicant")}</dt><dd>${a.applicant} (${t(`svc.kind.${a.applicantKind}`)})</dd>
      <dt>${t("svc.receivedAt")}</dt><dd>${c.receivedAt ? time(c.receivedAt, true) : "—"}</dd>
      <dt>${t("svc.promisedDue")}</dt><dd id="svc-promised">${c.promisedDue ? time(c.promisedDue, true) : "—"} (${c.promisedDays} ${t("svc.wd")})</dd>
      <dt>${t("svc.legalDue")}</dt><dd>${c.legalDue ? time(c.legalDue, true) : "—"} (${c.legalDays} ${t("svc.wd")})</dd>
      <dt>${t("svc.clock")}</dt><dd>${clockTag(c)} · ${t("svc.used")} ${(c.usedHours / 24).toFixed(1)} ${t("svc.wd")}
        ${c.pausedHours ? html` · ${t("svc.paused")} ${(c.pausedHours / 24).toFixed(1)} ${t("svc.wd")}` : ""}</dd>
      ${a.reasons ? html`<dt>${t("svc.reason")}</dt><dd id="svc-reasons">${a.reasons}</dd>` : ""}
    </dl>
    ${mine.length ? html`<form id="svc-act" class="inline-form" aria-label="${t("svc.actions")}">
      <label>${t("svc.reason")} <textarea name="reason" rows="2" maxlength="2000"
        placeholder="${t("svc.reasonHint")}"></textarea></label>
      <div class="buttons">${mine.map((x) => html`<button type="button" data-action="${x}"
        class="${x === "approve" || x === "receive" ? "primary" : ""}">${t(`svc.act.${x}`)}</button>`)}</div>
      <span class="error" id="svc-error" role="alert"></span></form>` : html`<p class="muted" id="svc-final">${t("svc.noActions")}</p>`}
    ${a.decision ? traceTable(a.decision) : ""}
    <h4>${t("svc.history")}</h4>${historyTable(a.history)}`;
}

async function renderReview(el, id, { can, toast }) {
  const a = await get(`/onestop/applications/${enc(id)}`);
  show(el, review(a, can));
  el.querySelectorAll("#svc-act [data-action]").forEach((b) => b.addEventListener("click", async () => {
    const action = b.dataset.action;
    const reason = el.querySelector("#svc-act [name=reason]").value.trim();
    const error = el.querySelector("#svc-error");
    error.textContent = "";
    if (NEEDS_REASON.has(action) && !reason) {
      error.textContent = t("svc.needsReason");
      return;
    }
    try {
      const done = await post(`/onestop/applications/${enc(id)}/actions/${enc(action)}`, reason ? { reason } : {});
      toast(`${t(`svc.act.${action}`)} ✓ ${stateWord(done.state)}`);
      await renderReview(el, id, { can, toast });
      const row = document.querySelector(`#svc-queue tr[data-application="${id}"] td[data-state]`);
      if (row) { row.dataset.state = done.state; row.textContent = stateWord(done.state); }
    } catch (e) {
      error.textContent = e.message;
    }
  }));
}

export async function renderServices(el, rest, { me, toast }) {
  const can = (p) => me.permissions.includes("*") || me.permissions.includes(p);
  const [, id] = rest.split("/").filter(Boolean).concat(["", ""]);
  show(el, html`<header><h2 id="svc-title" tabindex="-1">${t("svc.title")}</h2>
    <p class="small"><a href="${href("#/services/ratings")}" id="svc-ratings">${t("svc.ratings")}</a> ·
      <a href="${href("#/services/policies")}" id="svc-policies">${t("svc.policies")}</a></p></header>
    <div class="data-body"><section class="panel" aria-labelledby="svc-queue-title">
      <h3 id="svc-queue-title">${t("svc.queue")}${me.department ? ` · ${departmentName(me.department)}` : ""}</h3>
      <form id="svc-filter" class="filters" role="search"><label>${t("svc.state")}
        <select name="state"><option value="">${t("svc.all")}</option>${STATES.map((s) => html`<option value="${s}"${s === view.state ? " selected" : ""}>${stateWord(s)}</option>`)}</select></label></form>
      <div id="svc-list" aria-live="polite"></div></section>
    <section class="panel" aria-labelledby="svc-review-title" id="svc-review"${id ? "" : " hidden"}></section></div>`);
  if (!can("services:handle")) {
    show(el.querySelector("#svc-list"), html`<p class="muted">${t("forbidden")}</p>`);
    return;
  }
  const list = async () => {
    const into = (content) => el.querySelector("#svc-list") && show(el.querySelector("#svc-list"), content);  // gone: navigated away
    try {
      const q = await get(`/onestop/applications?perPage=200${view.state ? `&state=${enc(view.state)}` : ""}`);
      into(html`<p class="muted small" id="svc-total">${q.total} ${t("svc.count")}</p>${queueTable(q.applications)}`);
    } catch (e) {
      into(errorText(e));
    }
  };
  el.querySelector("#svc-filter select").addEventListener("change", (ev) => { view.state = ev.target.value; list(); });
  await list();
  if (id) {
    const box = el.querySelector("#svc-review");
    try {
      await renderReview(box, decodeURIComponent(id), { can, toast });
    } catch (e) {
      show(box, errorText(e));
    }
  }
}
