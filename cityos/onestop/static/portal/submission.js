// 办件详情: one submission's combined status, each item's state and due date, and per application its materials:
// a registry or certificate material is fetched only on the applicant's click (从政府数据调取), shown, then
// confirmed (确认使用) or declined (不使用，自行上传); upload materials and declined ones take a file.
import { html, show } from "/static/js/dom.js";
import { L, call, day, post } from "./api.js";
import { RATABLE, ratingBox } from "./rating.js";

const OVERALL = { submitted: ["已提交", "submitted"], "in-progress": ["办理中", "in progress"],
  "supplement-requested": ["待补正", "supplement requested"], completed: ["已办结", "completed"], closed: ["已关闭", "closed"] };
const SOURCE = { registry: ["政府数据", "base registry"], certificate: ["电子证照", "e-certificate"], upload: ["上传", "upload"] };
const two = (pair, fallback) => (pair ? L(pair[0], pair[1]) : fallback);

function material(app, m, ev) {
  const state = ev ? L(ev.stateLabel, ev.stateLabelEn) : L("未提交", "not provided");
  const fetchable = m.source !== "upload" && (!ev || ev.state === "previewed");
  const uploadable = (m.source === "upload" || (ev && ev.state === "declined")) && !(ev && ev.upload);
  return html`<li data-material="${m.code}" data-state="${ev ? ev.state : "none"}"><b>${m.name}</b>
    <span class="muted">${two(SOURCE[m.source], m.source)}${m.required ? "" : L("（可选）", " (optional)")}</span>
    <span class="state">${state}</span>${ev && ev.upload ? html` <span class="muted">${ev.upload.filename}</span>` : ""}
    ${fetchable ? html`<button type="button" data-fetch="${m.code}">${L("从政府数据调取", "Fetch from government data")}</button>` : ""}
    ${fetchable && !ev ? html`<button type="button" data-decline>${L("不使用，自行上传", "Don't fetch, I'll upload")}</button>` : ""}
    ${uploadable ? html`<label class="upload">${L("上传材料（PDF、JPEG、PNG）", "Upload (PDF, JPEG, PNG)")}
      <input type="file" accept="application/pdf,image/jpeg,image/png" data-upload="${m.code}"></label>` : ""}
    <div class="preview"></div><p class="error" role="alert"></p></li>`;
}

function preview(p) {
  const masked = new Set(p.masked);
  return html`<p class="muted">${p.entryName || p.code || ""} · ${p.department}${p.grant ? html` · ${p.grant}` : ""}</p>
    <dl class="values">${Object.entries(p.values).map(([k, v]) => html`<dt>${p.labels[k] || k}</dt>
      <dd data-item="${k}">${String(v ?? "")}${masked.has(k) ? html` <span class="masked">${L("已脱敏", "masked")}</span>` : ""}</dd>`)}</dl>
    <button type="button" data-confirm="${p.contentHash}">${L("确认使用", "Use it")}</button>
    <button type="button" data-decline>${L("不使用，自行上传", "Don't use it, I'll upload")}</button>`;
}

async function application(el, app) {
  const [item, ev, mine] = await Promise.all([call(`/onestop/items/${encodeURIComponent(app.item)}?version=${app.itemVersion}`),
    call(`/onestop/applications/${app.id}/evidence`), RATABLE.has(app.state) ? call("/onestop/me/ratings?limit=200") : []]);
  const by = new Map(ev.materials.map((m) => [m.materialCode, m]));
  show(el, html`<h3>${app.itemName} <span class="state" data-state="${app.state}">${L(app.stateZh, app.state)}</span></h3>
    <p class="muted">${item.departmentName} · ${L("承诺办结", "due")} ${day(app.clock.promisedDue)}</p>
    <p class="counts" data-fetched="${ev.fetched}" data-uploaded="${ev.uploaded}">${L("已调取", "fetched")} ${ev.fetched} ·
      ${L("已上传", "uploaded")} ${ev.uploaded}</p>
    <ul class="list">${item.materials.map((m) => material(app, m, by.get(m.code)))}</ul><div class="rating"></div>`);
  await ratingBox(el.querySelector(".rating"), app, mine);
}

export async function submissionView(view, id) {
  const s = await call(`/onestop/submissions/${encodeURIComponent(id)}`);
  show(view, html`<h2>${L("办件详情", "My application")}</h2>
    <p>${L("办理状态", "Status")}：<span id="overall" class="state" data-overall="${s.overall}">${two(OVERALL[s.overall], s.overall)}</span>
      · ${L("预计办结", "due")} ${day(s.due)}</p><p class="muted">${s.id} · ${day(s.createdAt)}</p>
    ${s.applications.map((a) => html`<section class="application" data-application="${a.id}" data-item="${a.item}"></section>`)}`);
  const byId = new Map(s.applications.map((a) => [a.id, a]));
  const again = (el) => application(el, byId.get(el.dataset.application));
  view.onclick = async (ev) => {
    const b = ev.target.closest("button");
    const box = b && b.closest(".application");
    const li = b && b.closest("li[data-material]");
    if (!box || !li) return; // the rating's buttons are its own (rating.js)
    const base = `/onestop/applications/${box.dataset.application}/materials/${encodeURIComponent(li.dataset.material)}`;
    li.querySelector(".error").textContent = "";
    try {
      if (b.dataset.fetch) return show(li.querySelector(".preview"), preview(await post(`${base}/preview`, {})));
      if (b.dataset.confirm) await post(`${base}/confirm`, { contentHash: b.dataset.confirm });
      else if ("decline" in b.dataset) await post(`${base}/decline`, { reason: L("申请人选择自行上传", "the applicant uploads it") });
      await again(box);
    } catch (e) {
      li.querySelector(".error").textContent = e.message;
    }
  };
  view.onchange = async (ev) => {
    const input = ev.target.closest("input[data-upload]");
    if (!input || !input.files[0]) return;
    const box = input.closest(".application");
    const li = input.closest("li[data-material]");
    const data = new FormData();
    data.append("file", input.files[0]);
    try {
      await call(`/onestop/applications/${box.dataset.application}/materials/${encodeURIComponent(input.dataset.upload)}/upload`,
        { method: "POST", body: data });
      await again(box);
    } catch (e) {
      li.querySelector(".error").textContent = e.message;
    }
  };
  await Promise.all([...view.querySelectorAll(".application")].map(again)); // the handlers are on: click away
}
