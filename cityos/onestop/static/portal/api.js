// The portal's JSON calls and words, shared by its views (apply.js, submission.js, wallet.js): the token and the
// login's subject live in this tab's sessionStorage; a failed call throws an Error carrying the problem JSON.
export const KEY = "cityos.onestop.token";
export const SUBJECT = "cityos.onestop.subject";

export async function call(url, options = {}) {
  const token = sessionStorage.getItem(KEY);
  const json = options.body && !(options.body instanceof FormData);
  const headers = { Accept: "application/json", ...(json ? { "Content-Type": "application/json" } : {}), ...options.headers };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(url, { ...options, headers });
  const body = r.status === 204 ? null : await r.json().catch(() => null);
  if (r.status === 401 && document.body.dataset.page === "home") location.replace("/onestop/login");
  if (!r.ok) throw Object.assign(new Error((body && (body.detail || body.title)) || `HTTP ${r.status}`), { status: r.status, body });
  return body;
}

export const post = (url, body) => call(url, { method: "POST", body: JSON.stringify(body ?? {}) });
export const en = () => document.documentElement.lang === "en";
// zh-CN first, English on the language button: L("办事", "Services")
export const L = (zh, english) => (en() ? english : zh);
export const day = (iso) => (iso ? new Date(iso).toLocaleDateString(en() ? "en" : "zh-CN") : "—");
export const subject = () => JSON.parse(sessionStorage.getItem(SUBJECT) || "null");
