"""What the benchmarks share: a scratch database, the app, offices, candidates, gunicorn, and wrk to load it."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"
LUA = Path(__file__).resolve().parent / "lua" / "requests.lua"
# Where a fresh PostgreSQL database is created when a bench asks for one and no DATABASE_URL is given.
POSTGRES_ADMIN_URL = os.environ.get("VMO_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
# Benchmarks measure the service, not the abuse limits: gunicorn starts with them off.
SERVER_ENV = {"VMO_RATELIMIT_ENABLED": "false"}


def _admin_engine(admin_url: str):
    from sqlalchemy import create_engine

    from vmo.config import normalize_database_url

    return create_engine(normalize_database_url(admin_url), isolation_level="AUTOCOMMIT",
                         connect_args={"connect_timeout": 5})


@contextlib.contextmanager
def _fresh_postgres(admin_url: str, label: str) -> Iterator[str]:
    """CREATE DATABASE vmo_bench_<label>_<random> next to `admin_url`'s database; DROP it afterwards."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = f"vmo_bench_{label}_{uuid.uuid4().hex[:8]}"
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with contextlib.suppress(Exception), engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def postgres_problem(admin_url: str = POSTGRES_ADMIN_URL) -> str | None:
    """None when PostgreSQL at `admin_url` answers, else why not (one line)."""
    from sqlalchemy import text

    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any driver or network error: the caller says so and falls back
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        engine.dispose()


@contextlib.contextmanager
def scratch_database(url: str | None, label: str, *, postgres: bool = False) -> Iterator[str]:
    """The database a bench runs against: `url` as given (DATABASE_URL, --database-url), else a fresh
    PostgreSQL database when `postgres` (dropped afterwards), else a temporary SQLite file.

    When PostgreSQL is asked for but does not answer, says so on stderr and falls back to SQLite, as
    the benches without `postgres` do by default.
    """
    if url:
        yield url
        return
    if postgres:
        problem = postgres_problem()
        if problem is None:
            with _fresh_postgres(POSTGRES_ADMIN_URL, label) as fresh:
                yield fresh
            return
        print(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL.split('@')[-1]} ({problem}); "
              "FALLING BACK TO SQLITE: these figures are not the PostgreSQL ones "
              "(set VMO_BENCH_POSTGRES or DATABASE_URL)", file=sys.stderr, flush=True)
    scratch = tempfile.mkdtemp(prefix=f"vmo-bench-{label}-")
    try:
        yield f"sqlite:///{os.path.join(scratch, 'bench.sqlite3')}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def where(url: str) -> str:
    """The database URL without credentials, for the printed header."""
    return url.split("@")[-1]


def make_app(url: str, **config):
    """The app on `url`, with its tables created."""
    from vmo import create_app
    from vmo.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, **config})
    with app.app_context():
        db.create_all()
    return app


@dataclass
class Office:
    """A bench office (code bench-<random>) and its officers' ids and usernames (password PASSWORD)."""

    id: int
    code: str
    officer_ids: list[int]
    usernames: list[str]


def add_office(app, officers: int = 1) -> Office:
    """An office named bench-<random> with `officers` officers (cheap password hashes)."""
    from vmo.accounts.services import AuthSettings, create_staff
    from vmo.extensions import db
    from vmo.offices.services import ensure_office

    code = f"bench-{uuid.uuid4().hex[:6]}"
    cheap = AuthSettings(time_cost=1, memory_cost=1024, parallelism=1)
    with app.app_context():
        office = ensure_office(code, "压测车管所", "渝G")
        staff = [create_staff(office, f"{code}-officer{'' if n == 0 else n + 1}", PASSWORD, "officer", cheap,
                              badge_number=f"9{n:05d}")
                 for n in range(officers)]
        result = Office(office.id, code, [u.id for u in staff], [u.username for u in staff])
        db.session.commit()
    return result


def add_candidates(app, office: Office, count: int) -> list[dict]:
    """`count` C1 candidates of the office with bearer tokens: [{"candidate_id", "user_id", "token"}]."""
    from testkit.factories import bulk_candidates

    return bulk_candidates(app, office.code, count)


