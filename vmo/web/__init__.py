"""Web apps for the public (no build step): plain files from a package folder, under a strict CSP.

`static_app()` makes the blueprint that serves one app's folder at its address (`/qiye/`, `/kaoshi/`);
the files every app shares (API client, words, page builder, stylesheet) are served at `/web/`.
"""
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, request
from werkzeug.security import safe_join

COMMON_DIR = Path(__file__).resolve().parent / "static"
QIYE_DIR = Path(__file__).resolve().parent / "qiye" / "static"
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


def send_file(directory: Path, filename: str):
    """One file of an app, revalidated with its ETag each time (the apps change with each release)."""
    path = safe_join(str(directory), filename)
    suffix = Path(filename).suffix
    if path is None or suffix not in CONTENT_TYPES or not Path(path).is_file():
        abort(404)
    response = current_app.response_class(Path(path).read_bytes(), content_type=CONTENT_TYPES[suffix])
    response.add_etag()
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


def static_app(name: str, address: str, directory: Path, *, index: str | None = "index.html") -> Blueprint:
    """A blueprint serving `directory` at `/<address>/` (and `index` there); `/<address>` redirects."""
    bp = Blueprint(name, __name__)
    root = f"/{address}"

    @bp.get(root, endpoint="redirect")
    def to_slash():
        return redirect(root + "/", code=301)

    if index:
        @bp.get(root + "/", endpoint="index")
        def index_page():
            return send_file(directory, index)

    @bp.get(root + "/<path:filename>", endpoint="file")
    def file(filename):
        return send_file(directory, filename)

    @bp.record_once
    def _prefix(state):
        state.app.extensions.setdefault(PREFIXES_KEY, set()).add(root)

    return bp


def register(app, api=None) -> None:
    """Serve the shared files at /web/ and the companies' app at /qiye/ (plain blueprints, not in the API doc)."""
    app.register_blueprint(static_app("web_common", "web", COMMON_DIR, index=None))
    app.register_blueprint(static_app("qiye", "qiye", QIYE_DIR))
