// The one way the dashboard writes markup. `html` is a template tag: every value put into it is escaped,
// unless it is itself markup made by `html`; `show` is the only place that assigns innerHTML, and it takes
// nothing but such markup. A value from the data (a sensor reading, an entity's name, a case's text) thus
// shows as text, whatever it holds. Links built from data go through `href`, which refuses other schemes.

class Markup {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

export function esc(value) {
  return String(value ?? "").replace(/[&<>"'`]/g, (c) => ENTITIES[c]);
}

function part(value) {
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map(part).join("");
  return esc(value);
}

// html`<b>${name}</b>`: the name escaped; lists of markup are joined.
export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((v, i) => { out += part(v) + strings[i + 1]; });
  return new Markup(out);
}

// Markup as a string, for ECharts, whose tooltip formatters' answers are written into the page as HTML.
export const markup = (strings, ...values) => html(strings, ...values).text;

// Replace an element's content with markup made by `html`; anything else is refused, never written.
export function show(el, content) {
  if (!(content instanceof Markup)) throw new TypeError("show() takes markup made by html``, not a string");
  el.innerHTML = content.text;
}

// Add markup made by `html` at the end of an element.
export function append(el, content) {
  if (!(content instanceof Markup)) throw new TypeError("append() takes markup made by html``, not a string");
  el.insertAdjacentHTML("beforeend", content.text);
}

// A link target from data: a path or fragment of this site, or an http(s) address; anything else
// (javascript:, data:, vbscript:, …) becomes "#".
export function href(value) {
  const text = String(value ?? "").trim();
  if (text.startsWith("#") || (text.startsWith("/") && !text.startsWith("//"))) return text;
  try {
    const url = new URL(text, location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : "#";
  } catch {
    return "#";
  }
}

// The link to a management unit's twin page.
export const unitHref = (id) => href(`#/unit/${encodeURIComponent(id)}`);
