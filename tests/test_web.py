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
