"""A real gunicorn server with several worker processes on a free loopback port, for tests and benchmarks.

    with live_server("sqlite:////tmp/x.sqlite3", workers=4, env={"VMO_FROZEN_NOW": FROZEN_NOW}) as server:
        requests.get(server.url + "/api/v1/offices")

The database must already have its tables (e.g. `db.create_all()` through the `app` fixture); the
server reads `DATABASE_URL` and `VMO_*` settings from the environment given here, exactly as in
production (`gunicorn vmo.wsgi:app`).
"""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    port: int
    process: subprocess.Popen
    log_path: str

    def log(self) -> str:
        """What gunicorn and the app wrote so far (for failure messages)."""
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


@contextlib.contextmanager
def live_server(database_url: str, *, workers: int = 4, threads: int = 1, env: dict | None = None,
                ready_path: str = "/api/v1/offices", startup_timeout: float = 30.0,
                app: str = "vmo.wsgi:app", preload: bool = True) -> Iterator[LiveServer]:
    """Start `gunicorn app` with `workers` processes against `database_url`; stop it on exit.

    `preload` imports the app once in the master and forks the workers (much quicker to start on
    a busy machine); the app opens no database connection at import, so workers share none.
    """
    # Rate limits off unless `env` turns them on: live tests sign in and book many times from 127.0.0.1.
    # Secrets of its own, as production has (`vmo.wsgi` refuses the development defaults).
    environ = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", "VMO_RATELIMIT_ENABLED": "false",
               "VMO_SECRET_KEY": secrets.token_hex(32), "VMO_SMS_HMAC_SECRET": secrets.token_hex(32), **(env or {})}
    fd, log_path = tempfile.mkstemp(prefix="vmo-gunicorn-", suffix=".log")
    os.close(fd)
    process = None
    try:
        for _attempt in range(3):  # the free port may be taken between the probe and the bind
            port = free_port()
            with open(log_path, "ab") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "--config", str(REPO / "gunicorn.conf.py"),
                     "--workers", str(workers), "--threads", str(threads),
                     "--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--timeout", "120",
                     "--graceful-timeout", "5", "--no-control-socket", *(["--preload"] if preload else []), app],
                    cwd=REPO, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            server = LiveServer(f"http://127.0.0.1:{port}", port, process, log_path)
            deadline = time.monotonic() + startup_timeout
            while time.monotonic() < deadline and process.poll() is None:
                if _answers(server.url + ready_path):
                    break
                time.sleep(0.1)
            if process.poll() is None and _answers(server.url + ready_path):
                break
            _stop(process)
            if "Address already in use" not in server.log():
                raise RuntimeError(f"gunicorn did not start:\n{server.log()[-4000:]}")
        else:
            raise RuntimeError(f"gunicorn found no free port:\n{server.log()[-4000:]}")
        yield server
    finally:
        if process is not None:
            _stop(process)
        with contextlib.suppress(OSError):
            os.unlink(log_path)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    # SIGINT is gunicorn's quick shutdown: callers have their answers already. Its master then
    # lingers for seconds after the workers are gone, so after a moment the whole process group
    # (this server's master and workers only: it runs in a session of its own) is killed.
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=1)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
