// The e-certificate verify page: posts the pasted or uploaded credential to its JSON twin (POST /onestop/verify)
// and shows each check, zh-CN first (English on the language button). Text only: nothing is written as HTML.
const WORDS = {
  zh: { title: "电子证照核验", lead: "粘贴或上传一份电子证照(JSON),核验其签名、有效期、电子印章和状态。证照只在本市服务器上核验,不发往其他地方。",
        paste: "证照内容(JSON)", upload: "或上传证照文件", go: "核验", seals: "电子印章公钥",
        footer: "cityos 一网通办 · 电子证照(W3C 可验证凭证,eddsa-jcs-2022)", ok: "核验通过", bad: "核验未通过",
        notJson: "内容不是 JSON:", failed: "核验失败:", id: "证照编号", issuer: "签发机关", subject: "持有人",
        status: "状态", active: "有效", revoked: "已撤销", suspended: "已暂停", unknown: "未知", lang: "English" },
  en: { title: "Verify an e-certificate", lead: "Paste or upload an e-certificate (JSON) to check its signature, period of validity, office seal and status. It is checked on this city's server only.",
        paste: "The credential (JSON)", upload: "or upload the credential file", go: "Verify", seals: "Office seals",
        footer: "cityos one-stop services · e-certificates (W3C Verifiable Credentials, eddsa-jcs-2022)", ok: "Verified",
        bad: "Not verified", notJson: "Not JSON: ", failed: "Verification failed: ", id: "Credential", issuer: "Issuer",
        subject: "Holder", status: "Status", active: "active", revoked: "revoked", suspended: "suspended",
        unknown: "unknown", lang: "中文" },
};
let lang = "zh";
let last = null;
const $ = (id) => document.getElementById(id);

function translate() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = WORDS[lang][el.dataset.i18n];
  $("lang").textContent = WORDS[lang].lang;
  if (last) show(last);
}

function fact(dl, term, value) {
  if (!value) return;
  const dt = document.createElement("dt"); dt.textContent = term;
  const dd = document.createElement("dd"); dd.textContent = value;
  dl.append(dt, dd);
}

function show(answer) {
  last = answer;
  const w = WORDS[lang];
  $("result").hidden = false;
  const verdict = $("verdict");
  verdict.textContent = answer.ok ? w.ok : w.bad;
  verdict.className = answer.ok ? "ok" : "bad";
  const dl = $("facts"); dl.replaceChildren();
  fact(dl, w.id, answer.credentialId); fact(dl, w.issuer, answer.issuer); fact(dl, w.subject, answer.subject);
  fact(dl, w.status, w[answer.status] || answer.status);
  const ul = $("checks"); ul.replaceChildren();
  for (const c of answer.checks) {
    const li = document.createElement("li");
    li.className = c.ok ? "ok" : "bad";
    li.dataset.check = c.name;
    li.append(lang === "zh" ? `${c.labelZh} ${c.labelEn}` : c.labelEn);
    if (!c.ok) {
      const reason = document.createElement("span"); reason.className = "reason";
      reason.textContent = lang === "zh" ? `${c.reasonZh}(${c.reasonEn})` : c.reasonEn;
      li.append(reason);
    }
    ul.append(li);
  }
}

function problem(text) {
  last = null;
  $("result").hidden = false;
  $("verdict").textContent = text; $("verdict").className = "bad";
  $("facts").replaceChildren(); $("checks").replaceChildren();
}

async function verify(event) {
  event.preventDefault();
  let body;
  try { body = JSON.parse($("credential").value); } catch (e) { problem(WORDS[lang].notJson + e.message); return; }
  const res = await fetch("/onestop/verify", { method: "POST", headers: { "Content-Type": "application/json" },
                                               body: JSON.stringify(body) });
  const answer = await res.json();
  if (!res.ok) { problem(WORDS[lang].failed + (answer.detail || res.status)); return; }
  show(answer);
}

$("file").addEventListener("change", async () => {
  const file = $("file").files[0];
  if (file) $("credential").value = await file.text();
});
$("verify-form").addEventListener("submit", verify);
$("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; translate(); });
// the portal's 我的证照 hands a credential over through this tab's sessionStorage: it is checked at once
const handed = sessionStorage.getItem("cityos.onestop.verify");
if (handed) {
  sessionStorage.removeItem("cityos.onestop.verify");
  $("credential").value = handed;
  $("verify-form").requestSubmit();
}
