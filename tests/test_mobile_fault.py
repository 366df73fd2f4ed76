"""Fault test: the server process is killed mid-sync and restarted; the tablet's retries end with every
record present exactly once (SQLite, and PostgreSQL when VMO_TEST_DATABASE_URL is set)."""
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from sqlalchemy import create_engine, func, select, text

from mobile_api.client import TabletClient
from testkit.server import REPO, free_port
from tests.conftest import FROZEN_NOW, PASSWORD
from tests.helpers_mobile import make_tour, record

pytestmark = pytest.mark.slow
RECORDS = 600


class Restartable:
    """gunicorn on a fixed port, in its own process group so one SIGKILL takes master and workers down
    at once, mid-request, with no graceful shutdown."""

    def __init__(self, database_url: str, port: int, log_path: str):
        self.database_url, self.port, self.log_path = database_url, port, log_path
        self.process = None

    def start(self, timeout: float = 30.0) -> None:
        env = {**os.environ, "DATABASE_URL": self.database_url, "VMO_FROZEN_NOW": FROZEN_NOW,
               "PYTHONUNBUFFERED": "1", "VMO_SECRET_KEY": "fault-test-secret-key", "VMO_SMS_HMAC_SECRET": "fault-test-hmac"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{self.port}",
                 "--timeout", "60", "--preload", "vmo.wsgi:app"],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/offices", timeout=2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start:\n" + open(self.log_path, errors="replace").read()[-3000:])

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def _count(engine) -> int:
    from schedules.tours.models import TourInspection

    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(TourInspection))


def test_server_killed_mid_sync_and_restarted_loses_nothing_and_duplicates_nothing(app, factory, database_url,
                                                                                   tmp_path):
    officer = factory.staff("officer")
    tour = make_tour(app, [officer.id], registrations={0: [("渝G00001", "张三", "13800138001")]})
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    server = Restartable(database_url, free_port(), str(tmp_path / "gunicorn.log"))
    server.start()
    kills = []
    try:
        client = TabletClient(f"http://127.0.0.1:{server.port}", str(tmp_path / "queue.sqlite3"), batch_size=40,
                              max_attempts=40, backoff=0.05, max_backoff=0.5, timeout=(2.0, 30.0))
        client.login(officer.username, PASSWORD)
        client.log([record(tour.stop_ids[n % 2], n) for n in range(RECORDS)])

        def killer():
            # Twice: once early, once late in the sync; each time down for a moment, then back.
            for threshold in (80, 360):
                while _count(engine) < threshold:
                    time.sleep(0.005)
                server.kill()
                kills.append(_count(engine))
                time.sleep(1.0)
                server.start()

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        report = client.sync()
        thread.join(60)
    finally:
        server.kill()
    assert len(kills) == 2, kills
    assert all(0 < n < RECORDS for n in kills)
    assert client.counts()["pending"] == 0 and client.counts()["attention"] == 0
    assert client.counts()["synced"] == RECORDS
    assert report.created + report.duplicate == RECORDS
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT client_id, COUNT(*) FROM tour_inspections GROUP BY client_id")).all()
        follow_ups = conn.scalar(text("SELECT COUNT(*) FROM outbox_messages WHERE kind = 'follow_up'"))
        registration = conn.scalar(text("SELECT status FROM tour_registrations"))
    engine.dispose()
    assert len(rows) == RECORDS and {n for _, n in rows} == {1}
    assert follow_ups == 1 and registration == "inspected"
