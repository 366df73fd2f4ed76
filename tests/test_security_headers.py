"""Security headers on every kind of response, caching rules, CSP per page, HSTS and CORS."""
import base64
import hashlib
import re

import pytest

from mobile_api.tablet import TABLET_POLICY
from tests.test_tablet_e2e import browser  # noqa: F401  (the Chromium fixture, skip rules included)
from vmo.security import API_POLICY

BASICS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
ORIGIN = "https://tablet.example.gov.cn"


def assert_basics(response):
    for name, value in BASICS.items():
        assert response.headers[name] == value, name
    assert "Strict-Transport-Security" not in response.headers
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_json_answers_errors_and_sign_in_are_not_cached_and_load_nothing(client, factory):
    officer = factory.staff("officer")
    signed_in = client.post("/api/v1/auth/token", json={"username": officer.username,
                                                        "password": "correct-horse-battery"})
    for response in (signed_in, client.get("/api/v1/offices"), client.get("/api/v1/me"),
                     client.post("/api/v1/auth/token", json={}), client.get("/api/v1/nowhere"),
                     client.get("/api/v1/me", headers=factory.headers(officer))):
        assert_basics(response)
        assert response.headers["Content-Security-Policy"] == API_POLICY
        assert response.headers["Cache-Control"] == "no-store"


def test_openapi_document_and_docs_assets_get_the_headers_too(client):
    for path in ("/api/v1/openapi.json", "/docs-assets/swagger-ui.css"):
        response = client.get(path)
        response.close()  # a file answer: close it, or its handle leaks
        assert response.status_code == 200
        assert_basics(response)


def inline_hash(html: str, tag: str) -> str:
    block = re.search(rf"<{tag}>(.*?)</{tag}>", html, flags=re.S).group(1)
    return "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"


def directives(policy: str) -> dict:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_docs_page_allows_exactly_its_own_inline_script(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert_basics(response)
    html = response.get_data(as_text=True)
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'", inline_hash(html, "script")]
    assert policy["connect-src"] == ["'self'"]  # Swagger UI fetches the spec and "try it out" calls
    # Everything else the page loads comes from /docs-assets/ on this server.
    for src in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert src.startswith("/docs-assets/"), src


def test_stats_report_allows_exactly_its_own_stylesheet(client, factory):
    supervisor = factory.staff("supervisor")
    response = client.get("/api/v1/stats/report.html", headers=factory.headers(supervisor))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["style-src"] == ["'self'", inline_hash(html, "style")]
    assert policy["script-src"] == ["'self'"] and "<script" not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_tablet_pages_get_the_offline_app_policy(client):
    response = client.get("/tablet/")
    assert response.headers["Content-Security-Policy"] == TABLET_POLICY
    assert_basics(response)


def test_revalidated_answers_keep_their_etag_and_become_private_when_signed_in(client, factory):
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    first = client.get("/api/v1/mobile/assignments", headers=headers)
    assert first.status_code == 200
    assert set(first.headers["Cache-Control"].replace(" ", "").split(",")) == {"no-cache", "private"}
    again = client.get("/api/v1/mobile/assignments", headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert_basics(again)
    # A public calendar feed stays cacheable by anyone (revalidated with its ETag).
    feed = client.get("/api/v1/calendars/test-sessions.ics")
    assert feed.status_code == 200 and feed.headers["Cache-Control"] == "no-cache" and feed.headers["ETag"]


@pytest.mark.parametrize("app_config", [{"HSTS_SECONDS": 31536000}])
def test_hsts_only_when_configured(client, app_config):
    response = client.get("/api/v1/offices")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# ---- CORS ------------------------------------------------------------------------------

def preflight(client, origin, method="POST"):
    return client.options("/api/v1/auth/token", headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "Content-Type, Idempotency-Key"})


def test_without_configured_origins_no_cors_headers_at_all(client):
    response = client.get("/api/v1/offices", headers={"Origin": ORIGIN})
    assert not [h for h in response.headers.keys() if h.startswith("Access-Control-")]
    answer = preflight(client, ORIGIN)
    assert not [h for h in answer.headers.keys() if h.startswith("Access-Control-")]


@pytest.mark.parametrize("app_config", [{"CORS_ORIGINS": f"{ORIGIN}, https://other.example.gov.cn"}])
def test_listed_origin_gets_cors_and_preflight(client, factory, app_config):
    answer = preflight(client, ORIGIN)
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in answer.headers["Vary"]
    allowed = {h.strip() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"} <= allowed
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= {m.strip() for m in
                                                         answer.headers["Access-Control-Allow-Methods"].split(",")}
    response = client.get("/api/v1/offices", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "X-Total-Count", "X-Pagination", "Retry-After", "X-Request-ID"} <= exposed
    assert "Access-Control-Allow-Credentials" not in response.headers  # bearer tokens, no cookies


@pytest.mark.parametrize("app_config", [{"CORS_ORIGINS": ORIGIN}])
def test_other_origins_get_no_cors_headers(client, app_config):
    for origin in ("https://evil.example.com", ORIGIN + ".evil.example.com", "null"):
        response = client.get("/api/v1/offices", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Origin" in response.headers["Vary"]  # the answer depends on Origin: caches must know
        answer = preflight(client, origin)
        assert answer.status_code != 204
        assert "Access-Control-Allow-Origin" not in answer.headers


# ---- in a real browser: the pages still work under their policies --------------------------

def _serve_from(client, extra_headers=None, rewrite_csp=None):
    """A Playwright route handler answering from the Flask test client (no server needed)."""

    def handle(route):
        req = route.request
        path = req.url.split("://", 1)[1].split("/", 1)[1]
        response = client.open("/" + path, method=req.method, headers={**(extra_headers or {})},
                               data=req.post_data_buffer)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        if rewrite_csp is not None:
            headers["Content-Security-Policy"] = rewrite_csp(headers["Content-Security-Policy"])
        route.fulfill(status=response.status_code, headers=headers, body=response.get_data())
        response.close()

    return handle


CATCH_VIOLATIONS = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                    "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")


def _open(browser, client, path, **serve):
    page = browser.new_page()
    page.add_init_script(CATCH_VIOLATIONS)
    page.route("http://vmo.test/**", _serve_from(client, **serve))
    page.goto("http://vmo.test" + path)
    return page


@pytest.mark.slow
def test_docs_and_report_render_under_their_policy_in_chromium(browser, client, factory):
    docs = _open(browser, client, "/docs")
    docs.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    docs.wait_for_selector("#operations-tag-accounts", timeout=20_000)  # the spec was fetched and drawn
    assert docs.evaluate("window.__csp") == []

    headers = factory.headers(factory.staff("supervisor"))
    report = _open(browser, client, "/api/v1/stats/report.html", extra_headers=headers)
    background = "() => getComputedStyle(document.querySelector('header')).backgroundColor"
    assert report.evaluate(background) == "rgb(11, 79, 138)"  # the page's stylesheet applied
    assert report.evaluate("window.__csp") == []

    # The check can fail: without the stylesheet's hash the browser refuses it and says so.
    stripped = _open(browser, client, "/api/v1/stats/report.html", extra_headers=headers,
                     rewrite_csp=lambda policy: re.sub(r" 'sha256-[^']+'", "", policy))
    assert stripped.evaluate(background) != "rgb(11, 79, 138)"
    assert any(v.startswith("style-src") for v in stripped.evaluate("window.__csp"))
