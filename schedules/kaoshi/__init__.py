"""The candidates' web app at /kaoshi/ (考试): sign up, progress, sessions, bookings, draws and calendars.

Plain files (no build step) served by vmo.web's static-app blueprint, under the web apps' strict CSP.
"""
from pathlib import Path

from vmo import hooks
from vmo.web import static_app

KAOSHI_DIR = Path(__file__).resolve().parent / "static"


def register(app) -> None:
    """Serve the app and add the demo candidate to `vmo demo`."""
    app.register_blueprint(static_app("kaoshi", "kaoshi", KAOSHI_DIR))
    from schedules.kaoshi.demo import demo_step
    hooks.add(app, hooks.DEMO_STEPS, demo_step)
