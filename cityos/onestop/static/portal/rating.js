// 好差评 on a handled application's page: the applicant rates it once (five levels, the level's reasons, a free
// text), then sees the rating; a 差评's follow-up shows the department's answer, to accept or dispute.
import { html, show } from "/static/js/dom.js";
import { L, call, day, post } from "./api.js";

export const RATABLE = new Set(["approved", "certificate-issued", "rejected", "refused-at-intake"]);
let levels = null; // GET /onestop/ratings/levels, read once

function form(app, chosen) {
  const level = levels.levels.find((l) => l.level === chosen);
  return html`<form class="form rating-form" data-rate="${app.id}"><b>${L("评价本次办理（好差评）", "Rate how this was handled")}</b>
    <div class="checks" role="radiogroup">${levels.levels.map((l) => html`<label><input type="radio" name="level" value="${l.level}"
      ${l.level === chosen ? "checked" : ""}> ${L(l.zh, l.en)}</label>`)}</div>
    ${level ? html`<div class="checks">${level.reasons.map((r) => html`<label><input type="checkbox" name="reason" value="${r.code}">
      ${L(r.zh, r.en)}</label>`)}</div>` : ""}
    <textarea name="comment" maxlength="1000" placeholder="${L("其他意见（可选）", "Anything else (optional)")}"></textarea>
    <button type="submit">${L("提交评价", "Send the rating")}</button><p class="error" role="alert"></p></form>`;
}

function done(r) {
  const f = r.followUp;
  return html`<div class="rated" data-rating="${r.id}" data-level="${r.level}"><b>${L("我的评价", "My rating")}</b>：
    <span class="state">${L(r.levelZh, r.levelEn)}</span> <span class="muted">${day(r.ratedAt)}</span>
    ${f ? html`<p class="followup" data-follow-up="${f.id}" data-state="${f.state}">${L("整改", "Follow-up")}：
      <span class="state">${L(f.stateZh, f.stateEn)}</span> · ${L("答复期限", "answer by")} ${day(f.dueAt)}
      ${f.answer ? html`<br>${L("部门答复", "The department's answer")}：${f.answer}` : ""}</p>
      ${f.allowedActions.length ? html`<form class="form followup-form" data-follow-up="${f.id}">
        <textarea name="text" maxlength="2000" placeholder="${L("有异议时请写明理由", "If you dispute it, say why")}"></textarea>
        <div>${f.allowedActions.map((a) => html`<button type="button" data-rt-act="${a}">${a === "accept" ? L("认可答复", "Accept")
          : L("有异议", "Dispute")}</button>`)}</div><p class="error" role="alert"></p></form>` : ""}` : ""}</div>`;
}

// Draw the rating part of a handled application into ``el`` (nothing for one still open).
export async function ratingBox(el, app, mine) {
  if (!RATABLE.has(app.state)) return;
  levels = levels || await call("/onestop/ratings/levels");
  const rated = mine.find((r) => r.subjectKind === "application" && r.subjectId === app.id);
  const redraw = async () => ratingBox(el, app, await call("/onestop/me/ratings?limit=200"));
  if (rated) {
    show(el, done(rated));
    el.onchange = null;
    el.onsubmit = (ev) => ev.preventDefault();
    el.onclick = async (ev) => {
      const b = ev.target.closest("button[data-rt-act]");
      if (!b) return;
      const f = b.closest("form");
      try {
        const text = f.querySelector("[name=text]").value.trim();
        await post(`/onestop/me/rating-follow-ups/${f.dataset.followUp}/actions/${b.dataset.rtAct}`, text ? { text } : {});
        await redraw();
      } catch (e) {
        f.querySelector(".error").textContent = e.message;
      }
    };
    return;
  }
  show(el, form(app, 0));
  el.onclick = null;
  el.onchange = (ev) => {
    if (ev.target.name === "level") show(el, form(app, Number(ev.target.value)));
  };
  el.onsubmit = async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const level = Number((f.querySelector("[name=level]:checked") || {}).value || 0);
    const reasons = [...f.querySelectorAll("[name=reason]:checked")].map((i) => i.value);
    const comment = f.querySelector("[name=comment]").value.trim() || null;
    if (!level) {
      f.querySelector(".error").textContent = L("请先选择满意程度。", "Choose a level first.");
      return;
    }
    try {
      await post("/onestop/me/ratings", { application: app.id, level, reasons, comment, channel: "online" });
      await redraw();
    } catch (e) {
      f.querySelector(".error").textContent = e.message;
    }
  };
}
