// 城市一张图: the district drawn from its own geometries (no tiles) with ECharts, and the layers on top.

import { html, markup, show } from "./dom.js";
import { departmentName, levelName, num, pick, t } from "./i18n.js";
import { initChart } from "./fonts.js";

const LEVEL_COLORS = ["#5b6b7b", "#3d8bfd", "#f2c94c", "#f2994a", "#e5484d"];
// Okabe-Ito, a palette told apart with the common colour-vision deficiencies; types beyond it reuse shapes.
const TYPE_COLORS = ["#56b4e9", "#e69f00", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#ffffff",
  "#999999", "#88ccee", "#44aa99", "#ddcc77", "#aa4499"];
const TYPE_SYMBOLS = ["circle", "rect", "triangle", "diamond", "circle", "rect", "triangle", "diamond", "circle",
  "rect", "triangle", "diamond", "circle"];
const CASE_COLORS = { new: "#f2c94c", dispatched: "#56b4e9", working: "#e69f00", done: "#009e73" };
const CASE_GROUP = {
  reported: "new", registered: "new", returned: "new", dispatched: "dispatched", accepted: "working",
  in_progress: "working", suspended: "working", handled: "done", verified: "done",
};

export function centroid(geometry) {
  if (!geometry) return null;
  if (geometry.type === "Point") return geometry.coordinates;
  const ring = geometry.type === "Polygon" ? geometry.coordinates[0] : geometry.coordinates[0][0];
  let x = 0, y = 0;
  const n = ring.length - 1 || 1;
  for (let i = 0; i < n; i++) { x += ring[i][0]; y += ring[i][1]; }
  return [x / n, y / n];
}

export class DistrictMap {
  constructor(el, { onSelect }) {
    this.el = el;
    this.chart = initChart(el);
    this.onSelect = onSelect;
    this.features = new Map(); // id -> feature
    this.layers = null;
    this.show = { streets: true, grids: true, units: true, buildings: true, sensors: "all", warnings: true,
      cases: true, offline: true };
    this.places = { units: {}, grids: {}, streets: {} };
    this.sensorTypes = [];
    this.sensors = []; // rows as /twin/sensors gives them
    this.sensorIndex = new Map(); // id -> row
    this.byLocalId = new Map(); // local part of the id -> row
    this.warnings = [];
    this.cases = [];
    this.indicatorNames = {};
    this.view = null; // center and zoom kept across redraws
    this.chart.on("click", (p) => this.clicked(p));
    this.chart.on("georoam", () => {
      const geo = this.chart.getOption().geo[0];
      this.view = { center: geo.center, zoom: geo.zoom };
    });
    new ResizeObserver(() => { if (el.offsetWidth) this.chart.resize(); }).observe(el);
  }

  setGeometry(map) {
    this.layers = map.layers;
    this.bbox = map.bbox;
    for (const fc of Object.values(map.layers)) for (const f of fc.features) this.features.set(f.id, f);
  }

  setSensors(reply) {
    this.sensorTypes = reply.types;
    const at = Object.fromEntries(reply.fields.map((f, i) => [f, i]));
    this.sensors = reply.sensors.map((r) => ({
      id: r[at.id], type: r[at.type], lon: r[at.lon], lat: r[at.lat], value: r[at.value], online: r[at.online],
      unit: r[at.unit], grid: r[at.grid],
    }));
    this.sensorIndex = new Map(this.sensors.map((s) => [s.id, s]));
    // device events name the Device; its thing shares the local part (…:Device:HP-CF-00001, …:CrowdFlowObserved:HP-CF-00001)
    this.byLocalId = new Map(this.sensors.map((s) => [s.id.split(":").pop(), s]));
  }

  // Live values: only what the tooltip and details read, so no redraw is needed.
  updateValues(pairs) {
    for (const [id, value] of pairs) {
      const s = this.sensorIndex.get(id);
      if (s) s.value = value;
    }
  }

  setOnline(id, online) {
    const s = this.byLocalId.get(id.split(":").pop());
    if (s) { s.online = online; this.drawSoon(); }
  }

  // A redraw at most once a second: device events come in bursts (a whole district coming online).
  drawSoon() {
    if (this.pending) return;
    this.pending = setTimeout(() => { this.pending = null; this.draw(); }, 1000);
  }

