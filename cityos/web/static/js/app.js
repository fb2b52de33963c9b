// The dashboard: login, the overview (map and panels), the unit twin page, and the live stream.

import { ApiError, get, hasToken, leave, listen, post, setToken } from "./api.js";
import { loadTaxonomy, openCase, stateName } from "./cases.js";
import { applyWords, departmentCodes, departmentName, getLang, levelName, num, onLang, pick, setLang, t, time } from "./i18n.js";
import { append, html, show, unitHref } from "./dom.js";
import { DistrictMap } from "./map.js";
import { acknowledge, levelBadge, loadFigures, renderCases, renderVitals, renderWarnings } from "./panels.js";
import { renderDatahub } from "./datahub.js";
import { renderRatings } from "./ratings.js";
import { renderPolicies } from "./policies.js";
import { renderServices } from "./services.js";
import { renderPlans } from "./plans.js";
import { renderOpendata } from "./opendata.js";
import { renderTwin } from "./twin.js";
import { initChart } from "./fonts.js";

const $ = (s) => document.querySelector(s);
const TO_DISPATCH = "reported,registered,returned";
const IN_HAND = "dispatched,accepted,in_progress,suspended,handled,verified";
const OPEN_STATES = `${TO_DISPATCH},${IN_HAND}`;
const TABS = {
  dispatch: { label: "cases.toDispatch", path: () => `/cases?state=${TO_DISPATCH}&limit=50` },
  queue: { label: "cases.queue", path: () => `/cases/queue?limit=50${state.me.department ? "" : `&department=${encodeURIComponent(state.department)}`}` },
  open: { label: "cases.open", path: () => `/cases?state=${IN_HAND}&limit=50` },
};

const state = {
  me: null, map: null, indicators: {}, warnings: [], tab: null, department: null, stop: null,
  freshWarnings: new Set(), freshCases: new Set(), timers: [], opener: null, started: false,
};

const can = (action) => state.me && (state.me.permissions.includes("*") || state.me.permissions.includes(action));

function toast(text) {
  const el = $("#toast");
  el.textContent = text;
  el.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove("show"), 2500);
}

function failed(error) {
  console.error(error);
  toast(`${t("error")}: ${error.message || error}`);
}

// Runs f once, ms after the first call of a burst: a steady stream of events still refreshes the view.
function soon(f, ms) {
  let timer = null;
  return () => { if (!timer) timer = setTimeout(() => { timer = null; f(); }, ms); };
}

// --- login ---------------------------------------------------------------------------------------------------

function showLogin(message = "") {
  $("#login").hidden = false;
  $("#login-error").textContent = message;
  $("#login-user").focus();
}

async function submitLogin(ev) {
  ev.preventDefault();
  const user = $("#login-user").value.trim(), password = $("#login-password").value;
  const token = $("#login-token").value.trim();
  $("#login-error").textContent = "";
  try {
    if (token) {
      setToken(token);
    } else if (user && password) {
      const r = await post("/auth/login", { username: user, password });
      setToken(r.token);
    } else {
      $("#login-error").textContent = t("login.missing");
      return;
    }
    await begin();
  } catch (e) {
    setToken("");
    $("#login-error").textContent = e.message;
  }
}

async function begin() {
  state.me = await get("/auth/me");
  if (!can("vitals:read")) {  // e.g. a citizen app's reporter token: the screen has nothing for it
    setToken("");
    state.me = null;
    showLogin(t("login.noAccess"));
    return;
  }
  $("#login").hidden = true;
  $("#login-password").value = "";
  $("#login-token").value = "";
  $("#logout").hidden = false;
  showWho();
  if (!state.started) {
    state.started = true;
    window.addEventListener("hashchange", route);
  }
  startLive();
  await route();
}

function showWho() {
  const me = state.me;
  if (!me) return;
  const dept = me.department ? ` · ${departmentName(me.department)}` : "";
  $("#who").textContent = `${me.displayName || me.name} (${me.role})${dept}`;
}

async function logout() {
  if (state.stop) state.stop();  // the live stream and the timers first: nothing new goes out with the token
  state.timers.forEach(clearInterval);
  state.timers = [];
  await leave();
  location.hash = "#/";
  location.reload();
}

// --- routing -------------------------------------------------------------------------------------------------

async function route() {
  try {
    await showRoute();
  } catch (e) {
    failed(e);
  }
}

