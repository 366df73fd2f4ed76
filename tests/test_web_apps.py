"""The public web apps' files as served: /kaoshi/ (candidates), /qiye/ (companies) and their shared /web/
files; a strict CSP, revalidation, no inline code, both languages, every refusal worded, a small first page."""
import re
from configparser import ConfigParser
from html.parser import HTMLParser
from pathlib import Path

import pytest

from schedules.exams.schemas import REASONS as API_REASONS
from schedules.kaoshi import KAOSHI_DIR, KAOSHI_SHELL
from testkit.server import REPO
from vmo.security import WEB_APP_POLICY
from vmo.web import COMMON_DIR, QIYE_DIR, QIYE_SHELL, shell_page

APPS = {"kaoshi": KAOSHI_DIR, "qiye": QIYE_DIR}
SHELLS = {"kaoshi": KAOSHI_SHELL, "qiye": QIYE_SHELL}
DIRS = {"/kaoshi/": KAOSHI_DIR, "/qiye/": QIYE_DIR, "/web/": COMMON_DIR}
FIRST_PAGE_BUDGET = 100 * 1024


@pytest.fixture
def backend():
    """Static files: one database backend is enough."""
    return "sqlite"


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts, self.styles, self.inline, self.labels, self.ids = [], [], [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "script":
            if attrs.get("src"):
                self.scripts.append(attrs["src"])
            else:
                self.inline.append("script")
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.styles.append(attrs["href"])
        if "style" in attrs or tag == "style":
            self.inline.append(f"style on <{tag}>")
        if any(name.startswith("on") for name in attrs):
            self.inline.append(f"event handler on <{tag}>")


def _page(app: str) -> _Page:
    parser = _Page()
    parser.feed(shell_page(app, SHELLS[app]))
    return parser


def _file_for(url: str) -> Path:
    for prefix, directory in DIRS.items():
        if url.startswith(prefix):
            return directory / url.removeprefix(prefix)
    raise AssertionError(f"{url} is not one of the apps' addresses")


def _static_imports(url: str) -> set[str]:
    """`url` and every module it imports statically (not `import()`, which loads on demand)."""
    seen, todo = set(), [url]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        text = _file_for(current).read_text(encoding="utf-8")
        for name in re.findall(r'^\s*import\s[^;]*?from\s+"([^"]+)"', text, re.M | re.S):
            todo.append(name if name.startswith("/") else current.rsplit("/", 1)[0] + "/" + name.removeprefix("./"))
    return seen


def first_page_urls(app: str) -> set[str]:
    page = _page(app)
    urls = {f"/{app}/"} | set(page.styles)
    for script in page.scripts:
        urls |= _static_imports(script)
    return urls


@pytest.mark.parametrize("name", APPS)
def test_app_redirects_to_its_slash_address(client, name):
    response = client.get(f"/{name}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/{name}/")
    assert response.headers["Content-Security-Policy"] == WEB_APP_POLICY


@pytest.mark.parametrize("name", APPS)
def test_index_is_html_under_the_strict_policy_and_revalidated(client, name):
    response = client.get(f"/{name}/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == WEB_APP_POLICY
    assert "'unsafe-inline'" not in WEB_APP_POLICY and "'unsafe-eval'" not in WEB_APP_POLICY
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers.get_all("Date") == []  # the WSGI server adds the one Date
    assert f'<script type="module" src="/{name}/app.js">'.encode() in response.data
    assert f"<title>{SHELLS[name].title}</title>".encode() in response.data and b"$" not in response.data
    again = client.get(f"/{name}/", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize("name", APPS)
def test_every_file_the_first_page_loads_is_served_with_its_type(client, name):
    types = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
    for url in sorted(first_page_urls(name)):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == types[Path(url if not url.endswith("/") else "index.html").suffix or ".html"], url
        assert response.headers["Content-Security-Policy"] == WEB_APP_POLICY, url


@pytest.mark.parametrize("name", APPS)
def test_first_page_is_under_100_kb(client, name):
    """A slow phone connection: everything the first page needs (HTML, CSS, every module it imports)."""
    total = sum(len(client.get(url).data) for url in first_page_urls(name))
    assert total < FIRST_PAGE_BUDGET, f"/{name}/ needs {total} bytes"


def test_every_module_of_every_app_is_reachable_and_served(client):
    for prefix, directory in DIRS.items():
        for path in directory.iterdir():
            response = client.get(prefix + path.name)
            assert response.status_code == 200, prefix + path.name


@pytest.mark.parametrize("path", ["/kaoshi/../__init__.py", "/kaoshi/%2e%2e/__init__.py", "/qiye/../__init__.py",
                                  "/web/../__init__.py", "/kaoshi/README.txt", "/web/", "/qiye/nothing.js"])
def test_nothing_outside_the_apps_is_served(client, path):
    assert client.get(path).status_code == 404


def test_no_inline_script_or_style_and_no_html_strings_so_the_policy_holds():
    for app in APPS:
        assert _page(app).inline == [], app
    for directory in DIRS.values():
        for module in directory.glob("*.js"):
            text = module.read_text(encoding="utf-8")
            for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function", ".style.",
                           'setAttribute("style"', "document.write"):
                assert banned not in text, f"{module.name} uses {banned}"


def _keys(source: str, lang: str) -> set[str]:
    block = re.search(rf"\n  {lang}: \{{(.*?)\n  \}},", source, re.S).group(1)
    return set(re.findall(r"^\s+(\w+):", block, re.M))


@pytest.mark.parametrize("name", APPS)
def test_every_text_has_both_languages_and_every_used_key_exists(name):
    common = (COMMON_DIR / "i18n.js").read_text(encoding="utf-8")
    own = (APPS[name] / "texts.js").read_text(encoding="utf-8")
    assert _keys(common, "zh") == _keys(common, "en")
    assert _keys(own, "zh") == _keys(own, "en")
    known = _keys(common, "zh") | _keys(own, "zh")
    used = set()
    for directory in (COMMON_DIR, APPS[name]):
        for path in directory.iterdir():
            text = path.read_text(encoding="utf-8")
            used |= set(re.findall(r'\bt\("(\w+)"', text)) | set(re.findall(r'data-i18n="(\w+)"', text))
    assert used <= known, sorted(used - known)


def test_every_refusal_reason_of_the_api_has_chinese_words():
    texts = (KAOSHI_DIR / "texts.js").read_text(encoding="utf-8")
    mapped = set(re.findall(r'"(\w+)"', re.search(r"REASONS = Object.fromEntries\(\[(.*?)\]", texts, re.S).group(1)))
    missing = set(API_REASONS) - mapped
    assert not missing, f"no words for reasons {sorted(missing)}"
    zh = re.search(r"\n  zh: \{(.*?)\n  \},", texts, re.S).group(1)
    for code in mapped:
        line = re.search(rf'reason_{code}: "([^"]+)"', zh).group(1)
        assert re.search(r"[\u4e00-\u9fff]", line), code


def test_the_apps_files_install_with_the_package():
    config = ConfigParser()
    config.read(REPO / "setup.cfg")
    data = config["options.package_data"]
    assert "web/shell.html" in data["vmo"] and "web/static/*" in data["vmo"] and "web/qiye/static/*" in data["vmo"]
    assert "kaoshi/static/*" in data["schedules"]
    for directory in DIRS.values():
        assert not any(p.is_dir() for p in directory.iterdir()), "package_data globs one level only"


def test_the_demo_gives_the_apps_accounts_and_a_session_to_book(app, runner, client):
    """`make run` (vmo demo): the candidate signs in and may book the subject 1 session the demo opens."""
    assert runner.invoke(args=["demo"]).exit_code == 0
    tokens = {}
    for username, role in (("wangfang", "candidate"), ("fengchang", "company")):
        answer = client.post("/api/v1/auth/token", json={"username": username, "password": "demo-pass-2026"})
        assert answer.status_code == 200 and answer.get_json()["role"] == role
        tokens[role] = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    sessions = client.get("/api/v1/test-sessions?subject=1").get_json()
    assert [s["allocation"] for s in sessions] == ["first_come"]
    booked = client.post(f"/api/v1/test-sessions/{sessions[0]['id']}/bookings", json={}, headers=tokens["candidate"])
    assert booked.status_code == 201 and booked.get_json()["status"] == "confirmed"
