// One case in the drawer: what it is, its history, and the actions this account may take on it now.

import { get, post } from "./api.js";
import { departmentCodes, departmentName, pick, t, time } from "./i18n.js";
import { html, show } from "./dom.js";

// What each action asks for, beyond the click (the workflow's guards say the same on the server).
const FIELDS = {
  dispatch: ["department"],
  reassign: ["department", "reason"],
  return: ["reason"],
  request_suspend: ["reason"],
  approve_suspend: ["reason"],
  reject_suspend: ["reason"],
  request_extension: ["reason", "due"],
  approve_extension: ["reason"],
  reject_extension: ["reason"],
  handle: ["result"],
  verify_fail: ["reason"],
  rate: ["rating"],
  reopen: ["reason"],
  cancel: ["reason"],
  merge: ["into"],
  comment: ["reason"],
};
const VERIFIER = { inspector: "inspector", reporter: "reporter", operator: "reporter" };
const ROLE_WORDS = {
  dispatcher: ["派单员", "dispatcher"], operator: ["话务员", "operator"], inspector: ["网格监督员", "inspector"],
  supervisor: ["督办", "supervisor"], handler: ["处置部门", "handler"], reporter: ["市民", "reporter"],
};

let taxonomy = null;
export async function loadTaxonomy() {
  if (!taxonomy) taxonomy = await get("/cases/taxonomy");
  return taxonomy;
}
export const stateName = (s) => (taxonomy && taxonomy.states[s] ? pick(taxonomy.states[s]) : s);
const actionName = (a) => (taxonomy && taxonomy.actions[a] ? pick(taxonomy.actions[a]) : a);
const categoryName = (code) => {
  const sub = taxonomy && taxonomy.subs.find((s) => s.code === code);
  return sub ? pick(sub.name) || code : code;
};
const roleName = (r) => (ROLE_WORDS[r] ? ROLE_WORDS[r][document.documentElement.lang === "en" ? 1 : 0] : r);

export async function openCase(container, caseId, { onChanged, toast }) {
  await loadTaxonomy();
  const d = await get(`/cases/${encodeURIComponent(caseId)}`);
  const c = d.case;
  // each action once, under the first role that may take it
  const offers = [];
  const seen = new Set();
  for (const [role, actions] of Object.entries(d.allowed)) {
    for (const a of actions) {
      if (!seen.has(a) && a !== "comment") { seen.add(a); offers.push([a, role]); }
    }
  }
  show(container, html`
    <h2 id="drawer-title">${c.text ? c.text.slice(0, 40) : c.id}</h2>
    <p><span class="state" data-state="${c.state}">${stateName(c.state)}</span> <span class="muted small">${c.id}</span></p>
    <dl class="kv">
      <dt>${t("cases.text")}</dt><dd>${c.text || "—"}</dd>
      <dt>${t("cases.category")}</dt><dd>${categoryName(c.category)}</dd>
      <dt>${t("cases.department")}</dt><dd>${departmentName(c.department)}</dd>
      <dt>${t("cases.place")}</dt><dd>${c.address || "—"}</dd>
      <dt>${t("cases.source")}</dt><dd>${c.source}</dd>
      <dt>${t("cases.due")}</dt><dd>${time(c.dueAt, true)}</dd>
      ${c.result ? html`<dt>${t("cases.result")}</dt><dd>${c.result}</dd>` : ""}
    </dl>
    <h3>${t("cases.actionsAs")}</h3>
    <div class="actions" id="case-actions">
      ${offers.length ? offers.map(([a, role]) => html`<button type="button" class="primary" data-action="${a}" data-role="${role}">${actionName(a)}<span class="muted small"> · ${roleName(role)}</span></button>`)
        : html`<span class="muted">${t("cases.noActions")}</span>`}
    </div>
    <div id="case-form"></div>
    <p class="error" id="case-error" role="alert"></p>
    <h3>${t("cases.history")}</h3>
    <ol class="history">${d.history.map((h) => html`<li>${time(h.at, true)} · ${actionName(h.action)} · ${h.actor}${h.reason ? ` — ${h.reason}` : ""}${h.to ? ` → ${stateName(h.to)}` : ""}</li>`)}</ol>`);
  const formEl = container.querySelector("#case-form");
  const errEl = container.querySelector("#case-error");
  const take = async (action, role, fields) => {
    errEl.textContent = "";
    const body = { role, data: {} };
    if (fields.reason) body.reason = fields.reason;
    if (fields.department) body.data.department = fields.department;
    if (fields.result) body.data.result = fields.result;
    if (fields.rating) body.data.rating = Number(fields.rating);
    if (fields.into) body.data.into = fields.into;
    if (fields.due) body.data.due = new Date(fields.due).toISOString();
    if (action === "verify_ok") body.data.verifier = VERIFIER[role] || "inspector";
    try {
      await post(`/cases/${encodeURIComponent(caseId)}/actions/${action}`, body);
      toast(`${actionName(action)} ✓`);
      onChanged();
      await openCase(container, caseId, { onChanged, toast });
      const first = container.querySelector("#case-actions button");
      if (first) first.focus();
    } catch (e) {
      errEl.textContent = e.message;
    }
  };
  container.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", () => {
    const action = b.dataset.action, role = b.dataset.role;
    const fields = FIELDS[action] || [];
    if (!fields.length) { take(action, role, {}); return; }
    show(formEl, html`<form class="action-form" id="action-form" aria-label="${actionName(action)}">
      ${fields.map((f) => field(f, c))}
      <button type="submit" class="primary">${t("cases.confirm")}: ${actionName(action)}</button></form>`);
    const form = formEl.querySelector("form");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      take(action, role, Object.fromEntries(new FormData(form).entries()));
    });
    const firstInput = form.querySelector("select, textarea, input");
    if (firstInput) firstInput.focus();
  }));
}

function field(name, c) {
  if (name === "department") {
    const options = departmentCodes().map((code) =>
      html`<option value="${code}"${code === (c.routing && c.routing.department) || code === c.department ? html` selected` : ""}>${departmentName(code)}</option>`);
    return html`<label>${t("cases.department")} <select name="department" required>${options}</select></label>`;
  }
  if (name === "reason") return html`<label>${t("cases.reason")} <textarea name="reason" rows="2" required></textarea></label>`;
  if (name === "result") return html`<label>${t("cases.result")} <textarea name="result" rows="2" required></textarea></label>`;
  if (name === "due") return html`<label>${t("cases.due.new")} <input type="datetime-local" name="due" required></label>`;
  if (name === "rating") {
    const opts = Object.entries((taxonomy && taxonomy.ratings) || {}).map(([k, v]) => html`<option value="${k}">${pick(v)}</option>`);
    return html`<label>${t("cases.rating")} <select name="rating">${opts}</select></label>`;
  }
  if (name === "into") return html`<label>ID <input name="into" required></label>`;
  return "";
}
