"""Web apps (no build step): plain files from a package folder, under a strict CSP.

`static_app()` makes the blueprint that serves one app's folder at its address (`/qiye/`, `/kaoshi/`,
and the officers' `/tablet/`); the public apps' first page is the one shell (shell.html) with the app's
title and module, and the files they share (API client, words, page builder, stylesheet) are served
at `/web/`.
"""
import html
import string
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, request
from werkzeug.security import safe_join

COMMON_DIR = Path(__file__).resolve().parent / "static"
QIYE_DIR = Path(__file__).resolve().parent / "qiye" / "static"
SHELL_FILE = Path(__file__).resolve().parent / "shell.html"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".csv": "text/csv; charset=utf-8",
}
# Where security.py finds the addresses that get the web apps' policy instead of the API's.
PREFIXES_KEY = "vmo.web_app_prefixes"


@dataclass(frozen=True)
class Shell:
    """What a public app's first page says of itself; the rest of the page is shell.html."""
    title: str
    description: str


QIYE_SHELL = Shell("企业车辆预登记", "南川车管所企业车辆预登记：批量提交新车、绿色通道预约、选号、到场单")


def shell_page(address: str, shell: Shell) -> str:
    """The first page of the app at `/<address>/`: the shell with its words and its `app.js`."""
    return string.Template(SHELL_FILE.read_text(encoding="utf-8")).substitute(
        address=html.escape(address), title=html.escape(shell.title), description=html.escape(shell.description))


def _revalidated(body: bytes, content_type: str, headers: dict[str, str] | None = None):
    """Sent with its ETag and revalidated each time (the apps change with each release)."""
    response = current_app.response_class(body, content_type=content_type)
    response.add_etag()
    response.headers["Cache-Control"] = "no-cache"
    response.headers.update(headers or {})
    return response.make_conditional(request)


def send_file(directory: Path, filename: str, headers: dict[str, str] | None = None):
    """One file of an app, or 404 for anything outside `directory` or of a type not served."""
    path = safe_join(str(directory), filename)
    suffix = Path(filename).suffix
    if path is None or suffix not in CONTENT_TYPES or not Path(path).is_file():
        abort(404)
    return _revalidated(Path(path).read_bytes(), CONTENT_TYPES[suffix], headers)


def static_app(name: str, address: str, directory: Path, *, shell: Shell | None = None, index: str | None = None,
               headers: dict[str, dict[str, str]] | None = None) -> Blueprint:
    """A blueprint serving `directory` at `/<address>/`, and there the shell's page (or the file `index`);
    `/<address>` redirects. `headers`: extra headers of some files, by file name."""
    bp = Blueprint(name, __name__)
    root = f"/{address}"
    headers = headers or {}
    page = shell_page(address, shell).encode() if shell else None

    @bp.get(root, endpoint="redirect")
    def to_slash():
        return redirect(root + "/", code=301)

    if page is not None:
        @bp.get(root + "/", endpoint="index")
        def shell_index():
            return _revalidated(page, CONTENT_TYPES[".html"])
    elif index:
        @bp.get(root + "/", endpoint="index")
        def index_file():
            return send_file(directory, index, headers.get(index))

    @bp.get(root + "/<path:filename>", endpoint="file")
    def file(filename):
        return send_file(directory, filename, headers.get(filename))

    @bp.record_once
    def _prefix(state):
        state.app.extensions.setdefault(PREFIXES_KEY, set()).add(root)

    return bp


def register(app, api=None) -> None:
    """Serve the shared files at /web/ and the companies' app at /qiye/ (plain blueprints, not in the API doc)."""
    app.register_blueprint(static_app("web_common", "web", COMMON_DIR))
    app.register_blueprint(static_app("qiye", "qiye", QIYE_DIR, shell=QIYE_SHELL))
