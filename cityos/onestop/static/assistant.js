// The Q&A assistant's chat panel (智能客服) on the one-stop portal and the service guides: a question goes to
// POST /onestop/assistant/ask (public, no token); the answer shows the passages it cites, each linking its guide,
// and the item or bundle to start. When the assistant does not know, it says so and offers a person (转人工:
// POST /onestop/assistant/handover); the asker keeps the handover's number to read the answer later.
import { append, html, href, show } from "/static/js/dom.js";

const EN = {
  open: "Ask", title: "Service assistant", placeholder: "e.g. What do I need when a baby is born?", send: "Ask",
  close: "Close", start: "Start here", sources: "From the service guides", confidence: "confidence",
  unknown: "Sorry, I do not know the answer to this. The service desk can answer it.",
  handover: "Ask a person", contact: "Phone or e-mail (optional)", handed: "Handed over to the service desk. Your number:",
  check: "Check the answer", hello: "Ask about the services of the one-stop portal: what to prepare, how long it takes, where to start.",
  error: "The assistant is not reachable",
};
const ZH = {
  open: "智能客服", title: "智能客服", placeholder: "例如：孩子出生要办哪些手续？", send: "提问", close: "关闭",
  start: "去办理", sources: "依据办事指南", confidence: "置信度",
  unknown: "抱歉，这个问题我不知道答案，可以转人工，由服务窗口工作人员答复。", handover: "转人工",
  contact: "联系电话或邮箱（选填）", handed: "已转人工，请记下您的编号：", check: "查看答复",
  hello: "您可以问一网通办的事项：要准备什么材料、多久能办好、从哪里开始办。", error: "智能客服暂时无法连接",
};
const lang = () => (localStorage.getItem("cityos.lang") === "en" ? "en" : "zh");
const t = (k) => (lang() === "en" ? EN : ZH)[k];
const channel = location.pathname.startsWith("/onestop/guide") ? "guide" : "portal";

async function post(url, body) {
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body) });
  const found = await r.json().catch(() => null);
  if (!r.ok) throw new Error((found && (found.detail || found.title)) || `HTTP ${r.status}`);
  return found;
}

function panel() {
  const root = document.createElement("aside");
  root.id = "assistant";
  root.className = "asst";
  root.setAttribute("aria-label", t("title"));
  show(root, html`<button type="button" class="asst-open" aria-expanded="false" data-t="open">${t("open")}</button>
    <div class="asst-box" hidden>
      <header><b data-t="title">${t("title")}</b><button type="button" class="asst-close" aria-label="${t("close")}">×</button></header>
      <ol class="asst-log" aria-live="polite"><li class="asst-bot" data-t="hello">${t("hello")}</li></ol>
      <form class="asst-form"><label class="asst-hide" for="asst-q" data-t="title">${t("title")}</label>
        <input id="asst-q" name="question" maxlength="200" autocomplete="off" placeholder="${t("placeholder")}" required>
        <button type="submit" data-t="send">${t("send")}</button></form>
    </div>`);
  document.body.append(root);
  return root;
}

function answerMarkup(a) {
  if (!a.known) {
    return html`<li class="asst-bot asst-unknown"><p>${t("unknown")}</p>
      <form class="asst-handover"><input name="contact" maxlength="128" placeholder="${t("contact")}" aria-label="${t("contact")}">
      <button type="submit" data-question="${a.question}">${t("handover")}</button></form></li>`;
  }
  const lines = a.text.split("\n");
  const sources = a.citations.map((c) => html`<li><a href="${href(c.guide)}">${c.title} · ${c.sectionName}</a></li>`);
  return html`<li class="asst-bot asst-known"><p>${lines[0]}</p>
    ${lines.slice(1).map((l) => html`<p class="asst-cited">${l}</p>`)}
    <p><a class="asst-start" href="${href(a.start.link)}">${t("start")}：${a.start.name}</a></p>
    <details><summary>${t("sources")} · ${t("confidence")} ${Math.round(a.confidence * 100)}%</summary><ul>${sources}</ul></details></li>`;
}

function mount() {
  const root = panel();
  const box = root.querySelector(".asst-box");
  const log = root.querySelector(".asst-log");
  const opener = root.querySelector(".asst-open");
  const toggle = (open) => {
    box.hidden = !open;
    opener.setAttribute("aria-expanded", String(open));
    if (open) root.querySelector("#asst-q").focus();
  };
  opener.addEventListener("click", () => toggle(box.hidden));
  root.querySelector(".asst-close").addEventListener("click", () => toggle(false));
  root.querySelector(".asst-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = ev.target.question;
    const question = input.value.trim();
    if (!question) return;
    append(log, html`<li class="asst-me">${question}</li>`);
    input.value = "";
    try {
      append(log, answerMarkup(await post("/onestop/assistant/ask", { question })));
    } catch (e) {
      append(log, html`<li class="asst-bot asst-error">${t("error")}：${e.message}</li>`);
    }
    log.scrollTop = log.scrollHeight;
  });
  log.addEventListener("submit", async (ev) => {
    if (!ev.target.matches(".asst-handover")) return;
    ev.preventDefault();
    const button = ev.target.querySelector("button");
    button.disabled = true;
    try {
      const h = await post("/onestop/assistant/handover", { question: button.dataset.question, channel,
        contact: ev.target.contact.value.trim() || null });
      show(ev.target, html`<p class="asst-handed">${t("handed")} <b class="asst-id">${h.id}</b>
        <a href="${href(`/onestop/assistant/handover/${encodeURIComponent(h.id)}`)}">${t("check")}</a></p>`);
    } catch (e) {
      button.disabled = false;
      append(ev.target, html`<p class="asst-error">${e.message}</p>`);
    }
  });
}

// the portal's language button switches the panel's own words too (answers stay as given)
function relabel() {
  const root = document.getElementById("assistant");
  for (const el of root.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  root.querySelector("#asst-q").placeholder = t("placeholder");
  root.querySelector(".asst-close").setAttribute("aria-label", t("close"));
}

mount();
document.getElementById("lang")?.addEventListener("click", () => setTimeout(relabel));