async function showRoute() {
  const hash = location.hash === "#/audit" ? "#/data/audit" : location.hash;  // the audit view's short address
  const data = hash.match(/^#\/data(\/.*)?$/);
  $("#datahub").hidden = !data;
  const services = hash.match(/^#\/services(\/.*)?$/);
  $("#services").hidden = !services;
  const plans = hash === "#/plans";
  $("#plans").hidden = !plans;
  const opendata = hash === "#/opendata";
  $("#opendata").hidden = !opendata;
  if (opendata) {
    $("#overview").hidden = true;
    $("#twin").hidden = true;
    const section = $("#opendata");
    await renderOpendata(section, { me: state.me, toast });
    section.querySelector("h2").focus();
    return;
  }
  if (plans) {
    $("#overview").hidden = true;
    $("#twin").hidden = true;
    const section = $("#plans");
    await renderPlans(section);
    section.querySelector("h2").focus();
    return;
  }
  if (services) {
    $("#overview").hidden = true;
    $("#twin").hidden = true;
    const section = $("#services");
    const rest = services[1] || "";
    const opts = { me: state.me, toast };
    await (rest.startsWith("/ratings") ? renderRatings(section, opts)
      : (rest.startsWith("/policies") ? renderPolicies : renderServices)(section, rest, opts));
    section.querySelector("h2").focus();
    return;
  }
  if (data) {
    $("#overview").hidden = true;
    $("#twin").hidden = true;
    const section = $("#datahub");
    await renderDatahub(section, data[1] || "", { me: state.me, toast });
    section.querySelector("h2").focus();
    return;
  }
  const m = location.hash.match(/^#\/unit\/(.+)$/);
  if (m) {
    $("#overview").hidden = true;
    const twin = $("#twin");
    twin.hidden = false;
    await renderTwin(twin, decodeURIComponent(m[1]), { onOpenCase: showCase });
    const h = twin.querySelector("h2");
    if (h) { h.tabIndex = -1; h.focus(); }
  } else {
    $("#twin").hidden = true;
    $("#overview").hidden = false;
    $("#unit-pick").value = "";
    await showOverview();
  }
}

// --- the overview --------------------------------------------------------------------------------------------

async function showOverview() {
  if (!state.map) {
    state.map = new DistrictMap($("#map"), { onSelect: selected });
    buildLayerControls();
    buildTabs();
    const [geometry, indicators] = await Promise.all([get("/twin/map"), get("/vitals/indicators")]);
    state.map.setGeometry(geometry);
    for (const i of indicators) state.indicators[i.id] = i;
    state.map.indicatorNames = Object.fromEntries(indicators.map((i) => [i.id, pick(i.name)]));
    const district = geometry.layers.district.features[0];
    $("#district-name").textContent = district ? pick(district.properties.name) : "";
    state.map.draw();
    state.map.legend($("#legend"));
    fillUnits();
    $("#unit-pick").addEventListener("change", (ev) => {
      if (ev.target.value) location.hash = `#/unit/${encodeURIComponent(ev.target.value)}`;
    });
    const loads = [loadSensors(), loadWarnings(), loadVitals(), loadCases(), loadMapCases(), loadFigures($("#figures"), state.me)];
    for (const r of await Promise.allSettled(loads)) if (r.status === "rejected") failed(r.reason);
    state.timers.push(setInterval(loadVitals, 30_000), setInterval(() => loadFigures($("#figures"), state.me), 60_000),
      setInterval(loadSensors, 60_000));
  } else {
    state.map.chart.resize();
    if (state.map.dirty) state.map.draw();
  }
}

const placeName = (id) => {
  if (!id || id === "district") return getLang() === "zh" ? "全区" : "district";
  const f = state.map && state.map.features.get(id);
  return f ? pick(f.properties.name) : id.split(":").pop();
};
const indicatorName = (id) => (state.indicators[id] ? pick(state.indicators[id].name) : id);

async function loadSensors() {
  if (!can("entities:read")) return;
  state.map.setSensors(await get("/twin/sensors"));
  state.map.draw();
}

function showWarnings() {
  renderWarnings($("#warnings"), $("#warning-count"), state.warnings, {
    indicatorName, placeName, canAck: can("warnings:acknowledge"), fresh: state.freshWarnings,
    onAck: async (id, button) => {
      button.disabled = true;
      try { await acknowledge(id); toast(`${t("warnings.acked")} ✓`); await loadWarnings(); } catch (e) { toast(e.message); button.disabled = false; }
    },
    onPick: (id) => selected({ kind: "warning", id }),
  });
  state.freshWarnings.clear();
}

async function loadWarnings() {
  state.warnings = await get("/vitals/warnings?active=true&limit=100");
  showWarnings();
  state.map.warnings = state.warnings;
  state.map.places = await get("/vitals/places");
  state.map.draw();
}

// A warning event is shown at once from what it carries; the full record follows from the API.
function warningEvent(data) {
  const i = state.warnings.findIndex((w) => w.id === data.warningId);
  if (data.subject === "warning.acknowledged") {
    if (i >= 0) state.warnings[i].acknowledgedBy = data.by;
  } else if (data.newLevel === 0) {
    if (i >= 0) state.warnings.splice(i, 1);
  } else if (i >= 0) {
    Object.assign(state.warnings[i], { level: data.newLevel, value: data.value, updatedAt: data.at });
  } else {
    state.warnings.push({ id: data.warningId, indicator: data.indicator, scope: data.scope, level: data.newLevel,
      value: data.value, raisedAt: data.at, active: true, acknowledgedBy: null });
  }
  state.warnings.sort((a, b) => b.level - a.level || String(b.raisedAt).localeCompare(String(a.raisedAt)));
  state.freshWarnings.add(data.warningId);
  showWarnings();
  if (data.indicator && !state.indicators[data.indicator]) learnIndicator(data.indicator);
}

// An indicator defined after the page loaded: fetch its definition for its name.
async function learnIndicator(id) {
  try {
    const r = await get(`/vitals/indicators/${encodeURIComponent(id)}?hours=0.01&limit=1`);
    state.indicators[id] = r.definition;
    state.map.indicatorNames[id] = pick(r.definition.name);
    showWarnings();
  } catch (e) {
    failed(e);
  }
}

async function loadVitals() {
  renderVitals($("#vitals"), await get("/vitals/overview"), placeName, (indicator, scope) => {
    if (scope && scope.includes(":ManagementUnit:")) location.hash = `#/unit/${encodeURIComponent(scope)}`;
    else showIndicator(indicator, scope);
  });
}

function buildTabs() {
  // the centre watches the cases in hand first; the dispatch desk and the queues are a click away
  const tabs = can("cases:dispatch") ? ["open", "dispatch", "queue"] : state.me.department ? ["queue"] : ["open"];
  state.tab = tabs[0];
  state.department = state.me.department || "public-security";
  const el = $("#case-tabs");
  show(el, html`${tabs.map((k) => html`<button type="button" role="tab" data-tab="${k}" aria-selected="${String(k === state.tab)}">${t(TABS[k].label)}</button>`)}`);
  el.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => {
    state.tab = b.dataset.tab;
    el.querySelectorAll("[data-tab]").forEach((x) => x.setAttribute("aria-selected", String(x === b)));
    $("#dept-pick").hidden = !(state.tab === "queue" && !state.me.department);
    loadCases();
  }));
  const select = $("#dept");
  show(select, html`${departmentCodes().map((c) => html`<option value="${c}">${departmentName(c)}</option>`)}`);
  select.value = state.department;
  select.onchange = () => { state.department = select.value; loadCases(); };
  $("#dept-pick").hidden = !(state.tab === "queue" && !state.me.department);
}

let casesAsked = 0; // the newest list asked for: an older answer that comes back later is not shown over it

async function loadCases() {
  if (!can("cases:read")) return;
  const asked = ++casesAsked;
  await loadTaxonomy();
  const r = await get(TABS[state.tab].path());
  if (asked !== casesAsked) return;  // e.g. the first tab's list, still on its way when another tab was picked
  renderCases($("#cases"), r.cases, { stateName, onOpen: showCase, fresh: state.freshCases });
  state.freshCases.clear();
}

async function loadMapCases() {
  if (!can("cases:read")) return;
  const path = state.me.department ? `/cases/queue?limit=200&state=${OPEN_STATES}` : `/cases?state=${OPEN_STATES}&limit=200`;
  const r = await get(path);
  state.map.cases = r.cases;
  state.map.draw();
}

function buildLayerControls() {
  const box = $("#layers");
  const checks = ["streets", "grids", "units", "buildings", "warnings", "cases", "offline"];
  append(box, html`${checks.map((k) =>
    html`<label><input type="checkbox" data-layer="${k}" checked> <span data-i18n="layer.${k}">${t(`layer.${k}`)}</span></label>`)}<label><span data-i18n="layer.sensors">${t("layer.sensors")}</span> <select id="sensor-type"><option value="all">${t("layer.allTypes")}</option><option value="none">${t("layer.noSensors")}</option></select></label>`);
  box.querySelectorAll("[data-layer]").forEach((c) => c.addEventListener("change", () => {
    state.map.show[c.dataset.layer] = c.checked;
    state.map.draw();
  }));
  $("#sensor-type").addEventListener("change", (ev) => { state.map.show.sensors = ev.target.value; state.map.draw(); });
  fillSensorTypes();
}

// The units as a list too: the map is a canvas, and a keyboard reaches every twin through this.
function fillUnits() {
  const units = state.map.layers.units.features;
  show($("#unit-pick"), html`<option value="">${t("map.pickUnit")}</option>${
    units.map((f) => html`<option value="${f.id}">${pick(f.properties.name)}</option>`)}`);
}

function fillSensorTypes() {
  const sel = $("#sensor-type");
  const keep = sel.value;
  const types = (state.map && state.map.sensorTypes) || [];
  show(sel, html`<option value="all">${t("layer.allTypes")}</option><option value="none">${t("layer.noSensors")}</option>${
    types.map((ty) => html`<option value="${ty.type}">${pick(ty.name)}</option>`)}`);
  sel.value = keep || "all";
}

// --- details, drawer ------------------------------------------------------------------------------------------

function details(content) {
  const el = $("#details");
  show(el, html`<button type="button" class="close" aria-label="${t("close")}">×</button>${content}`);
  el.hidden = false;
  el.querySelector(".close").addEventListener("click", () => { el.hidden = true; $("#map").focus(); });
  return el;
}

async function selected(sel) {
  if (sel.kind === "case") { showCase(sel.id); return; }
  if (sel.kind === "warning") {
    const w = state.warnings.find((x) => x.id === sel.id) || (await get(`/vitals/warnings/${encodeURIComponent(sel.id)}`));
    const el = details(html`<h3>${levelBadge(w.level)} ${indicatorName(w.indicator)}</h3>
      <dl class="kv"><dt>${t("cases.place")}</dt><dd>${placeName(w.scope)}</dd>
      <dt>${t("details.value")}</dt><dd>${num(w.value)} ${state.indicators[w.indicator] ? state.indicators[w.indicator].unit || "" : ""}</dd>
      <dt>${t("warnings.raised")}</dt><dd>${time(w.raisedAt, true)}</dd></dl>
      ${w.scope && w.scope.includes(":ManagementUnit:") ? html`<a href="${unitHref(w.scope)}">${t("details.openTwin")}</a>` : ""}`);
    el.querySelector("h3").tabIndex = -1;
    el.querySelector("h3").focus();
    return;
  }
  if (sel.kind === "sensor") {
    const s = sel.sensor, ty = sel.type;
    const stateText = s.online === true ? t("details.online") : s.online === false ? t("details.offline") : t("details.never");
    details(html`<h3>${pick(ty.name)}</h3><dl class="kv"><dt>ID</dt><dd>${s.id}</dd>
      <dt>${ty.attr}</dt><dd>${num(s.value)} ${ty.unit || ""}</dd><dt>${t("twin.state")}</dt><dd>${stateText}</dd>
      <dt>${t("layer.grids")}</dt><dd>${placeName(s.grid)}</dd>
      ${s.unit ? html`<dt>${t("layer.units")}</dt><dd><a href="${unitHref(s.unit)}">${placeName(s.unit)}</a></dd>` : ""}</dl>`);
    return;
  }
  const f = sel.feature, p = f.properties;
  const lv = (state.map.places[`${p.kind}s`] || {})[f.id] || 0;
  const rows = [[t("details.category"), p.category], [t("details.floors"), p.floors], ["code", p.code]]
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`);
  const el = details(html`<h3>${pick(p.name)} ${lv ? levelBadge(lv) : ""}</h3><p class="muted">${t(`layer.${p.kind}s`)}</p>
    <dl class="kv">${rows}</dl>
    ${p.kind === "unit" ? html`<a class="primary" href="${unitHref(f.id)}">${t("details.openTwin")}</a>` : ""}
    ${p.unit && p.kind === "building" ? html`<a href="${unitHref(p.unit)}">${t("details.openTwin")}</a>` : ""}`);
  const link = el.querySelector("a");
  if (link) link.focus();
}

function openDrawer() {
  state.opener = document.activeElement;
  $("#drawer").hidden = false;
  $("#drawer-close").focus();
}

function closeDrawer() {
  $("#drawer").hidden = true;
  if (state.opener && state.opener.isConnected) state.opener.focus();
}

async function showCase(id) {
  openDrawer();
  const content = $("#drawer-content");
  show(content, html`…`);
  try {
    await openCase(content, id, { onChanged: () => { loadCases(); loadMapCases(); }, toast });
  } catch (e) {
    show(content, html`<p class="error">${e.message}</p>`);
  }
}

async function showIndicator(indicator, scope) {
  openDrawer();
  const content = $("#drawer-content");
  const ind = state.indicators[indicator];
  show(content, html`<h2 id="drawer-title">${indicatorName(indicator)}</h2><p class="muted">${placeName(scope)} · ${ind ? ind.unit || "" : ""}</p>
    <div id="drawer-chart" class="chart" role="img" aria-label="${indicatorName(indicator)}"></div>
    <p class="muted small">${ind && ind.description ? ind.description : ""}</p>`);
  const q = scope ? `&scope=${encodeURIComponent(scope)}` : "";
  const h = await get(`/vitals/indicators/${encodeURIComponent(indicator)}?hours=6&limit=2000${q}`);
  const c = initChart($("#drawer-chart"));
  c.setOption({
    backgroundColor: "transparent", animation: false, tooltip: { trigger: "axis" },
    grid: { left: 50, right: 20, top: 20, bottom: 30 },
    xAxis: { type: "time", axisLabel: { color: "#93a8bd" } }, yAxis: { type: "value", axisLabel: { color: "#93a8bd" }, splitLine: { lineStyle: { color: "#1c334b" } } },
    series: [{ type: "line", showSymbol: false, data: h.history.map((x) => [x.at, x.value]) }],
  });
}

// --- live ----------------------------------------------------------------------------------------------------

function startLive() {
  if (state.stop) return;
  const warningsSoon = soon(loadWarnings, 500);
  const casesSoon = soon(() => { loadCases(); loadMapCases(); }, 250);
  const figuresSoon = soon(() => loadFigures($("#figures"), state.me), 1000);
  state.stop = listen((name, data) => {
    if (!state.map) return;
    if (name === "warning") {
      warningEvent(data);
      warningsSoon();
      if (data.subject === "warning.raised" || data.subject === "warning.escalated") {
        toast(`${levelName(data.newLevel)} · ${indicatorName(data.indicator)} · ${placeName(data.scope)}`);
      }
    } else if (name === "case") {
      state.freshCases.add(data.caseId);
      casesSoon();
      figuresSoon();
    } else if (name === "prewarning") {
      figuresSoon();
    } else if (name === "sensors") {
      state.map.updateValues(data.values);
    } else if (name === "device") {
      state.map.setOnline(data.deviceId, data.state === "online");
      figuresSoon();
    } else if (name === "resync") {
      loadWarnings(); loadCases(); loadMapCases(); loadSensors();
    }
  }, (on) => {
    const el = $("#live");
    el.dataset.state = on ? "on" : "off";
    $("#live-text").textContent = t(on ? "live.on" : "live.off");
  });
}

// --- start ---------------------------------------------------------------------------------------------------

function tick() {
  $("#clock").textContent = new Date().toLocaleTimeString(getLang() === "zh" ? "zh-CN" : "en-GB",
    { timeZone: "Asia/Shanghai", hour12: false });
}

function init() {
  applyWords();
  $("#lang").textContent = getLang() === "zh" ? "English" : "中文";
  $("#lang").addEventListener("click", () => setLang(getLang() === "zh" ? "en" : "zh"));
  onLang(() => {
    $("#lang").textContent = getLang() === "zh" ? "English" : "中文";
    $("#live-text").textContent = t($("#live").dataset.state === "on" ? "live.on" : "live.off");
    showWho();
    if (!state.me) return;
    if (state.map) {
      fillSensorTypes();
      fillUnits();
      state.map.indicatorNames = Object.fromEntries(Object.values(state.indicators).map((i) => [i.id, pick(i.name)]));
      state.map.legend($("#legend"));
      state.map.draw();
      buildTabs();
      loadVitals(); loadWarnings(); loadCases(); loadFigures($("#figures"), state.me);
      const district = state.map.layers.district.features[0];
      $("#district-name").textContent = district ? pick(district.properties.name) : "";
    }
    if (!$("#twin").hidden || !$("#datahub").hidden || !$("#services").hidden || !$("#plans").hidden) route();
  });
  $("#login-form").addEventListener("submit", submitLogin);
  $("#logout").addEventListener("click", logout);
  $("#drawer-close").addEventListener("click", closeDrawer);
  $("#drawer").addEventListener("click", (ev) => { if (ev.target.id === "drawer") closeDrawer(); });
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape") return;
    if (!$("#drawer").hidden) closeDrawer();
    else if (!$("#details").hidden) { $("#details").hidden = true; $("#map").focus(); }
  });
  window.addEventListener("cityos:unauthenticated", () => { setToken(""); showLogin(getLang() === "zh" ? "请重新登录。" : "Please log in again."); });
  tick();
  setInterval(tick, 1000);
  if (hasToken()) begin().catch((e) => showLogin(e instanceof ApiError ? e.message : String(e)));
  else showLogin();
}

init();
