// 数据资源 / Data resources: the catalogue (by classification, by department, free text), one entry with its
// items, levels and sources, the grants a department asked for or decides on, and "who used my data"
// (数据使用记录) for staff at a counter, the audit view (审计查看) of the reads and lookups a token may see, and
// objections (数据异议, objections.js). Routes: #/data, #/data/entry/<code>, #/data/grants[/<code>], #/data/usage,
// #/data/audit (also #/audit), #/data/objections, #/data/quality[/<code>[/<run>]] (数据质量, quality.js),
// #/data/resolutions (实体识别复核, resolutions.js), #/data/returns[/<grant>] (数据属地返还, returns.js).

import { call, get, post } from "./api.js";
import { departmentName, getLang, t, time } from "./i18n.js";
import { href, html, show } from "./dom.js";
import { objectForm, renderObjections } from "./objections.js";
import { renderFeeds } from "./feeds.js";
import { renderQuality } from "./quality.js";
import { renderResolutions } from "./resolutions.js";
import { renderReturns } from "./returns.js";

const view = { path: "", department: "", q: "", levels: null };
const MOVES = ["approve", "narrow", "refuse", "revoke"];
const NEEDS_REASON = new Set(["refuse", "revoke"]);

const enc = encodeURIComponent;
const entryHref = (code) => href(`#/data/entry/${enc(code)}`);
const levelWord = (name) => {
  const lv = view.levels && view.levels.find((l) => l.name === name);
  return lv ? (getLang() === "zh" ? lv.zh : lv.en) : name || "—";
};
const levelTag = (name) => html`<span class="dlevel" data-dlevel="${name || ""}">${levelWord(name)}</span>`;
const day = (iso) => (iso ? new Date(iso).toLocaleDateString(getLang() === "zh" ? "zh-CN" : "en-GB",
  { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" }) : "—");
// The date of an instant in Shanghai, as a date input takes it (YYYY-MM-DD).
const dateOnly = (iso) => (iso ? new Date(iso).toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" }) : "");
const stateWord = (g) => (getLang() === "zh" ? g.stateZh : g.state);
const errorText = (e) => html`<p class="error" role="alert">${e.message}${e.problem && e.problem.code ? ` (${e.problem.code})` : ""}</p>`;

export async function renderDatahub(el, rest, { me, toast }) {
  const can = (p) => me.permissions.includes("*") || me.permissions.includes(p);
  if (!view.levels) view.levels = await get("/datahub/levels");
  const [sub, arg] = rest.split("/").filter(Boolean).concat(["", ""]);
  const tab = sub === "entry" ? "catalogue" : sub || "catalogue";
  const tabs = [["catalogue", "#/data"]];
  if (can("grants:read")) tabs.push(["grants", "#/data/grants"]);
  if (can("usage:read")) tabs.push(["usage", "#/data/usage"]);
  if (can("audit:read")) tabs.push(["audit", "#/data/audit"]);
  if (can("objections:read")) tabs.push(["objections", "#/data/objections"]);
  if (can("feeds:read")) tabs.push(["feeds", "#/data/feeds"]);
  if (can("quality:read")) tabs.push(["quality", "#/data/quality"]);
  if (can("resolutions:read")) tabs.push(["resolutions", "#/data/resolutions"]);
  if (can("returns:read")) tabs.push(["returns", "#/data/returns"]);
  show(el, html`<header><h2 id="data-title" tabindex="-1">${t("data.title")}</h2>
    <nav class="tabs" aria-label="${t("data.title")}" id="data-tabs">${tabs.map(([k, to]) =>
      html`<a href="${href(to)}" data-tab="${k}"${k === tab ? html` aria-current="page"` : ""}>${t(`data.${k}`)}</a>`)}</nav></header>
    <div id="data-body" class="data-body"></div>`);
  const body = el.querySelector("#data-body");
  const ctx = { me, can, toast };
  try {
    if (sub === "entry") await renderEntry(body, decodeURIComponent(arg), ctx);
    else if (sub === "grants") await renderGrants(body, decodeURIComponent(arg || ""), ctx);
    else if (sub === "usage") renderUsage(body);
    else if (sub === "audit") await renderAudit(body);
    else if (sub === "objections") await renderObjections(body, ctx);
    else if (sub === "feeds") await renderFeeds(body, decodeURIComponent(arg || ""), ctx);
    else if (sub === "quality") await renderQuality(body, decodeURIComponent(arg || ""), decodeURIComponent(rest.split("/").filter(Boolean)[2] || ""), ctx);
    else if (sub === "resolutions") await renderResolutions(body, ctx);
    else if (sub === "returns") await renderReturns(body, decodeURIComponent(arg || ""), ctx);
    else await renderCatalogue(body);
  } catch (e) {
    show(body, errorText(e));
  }
}

// --- the catalogue ------------------------------------------------------------------------------------------

function tree(nodes) {
  return html`<ul>${nodes.map((n) => html`<li><button type="button" class="node" data-path="${n.path}"
    aria-pressed="${String(view.path === n.path)}">${n.name} <span class="count">${n.count}</span></button>
    ${n.children && n.children.length ? tree(n.children) : ""}</li>`)}</ul>`;
}

async function renderCatalogue(el) {
  const [nodes, all] = await Promise.all([get("/datahub/classification"), get("/datahub/catalogue?limit=1000")]);
  const departments = [...new Set(all.map((e) => e.provider))].sort();
  show(el, html`<div class="catalogue">
    <nav class="panel tree" aria-labelledby="data-tree-title"><h3 id="data-tree-title">${t("data.classification")}</h3>
      <button type="button" class="node" data-path="" aria-pressed="${String(!view.path)}">${t("data.all")}</button>
      <div id="data-tree">${tree(nodes)}</div></nav>
    <section class="panel" aria-labelledby="data-list-title">
      <form id="data-filter" class="filters" role="search">
        <label>${t("data.department")} <select id="data-dept" name="department">
          <option value="">${t("data.allDepartments")}</option>
          ${departments.map((d) => html`<option value="${d}"${d === view.department ? html` selected` : ""}>${departmentName(d)}</option>`)}
        </select></label>
        <label>${t("data.search")} <input id="data-q" name="q" type="search" value="${view.q}" placeholder="${t("data.searchHint")}"></label>
        <button type="submit">${t("data.search")}</button>
      </form>
      <h3 id="data-list-title"><span id="data-path">${view.path || t("data.all")}</span> · <span id="data-total"></span> ${t("data.total")}</h3>
      <div id="data-list" aria-live="polite"></div>
    </section></div>`);
  el.querySelectorAll("[data-path]").forEach((b) => b.addEventListener("click", () => {
    view.path = b.dataset.path;
    el.querySelectorAll("[data-path]").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
    el.querySelector("#data-path").textContent = view.path || t("data.all");
    loadList(el);
  }));
  el.querySelector("#data-dept").addEventListener("change", (ev) => { view.department = ev.target.value; loadList(el); });
  el.querySelector("#data-filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    view.q = el.querySelector("#data-q").value.trim();
    loadList(el);
  });
  await loadList(el);
}

async function loadList(el) {
  const list = el.querySelector("#data-list");
  const params = new URLSearchParams({ limit: "200" });
  if (view.path) params.set("classification", view.path);
  if (view.department) params.set("department", view.department);
  if (view.q) params.set("q", view.q);
  try {
    const { data, total } = await get(`/datahub/catalogue?${params}`, { total: true });
    el.querySelector("#data-total").textContent = String(total);
    show(list, data.length ? html`<table><thead><tr><th>${t("data.code")}</th><th>${t("data.name")}</th>
      <th>${t("data.department")}</th><th>${t("data.level")}</th><th>${t("data.sharing")}</th></tr></thead>
      <tbody>${data.map((e) => html`<tr data-code="${e.code}"><td>${e.code}</td><td><a href="${entryHref(e.code)}">${e.name}</a></td>
        <td>${departmentName(e.provider)}</td><td>${levelTag(e.level && e.level.name)}</td><td>${t(`data.sharing.${e.sharing}`)}</td></tr>`)}</tbody></table>`
      : html`<p class="muted">${t("data.none")}</p>`);
  } catch (e) {
    show(list, errorText(e));
  }
}

// --- one entry ----------------------------------------------------------------------------------------------

async function renderEntry(el, code, { me, can, toast }) {
  const e = await get(`/datahub/catalogue/${enc(code)}`);
  const versions = await get(`/datahub/catalogue/${enc(code)}/versions`);
  let grants = null;
  if (can("grants:read")) {  // a department sees its own requests and, as the provider, every one on it
    try { grants = await get(`/datahub/grants?code=${enc(code)}&limit=100`); } catch { grants = null; }
  }
  const mayRequest = can("grants:request") && me.department && me.department !== e.provider && e.sharing !== "none";
  show(el, html`<article class="panel entry" aria-labelledby="entry-title">
    <p><a href="${href("#/data")}">← ${t("data.back")}</a></p>
    <h3 id="entry-title">${e.name} <span class="muted small">${e.code}</span></h3>
    <p>${e.abstract}</p>
    <dl class="kv">
      <dt>${t("data.department")}</dt><dd>${departmentName(e.provider)}</dd>
      <dt>${t("data.classification")}</dt><dd>${e.classification.join(" / ")}</dd>
      <dt>${t("data.level")}</dt><dd>${levelTag(e.level && e.level.name)}</dd>
      <dt>${t("data.sharing")}</dt><dd>${t(`data.sharing.${e.sharing}`)}</dd>
      ${e.sharingConditions ? html`<dt>${t("data.conditions")}</dt><dd>${e.sharingConditions}</dd>` : ""}
      <dt>${t("data.opening")}</dt><dd>${t(`data.opening.${e.opening}`)}</dd>
      <dt>${t("data.format")}</dt><dd>${e.format}</dd>
      <dt>${t("data.updateCycle")}</dt><dd>${e.updateCycle}</dd>
      <dt>${t("data.published")}</dt><dd>${e.published}</dd>
      ${e.sourceSystem ? html`<dt>${t("data.sourceSystem")}</dt><dd>${e.sourceSystem}</dd>` : ""}
      <dt>${t("data.versions")}</dt><dd id="entry-versions">${versions.length} (v${e.version})</dd>
    </dl>
    ${mayRequest ? html`<p><a class="primary" id="entry-request" href="${href(`#/data/grants/${enc(e.code)}`)}">${t("data.requestThis")}</a></p>` : ""}
    <h4>${t("data.items")}</h4>
    <table id="entry-items"><thead><tr><th>${t("data.item")}</th><th>${t("data.name")}</th><th>${t("data.kind")}</th>
      <th>${t("data.level")}</th><th>${t("data.source")}</th><th>${t("data.sourceEntry")}</th></tr></thead>
      <tbody>${e.items.map((i) => html`<tr data-item="${i.name}"><td>${i.name}</td><td>${i.zh}</td><td>${i.kind}</td>
        <td>${levelTag(i.level)}</td><td>${departmentName(i.source)}</td>
        <td>${i.sourceEntry && i.sourceEntry !== e.code ? html`<a href="${entryHref(i.sourceEntry)}">${i.sourceEntry}</a>` : i.sourceEntry || "—"}</td></tr>`)}</tbody></table>
    ${grants ? html`<h4>${t("data.grantsOn")}</h4>${grantTable(grants, me)}` : ""}
    ${can("datasets:read") && (e.backing.entityTypes.length || e.backing.table) ? html`<h4>${t("data.records")}</h4>
      <form id="records-form" class="filters">
        <label>${t("data.scenario")} <input name="scenario"></label>
        <label>${t("data.purpose")} <input name="purpose"></label>
        <button type="submit">${t("data.read")}</button></form>
      <div id="records" aria-live="polite"></div>` : ""}
  </article>`);
  const form = el.querySelector("#records-form");
  if (form) form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const mayObject = can("objections:submit") && me.department && me.department !== e.provider;
    readRecords(el.querySelector("#records"), e, Object.fromEntries(new FormData(form).entries()), { mayObject, toast });
  });
}

// One page of the entry's records as this token may see them, by the rules: a refusal (403 no-grant) shows
// its detail, which names the grant to ask for.
// A record with an open objection lists its disputed items (disputed): those cells are marked 有异议.
async function readRecords(el, e, { scenario, purpose }, { mayObject = false, toast } = {}) {
  const params = new URLSearchParams({ limit: "20" });
  if (scenario) params.set("scenario", scenario);
  if (purpose) params.set("purpose", purpose);
  try {
    const r = await get(`/datahub/datasets/${enc(e.code)}/records?${params}`);
    const cols = e.items.filter((i) => r.shown.includes(i.name) || i.name in r.masked);
    show(el, html`<p class="muted small">${r.total ?? r.records.length} · ${t("data.grant")}: ${r.grant || "—"}</p>
      <table id="records-table"><thead><tr><th>ID</th>${cols.map((i) =>
        html`<th>${i.zh}${i.name in r.masked ? html` <span class="muted small">(${t("data.masked")})</span>` : ""}</th>`)}${mayObject ? html`<th></th>` : ""}</tr></thead>
      <tbody>${r.records.map((rec) => html`<tr data-record="${rec.id}"><td>${rec.id}</td>${cols.map((i) =>
        html`<td>${cell(rec[i.name])}${(rec.disputed || []).includes(i.name) ? html` <span class="badge disputed" data-disputed="${i.name}">${t("obj.disputed")}</span>` : ""}</td>`)}
        ${mayObject ? html`<td><button type="button" data-object="${rec.id}">${t("obj.object")}</button></td>` : ""}</tr>`)}</tbody></table>
      <div id="object-panel"></div>`);
    el.querySelectorAll("[data-object]").forEach((b) => b.addEventListener("click", () => {
      const rec = r.records.find((x) => x.id === b.dataset.object);
      objectForm(el.querySelector("#object-panel"), e, rec, cols, { toast });
    }));
  } catch (err) {
    show(el, errorText(err));
  }
}

const cell = (v) => (v === undefined || v === null ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));

