"""The officers' offline-first tablet app: static files served at /tablet/ (no build step)."""
from pathlib import Path

from flask import Blueprint, redirect

from vmo.web import send_file

TABLET_DIR = Path(__file__).resolve().parent / "static" / "tablet"

bp = Blueprint("tablet", __name__)


def _send(filename: str):
    # Files revalidate with their ETag ("no-cache"): the offline copies live in the service worker's
    # versioned cache, so the browser's HTTP cache never holds a stale shell.
    response = send_file(TABLET_DIR, filename)
    if filename == "sw.js":
        response.headers["Service-Worker-Allowed"] = "/tablet/"
    return response


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
