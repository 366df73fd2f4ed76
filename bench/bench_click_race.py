"""The click race: N candidates ask for one first-come session's seats at once, against gunicorn.

Prints bookings per second, p50/p99 latency, how many were confirmed and refused, the overbooked
count (must be 0), and the same server's requests per second on a trivial endpoint measured in
the same run, with the ratio of the two. Uses DATABASE_URL, or a temporary SQLite file. Against
PostgreSQL point it at a scratch database: it adds an office named bench-<random> with its data.
"""
import argparse
import http.client
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select

if not __package__:  # run as a script: the repository root makes `bench` and `tests` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import common  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench_click_race", description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=2000, help="candidates racing (default 2000)")
    parser.add_argument("--seats", type=int, default=100, help="seats in the session (default 100)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--concurrency", type=int, default=64, help="client threads (default 64)")
    parser.add_argument("--trivial-requests", type=int, default=2000,
                        help="requests to the trivial endpoint (default 2000)")
    parser.add_argument("--time-limit", type=float, default=300.0,
                        help="give up on requests not sent after this many seconds (default 300)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="default: DATABASE_URL, else a temporary SQLite file")
    args = parser.parse_args(argv)
    for name in ("candidates", "seats", "workers", "concurrency", "trivial_requests"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def prepare(url: str, candidates: int, seats: int):
    """Tables, an office with an officer, one first-come session, and candidates with tokens."""
    from schedules.exams import services as exams
    from vmo import clock
    from vmo.accounts.models import User
    from vmo.extensions import db

    app = common.make_app(url)
    office = common.add_office(app)
    with app.app_context():
        starts = clock.now() + timedelta(days=7)
        session = exams.create_session(db.session.get(User, office.officer_ids[0]), {
            "subject": 1, "license_class": "C1", "starts_at": starts, "ends_at": starts + timedelta(hours=2),
            "venue": "压测考场", "capacity": seats, "kind": "regular", "allocation": "first_come",
            "applications_close_at": None}, clock.now())
        session_id = session.id
    return app, session_id, common.add_candidates(app, office, candidates)


def request(base: str, method: str, path: str, token: str | None = None) -> tuple[int, float]:
    """One request on a fresh loopback connection; returns (status, seconds)."""
    parts = urlsplit(base)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        connection.close()
    return status, time.perf_counter() - started


def hammer(base: str, jobs: list[tuple[str, str, str | None]], concurrency: int, time_limit: float):
    """Run the jobs on `concurrency` threads; returns ([(status, seconds)], wall seconds, skipped)."""
    deadline = time.monotonic() + time_limit
    skipped = 0
    lock = threading.Lock()

    def one(job):
        nonlocal skipped
        if time.monotonic() > deadline:
            with lock:
                skipped += 1
            return None
        return request(base, *job)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = [r for r in pool.map(one, jobs) if r is not None]
    return results, time.perf_counter() - started, skipped


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    with common.scratch_database(args.database_url, "click_race") as url:
        return _run(args, url)


def _run(args, url: str) -> int:
    print(f"database: {common.where(url)}; {args.candidates} candidates for {args.seats} seats; "
          f"{args.workers} gunicorn workers; {args.concurrency} client threads", flush=True)
    app, session_id, people = prepare(url, args.candidates, args.seats)
    with common.server(url, workers=args.workers) as server:
        # Warm every worker's connection pool and imports before measuring.
        hammer(server.url, [("GET", "/api/v1/offices", None)] * (args.workers * 4), args.workers, 30)
        trivial, trivial_wall, _ = hammer(server.url, [("GET", "/api/v1/offices", None)] * args.trivial_requests,
                                          args.concurrency, args.time_limit)
        path = f"/api/v1/test-sessions/{session_id}/bookings"
        race, race_wall, skipped = hammer(server.url, [("POST", path, p["token"]) for p in people],
                                          args.concurrency, args.time_limit)
    confirmed_db, booked = count(app, session_id)
    statuses = {}
    for status, _ in race:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = sorted(seconds * 1000 for _, seconds in race)
    trivial_rps = len(trivial) / trivial_wall
    booking_rps = len(race) / race_wall
    overbooked = max(confirmed_db - args.seats, 0) + (1 if booked != confirmed_db else 0)
    print(f"trivial endpoint (GET /api/v1/offices): {trivial_rps:,.0f} requests/s "
          f"({sum(1 for s, _ in trivial if s == 200)}/{len(trivial)} ok)")
    print(f"click race: {booking_rps:,.0f} booking requests/s over {race_wall:.2f} s; "
          f"latency p50 {common.percentile(latencies, 50):.1f} ms, p99 {common.percentile(latencies, 99):.1f} ms")
    print(f"answers: {statuses.get(201, 0)} confirmed (201), {statuses.get(409, 0)} full (409), "
          f"{sum(v for k, v in statuses.items() if k not in (201, 409))} other, {skipped} not sent (time limit)")
    print(f"database: {confirmed_db} confirmed bookings, slot booked {booked}, capacity {args.seats}; "
          f"overbooked: {overbooked}")
    print(f"ratio booking/trivial: {booking_rps / trivial_rps:.2f}")
    ok = overbooked == 0 and statuses.get(201, 0) == confirmed_db
    if not ok:
        print("FAILED: overbooked, or answers disagree with the database", file=sys.stderr)
    return 0 if ok else 1


def count(app, session_id: int) -> tuple[int, int]:
    from schedules.exams.models import ExamBooking, ExamSession
    from vmo.booking.models import Slot
    from vmo.extensions import db

    with app.app_context():
        confirmed = db.session.scalar(select(func.count()).where(
            ExamBooking.session_id == session_id, ExamBooking.status == "confirmed"))
        booked = db.session.scalar(select(Slot.booked).join(ExamSession, ExamSession.slot_id == Slot.id)
                                   .where(ExamSession.id == session_id))
    common.dispose(app)
    return confirmed, booked


if __name__ == "__main__":
    sys.exit(main())