const itemChecks = (items, checked) => html`<fieldset class="items" id="grant-items"><legend>${t("data.itemsPick")}</legend>
  ${items.map((i) => html`<label><input type="checkbox" name="items" value="${i.name}"${checked(i.name) ? html` checked` : ""}>
    ${i.zh} <span class="muted small">${i.name} · ${levelWord(i.level)}</span></label>`)}</fieldset>`;

// The moves the table allows from a grant's state, offered to who may take them: its provider or the city,
// never the department that asked (the server says the same: 403 grant-move-forbidden).
const mayDecide = (g, me) => (!me.department || me.department === g.provider) && me.department !== g.department;

function grantTable(grants, me) {
  if (!grants.length) return html`<p class="muted">${t("data.noGrants")}</p>`;
  return html`<table class="grants"><thead><tr><th>${t("data.code")}</th><th>${t("data.requester")}</th>
    <th>${t("data.scenario")}</th><th>${t("data.items")}</th><th>${t("data.period")}</th><th>${t("data.state")}</th><th></th></tr></thead>
    <tbody>${grants.map((g) => html`<tr data-grant="${g.id}"><td><a href="${entryHref(g.code)}">${g.code}</a></td>
      <td>${departmentName(g.department)}</td><td>${g.scenario}<div class="muted small">${g.purpose}</div></td>
      <td>${g.items ? g.items.join(", ") : t("data.all")}</td>
      <td>${day(g.startsAt)} – ${day(g.endsAt)}</td>
      <td><span class="gstate" data-gstate="${g.state}">${stateWord(g)}</span>
        <details class="small"><summary>${t("data.history")}</summary><ol class="history">${g.history.map((h) =>
          html`<li>${time(h.at, true)} · ${t(`data.move.${h.action}`)} · ${h.by}${h.byDepartment ? ` (${departmentName(h.byDepartment)})` : ""}${h.reason ? ` — ${h.reason}` : ""}</li>`)}</ol></details></td>
      <td class="moves">${(mayDecide(g, me) ? g.allowedMoves : []).filter((m) => MOVES.includes(m)).map((m) =>
        html`<button type="button" data-move="${m}" data-grant="${g.id}">${t(`data.move.${m}`)}</button>`)}</td></tr>`)}</tbody></table>`;
}

