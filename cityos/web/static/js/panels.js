// The overview's panels: vital signs, warnings, the case lists and the figures strip.

import { get, post } from "./api.js";
import { departmentName, getLang, levelName, num, t, time } from "./i18n.js";
import { html, show } from "./dom.js";
import { headlineFigures } from "./plans.js";

// Replace a list's content only when it changed, so that focus, hover and clicks survive a refresh.
function fill(el, content) {
  if (el.dataset.shown === String(content)) return false;
  el.dataset.shown = String(content);
  show(el, content);
  return true;
}

export const levelBadge = (level) => html`<span class="level" data-level="${level || 0}">${levelName(level)}</span>`;

const ARROWS = { up: "↑", down: "↓", steady: "→", filling: "" };

// A value from a window still filling: no arrow, the label and how full the window is.
const trendLabel = (g) => g && g.trend === "filling"
  ? `${t("trend.filling")}${g.filling !== null && g.filling !== undefined ? ` ${Math.round(g.filling * 100)}%` : ""}`
  : t(`trend.${g ? g.trend : "steady"}`);

function sparkline(values) {
  const vals = values.filter((v) => v !== null && v !== undefined);
  if (vals.length < 2) return html`<svg aria-hidden="true"></svg>`;
  const lo = Math.min(...vals), hi = Math.max(...vals), span = hi - lo || 1;
  const step = 100 / (values.length - 1);
  const pts = values.map((v, i) => (v === null || v === undefined ? null : `${(i * step).toFixed(1)},${(18 - ((v - lo) / span) * 16 - 1).toFixed(1)}`))
    .filter(Boolean).join(" ");
  return html`<svg viewBox="0 0 100 18" preserveAspectRatio="none" aria-hidden="true"><polyline points="${pts}" fill="none" stroke="#4fb3ff" stroke-width="1.2" vector-effect="non-scaling-stroke"/></svg>`;
}

export function renderVitals(el, overview, placeName, onPick) {
  el.setAttribute("aria-busy", "false");
  if (!overview.categories.length) {
    show(el, html`<p class="muted">${t("vitals.empty")}</p>`);
    return;
  }
  show(el, html`${overview.categories.map((c) => html`
    <section class="category">
      <h3><span>${getLang() === "zh" ? c.nameZh : c.nameEn}</span>${levelBadge(c.level)}</h3>
      ${c.indicators.map((ind) => {
        const g = ind.groups[0];
        const where = g && g.scope && g.scope !== "district" ? ` · ${placeName(g.scope)}` : "";
        const trend = g ? g.trend : "steady";
        const label = trendLabel(g);
        return html`<button type="button" class="ind" data-indicator="${ind.id}" data-scope="${g ? g.scope : ""}"
            aria-label="${getLang() === "zh" ? ind.nameZh : ind.nameEn}: ${g ? num(g.value) : "—"} ${ind.unit || ""}, ${label}, ${levelName(ind.level)}">
          <span class="name">${getLang() === "zh" ? ind.nameZh : ind.nameEn}${where}</span>
          <span class="value">${g ? num(g.value) : "—"} <small>${ind.unit || ""}</small></span>
          <span class="trend" data-trend="${trend}" title="${label}">${trend === "filling" ? html`<small class="filling">${label}</small>` : ARROWS[trend] || ""} ${levelBadge(ind.level)}</span>
          ${sparkline(g ? g.sparkline : [])}
        </button>`;
      })}
    </section>`)}`);
  el.querySelectorAll(".ind").forEach((b) => b.addEventListener("click", () => onPick(b.dataset.indicator, b.dataset.scope)));
}

export function renderWarnings(el, countEl, warnings, { indicatorName, placeName, canAck, onAck, onPick, fresh }) {
  countEl.textContent = warnings.length ? `(${warnings.length})` : "";
  if (!warnings.length) {
    fill(el, html`<li class="muted">${t("warnings.none")}</li>`);
    return;
  }
  const changed = fill(el, html`${warnings.map((w) => html`
    <li class="warning-row${fresh.has(w.id) ? " fresh" : ""}" data-warning="${w.id}">
      ${levelBadge(w.level)}
      <button type="button" class="linkish what" data-open="${w.id}">${indicatorName(w.indicator)} · ${placeName(w.scope)}</button>
      ${w.acknowledgedBy ? html`<span class="muted small">${t("warnings.acked")}</span>`
        : canAck ? html`<button type="button" data-ack="${w.id}">${t("warnings.ack")}</button>` : html`<span></span>`}
      <span class="meta">${num(w.value)} · ${t("warnings.raised")} ${time(w.raisedAt)}${w.acknowledgedBy ? ` · ${w.acknowledgedBy}` : ""}</span>
    </li>`)}`);
  if (!changed) return;
  el.querySelectorAll("[data-ack]").forEach((b) => b.addEventListener("click", () => onAck(b.dataset.ack, b)));
  el.querySelectorAll("[data-open]").forEach((b) => b.addEventListener("click", () => onPick(b.dataset.open)));
}

