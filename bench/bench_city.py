"""City scale: every district office releases a weekend of driving tests at the same minute, on one deployment.

38 offices (Chongqing's count) each open a weekend of sessions, half first come and half by ballot, to
3,000 candidates each, all at once, against one PostgreSQL and one gunicorn (--workers). Every candidate
sends one request: a booking on a first-come session (answered at once: 201 confirmed, or 409 full and
on the waiting list) or an application to a ballot session (202 at once; decided when the office runs
the draw after applications close).
Then every office runs its draws. Reported: how long until every candidate has an answer, answers per
second and per CPU core-second, and the database's share of the CPU time (PostgreSQL backends of this
run against gunicorn's workers, from /proc). `--scale 0.05` runs the same city with 5% of the candidates.

The clock is frozen at the release (VMO_FROZEN_NOW) and moved past the ballots' closing time for the
draws (a second server on the same database), so the run needs no waiting.
"""
import argparse
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import requests
from sqlalchemy import func, select

if not __package__:  # run as a script: the repository root makes `bench` and `testkit` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import common  # noqa: E402

SESSIONS_PER_KIND = 4  # per office: 4 first-come and 4 ballot sessions over Saturday and Sunday
# The targets (docs/performance.md): every candidate answered within four minutes (the full city on 2
# cores), and each gunicorn worker at most 150 MB resident afterwards.
TARGET_SECONDS = 240
MEMORY_MB = 150


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench_city", description=__doc__.splitlines()[0])
    parser.add_argument("--offices", type=int, default=38, help="district offices (default 38)")
    parser.add_argument("--candidates", type=int, default=3000, help="candidates per office (default 3000)")
    parser.add_argument("--scale", type=float, default=1.0, help="share of the candidates, for a quick run")
    parser.add_argument("--seats", type=float, default=0.5,
                        help="seats per candidate of each kind (default 0.5: half of them get one)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (default 1: sync workers; more: gthread workers)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="default: DATABASE_URL, else a fresh PostgreSQL database (dropped afterwards)")
    args = parser.parse_args(argv)
    args.per_office = max(2 * SESSIONS_PER_KIND, round(args.candidates * args.scale))
    if args.offices < 1 or args.workers < 1 or args.connections < 1 or not 0 < args.seats <= 1:
        parser.error("--offices, --workers and --connections must be at least 1, --seats in (0, 1]")
    return args


def prepare(url: str, args, release):
    """The offices, their weekend's sessions and candidates; [(token, path)] shuffled, and the ballots."""
    from schedules.exams import services as exams
    from vmo.accounts.models import User
    from vmo.extensions import db

    app = common.make_app(url, RATELIMIT_ENABLED=False, FROZEN_NOW=release.isoformat())
    days_to_saturday = (5 - release.weekday()) % 7 or 7
    saturday = (release + timedelta(days=days_to_saturday)).replace(hour=1, minute=0, second=0, microsecond=0)
    half = args.per_office // 2
    seats = max(1, round(half * args.seats / SESSIONS_PER_KIND))
    jobs, ballots = [], []
    for _ in range(args.offices):
        office = common.add_office(app)
        with app.app_context():
            officer = db.session.get(User, office.officer_ids[0])
            sessions = {"first_come": [], "ballot": []}
            for n in range(2 * SESSIONS_PER_KIND):
                kind = "first_come" if n % 2 == 0 else "ballot"
                starts = saturday + timedelta(days=n // SESSIONS_PER_KIND, hours=2 * (n % SESSIONS_PER_KIND))
                sessions[kind].append(exams.create_session(officer, {
                    "subject": 1, "license_class": "C1", "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                    "venue": "考场", "capacity": seats, "kind": "regular", "allocation": kind,
                    "applications_close_at": release + timedelta(minutes=30) if kind == "ballot" else None},
                    release).id)
            db.session.commit()
        ballots += [(office.usernames[0], s) for s in sessions["ballot"]]
        for i, person in enumerate(common.add_candidates(app, office, args.per_office)):
            kind = "first_come" if i % 2 == 0 else "ballot"
            session_id = sessions[kind][(i // 2) % SESSIONS_PER_KIND]
            jobs.append((person["token"], f"/api/v1/test-sessions/{session_id}/bookings"))
    random.Random(38).shuffle(jobs)  # the whole city at once, not office by office
    return app, jobs, ballots


def measured(app, server, work):
    """Run `work()`; (its result, wall seconds, app CPU seconds, database CPU seconds).

    CPU is read at the end from the workers and the backends, all started for this phase, so their
    whole lives are this phase's work (plus the warm-up, a few requests).
    """
    started = time.perf_counter()
    result = work()
    wall = time.perf_counter() - started
    return result, wall, common.cpu_seconds(common.workers(server)), common.cpu_seconds(common.backends(app))


def draw_all(base: str, ballots, tokens: dict) -> dict:
    """Every office runs its draws at once (one thread per office); statuses counted."""
    def one(item):
        username, session_id = item
        response = requests.post(f"{base}/api/v1/test-sessions/{session_id}/draw", timeout=300,
                                 headers={"Authorization": f"Bearer {tokens[username]}"})
        return response.status_code

    counts = {}
    with ThreadPoolExecutor(max_workers=min(38, len(ballots))) as pool:
        for status in pool.map(one, ballots):
            counts[status] = counts.get(status, 0) + 1
    return counts


def outcome(app) -> dict:
    """What the tables say: bookings per status, slots over capacity, undecided ballot applications."""
    from schedules.exams.models import ExamBooking, ExamSession
    from vmo.booking.models import Slot
    from vmo.extensions import db

    with app.app_context():
        statuses = dict(db.session.execute(select(ExamBooking.status, func.count()).group_by(ExamBooking.status)).all())
        over = db.session.scalar(select(func.count()).select_from(Slot).where(Slot.booked > Slot.capacity))
        mismatched = db.session.scalar(select(func.count()).select_from(ExamSession).join(
            Slot, Slot.id == ExamSession.slot_id).where(Slot.booked != select(func.count()).where(
                ExamBooking.session_id == ExamSession.id, ExamBooking.status == "confirmed").scalar_subquery()))
        db.session.remove()
    return {"statuses": statuses, "overbooked": over, "mismatched": mismatched}


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    return common.with_wrk_on_postgres(args.database_url, "city", lambda url: _run(args, url))


def _run(args, url: str) -> int:
    release = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    total = args.offices * args.per_office
    print(f"database: {common.where(url)}; {args.offices} offices x {args.per_office} candidates = {total:,}; "
          f"{2 * SESSIONS_PER_KIND} sessions per office (half ballot); gunicorn {args.workers} workers "
          f"x {args.threads} threads; "
          f"wrk -c{args.connections}; {os.cpu_count()} cores", flush=True)
    started = time.perf_counter()
    app, jobs, ballots = prepare(url, args, release)
    print(f"prepared in {time.perf_counter() - started:.0f} s", flush=True)

    env = {"VMO_FROZEN_NOW": release.isoformat()}
    with common.server(url, workers=args.workers, threads=args.threads, env=env) as server:
        common.wrk(server.url, ["/api/v1/offices"], threads=1, connections=args.workers, seconds=1)
        release_run, wall1, app1, db1 = measured(app, server, lambda: common.wrk(
            server.url, ["/"], threads=2, connections=args.connections, seconds=3600, method="POST",
            tokens=[f"{token} {path}" for token, path in jobs]))
        memory = common.worker_memory(server)
    env = {"VMO_FROZEN_NOW": (release + timedelta(hours=1)).isoformat()}
    with common.server(url, workers=args.workers, env=env) as server:
        tokens = {username: common.login(server.url, username) for username in {u for u, _ in ballots}}
        draws, wall2, app2, db2 = measured(app, server, lambda: draw_all(server.url, ballots, tokens))
    result = outcome(app)
    common.dispose(app)

    answers = release_run["statuses"]
    wall = wall1 + wall2
    cpu_app, cpu_db = app1 + app2, db1 + db2
    print(f"release: {sum(answers.values()):,} answers in {wall1:.1f} s ({sum(answers.values()) / wall1:,.0f}/s), "
          f"p50 {release_run['p50_us'] / 1000:.0f} ms, p99 {release_run['p99_us'] / 1000:.0f} ms; answers {answers}")
    print(f"draws: {len(ballots)} ballots in {wall2:.1f} s; answers {draws}")
    print(f"gunicorn workers' resident memory after the release: {', '.join(f'{m:.0f}' for m in memory)} MB "
          f"(target: each at most {MEMORY_MB} MB: {'met' if max(memory, default=0) <= MEMORY_MB else 'NOT MET'})")
    print(f"answered within {wall:.0f} s (target: {TARGET_SECONDS} s on 2 cores: "
          f"{'met' if wall <= TARGET_SECONDS else 'NOT MET'})")
    print(f"every candidate has an answer after {wall:.1f} s ({total:,} candidates, {total / wall:,.0f} per second)")
    cpu = max(cpu_app + cpu_db, 1e-9)
    print(f"CPU: app {cpu_app:.1f} s, database {cpu_db:.1f} s; database share {cpu_db / cpu:.0%}; "
          f"{total / cpu:,.0f} candidates answered per CPU core-second")
    print(f"database: bookings {result['statuses']}; slots over capacity {result['overbooked']}; "
          f"slots whose booked differs from their confirmed bookings {result['mismatched']}")
    undecided = result["statuses"].get("applied", 0)
    ok = (result["overbooked"] == 0 and result["mismatched"] == 0 and undecided == 0
          and set(answers) <= {"201", "202", "409"} and sum(answers.values()) == len(jobs)
          and set(draws) <= {201} and release_run["errors_total"] == 0)
    if not ok:
        print("FAILED: a slot overbooked, an answer missing or unexpected, or a ballot application undecided",
              file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
