// The API documentation at /redoc: ReDoc from npm, served by this server, over /openapi.json; a file of its own
// rather than an inline script, so that /redoc runs under the same Content-Security-Policy as every page.

const FONT = '"Noto Sans SC", sans-serif';

Redoc.init("/openapi.json", {
  // the pages' typeface (fonts.css): the summaries' Chinese reads on a machine without Chinese fonts
  theme: { typography: { fontFamily: FONT, headings: { fontFamily: FONT }, code: { fontFamily: 'monospace, "Noto Sans SC"' } } },
}, document.getElementById("redoc"));
