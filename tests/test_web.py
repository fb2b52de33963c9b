"""The dashboard's page and files are public; its data comes from the token-protected API."""

from conftest import Api


def test_the_dashboard_page_is_public_and_loads_its_script_and_library(api: Api) -> None:
    r = api.get("/", token=None)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in r.text and "城市运行体征" in r.text
    assert "/static/js/app.js" in r.text and "/static/vendor/echarts.min.js" in r.text
    app = api.get("/static/js/app.js", token=None)
    assert app.status_code == 200 and "javascript" in app.headers["content-type"]
    echarts = api.get("/static/vendor/echarts.min.js", token=None)
    assert echarts.status_code == 200 and len(echarts.content) > 500_000  # installed from npm by the Makefile


def test_an_unknown_library_is_a_problem_document(api: Api) -> None:
    r = api.get("/static/vendor/jquery.js", token=None)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert "echarts.min.js" in r.json()["detail"]


def test_the_live_stream_needs_a_token(api: Api) -> None:
    r = api.get("/web/events", token=None)
    assert r.status_code == 401 and "bearer token" in r.json()["detail"]


def test_the_typeface_is_served_by_weight_and_slice(api: Api) -> None:
    assert '<link rel="stylesheet" href="/static/fonts.css">' in api.get("/", token=None).text
    fonts = api.get("/static/fonts.css", token=None).text
    assert '@import url("/static/vendor/noto-sans-sc/400.css")' in fonts and "700.css" in fonts
    css = api.get("/static/vendor/noto-sans-sc/400.css", token=None)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    # about a hundred faces, each a slice of the characters by unicode-range, named relative to the stylesheet
    assert css.text.count("@font-face") > 100 and css.text.count("unicode-range") == css.text.count("@font-face")
    first = css.text.split("url(./", 1)[1].split(")", 1)[0]
    woff2 = api.get(f"/static/vendor/noto-sans-sc/{first}", token=None)
    assert woff2.status_code == 200 and woff2.headers["content-type"] == "font/woff2"
    assert woff2.content[:4] == b"wOF2"


def test_the_typeface_route_serves_nothing_else(api: Api) -> None:
    for name in ["package.json", "files/../package.json", "files/..%2Fpackage.json", "files/x.ttf", "900.css.map"]:
        r = api.get(f"/static/vendor/noto-sans-sc/{name}", token=None)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", name
        assert "400.css, 700.css" in r.json()["detail"]


def test_redoc_is_served_with_no_address_of_its_makers_cdn(api: Api) -> None:
    page = api.get("/redoc", token=None)
    assert "/static/vendor/redoc.standalone.js" in page.text and "/static/js/redoc.js" in page.text
    assert page.headers["content-security-policy"].endswith("; worker-src blob:")
    bundle = api.get("/static/vendor/redoc.standalone.js", token=None)
    assert bundle.status_code == 200 and len(bundle.content) > 500_000  # installed from npm by the Makefile
    assert b"cdn.redoc.ly" not in bundle.content
    assert "/openapi.json" in api.get("/static/js/redoc.js", token=None).text