  regions() {
    const out = [];
    const tint = (level, alpha) => {
      const c = LEVEL_COLORS[level];
      const a = Math.round(alpha * 255).toString(16).padStart(2, "0");
      return c + a;
    };
    const maxH = Math.max(1, ...this.layers.buildings.features.map((f) => f.properties.height || 0));
    for (const f of this.visibleFeatures()) {
      const p = f.properties;
      let style, label = { show: false }, emphasisLabel = { show: false };
      if (p.kind === "district") style = { areaColor: "#0f2236", borderColor: "#4fb3ff", borderWidth: 2 };
      else if (p.kind === "street") {
        const lv = this.places.streets[f.id] || 0;
        style = { areaColor: lv ? tint(lv, 0.18) : "#13263a", borderColor: "#4a7fae", borderWidth: 1.6 };
      } else if (p.kind === "grid") {
        const lv = this.places.grids[f.id] || 0;
        style = { areaColor: lv ? tint(lv, 0.3) : "rgba(0,0,0,0)", borderColor: "#2a4d70", borderWidth: 0.6,
          borderType: "dashed" };
      } else if (p.kind === "unit") {
        const lv = this.places.units[f.id] || 0;
        style = { areaColor: lv ? tint(lv, 0.65) : "#1f5677", borderColor: lv ? LEVEL_COLORS[lv] : "#7fd0ff",
          borderWidth: lv ? 3 : 1.5 };
        label = { show: true, formatter: pick(p.name), color: "#e6eef6", fontSize: 12, textBorderColor: "#0b1622",
          textBorderWidth: 3 };
        emphasisLabel = label;
      } else {
        // buildings: the taller, the lighter, a flat stand-in for extrusion
        const k = Math.min(1, (p.height || 3) / maxH);
        const v = Math.round(60 + 120 * Math.sqrt(k));
        style = { areaColor: `rgb(${v - 20},${v + 5},${v + 35})`, borderColor: "#0b1622", borderWidth: 0.4 };
      }
      out.push({ name: f.id, itemStyle: style, label, emphasis: { label: emphasisLabel } });
    }
    return out;
  }

  visibleFeatures() {
    const L = this.layers;
    const out = [...L.district.features];
    if (this.show.streets) out.push(...L.streets.features);
    if (this.show.grids) out.push(...L.grids.features);
    if (this.show.buildings) out.push(...L.buildings.features);
    if (this.show.units) out.push(...L.units.features);
    return out;
  }

  series() {
    const out = [];
    const types = this.sensorTypes;
    const wanted = this.show.sensors;
    types.forEach((ty, i) => {
      const on = wanted === "all" || wanted === ty.type;
      out.push({
        id: `sensors-${ty.type}`, name: pick(ty.name), type: "scatter", coordinateSystem: "geo", z: 3,
        symbol: TYPE_SYMBOLS[i % TYPE_SYMBOLS.length], symbolSize: 4,
        itemStyle: { color: TYPE_COLORS[i % TYPE_COLORS.length], opacity: 0.75 },
        data: on ? this.sensors.filter((s) => s.type === i).map((s) => ({ name: s.id, value: [s.lon, s.lat] })) : [],
        emphasis: { scale: 2 }, progressive: 2000,
      });
    });
    out.push({
      id: "offline", name: t("layer.offline"), type: "scatter", coordinateSystem: "geo", z: 4, symbol: "pin",
      symbolSize: 14, itemStyle: { color: "#c8c8c8", borderColor: "#0b1622", borderWidth: 1 },
      data: this.show.offline
        ? this.sensors.filter((s) => s.online === false).map((s) => ({ name: s.id, value: [s.lon, s.lat] }))
        : [],
    });
    const warnPoints = [];
    if (this.show.warnings) {
      const seen = new Set();
      for (const w of this.warnings) {
        const f = this.features.get(w.scope);
        if (!f || seen.has(w.scope)) continue;
        seen.add(w.scope);
        const c = centroid(f.geometry);
        warnPoints.push({
          name: w.id, value: [...c, w.level], symbolSize: 10 + 5 * w.level,
          itemStyle: { color: LEVEL_COLORS[w.level] },
          label: { show: true, position: "right", formatter: `${levelName(w.level)} · ${this.indicatorNames[w.indicator] || w.indicator}`,
            color: "#fff", backgroundColor: "rgba(11,22,34,.85)", borderColor: LEVEL_COLORS[w.level], borderWidth: 1,
            padding: [2, 4], fontSize: 12 },
        });
      }
    }
    out.push({ id: "warnings", name: t("layer.warnings"), type: "effectScatter", coordinateSystem: "geo", z: 6,
      rippleEffect: { scale: 3, brushType: "stroke" }, data: warnPoints });
    out.push({
      // a pin stands on its place, above a warning's marker at the same spot
      id: "cases", name: t("layer.cases"), type: "scatter", coordinateSystem: "geo", z: 7, symbol: "pin",
      symbolSize: 22, symbolOffset: [0, "-50%"],
      data: this.show.cases
        ? this.cases.filter((c) => CASE_GROUP[c.state] && this.placeOf(c)).map((c) => ({
          name: c.id, value: this.placeOf(c), itemStyle: { color: CASE_COLORS[CASE_GROUP[c.state]] } }))
        : [],
    });
    return out;
  }

