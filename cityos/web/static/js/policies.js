// 一网通办 · 政策找人 / Policy matching: the policy office's page. The policies (an operator sees every
// department's, a department its own) with their counts notified / awaiting confirmation / granted / declined;
// a policy's runs and who matched and why (the values that made its condition true, masked as the data hub
// masks), and a button to run it (POST /onestop/policies/{code}/runs: answered at once, the run done in the
// background; its progress, records read / matched / notified, is polled from GET …/runs/{id} until it is done).
// Routes: #/services/policies[/<code>].

import { get, post } from "./api.js";
import { departmentName, getLang, time } from "./i18n.js";
import { href, html, show } from "./dom.js";

const enc = encodeURIComponent;
const L = (zh, en) => (getLang() === "en" ? en : zh);
const MODE = { notify: ["政策找人（告知）", "notify"], grant: ["免申即享（确认后发放）", "grant after confirmation"] };
const STATE = { notified: ["已推送", "notified"], granted: ["已发放", "granted"], declined: ["已放弃", "declined"] };
const RUN = { running: ["运行中", "running"], done: ["已完成", "done"], failed: ["失败", "failed"] };
const errorText = (e) => html`<p class="error" role="alert">${e.message}</p>`;
const stamp = (ms) => (ms ? time(new Date(ms).toISOString(), true) : "—");
const POLL_MS = 1500;
const progressText = (r) => `${L("已读取", "read")} ${r.read} · ${L("符合", "matched")} ${r.matched} · ${L("新推送", "notified")} ${r.notified}`;

function policyTable(list) {
  return html`<table id="pol-list"><thead><tr><th>${L("政策", "Policy")}</th><th>${L("部门", "Department")}</th>
    <th>${L("对象", "Target")}</th><th>${L("方式", "Mode")}</th><th>${L("已推送", "Notified")}</th>
    <th>${L("待确认", "Awaiting")}</th><th>${L("已发放", "Granted")}</th><th>${L("已放弃", "Declined")}</th></tr></thead>
    <tbody>${list.map((p) => html`<tr data-policy="${p.code}">
      <td><a href="${href(`#/services/policies/${enc(p.code)}`)}">${L(p.nameZh, p.nameEn)}</a><div class="small muted">${p.code} v${p.version}</div></td>
      <td>${departmentName(p.department)}</td><td>${p.target === "person" ? L("自然人", "persons") : L("法人", "enterprises")}</td>
      <td>${L(...MODE[p.mode])}</td><td data-count="notified">${p.counts.notified}</td><td data-count="pending">${p.counts.pending}</td>
      <td data-count="granted">${p.counts.granted}</td><td data-count="declined">${p.counts.declined}</td></tr>`)}</tbody></table>`;
}

function detail(d, canRun) {
  const p = d.policy;
  const cols = p.columns;
  return html`<h3 id="pol-title" data-policy="${p.code}">${L(p.nameZh, p.nameEn)} <span class="small muted">${p.code} v${p.version}</span></h3>
    <dl class="facts"><dt>${L("条件", "Condition")}</dt><dd><code id="pol-condition">${p.condition}</code></dd>
      <dt>${L("读取数据", "Reads")}</dt><dd>${p.entries.join("、")} · ${L("场景：政策找人", "scenario: 政策找人")}</dd>
      <dt>${L("待遇", "Benefit")}</dt><dd>${p.benefit}</dd><dt>${L("依据", "Legal basis")}</dt><dd>${p.legalBasis}</dd>
      <dt>${L("计数", "Counts")}</dt><dd id="pol-counts">${L("已推送", "notified")} ${p.counts.notified} · ${L("待确认", "awaiting")}
        ${p.counts.pending} · ${L("已发放", "granted")} ${p.counts.granted} · ${L("已放弃", "declined")} ${p.counts.declined}</dd></dl>
    ${canRun ? html`<p><button type="button" class="primary" id="pol-run">${L("运行匹配", "Run matching")}</button>
      <span class="error" id="pol-error" role="alert"></span></p>` : ""}
    <p id="pol-progress" class="small" aria-live="polite"></p>
    <h4>${L("运行记录", "Runs")}</h4><table id="pol-runs"><thead><tr><th>${L("开始", "Started")}</th><th>${L("状态", "State")}</th>
      <th>${L("已读取", "Read")}</th><th>${L("评估", "Evaluated")}</th><th>${L("符合", "Matched")}</th><th>${L("新推送", "Newly notified")}</th><th>${L("操作人", "By")}</th></tr></thead>
      <tbody>${d.runs.map((r) => html`<tr data-run="${r.id}"><td>${stamp(r.startedAtMs)}</td><td data-state="${r.state}">${L(...RUN[r.state])}</td>
        <td data-read>${r.read}</td><td>${r.subjects}</td><td>${r.matched}</td><td>${r.notified}</td><td class="small">${r.by}${r.error ? html`<div class="error">${r.error}</div>` : ""}</td></tr>`)}</tbody></table>
    <h4>${L("匹配对象及依据", "Who matched, and why")}</h4><table id="pol-matches"><thead><tr><th>${L("对象", "Subject")}</th>
      ${cols.map((c) => html`<th>${c}</th>`)}<th>${L("状态", "State")}</th><th>${L("推送时间", "Notified")}</th></tr></thead>
      <tbody>${d.matches.map((m) => html`<tr data-notice="${m.noticeId}"><td class="small">${m.subjectId.split(":").pop().slice(0, 12)}</td>
        ${cols.map((c) => html`<td>${String(m.inputs[c] ?? "—")}</td>`)}<td data-state="${m.state}">${L(...STATE[m.state])}</td>
        <td>${stamp(m.createdAtMs)}</td></tr>`)}</tbody></table>`;
}

