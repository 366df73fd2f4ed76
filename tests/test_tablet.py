"""The tablet app's files as served at /tablet/: index, service worker, manifest, and a shell that never 404s."""
import json
import re
from html.parser import HTMLParser

import pytest

from mobile_api.tablet import TABLET_DIR



@pytest.fixture
def backend():
    """Static files: one database backend is enough."""
    return "sqlite"


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.inline = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if attrs.get(name):
                self.refs.append(attrs[name])
        if tag == "script" and not attrs.get("src"):
            self.inline.append("script")
        if "style" in attrs or tag == "style":
            self.inline.append(f"style on <{tag}>")
        if any(name.startswith("on") for name in attrs):
            self.inline.append(f"event handler on <{tag}>")


def precache() -> list[str]:
    """The app shell the service worker keeps (its SHELL list)."""
    source = (TABLET_DIR / "sw.js").read_text(encoding="utf-8")
    block = re.search(r"const SHELL = \[(.*?)\];", source, re.S).group(1)
    return re.findall(r'"([^"]+)"', block)


def test_tablet_redirects_to_the_slash_address(client):
    response = client.get("/tablet")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/tablet/")


def test_index_is_served_without_long_caching(client):
    response = client.get("/tablet/")
    assert response.status_code == 200
    assert response.content_type.startswith("text/html")
    assert "max-age=0" in response.headers["Cache-Control"] or "no-cache" in response.headers["Cache-Control"]
    assert b'<script type="module" src="/tablet/app.js">' in response.data


def test_service_worker_is_javascript_for_the_tablet_scope(client):
    response = client.get("/tablet/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/tablet/"
    assert "immutable" not in response.headers.get("Cache-Control", "")
    assert re.search(r'const VERSION = "vmo-tablet-v\d+";', response.get_data(as_text=True))


def test_manifest_is_valid_with_name_icons_and_start_url(client):
    response = client.get("/tablet/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["name"] and manifest["short_name"]
    assert manifest["start_url"] == "/tablet/" and manifest["scope"] == "/tablet/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        answer = client.get(icon["src"])
        assert answer.status_code == 200 and answer.mimetype == "image/png"
        width, height = int.from_bytes(answer.data[16:20], "big"), int.from_bytes(answer.data[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]


def test_every_file_of_the_shell_exists_and_is_served(client):
    parser = _Refs()
    parser.feed((TABLET_DIR / "index.html").read_text(encoding="utf-8"))
    shell = precache()
    assert "/tablet/" in shell
    # Every module imported by another one is precached, or the app would not start offline.
    imported = set()
    for module in TABLET_DIR.glob("*.js"):
        for name in re.findall(r'from "\./([\w.-]+\.js)"', module.read_text(encoding="utf-8")):
            imported.add(f"/tablet/{name}")
    for ref in parser.refs:
        assert ref in shell, f"index.html uses {ref}, which the service worker does not precache"
    for ref in imported:
        assert ref in shell, f"module {ref} is imported but not precached"
    for url in shell:
        assert client.get(url).status_code == 200, url
    assert client.get("/tablet/no-such-file.js").status_code == 404


def test_no_inline_script_or_style_so_a_strict_csp_holds():
    parser = _Refs()
    parser.feed((TABLET_DIR / "index.html").read_text(encoding="utf-8"))
    assert parser.inline == []
    for module in TABLET_DIR.glob("*.js"):
        text = module.read_text(encoding="utf-8")
        assert "innerHTML" not in text and "eval(" not in text and ".style." not in text, module.name
        assert 'setAttribute("style"' not in text, module.name


def test_every_text_has_both_languages():
    from_source = (TABLET_DIR / "i18n.js").read_text(encoding="utf-8")
    zh = re.search(r"zh: \{(.*?)\n  \},", from_source, re.S).group(1)
    en = re.search(r"en: \{(.*?)\n  \},", from_source, re.S).group(1)
    keys = lambda block: set(re.findall(r"^\s+(\w+):", block, re.M))  # noqa: E731
    assert keys(zh) == keys(en)
    used = set()
    for module in TABLET_DIR.glob("*.js"):
        used |= set(re.findall(r'\bt\("(\w+)"', module.read_text(encoding="utf-8")))
        used |= set(re.findall(r'data-i18n="(\w+)"', (TABLET_DIR / "index.html").read_text(encoding="utf-8")))
    assert used <= keys(zh), sorted(used - keys(zh))


def test_files_revalidate_with_their_etag(client):
    first = client.get("/tablet/app.js")
    assert first.status_code == 200 and first.mimetype == "text/javascript"
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get("/tablet/app.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize("path", ["/tablet/../tablet.py", "/tablet/%2e%2e/tablet.py", "/tablet/static",
                                  "/tablet/README.txt"])
def test_nothing_outside_the_app_is_served(client, path):
    assert client.get(path).status_code == 404