def dispose(app) -> None:
    """Close the bench process's own connections (PostgreSQL cannot drop a database still in use)."""
    from vmo.extensions import db

    with app.app_context():
        db.engine.dispose()


@contextlib.contextmanager
def server(url: str, workers: int = 4, env: dict | None = None, **options):
    """gunicorn with `workers` workers on `url` (testkit.server; `options` go to live_server, `threads` > 1
    makes them gthread workers), rate limits off."""
    from testkit.server import live_server

    with live_server(url, workers=workers, env={**SERVER_ENV, **(env or {})}, **options) as running:
        yield running


def cpu_seconds(pids) -> float:
    """User + system CPU seconds of these processes so far (from /proc; gone processes count 0)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


def resident_mb(pid: int) -> float:
    """A process's resident memory (VmRSS) in MB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def backends(app) -> list[int]:
    """Process ids of the PostgreSQL backends connected to this run's database (but this one's)."""
    from sqlalchemy import text

    from vmo.extensions import db

    with app.app_context():
        pids = list(db.session.scalars(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")))
        db.session.remove()
    return pids


def workers(running) -> list[int]:
    """The gunicorn master's worker processes."""
    try:
        with open(f"/proc/{running.process.pid}/task/{running.process.pid}/children") as handle:
            return [int(pid) for pid in handle.read().split()]
    except OSError:
        return []


def worker_memory(running) -> list[float]:
    """Each gunicorn worker's resident memory now, in MB."""
    return [round(resident_mb(pid), 1) for pid in workers(running)]


def login(base: str, username: str, password: str = PASSWORD) -> str:
    """A bearer token for a staff account."""
    import requests

    response = requests.post(base + "/api/v1/auth/token", timeout=30,
                             json={"username": username, "password": password})
    response.raise_for_status()
    return response.json()["token"]


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile (1..99, inclusive method); 0 for no values."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def wrk_problem() -> str | None:
    if shutil.which("wrk"):
        return None
    return ("wrk is not installed: `make bench` installs Debian's package when run as root with apt-get; "
            "otherwise `apt-get install wrk`")


def with_wrk_on_postgres(url: str | None, label: str, run) -> int:
    """`run(database url)` on `url` or a fresh PostgreSQL database, once wrk is there; 1 if it is not."""
    problem = wrk_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    with scratch_database(url, label, postgres=True) as database:
        return run(database)


def wrk(base: str, paths: list[str], *, threads: int, connections: int, seconds: int, method: str = "GET",
        tokens: list[str] | None = None) -> dict:
    """Run wrk with bench/lua/requests.lua; the figures it prints, plus requests per second.

    With `tokens`, each is sent once and the run ends when all are answered (`seconds` is then a cap).
    """
    with tempfile.TemporaryDirectory(prefix="vmo-wrk-") as scratch:
        paths_file = Path(scratch, "paths")
        paths_file.write_text("\n".join(paths) + "\n")
        env = {**os.environ, "BENCH_METHOD": method, "BENCH_PATHS": str(paths_file)}
        if tokens:
            tokens_file = Path(scratch, "tokens")
            tokens_file.write_text("\n".join(tokens) + "\n")
            env["BENCH_TOKENS"] = str(tokens_file)
        threads = min(threads, connections)
        env["BENCH_THREADS"] = str(threads)
        process = subprocess.Popen(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "60s",
             "-s", str(LUA), base], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        output, answered = [], 0
        try:
            for line in process.stdout:
                output.append(line)
                answered += line.strip() == "ANSWERED"
                if tokens and answered == threads and process.poll() is None:
                    process.send_signal(signal.SIGINT)  # every token has its answer: wrk stops and reports
            process.wait()
        finally:
            if process.poll() is None:  # interrupted: no wrk left hammering a server that is going away
                process.kill()
                process.wait()
        done = subprocess.CompletedProcess(process.args, process.returncode, "".join(output), process.stderr.read())
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    figures = json.loads(lines[-1])
    figures["rps"] = figures["answers"] / (figures["duration_us"] / 1e6)
    figures["errors_total"] = sum(figures["errors"].values())
    return figures
