// The charts' typeface. ECharts draws on a canvas, which takes no font from the page's stylesheets: the charts
// name Noto Sans SC (fonts.css) through a theme, or their Chinese is drawn in boxes on a machine without
// Chinese fonts. A canvas draws with a fallback while a slice of the face still loads and does not draw again
// by itself: the charts are redrawn when the browser has loaded one.

export const FONT = '"Noto Sans SC", sans-serif';
const THEME = "cityos";
const charts = new Set();

echarts.registerTheme(THEME, { textStyle: { fontFamily: FONT } });

document.fonts.addEventListener("loadingdone", () => {
  for (const c of charts) {
    if (c.isDisposed() || !c.getDom().isConnected) charts.delete(c);
    else if (c.getDom().offsetWidth) c.resize(); // a hidden chart has no size to lay out; it is drawn when shown
  }
});

export function initChart(el) {
  const c = echarts.init(el, THEME, { renderer: "canvas" });
  charts.add(c);
  return c;
}