// --- grants -------------------------------------------------------------------------------------------------

async function renderGrants(el, code, { me, can, toast }) {
  const sides = me.department ? [["requester", "data.mine"], ["provider", "data.onMine"]] : [["", "data.every"]];
  const side = view.side && sides.some(([k]) => k === view.side) ? view.side : sides[0][0];
  const mayRequest = can("grants:request") && me.department;
  const end = new Date(Date.now() + 365 * 864e5).toISOString().slice(0, 10);
  show(el, html`<div class="grants-page">
    ${mayRequest ? html`<form id="grant-form" class="panel grant-form" aria-labelledby="grant-form-title">
      <h3 id="grant-form-title">${t("data.request")}</h3>
      <label>${t("data.entry")} <input name="code" required value="${code}" spellcheck="false"></label>
      <div id="grant-form-items"></div>
      <label>${t("data.scenario")} <input name="scenario" required></label>
      <label>${t("data.purpose")} <textarea name="purpose" rows="2" required></textarea></label>
      <label>${t("data.legalBasis")} <input name="legalBasis" required></label>
      <label>${t("data.startsAt")} <input name="startsAt" type="date"></label>
      <label>${t("data.endsAt")} <input name="endsAt" type="date" required value="${end}"></label>
      <p class="error" id="grant-form-error" role="alert"></p>
      <button type="submit" class="primary">${t("data.submit")}</button>
    </form>` : ""}
    <section class="panel" aria-labelledby="grant-list-title">
      <h3 id="grant-list-title">${t("data.grants")}</h3>
      <div class="tabs" role="tablist" id="grant-tabs">${sides.map(([k, label]) =>
        html`<button type="button" role="tab" data-side="${k}" aria-selected="${String(k === side)}">${t(label)}</button>`)}</div>
      <div id="grant-move"></div>
      <p class="error" id="grant-error" role="alert"></p>
      <div id="grant-list" aria-live="polite"></div>
    </section></div>`);
  const list = el.querySelector("#grant-list");
  const errEl = el.querySelector("#grant-error");
  const moveEl = el.querySelector("#grant-move");
  let latest = 0;  // a tab clicked while the first list loads: only the last asked-for list is shown
  const load = async () => {
    const q = view.side ? `&as=${view.side}` : "";
    const mine = ++latest;
    let shown;
    try {
      shown = grantTable(await get(`/datahub/grants?limit=100${q}`), me);
    } catch (e) {
      shown = errorText(e);
    }
    if (mine !== latest) return;
    show(list, shown);
    list.querySelectorAll("[data-move]").forEach((b) => b.addEventListener("click", () =>
      ask(b.dataset.grant, b.dataset.move).catch((e) => { errEl.textContent = e.message; })));
  };
  const move = async (id, action, body) => {
    errEl.textContent = "";
    try {
      await post(`/datahub/grants/${enc(id)}/${action}`, body);
      toast(`${t(`data.move.${action}`)} ✓`);
      show(moveEl, html``);
      await load();
    } catch (e) {
      errEl.textContent = e.message;
    }
  };
  const ask = async (id, action) => {
    if (action === "approve") { move(id, action, {}); return; }
    let narrowing = html``;
    let given = {};  // the period as granted: a date left as it is narrows nothing
    if (action === "narrow") {
      const g = await get(`/datahub/grants/${enc(id)}`);
      const entry = await get(`/datahub/catalogue/${enc(g.code)}`);
      const asked = entry.items.filter((i) => !g.items || g.items.includes(i.name));
      const lifted = view.levels.filter((lv) => lv.rank < (view.levels.find((l) => l.name === (g.lifts || "general-2")) || {}).rank);
      narrowing = html`${itemChecks(asked, () => true)}
        <label>${t("data.lifts")} <select name="lifts" id="narrow-lifts"><option value="">${t("data.liftsKeep")} (${levelWord(g.lifts || "general-2")})</option>
          ${lifted.map((lv) => html`<option value="${lv.name}">${levelWord(lv.name)}</option>`)}</select></label>
        <label>${t("data.startsAt")} <input name="startsAt" type="date" id="narrow-starts" value="${dateOnly(g.startsAt)}"></label>
        <label>${t("data.endsAt")} <input name="endsAt" type="date" id="narrow-ends" value="${dateOnly(g.endsAt)}"></label>`;
      given = { startsAt: dateOnly(g.startsAt), endsAt: dateOnly(g.endsAt) };
    }
    show(moveEl, html`<form id="move-form" class="action-form" aria-label="${t(`data.move.${action}`)}">
      <p>${t(`data.move.${action}`)} · ${id}</p>${narrowing}
      <label>${t("data.reason")} <textarea name="reason" rows="2"${NEEDS_REASON.has(action) ? html` required` : ""}></textarea></label>
      <button type="submit" class="primary">${t("data.confirm")}: ${t(`data.move.${action}`)}</button></form>`);
    const form = moveEl.querySelector("form");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      const f = Object.fromEntries(data.entries());
      const body = {};
      if (f.reason) body.reason = f.reason;
      const items = data.getAll("items");
      if (items.length && items.length < form.querySelectorAll("[name=items]").length) body.items = items;
      if (f.lifts) body.lifts = f.lifts;
      if (f.startsAt && f.startsAt !== given.startsAt) body.startsAt = new Date(`${f.startsAt}T00:00:00+08:00`).toISOString();
      if (f.endsAt && f.endsAt !== given.endsAt) body.endsAt = new Date(`${f.endsAt}T00:00:00+08:00`).toISOString();
      move(id, action, body);
    });
    form.querySelector("input, textarea").focus();
  };
  el.querySelectorAll("[data-side]").forEach((b) => b.addEventListener("click", () => {
    view.side = b.dataset.side;
    el.querySelectorAll("[data-side]").forEach((x) => x.setAttribute("aria-selected", String(x === b)));
    load();
  }));
  const form = el.querySelector("#grant-form");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const f = Object.fromEntries(data.entries());
    const body = { code: f.code.trim(), scenario: f.scenario, purpose: f.purpose, legalBasis: f.legalBasis,
      endsAt: new Date(`${f.endsAt}T00:00:00+08:00`).toISOString() };
    const items = data.getAll("items");
    const boxes = form.querySelectorAll("[name=items]").length;
    if (items.length && items.length < boxes) body.items = items;  // all of them: the whole entry
    if (f.startsAt) body.startsAt = new Date(`${f.startsAt}T00:00:00+08:00`).toISOString();
    const formErr = el.querySelector("#grant-form-error");
    formErr.textContent = "";
    try {
      await call("POST", "/datahub/grants", body);
      toast(`${t("data.request")} ✓`);
      form.reset();
      view.side = "requester";
      el.querySelectorAll("[data-side]").forEach((x) => x.setAttribute("aria-selected", String(x.dataset.side === "requester")));
      await load();
    } catch (e) {
      formErr.textContent = e.message;
    }
  });
  if (form) {
    const itemsEl = el.querySelector("#grant-form-items");
    const codeEl = form.querySelector("[name=code]");
    const loadItems = async () => {
      const code = codeEl.value.trim();
      if (!code) { show(itemsEl, html``); return; }
      try {
        const entry = await get(`/datahub/catalogue/${enc(code)}`);
        show(itemsEl, html`<p class="small">${entry.name} · ${departmentName(entry.provider)} · ${t(`data.sharing.${entry.sharing}`)}</p>
          ${itemChecks(entry.items, () => true)}`);
      } catch (e) {
        show(itemsEl, errorText(e));
      }
    };
    codeEl.addEventListener("change", loadItems);
    await loadItems();
  }
  view.side = side;
  await load();
}

