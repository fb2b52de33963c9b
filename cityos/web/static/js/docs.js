// The API documentation at /docs: Swagger UI from npm, served by this server like ECharts, over /openapi.json.
// A file of its own rather than an inline script, so that /docs runs under the same Content-Security-Policy.

window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  // no badge from the public validator's site: the page asks no other site for anything
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
