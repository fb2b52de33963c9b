// One case in the drawer: what it is, its history, and the actions this account may take on it now.

import { get, post } from "./api.js";
import { departmentCodes, departmentName, pick, t, time } from "./i18n.js";
import { esc } from "./map.js";

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
  container.innerHTML = `
    <h2 id="drawer-title">${esc(c.text ? c.text.slice(0, 40) : c.id)}</h2>
    <p><span class="state" data-state="${esc(c.state)}">${esc(stateName(c.state))}</span> <span class="muted small">${esc(c.id)}</span></p>
    <dl class="kv">
      <dt>${t("cases.text")}</dt><dd>${esc(c.text || "—")}</dd>
      <dt>${t("cases.category")}</dt><dd>${esc(categoryName(c.category))}</dd>
      <dt>${t("cases.department")}</dt><dd>${esc(departmentName(c.department))}</dd>
      <dt>${t("cases.place")}</dt><dd>${esc(c.address || "—")}</dd>
      <dt>${t("cases.source")}</dt><dd>${esc(c.source)}</dd>
      <dt>${t("cases.due")}</dt><dd>${time(c.dueAt, true)}</dd>
      ${c.result ? `<dt>${t("cases.result")}</dt><dd>${esc(c.result)}</dd>` : ""}
    </dl>
    <h3>${t("cases.actionsAs")}</h3>
    <div class="actions" id="case-actions">
      ${offers.length ? offers.map(([a, role]) => `<button type="button" class="primary" data-action="${esc(a)}" data-role="${esc(role)}">${esc(actionName(a))}<span class="muted small"> · ${esc(roleName(role))}</span></button>`).join("")
        : `<span class="muted">${t("cases.noActions")}</span>`}
    </div>
    <div id="case-form"></div>
    <p class="error" id="case-error" role="alert"></p>
    <h3>${t("cases.history")}</h3>
    <ol class="history">${d.history.map((h) => `<li>${time(h.at, true)} · ${esc(actionName(h.action))} · ${esc(h.actor)}${h.reason ? ` — ${esc(h.reason)}` : ""}${h.to ? ` → ${esc(stateName(h.to))}` : ""}</li>`).join("")}</ol>`;
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
    formEl.innerHTML = `<form class="action-form" id="action-form" aria-label="${esc(actionName(action))}">
      ${fields.map((f) => field(f, c)).join("")}
      <button type="submit" class="primary">${t("cases.confirm")}: ${esc(actionName(action))}</button></form>`;
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
      `<option value="${code}"${code === (c.routing && c.routing.department) || code === c.department ? " selected" : ""}>${esc(departmentName(code))}</option>`).join("");
    return `<label>${t("cases.department")} <select name="department" required>${options}</select></label>`;
  }
  if (name === "reason") return `<label>${t("cases.reason")} <textarea name="reason" rows="2" required></textarea></label>`;
  if (name === "result") return `<label>${t("cases.result")} <textarea name="result" rows="2" required></textarea></label>`;
  if (name === "due") return `<label>${t("cases.due.new")} <input type="datetime-local" name="due" required></label>`;
  if (name === "rating") {
    const opts = Object.entries((taxonomy && taxonomy.ratings) || {}).map(([k, v]) => `<option value="${k}">${esc(pick(v))}</option>`).join("");
    return `<label>${t("cases.rating")} <select name="rating">${opts}</select></label>`;
  }
  if (name === "into") return `<label>ID <input name="into" required></label>`;
  return "";
}