// --- who used my data ---------------------------------------------------------------------------------------

function renderUsage(el) {
  show(el, html`<section class="panel usage" aria-labelledby="usage-title">
    <h3 id="usage-title">${t("data.usage")}</h3>
    <p class="muted">${t("data.usageHint")}</p>
    <form id="usage-form" class="filters" role="search">
      <label>${t("data.subject")} <input name="subject" id="usage-subject" required minlength="15" maxlength="18" autocomplete="off" spellcheck="false"></label>
      <button type="submit" class="primary">${t("data.lookup")}</button>
    </form>
    <div id="usage-list" aria-live="polite"></div></section>`);
  const list = el.querySelector("#usage-list");
  el.querySelector("#usage-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const subject = el.querySelector("#usage-subject").value.trim();
    try {
      const reads = await get(`/datahub/usage?subject=${enc(subject)}&limit=200`);
      show(list, reads.length ? html`<table><thead><tr><th>${t("data.at")}</th><th>${t("data.reader")}</th>
        <th>${t("data.code")}</th><th>${t("data.scenario")}</th><th>${t("data.purpose")}</th><th>${t("data.grant")}</th></tr></thead>
        <tbody>${reads.map((r) => html`<tr data-seq="${r.seq}"><td>${time(r.at, true)}</td>
          <td>${r.department ? departmentName(r.department) : t("data.city")}</td>
          <td><a href="${entryHref(r.code)}">${r.code}</a></td><td>${r.scenario || "—"}</td><td>${r.purpose || "—"}</td>
          <td>${r.grant || "—"}</td></tr>`)}</tbody></table>` : html`<p class="muted">${t("data.noUsage")}</p>`);
    } catch (e) {
      show(list, errorText(e));
    }
  });
  el.querySelector("#usage-subject").focus();
}

