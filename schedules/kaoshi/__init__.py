"""The candidates' web app at /kaoshi/ (考试): sign up, progress, sessions, bookings, draws and calendars.

Plain files (no build step) served by vmo.web's static-app blueprint, under the web apps' strict CSP;
the first page is vmo.web's shell with the words below.
"""
from pathlib import Path

from vmo import hooks
from vmo.web import Shell, static_app

KAOSHI_DIR = Path(__file__).resolve().parent / "static"
KAOSHI_SHELL = Shell("驾驶人考试预约", "南川车管所驾驶人考试预约：周末和加考场次、候补、摇号、成绩")


def register(app) -> None:
    """Serve the app and add the demo candidate to `vmo demo`."""
    app.register_blueprint(static_app("kaoshi", "kaoshi", KAOSHI_DIR, shell=KAOSHI_SHELL))
    from schedules.kaoshi.demo import demo_step
    hooks.add(app, hooks.DEMO_STEPS, demo_step)
