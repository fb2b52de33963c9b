// The API as the page uses it: a bearer token, problem documents turned into readable errors, and the
// live event stream read with fetch (EventSource cannot send an Authorization header).

const KEY = "cityos.token";
let token = sessionStorage.getItem(KEY) || localStorage.getItem(KEY) || "";

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

let leaving = false; // logged out, the page reloading: what is still asked for is dropped
const inFlight = new Set(); // the calls that have gone out and not come back

export const hasToken = () => Boolean(token);

// Log out for good: calls made from now until the page reloads (a debounced refresh, a timer that fired
// meanwhile) never go out and never settle. The token is revoked only once the calls already out have come
// back: revoked earlier, they would come back 401 on a page that is going away.
export async function leave() {
  leaving = true;
  await Promise.allSettled([...inFlight]);
  const ending = token;
  setToken("");
  if (!ending) return;
  try {
    await fetch("/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${ending}` } });
  } catch { /* the server is gone: the token expires on its own */ }
}

export function setToken(value) {
  token = value || "";
  if (token) sessionStorage.setItem(KEY, token);
  else { sessionStorage.removeItem(KEY); localStorage.removeItem(KEY); }
}

export async function call(method, path, body, { total = false } = {}) {
  if (leaving) return new Promise(() => {});
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const sent = fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  inFlight.add(sent);
  let r;
  try { r = await sent; } finally { inFlight.delete(sent); }
  if (r.status === 204) return null;
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!r.ok) {
    if (r.status === 401) window.dispatchEvent(new CustomEvent("cityos:unauthenticated"));
    throw new ApiError(r.status, data);
  }
  if (total) return { data, total: Number(r.headers.get("X-Total-Count") || 0) };
  return data;
}

export const get = (path, opts) => call("GET", path, undefined, opts);
export const post = (path, body = {}) => call("POST", path, body);

// Reads GET /web/events and calls onEvent(name, data) per message; reconnects after a drop.
export function listen(onEvent, onState) {
  let stopped = false;
  let controller = null;
  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const r = await fetch("/web/events", {
          headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
          signal: controller.signal,
        });
        if (r.status === 401) { window.dispatchEvent(new CustomEvent("cityos:unauthenticated")); return; }
        if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
        onState(true);
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let name = "message";
            const data = [];
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) name = line.slice(6).trim();
              else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
            }
            if (data.length) {
              try { onEvent(name, JSON.parse(data.join("\n"))); } catch (e) { console.error(e); }
            }
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      onState(false);
      if (!stopped) await new Promise((res) => setTimeout(res, 2000));
    }
  }
  run();
  return () => { stopped = true; if (controller) controller.abort(); };
}
