// The one-stop portal (一网通办): the demo login and the home page of a logged-in person or enterprise. The token
// lives in this tab's sessionStorage; every list is the JSON of a /onestop route, written through dom.js's html``.
import { html, show } from "/static/js/dom.js";
import { SUBJECT } from "./api.js";
import { applyView } from "./apply.js";
import { submissionView } from "./submission.js";
import { noticeList } from "./notices.js";
import { walletList } from "./wallet.js";

const KEY = "cityos.onestop.token";
const EN = {
  title: "One-stop services", "demo.notice": "Demo identity provider: this page stands in for the city's unified identity authentication (an OpenID Connect provider, say); demo only, every person and enterprise is synthetic.",
  "login.pick": "Pick a demo person or enterprise", "login.title": "Log in", "login.subject": "ID number or unified social credit code",
  "login.code": "Code (demo: 123456)", "login.go": "Log in", logout: "Log out", services: "Services",
  "bundle.newborn": "A newborn", "bundle.restaurant": "Opening a restaurant", "bundle.retirement": "Retirement",
  "bundle.enterprise-change": "Enterprise changes", "bundle.home-resale": "Buying a second-hand home",
  submissions: "My applications", notices: "My messages · policies for me", wallet: "My certificates", usage: "Who used my data", objections: "Data objections",
  "usage.note": "Reads of your data by departments under their grants, from the data resource system's audit chain; each look of yours is recorded too.",
  more: "More", none: "None yet", "objection.item": "The wrong item", "objection.proposed": "The right value (optional)",
  "objection.evidence": "Evidence (what is wrong and how you know)", "objection.go": "Object",
  person: "person", enterprise: "enterprise", city: "the city", submitted: "submitted", verifying: "verifying",
  corrected: "corrected", rejected: "rejected", withdrawn: "withdrawn",
};
const ZH = { none: "暂无", person: "自然人", enterprise: "法人", city: "城市运行中心", submitted: "已提交", verifying: "核实中",
  corrected: "已更正", rejected: "已驳回", withdrawn: "已撤回" };
let lang = localStorage.getItem("cityos.lang") === "en" ? "en" : "zh-CN";
const t = (k) => (lang === "en" ? EN[k] : ZH[k]) || k;

function applyLang() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.dataset.zh ??= el.textContent;
    el.textContent = lang === "en" ? EN[el.dataset.i18n] || el.dataset.zh : el.dataset.zh;
  }
  document.getElementById("lang").textContent = lang === "en" ? "中文" : "English";
}

async function call(url, options = {}) {
  const token = sessionStorage.getItem(KEY);
  const headers = { Accept: "application/json", ...(options.body ? { "Content-Type": "application/json" } : {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(url, { ...options, headers });
  const body = r.status === 204 ? null : await r.json().catch(() => null);
  if (r.status === 401 && document.body.dataset.page === "home") location.replace("/onestop/login");
  if (!r.ok) throw Object.assign(new Error((body && (body.detail || body.title)) || `HTTP ${r.status}`), { status: r.status });
  return body;
}

const when = (iso) => new Date(iso).toLocaleString(lang);
const empty = () => html`<li class="muted">${t("none")}</li>`;
function fill(el, items, row) {
  el.removeAttribute("aria-busy");
  show(el, items.length ? html`${items.map(row)}` : empty());
}

// --- login -------------------------------------------------------------------------------------------------
async function login(subject, code) {
  const error = document.getElementById("login-error");
  error.textContent = "";
  try {
    const body = await call("/onestop/login/demo", { method: "POST", body: JSON.stringify({ subject, code }) });
    sessionStorage.setItem(KEY, body.token);
    sessionStorage.setItem(SUBJECT, JSON.stringify(body.subject));
    location.assign("/onestop/");
  } catch (e) {
    error.textContent = e.message;
  }
}

async function loginPage() {
  const list = document.getElementById("subjects");
  const found = await call("/onestop/login/demo/subjects").catch(() => ({ subjects: [] }));
  fill(list, found.subjects, (s) => html`<li><button type="button" data-subject="${s.key}">${s.name || s.key}
    <span class="muted">${t(s.kind)} · ${s.key}</span></button></li>`);
  list.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-subject]");
    if (b) document.getElementById("subject").value = b.dataset.subject;
    document.getElementById("code").focus();
  });
  document.getElementById("login").addEventListener("submit", (ev) => {
    ev.preventDefault();
    login(document.getElementById("subject").value.trim(), document.getElementById("code").value.trim());
  });
}

