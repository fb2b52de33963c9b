"""The landing page is public, bilingual and points to the API documentation."""

from conftest import Api


def test_home_page_is_public_and_bilingual(api: Api) -> None:
    r = api.get("/", token=None)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "城市数字底座" in r.text and "city digital base" in r.text and 'href="/docs"' in r.text
