// 我的证照: the person's or enterprise's e-certificates with type and state; download fetches the signed JSON
// with the token (a plain link would lack the Authorization header) and saves it through a Blob link; 核验 hands
// the JSON to /onestop/verify through this tab's sessionStorage.
import { html, show } from "/static/js/dom.js";
import { L, call, day } from "./api.js";

export const VERIFY = "cityos.onestop.verify";
const STATE = { active: ["有效", "active"], revoked: ["已撤销", "revoked"], suspended: ["已暂停", "suspended"] };

async function document_(id) {
  const r = await fetch(`/onestop/me/credentials/${encodeURIComponent(id)}`, {
    headers: { Authorization: `Bearer ${sessionStorage.getItem("cityos.onestop.token")}` } });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  const name = /filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "");
  return { text: await r.text(), filename: name ? name[1] : `${id}.json` };
}

export async function walletList(el) {
  const found = await call("/onestop/me/wallet").catch(() => []);
  el.removeAttribute("aria-busy");
  show(el, found.length ? html`${found.map((c) => html`<li data-credential="${c.id}">
    <b>${c.name}</b> <span class="state" data-state="${c.state}">${STATE[c.state] ? L(...STATE[c.state]) : c.state}</span><br>
    <span class="muted">${c.certificateType} · ${c.issuer} · ${day(c.validFrom)}${c.validUntil ? html` – ${day(c.validUntil)}` : ""}</span><br>
    <button type="button" data-download="${c.id}">${L("下载", "Download")}</button>
    <button type="button" data-verify="${c.id}">${L("核验", "Verify")}</button></li>`)}`
    : html`<li class="muted">${L("暂无", "None yet")}</li>`);
  el.onclick = async (ev) => {
    const b = ev.target.closest("button[data-download], button[data-verify]");
    if (!b) return;
    const doc = await document_(b.dataset.download || b.dataset.verify);
    if (b.dataset.verify) {
      sessionStorage.setItem(VERIFY, doc.text);
      location.assign("/onestop/verify");
      return;
    }
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([doc.text], { type: "application/vc+ld+json" }));
    a.download = doc.filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
}
