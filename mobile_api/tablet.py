"""The officers' offline-first tablet app: static files served at /tablet/ (no build step)."""
from pathlib import Path

from vmo import security
from vmo.web import static_app

# Plain ES modules, a service worker, IndexedDB, camera photos shown as blob: URLs; no inline script or style.
TABLET_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
                 "connect-src 'self'; worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; "
                 "base-uri 'self'; form-action 'self'")
TABLET_DIR = Path(__file__).resolve().parent / "static" / "tablet"

# Files revalidate with their ETag ("no-cache"): the offline copies live in the service worker's
# versioned cache, so the browser's HTTP cache never holds a stale shell. The worker's scope is the app.
bp = static_app("tablet", "tablet", TABLET_DIR, index="index.html",
                headers={"sw.js": {"Service-Worker-Allowed": "/tablet/"}})


def register(app) -> None:
    """Serve the tablet app (a plain Flask blueprint: it is not part of the OpenAPI document)."""
    app.register_blueprint(bp)
    security.add_policy(app, "/tablet", TABLET_POLICY)