// --- the audit view -----------------------------------------------------------------------------------------

const AUDIT_PAGE = 50;

// The chain's head and newest seal, checked by the server without a walk (cityos audit verify walks it).
async function chainLine(el) {
  try {
    const s = await get("/datahub/audit/status");
    show(el, html`<span class="${s.consistent ? "" : "error"}" data-consistent="${String(s.consistent)}">${s.consistent ? t("data.chainOk") : t("data.chainBad")}</span>
      · ${t("data.chainHead")} #${s.headSeq} · ${t("data.chainSealed")} ${s.sealedSeq ? html`#${s.sealedSeq} (${time(s.sealedAt, true)})` : "—"}
      · ${t("data.chainUnsealed")} ${s.unsealed}${s.problem ? html` — ${s.problem}` : ""}`);
  } catch (e) {
    show(el, errorText(e));
  }
}

async function renderAudit(el) {
  show(el, html`<section class="panel audit" aria-labelledby="audit-title">
    <h3 id="audit-title">${t("data.audit")}</h3>
    <p class="muted">${t("data.auditHint")}</p>
    <p class="small" id="audit-chain">${t("data.chain")}</p>
    <form id="audit-filter" class="filters" role="search">
      <label>${t("data.code")} <input name="code" spellcheck="false" size="14"></label>
      <label>${t("data.readingDept")} <input name="department" spellcheck="false" size="14"></label>
      <label>${t("data.scenario")} <input name="scenario" size="12"></label>
      <label>${t("data.route")} <input name="route" spellcheck="false" size="20"></label>
      <label>${t("data.kind")} <select name="kind"><option value="">${t("data.allKinds")}</option>
        <option value="read">${t("data.auditKind.read")}</option><option value="lookup">${t("data.auditKind.lookup")}</option></select></label>
      <label>${t("data.since")} <input name="since" type="date"></label>
      <label>${t("data.until")} <input name="until" type="date"></label>
      <button type="submit">${t("data.filter")}</button>
    </form>
    <p class="error" id="audit-error" role="alert"></p>
    <div id="audit-list" aria-live="polite"></div>
    <p class="pager"><button type="button" id="audit-prev">${t("data.prev")}</button>
      <span id="audit-range"></span> <button type="button" id="audit-next">${t("data.next")}</button></p></section>`);
  const form = el.querySelector("#audit-filter");
  const list = el.querySelector("#audit-list");
  const errEl = el.querySelector("#audit-error");
  let offset = 0;
  let total = 0;
  let asked = 0; // the newest page asked for: an older answer that comes back later is not shown over it
  const load = async () => {
    const mine = ++asked;
    const f = Object.fromEntries(new FormData(form).entries());
    const params = new URLSearchParams({ limit: String(AUDIT_PAGE), offset: String(offset) });
    for (const k of ["code", "department", "scenario", "route", "kind"]) if (f[k] && f[k].trim()) params.set(k, f[k].trim());
    for (const k of ["since", "until"]) if (f[k]) params.set(k, new Date(`${f[k]}T00:00:00+08:00`).toISOString());
    errEl.textContent = "";
    try {
      const got = await get(`/datahub/audit?${params}`, { total: true });
      if (mine !== asked) return;
      total = got.total;
      const rows = got.data;
      el.querySelector("#audit-range").textContent = total ? `${offset + 1}–${offset + rows.length} / ${total}` : "0";
      el.querySelector("#audit-prev").disabled = offset === 0;
      el.querySelector("#audit-next").disabled = offset + rows.length >= total;
      show(list, rows.length ? html`<table id="audit-table"><thead><tr><th>#</th><th>${t("data.at")}</th><th>${t("data.kind")}</th>
        <th>${t("data.reader")}</th><th>${t("data.principal")}</th><th>${t("data.code")}</th><th>${t("data.scenario")}</th>
        <th>${t("data.purpose")}</th><th>${t("data.grant")}</th><th>${t("data.count")}</th><th>${t("data.route")}</th></tr></thead>
        <tbody>${rows.map((r) => html`<tr data-seq="${r.seq}" data-kind="${r.kind}"><td>${r.seq}</td><td>${time(r.at, true)}</td>
          <td>${t(`data.auditKind.${r.kind}`)}</td><td>${r.department ? departmentName(r.department) : t("data.city")}</td>
          <td>${r.principal}</td><td>${r.code ? html`<a href="${entryHref(r.code)}">${r.code}</a>` : "—"}</td>
          <td>${r.scenario || "—"}</td><td>${r.purpose || "—"}</td><td>${r.grant || "—"}</td>
          <td><details class="small"><summary>${r.count}</summary>${r.records.join(", ") || "—"}</details></td>
          <td class="small">${r.route}</td></tr>`)}</tbody></table>` : html`<p class="muted">${t("data.noAudit")}</p>`);
    } catch (e) {
      if (mine !== asked) return;
      show(list, html``);
      errEl.textContent = e.message;
    }
  };
  form.addEventListener("submit", (ev) => { ev.preventDefault(); offset = 0; load(); });
  el.querySelector("#audit-prev").addEventListener("click", () => { offset = Math.max(0, offset - AUDIT_PAGE); load(); });
  el.querySelector("#audit-next").addEventListener("click", () => { if (offset + AUDIT_PAGE < total) { offset += AUDIT_PAGE; load(); } });
  await Promise.all([chainLine(el.querySelector("#audit-chain")), load()]);
}