// Poll a running run until it is done, showing its progress; then draw the detail again with its result.
async function follow(box, code, runId, can, toast) {
  const url = `/onestop/policies/${enc(code)}/runs/${enc(runId)}`;
  for (;;) {
    await new Promise((done) => setTimeout(done, POLL_MS));
    if (!box.isConnected) return;  // navigated away meanwhile
    let run;
    try {
      run = await get(url);
    } catch (e) {
      const line = box.querySelector("#pol-progress");
      if (line) line.textContent = e.message;
      return;
    }
    const line = box.querySelector("#pol-progress");
    if (run.state === "running") {
      if (line) line.textContent = `${L("运行中", "Running")}: ${progressText(run)}`;
      const cell = box.querySelector(`#pol-runs tr[data-run="${runId}"] td[data-read]`);
      if (cell) cell.textContent = String(run.read);
      continue;
    }
    if (run.state === "done") toast(`${L("匹配完成", "Matched")}: ${run.matched} · ${L("新推送", "newly notified")} ${run.notified}`);
    else toast(`${L("匹配失败", "The run failed")}: ${run.error || ""}`);
    await renderDetail(box, code, can, toast);
    return;
  }
}

async function renderDetail(box, code, can, toast) {
  const d = await get(`/onestop/policies/${enc(code)}`);
  if (!box.isConnected) return;  // navigated away meanwhile
  show(box, detail(d, can("policies:run")));
  const running = d.runs.find((r) => r.state === "running");
  if (running) {
    box.querySelector("#pol-progress").textContent = `${L("运行中", "Running")}: ${progressText(running)}`;
    follow(box, code, running.id, can, toast);
  }
  const button = box.querySelector("#pol-run");
  if (!button) return;
  if (running) button.disabled = true;  // one run at a time from this page
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const run = await post(`/onestop/policies/${enc(code)}/runs`, {});
      toast(L("已开始匹配：后台运行", "Matching started: it runs in the background"));
      if (run.state !== "running") toast(`${L("匹配完成", "Matched")}: ${run.matched}`);
      await renderDetail(box, code, can, toast);  // follows the run while it is running
    } catch (e) {
      box.querySelector("#pol-error").textContent = e.message;
      button.disabled = false;
    }
  });
}

export async function renderPolicies(el, rest, { me, toast }) {
  const can = (p) => me.permissions.includes("*") || me.permissions.includes(p);
  const code = rest.split("/").filter(Boolean)[1] || "";
  show(el, html`<header><h2 id="pol-heading" tabindex="-1">${L("一网通办 · 政策找人 · 免申即享", "One-stop services · policy matching")}</h2>
    <p class="small"><a href="${href("#/services/queue")}">${L("办件队列", "Applications")}</a></p></header>
    <div class="data-body"><section class="panel"><h3>${L("政策", "Policies")}</h3><div id="pol-body" aria-live="polite"></div></section>
    <section class="panel" id="pol-detail"${code ? "" : " hidden"}></section></div>`);
  if (!can("policies:read")) {
    show(el.querySelector("#pol-body"), html`<p class="muted">${L("无权查看。", "Not allowed.")}</p>`);
    return;
  }
  const into = (content) => el.querySelector("#pol-body") && show(el.querySelector("#pol-body"), content);  // gone: navigated away
  try {
    const found = await get("/onestop/policies");
    into(policyTable(found.policies));
  } catch (e) {
    into(errorText(e));
  }
  if (code) {
    const box = el.querySelector("#pol-detail");
    try {
      await renderDetail(box, decodeURIComponent(code), can, toast);
    } catch (e) {
      show(box, errorText(e));
    }
  }
}