  // Where a case is: its coordinates, else the middle of its unit, grid or street (a warning's case has a place).
  placeOf(c) {
    if (c.lon != null && c.lat != null) return [c.lon, c.lat];
    const f = this.features.get(c.unit) || this.features.get(c.grid) || this.features.get(c.street);
    return f ? centroid(f.geometry) : null;
  }

  draw() {
    if (!this.layers || !this.bbox) return; // a tenant with no district drawn (a district return's own tenant)
    if (!this.el.offsetWidth) { this.dirty = true; return; } // hidden (the twin page is open): draw when shown
    this.dirty = false;
    echarts.registerMap("district", { type: "FeatureCollection", features: this.visibleFeatures() });
    const [x0, y0, x1, y1] = this.bbox;
    const geo = {
      map: "district", nameProperty: "id", roam: true, aspectScale: Math.cos(((y0 + y1) / 2) * Math.PI / 180),
      scaleLimit: { min: 0.8, max: 40 }, selectedMode: false, layoutCenter: ["50%", "50%"], layoutSize: "95%",
      itemStyle: { areaColor: "#13263a", borderColor: "#2a4d70" },
      emphasis: { itemStyle: { areaColor: "#2d6a96" }, label: { show: false } },
      label: { show: false }, regions: this.regions(),
    };
    if (this.view) Object.assign(geo, this.view);
    else geo.center = [(x0 + x1) / 2, (y0 + y1) / 2];
    this.chart.setOption({
      backgroundColor: "transparent",
      animation: false,
      tooltip: { trigger: "item", confine: true, formatter: (p) => this.tooltip(p) },
      geo,
      series: this.series(),
    }, { replaceMerge: ["series", "geo"] });
  }

  // ECharts writes a tooltip formatter's answer into the page as HTML: each one is built with `markup`.
  tooltip(p) {
    if (p.componentType === "geo") {
      const f = this.features.get(p.name);
      if (!f) return "";
      const pr = f.properties;
      const lv = (this.places[`${pr.kind}s`] || {})[f.id] || 0;
      return markup`${pick(pr.name)}<br>${t(`layer.${pr.kind}s`) || ""}${lv ? ` · ${levelName(lv)}` : ""}`;
    }
    if (p.seriesId && p.seriesId.startsWith("sensors-") || p.seriesId === "offline") {
      const s = this.sensorIndex.get(p.name);
      if (!s) return "";
      const ty = this.sensorTypes[s.type];
      const state = s.online === true ? t("details.online") : s.online === false ? t("details.offline") : t("details.never");
      return markup`${pick(ty.name)}<br>${s.id.split(":").pop()}<br>${ty.attr}: <b>${num(s.value)}</b> ${ty.unit || ""}<br>${state}`;
    }
    if (p.seriesId === "warnings") {
      const w = this.warnings.find((x) => x.id === p.name);
      return w ? markup`${levelName(w.level)} · ${this.indicatorNames[w.indicator] || w.indicator}<br>${num(w.value)}` : "";
    }
    if (p.seriesId === "cases") {
      const c = this.cases.find((x) => x.id === p.name);
      return c ? markup`${String(c.text || c.id).slice(0, 60)}<br>${departmentName(c.department)}` : "";
    }
    return "";
  }

  clicked(p) {
    if (p.componentType === "geo") {
      const f = this.features.get(p.name);
      if (f) this.onSelect({ kind: f.properties.kind, feature: f });
    } else if (p.seriesId && (p.seriesId.startsWith("sensors-") || p.seriesId === "offline")) {
      const s = this.sensorIndex.get(p.name);
      if (s) this.onSelect({ kind: "sensor", sensor: s, type: this.sensorTypes[s.type] });
    } else if (p.seriesId === "warnings") {
      this.onSelect({ kind: "warning", id: p.name });
    } else if (p.seriesId === "cases") {
      this.onSelect({ kind: "case", id: p.name });
    }
  }

  legend(el) {
    const levels = [1, 2, 3, 4].map((l) => html`<span class="level" data-level="${l}">${levelName(l)}</span>`);
    const cases = Object.keys(CASE_COLORS)
      .map((k) => html`<span><span aria-hidden="true" class="pin" data-case-group="${k}">▼</span> ${t(`legend.case.${k}`)}</span>`);
    show(el, html`${levels}${cases}<span><span aria-hidden="true" class="pin" data-case-group="offline">▼</span> ${t("layer.offline")}</span>`);
  }
}

export { LEVEL_COLORS, CASE_GROUP };
