// 我的消息 · 政策推送: the policies the person or enterprise was found eligible for (政策找人), why (the values the
// policy read), and for a benefit granted without application (免申即享) the 意愿确认: confirm or decline.
import { html, show } from "/static/js/dom.js";
import { L, call, post } from "./api.js";

const STATE = { notified: ["待确认", "awaiting you"], granted: ["已享受", "granted"], declined: ["已放弃", "declined"] };
const READ = ["政策提醒", "for your information"];

function why(inputs) {
  return Object.entries(inputs).map(([k, v]) => `${k}: ${v ?? "—"}`).join(" · ");
}

function row(n) {
  const state = n.mode === "grant" ? L(...STATE[n.state]) : L(...READ);
  const act = n.mode === "grant" && n.state === "notified"
    ? html`<br><button type="button" data-confirm="${n.id}">${L("确认享受", "Confirm")}</button>
      <button type="button" data-decline="${n.id}">${L("放弃", "Decline")}</button>` : "";
  return html`<li data-notice="${n.id}" data-policy="${n.policyCode}"><b>${L(n.nameZh, n.nameEn)}</b>
    <span class="state" data-state="${n.state}">${state}</span><br>${n.benefit}<br>
    <span class="muted">${n.department} · ${n.legalBasis}</span><br>
    <span class="muted why">${L("匹配依据", "Why")}：${why(n.inputs)}</span>${act}</li>`;
}

export async function noticeList(el) {
  const found = await call("/onestop/me/notices").then((b) => b.notices).catch(() => []);
  el.removeAttribute("aria-busy");
  show(el, found.length ? html`${found.map(row)}` : html`<li class="muted">${L("暂无", "None yet")}</li>`);
  el.onclick = async (ev) => {
    const b = ev.target.closest("button[data-confirm], button[data-decline]");
    if (!b) return;
    const id = b.dataset.confirm || b.dataset.decline;
    try {
      await post(`/onestop/me/notices/${encodeURIComponent(id)}/${b.dataset.confirm ? "confirm" : "decline"}`);
    } catch (e) {
      b.parentElement.insertAdjacentText("beforeend", ` ${e.message}`);
      return;
    }
    await noticeList(el);
  };
}