export function renderCases(el, cases, { stateName, onOpen, fresh }) {
  if (!cases.length) {
    fill(el, html`<li class="muted">${t("cases.none")}</li>`);
    return;
  }
  const changed = fill(el, html`${cases.map((c) => html`
    <li class="${fresh.has(c.id) ? "fresh" : ""}">
      <button type="button" class="case-row linkish" data-case="${c.id}">
        <span class="text">${c.text || c.category}</span>
        <span class="state">${stateName(c.state)}</span>
        <span class="meta">${departmentName(c.department)} · ${t("cases.due")} ${time(c.dueAt, true)}</span>
        <span class="meta">${c.priority ? t(`priority.${c.priority}`) : ""}</span>
      </button>
    </li>`)}`);
  if (!changed) return;
  el.querySelectorAll("[data-case]").forEach((b) => b.addEventListener("click", () => onOpen(b.dataset.case)));
}

const pct = (v) => (v === null || v === undefined ? "—" : `${Math.round(v * 100)}%`);

export async function loadFigures(el, me) {
  const can = (a) => me.permissions.includes("*") || me.permissions.includes(a);
  const items = [];
  const jobs = [];
  if (can("devices:read")) {
    jobs.push(get("/iot/health").then((h) => {
      items.push(["fig.online", num(h.total.online), "online"], ["fig.offline", num(h.total.offline), "offline"]);
    }).catch(() => {}));
  }
  if (can("deadletters:read")) {
    jobs.push(get("/iot/deadletters?limit=1", { total: true }).then((r) => items.push(["fig.deadLetters", num(r.total), "dead"]))
      .catch(() => {}));
  }
  if (can("vitals:read")) {
    jobs.push(get("/vitals/prewarnings").then((p) => items.push(["fig.prewarnings", num(p.length), "pre"])).catch(() => {}));
    jobs.push(headlineFigures().then((rows) => items.push(...rows)).catch(() => {}));  // the plans' headline ones
  }
  if (can("cases:read")) {
    jobs.push(get("/cases/supervision?days=30").then((s) => {
      const o = s.overall;
      items.push(["fig.cases", num(o.cases), "cases"], ["fig.onTime", pct(o.onTimeRate), "ontime"],
        ["fig.handling", o.meanHandlingHours == null ? "—" : `${num(o.meanHandlingHours)} ${t("fig.hours")}`, "handling"],
        ["fig.returns", pct(o.returnRate), "returns"], ["fig.reopens", pct(o.reopenRate), "reopens"],
        ["fig.satisfaction", pct(o.satisfaction), "satisfaction"]);
    }).catch(() => {}));
  }
  if (can("ratings:read")) {  // 一网通办 · 好差评 over the same 30 days
    const since = new Date(Date.now() - 30 * 86_400_000).toISOString();
    jobs.push(get(`/onestop/ratings/stats?since=${encodeURIComponent(since)}`).then((s) => {
      items.push(["fig.goodRate", pct(s.overall.goodRate), "good-rate"], ["fig.ratings", num(s.overall.ratings), "ratings"],
        ["fig.followUps", num(s.openFollowUps), "follow-ups"], ["fig.followUpsOverdue", num(s.overdueFollowUps), "follow-ups-overdue"]);
    }).catch(() => {}));
  }
  await Promise.all(jobs);
  const order = ["online", "offline", "dead", "pre", "cases", "ontime", "handling", "returns", "reopens", "satisfaction",
    "good-rate", "ratings", "follow-ups", "follow-ups-overdue"];
  const rank = (id) => (id.startsWith("plan-") ? order.length : order.indexOf(id));  // the plans' figures last
  items.sort((a, b) => rank(a[2]) - rank(b[2]));
  show(el, html`${items.map(([k, v, id]) => html`<div data-figure="${id}"><dt>${t(k)}</dt><dd>${v}</dd></div>`)}`);
}

export async function acknowledge(id) {
  return post(`/vitals/warnings/${encodeURIComponent(id)}/acknowledge`);
}

