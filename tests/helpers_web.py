"""The web apps in Chromium: a page at phone or desktop size, its console watched, axe-core's checks, shots."""
import contextlib
import json
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import FROZEN_NOW, PASSWORD
from testkit.server import REPO, live_server

ARTIFACTS = REPO / "tests" / "artifacts"
AXE = Path(__file__).resolve().parent / "assets" / "axe-core" / "axe.min.js"
SIZES = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 900}}
TIMEOUT_MS = 20_000
# WCAG 2.1 A and AA rules; every violation fails the test, whatever its impact.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ENV = {"VMO_FROZEN_NOW": FROZEN_NOW}
FIRST_PAGE_BUDGET = 100 * 1024


# ---- fixtures for the web apps' browser tests (import them into the test module) -----------------

@pytest.fixture
def backend():
    """The pages, not the database: one backend (the API's own tests cover both)."""
    return "sqlite"


@pytest.fixture(params=["phone", "desktop"])
def size(request):
    return request.param


@pytest.fixture
def server(app, database_url):
    with live_server(database_url, workers=2, threads=4, env=ENV) as running:
        yield running


@pytest.fixture
def web(browser, server, size):
    page = WebPage(browser, size, base_url=server.url)
    yield page
    # Shown by pytest only when the test failed: what the page and the server said.
    print("\n".join(page.console[-40:]))
    print(server.log()[-3000:])
    page.shot("last")
    page.close()


class WebPage:
    """A page of one browser context, with what went wrong in it collected for the assertions."""

    def __init__(self, browser, size: str, *, base_url: str):
        self.size = size
        self.context = browser.new_context(viewport=SIZES[size], locale="zh-CN", timezone_id="Asia/Shanghai",
                                           has_touch=size == "phone", is_mobile=size == "phone",
                                           base_url=base_url, accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        # The browser's clock starts at the server's frozen "now" (VMO_FROZEN_NOW) and runs on from there:
        # "today" is the same day on both sides, and a test can move the page's timers on.
        self.page.clock.install(time=datetime.fromisoformat(FROZEN_NOW))
        self.console: list[str] = []
        self.page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        self.page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))
        self.page.on("response", lambda r: self.console.append(f"answer {r.status}: {r.request.method} {r.url}")
                     if r.status >= 400 else None)

    def problems(self) -> list[str]:
        """CSP refusals and script errors (a 4xx the page asked for and explained is no problem)."""
        return [line for line in self.console if "Content Security Policy" in line or line.startswith("pageerror")]

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}-{self.size}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def axe(self, what: str) -> None:
        """Run axe-core on the page as it is now; fail with each violation's rule and elements."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated by the DevTools protocol, which the page's CSP does not govern: the app itself
            # still may not load any script of another origin or inline.
            self.page.evaluate(AXE.read_text(encoding="utf-8"))
        result = self.page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        violations = [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
                       "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]
        assert not violations, f"accessibility problems on {what} ({self.size}):\n" + json.dumps(
            violations, ensure_ascii=False, indent=1)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()


def wait_text(page, selector: str, text: str) -> None:
    """Wait until the element's text contains `text` (a predicate function: the CSP forbids eval'd strings)."""
    page.wait_for_function("([sel, text]) => { const el = document.querySelector(sel); "
                           "return el && el.textContent.includes(text); }", arg=[selector, text], timeout=TIMEOUT_MS)


def kaoshi_sign_in(page, username: str) -> None:
    """Sign in to the candidates' app (/kaoshi/) and wait for the subjects."""
    page.goto("/kaoshi/#/signin")
    page.wait_for_selector("#signin-username")
    page.fill("#signin-username", username)
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("#subjects .subject")