// --- home: the lists, or the view the hash names (#/apply/{bundle}, #/submission/{id}) -----------------------
const VIEWS = { apply: applyView, submission: submissionView };
async function route() {
  const [, name, arg] = location.hash.match(/^#\/(\w+)\/(.+)$/) || [];
  const view = document.getElementById("view");
  view.hidden = !VIEWS[name];
  for (const s of document.querySelectorAll("main > section:not(#view)")) s.hidden = Boolean(VIEWS[name]);
  if (VIEWS[name]) return VIEWS[name](view, decodeURIComponent(arg)).catch((e) => show(view, html`<p class="error">${e.message}</p>`));
  window.scrollTo(0, 0);
  const bundles = await call("/onestop/bundles").catch(() => null);
  if (bundles) fill(document.getElementById("bundles"), bundles, (b) => html`<li data-bundle="${b.code}">
    <a href="#/apply/${b.code}">${lang === "en" ? b.nameEn : b.name}</a><a class="guide" href="${b.guide}">${lang === "en" ? "Guide" : "办事指南"}</a></li>`);
  optional("/onestop/me/submissions", document.querySelector("#submissions ul"), (s) => html`<li data-submission="${s.id}">
    <a href="#/submission/${s.id}">${s.applications.map((a) => a.itemName).join("、")}</a>
    <span class="state">${s.overall}</span><br><span class="muted">${when(s.createdAt)}</span></li>`);
  walletList(document.querySelector("#wallet ul"));
  noticeList(document.querySelector("#notices ul"));
}

// --- home --------------------------------------------------------------------------------------------------
async function optional(url, el, row) {
  try {
    const body = await call(url);
    fill(el, Array.isArray(body) ? body : body.items || body.submissions || body.credentials || [], row);
  } catch {
    fill(el, [], row); // the route is not there (yet), or holds nothing for this token: 暂无
  }
}

let before = null;
async function usage(more) {
  const list = document.getElementById("usage-list");
  const page = await call(`/onestop/me/usage?limit=10${more && before ? `&before=${before}` : ""}`);
  const rows = page.reads.map((u) => html`<li data-seq="${u.seq}"><b>${u.department || t("city")}</b> · ${when(u.at)}<br>
    ${u.entry}${u.items ? html`：${u.items.join("、")}` : ""}<br>
    <span class="muted">${u.scenario || ""}${u.purpose ? html` · ${u.purpose}` : ""}${u.grant ? html` · ${u.grant}` : ""}</span></li>`);
  list.removeAttribute("aria-busy");
  if (more) list.insertAdjacentHTML("beforeend", html`${rows}`.text);
  else show(list, rows.length ? html`${rows}` : empty());
  before = page.nextBefore;
  document.getElementById("usage-more").hidden = before === null;
}

async function objections() {
  const found = await call("/onestop/me/objections");
  fill(document.getElementById("objection-list"), found.objections, (o) => html`<li data-id="${o.id}">
    <span class="state">${t(o.state)}</span> ${o.item}：${String(o.value ?? "")}${o.proposed ? html` → ${o.proposed}` : ""}<br>
    <span class="muted">${o.source} · ${when(o.createdAt)}${o.reason ? html` · ${o.reason}` : ""}${o.corrected != null ? html` · ${String(o.corrected)}` : ""}</span></li>`);
}

async function homePage() {
  if (!sessionStorage.getItem(KEY)) return location.replace("/onestop/login");
  const me = await call("/auth/me");
  document.getElementById("who").textContent = me.displayName;
  document.getElementById("logout").addEventListener("click", async () => {
    await call("/auth/logout", { method: "POST" }).catch(() => null);
    sessionStorage.removeItem(KEY);
    location.assign("/onestop/login");
  });
  window.addEventListener("hashchange", route);
  await route();
  document.getElementById("usage-more").addEventListener("click", () => usage(true));
  await usage(false);
  const record = await call("/onestop/me/record");
  const select = document.getElementById("objection-item");
  show(select, html`${record.values.map((v) => html`<option value="${v.item}" data-code="${v.code}">${v.label}：${String(v.value ?? "")}</option>`)}`);
  document.getElementById("objection-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const option = select.selectedOptions[0];
    const error = document.getElementById("objection-error");
    error.textContent = "";
    const proposed = document.getElementById("objection-proposed").value.trim();
    try {
      await call("/onestop/me/objections", { method: "POST", body: JSON.stringify({
        code: option.dataset.code, item: option.value, evidence: document.getElementById("objection-evidence").value,
        proposed: proposed || null }) });
      ev.target.reset();
      await objections();
    } catch (e) {
      error.textContent = e.message;
    }
  });
  await objections();
}

applyLang();
document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "en" ? "zh-CN" : "en";
  localStorage.setItem("cityos.lang", lang === "en" ? "en" : "zh");
  applyLang();
  if (document.body.dataset.page === "home") route();
});
(document.body.dataset.page === "login" ? loginPage() : homePage()).catch((e) => console.warn(e));
