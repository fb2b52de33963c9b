// 办事: a bundle's merged form (一表申请). Each question once, its input by type; the answers are checked by the
// server as they change (debounced): it says which questions are shown, which items apply and which fields are
// wrong. The submission carries one Idempotency-Key per form, so a second click creates nothing new.
import { html, show } from "/static/js/dom.js";
import { L, call, post, subject } from "./api.js";

// questions about the applicant that the login answers: the person's ID number, the enterprise's credit code
const PREFILL = { person: ["applicant_id_card", "mother_id_card"], enterprise: ["credit_code"] };
const label = (x) => L(x.label, x.labelEn);
const newKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

function field(q) {
  const a = { id: `q-${q.code}`, name: q.code };
  const attrs = html`id="${a.id}" name="${a.name}" data-type="${q.type}"`;
  const opts = (o) => html`<option value="${o.value}">${label(o)}</option>`;
  switch (q.type) {
    case "boolean":
      return html`<select ${attrs}><option value=""></option><option value="true">${L("是", "Yes")}</option><option value="false">${L("否", "No")}</option></select>`;
    case "choice":
      return html`<select ${attrs}><option value=""></option>${q.options.map(opts)}</select>`;
    case "multichoice":
      return html`<span class="checks" id="${a.id}">${q.options.map((o) => html`<label><input type="checkbox" name="${q.code}" value="${o.value}"> ${label(o)}</label>`)}</span>`;
    case "integer":
    case "number":
      return html`<input type="number" inputmode="decimal" step="${q.type === "integer" ? "1" : "any"}" min="${q.min ?? ""}" max="${q.max ?? ""}" ${attrs}>`;
    case "date":
      return html`<input type="date" ${attrs}>`;
    case "phone":
      return html`<input type="tel" inputmode="tel" maxlength="20" ${attrs}>`;
    case "id-card":
    case "credit-code":
      return html`<input maxlength="18" autocomplete="off" ${attrs}>`;
    default:
      return html`<input maxlength="${q.maxLength ?? 500}" ${attrs}>`;
  }
}

function read(form, questions) {
  const out = {};
  for (const q of questions) {
    if (q.type === "multichoice") {
      const v = [...form.querySelectorAll(`input[name="${q.code}"]:checked`)].map((e) => e.value);
      if (v.length) out[q.code] = v;
      continue;
    }
    const raw = form.elements[q.code].value.trim();
    if (raw === "") continue;
    out[q.code] = q.type === "boolean" ? raw === "true" : q.type === "integer" ? parseInt(raw, 10)
      : q.type === "number" ? Number(raw) : raw;
  }
  return out;
}

function paint(view, checked) {
  const shown = new Set(checked.questions);
  for (const row of view.querySelectorAll(".question")) row.hidden = !shown.has(row.dataset.question);
  const applying = new Set(checked.items);
  for (const li of view.querySelectorAll("#items li[data-item]")) {
    li.dataset.applies = String(applying.has(li.dataset.item));
    li.querySelector(".state").textContent = applying.has(li.dataset.item) ? L("需办理", "applies") : L("无需办理", "skipped");
  }
}

function errors(view, list) {
  for (const p of view.querySelectorAll(".question .error")) p.textContent = "";
  for (const e of list) {
    const p = view.querySelector(`.question[data-question="${e.field}"] .error`);
    if (p) p.textContent = e.message;
  }
}

export async function applyView(view, code) {
  const [bundle, form] = await Promise.all([call(`/onestop/bundles/${encodeURIComponent(code)}`),
    call(`/onestop/bundles/${encodeURIComponent(code)}/form`)]);
  show(view, html`<h2>${L(bundle.name, bundle.nameEn)}</h2><p class="muted">${bundle.description}
    <a href="${bundle.guide}">${L("办事指南", "Service guide")}</a></p>
    <h3>${L("本次办理的事项", "The items of this application")}</h3>
    <ul id="items" class="list">${bundle.items.map((i) => html`<li data-item="${i.item}">${i.name}
      <span class="muted">${i.departmentName}</span> <span class="state"></span></li>`)}</ul>
    <form id="apply-form" class="form" novalidate>${form.questions.map((q) => html`<div class="question" data-question="${q.code}">
      <label for="q-${q.code}">${label(q)}${q.required ? html` <b class="req">*</b>` : ""}</label>${field(q)}
      <p class="error" role="alert"></p></div>`)}
      <button type="submit">${L("提交申请", "Submit")}</button><p id="apply-error" class="error" role="alert"></p></form>`);
  const el = view.querySelector("#apply-form");
  const me = subject();
  for (const c of (me && PREFILL[me.kind]) || []) if (el.elements[c]) el.elements[c].value = me.key;
  const check = () => post(`/onestop/bundles/${encodeURIComponent(code)}/form/check`, { answers: read(el, form.questions) });
  let timer = null;
  let touched = false;
  const recheck = async () => {
    const checked = await check();
    if (!timer) el.setAttribute("aria-busy", "false"); // no later change waits to be checked
    paint(view, checked);
    if (touched) errors(view, checked.errors);
    return checked;
  };
  const later = () => {
    touched = true;
    el.setAttribute("aria-busy", "true");
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; recheck().catch(console.warn); }, 250);
  };
  el.addEventListener("input", later);
  el.addEventListener("change", later);
  await recheck();
  const key = newKey(); // one per form: a retry or a second click is the same submission
  let busy = false;
  el.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (busy) return;
    busy = true;
    const failed = view.querySelector("#apply-error");
    failed.textContent = "";
    try {
      touched = true;
      const checked = await recheck();
      if (!checked.valid) throw new Error(L("请按提示修改后再提交", "Please correct the fields marked"));
      const done = await call("/onestop/submissions", { method: "POST", headers: { "Idempotency-Key": key },
        body: JSON.stringify({ bundle: code, answers: checked.answers }) });
      location.hash = `#/submission/${done.id}`;
    } catch (e) {
      failed.textContent = e.message;
      if (e.body && Array.isArray(e.body.errors)) errors(view, e.body.errors);
    } finally {
      busy = false;
    }
  });
}
