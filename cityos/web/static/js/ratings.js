// 一网通办 · 好差评 / Ratings: the 好评率 over 30 days with its counts, the 差评 follow-ups owing an answer and those
// overdue, and the department's list of follow-ups to answer (its own; the 12345 centre: the escalated ones and
// any holder's), each with the rating, the reasons, the limit and a form to answer.
// Route: #/services/ratings.

import { get, post } from "./api.js";
import { departmentName, t, time } from "./i18n.js";
import { html, show } from "./dom.js";

const enc = encodeURIComponent;
const pct = (v) => (v === null || v === undefined ? "—" : `${Math.round(v * 100)}%`);
const errorText = (e) => html`<p class="error" role="alert">${e.message}</p>`;

function figures(s) {
  const o = s.overall;
  const cells = [["rt.goodRate", pct(o.goodRate), "good-rate"], ["rt.ratings", o.ratings, "ratings"],
    ["rt.good", o.good, "good"], ["rt.bad", (o.levels["1"] || 0) + (o.levels["2"] || 0), "bad"],
    ["rt.onTime", pct(o.onTimeRate), "on-time"], ["rt.open", s.openFollowUps, "open"], ["rt.overdue", s.overdueFollowUps, "overdue"]];
  return html`<dl class="facts" id="rt-figures">${cells.map(([k, v, id]) => html`<dt>${t(k)}</dt><dd data-figure="${id}">${v}</dd>`)}</dl>`;
}

function followUp(f) {
  const fu = f.followUp;
  const r = f.rating;
  return html`<li class="panel" data-follow-up="${fu.id}" data-state="${fu.state}">
    <p><b>${r.itemName}</b> · ${departmentName(fu.department)} · <span data-level="${r.level}">${r.levelZh}</span>
      · ${t("rt.due")} ${time(fu.dueAt, true)}${fu.overdue ? html` <span class="error">${t("rt.isOverdue")}</span>` : ""}</p>
    <p class="small">${t("rt.reasons")}: ${r.reasons.join(", ") || "—"}${r.comment ? html` · “${r.comment}”` : ""}</p>
    <p class="small muted">${t("rt.state")}: ${fu.stateZh}${fu.holder !== fu.department ? html` · ${t("rt.holder")} ${departmentName(fu.holder)}` : ""}</p>
    <form class="inline-form rt-answer"><label>${t("rt.answer")} <textarea name="text" rows="2" maxlength="2000"></textarea></label>
      <button type="submit" class="primary">${t("rt.send")}</button><span class="error" role="alert"></span></form></li>`;
}

export async function renderRatings(el, { me, toast }) {
  const can = (p) => me.permissions.includes("*") || me.permissions.includes(p);
  show(el, html`<header><h2 id="rt-title" tabindex="-1">${t("rt.title")}</h2>
    <p><a href="#/services/queue">${t("svc.title")}</a></p></header>
    <div class="data-body"><section class="panel" aria-labelledby="rt-fig-title"><h3 id="rt-fig-title">${t("rt.figures")}</h3>
      <div id="rt-fig"></div></section>
    <section class="panel" aria-labelledby="rt-list-title"><h3 id="rt-list-title">${t("rt.toAnswer")}${me.department ? ` · ${departmentName(me.department)}` : ""}</h3>
      <div id="rt-list" aria-live="polite"></div></section></div>`);
  const since = new Date(Date.now() - 30 * 86_400_000).toISOString();
  if (can("ratings:read")) {
    try {
      const s = await get(`/onestop/ratings/stats?since=${enc(since)}`);
      if (el.querySelector("#rt-fig")) show(el.querySelector("#rt-fig"), figures(s));
    } catch (e) {
      if (el.querySelector("#rt-fig")) show(el.querySelector("#rt-fig"), errorText(e));
    }
  }
  if (!can("ratings:follow-up")) {
    show(el.querySelector("#rt-list"), html`<p class="muted">${t("forbidden")}</p>`);
    return;
  }
  const list = async () => {
    const q = await get("/onestop/rating-follow-ups?perPage=200");
    if (!el.querySelector("#rt-list")) return; // the page was left meanwhile
    show(el.querySelector("#rt-list"), q.followUps.length
      ? html`<p class="muted small" id="rt-total">${q.total} ${t("rt.count")}</p><ol class="list" id="rt-follow-ups">${q.followUps.map(followUp)}</ol>`
      : html`<p class="muted" id="rt-empty">${t("rt.empty")}</p>`);
    el.querySelectorAll(".rt-answer").forEach((form) => form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const id = form.closest("[data-follow-up]").dataset.followUp;
      const text = form.querySelector("[name=text]").value.trim();
      const error = form.querySelector(".error");
      if (!text) { error.textContent = t("rt.needsText"); return; }
      try {
        await post(`/onestop/rating-follow-ups/${enc(id)}/actions/answer`, { text });
        toast(t("rt.answered"));
        await list();
      } catch (e) {
        error.textContent = e.message;
      }
    }));
  };
  try {
    await list();
  } catch (e) {
    if (el.querySelector("#rt-list")) show(el.querySelector("#rt-list"), errorText(e));
  }
}
