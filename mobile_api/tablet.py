"""The officers' offline-first tablet app: static files served at /tablet/ (no build step)."""
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, request
from werkzeug.security import safe_join

TABLET_DIR = Path(__file__).resolve().parent / "static" / "tablet"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

bp = Blueprint("tablet", __name__)


def _send(filename: str):
    path = safe_join(str(TABLET_DIR), filename)
    suffix = Path(filename).suffix
    if path is None or suffix not in CONTENT_TYPES or not Path(path).is_file():
        abort(404)
    # The files are small: read whole (no open file handle left to the server), with a strong ETag.
    response = current_app.response_class(Path(path).read_bytes(), content_type=CONTENT_TYPES[suffix])
    response.add_etag()
    # "no-cache": revalidated with the ETag every time; the offline copies live in the service worker's
    # versioned cache, so the browser's HTTP cache never holds a stale shell.
    response.headers["Cache-Control"] = "no-cache"
    if filename == "sw.js":
        response.headers["Service-Worker-Allowed"] = "/tablet/"
    return response.make_conditional(request)


@bp.get("/tablet")
def tablet_redirect():
    return redirect("/tablet/", code=301)


@bp.get("/tablet/")
def tablet_index():
    return _send("index.html")


@bp.get("/tablet/<path:filename>")
def tablet_file(filename):
    return _send(filename)


def register(app) -> None:
    """Serve the tablet app (a plain Flask blueprint: it is not part of the OpenAPI document)."""
    app.register_blueprint(bp)
