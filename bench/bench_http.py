"""The request path with wrk: vmo's public GETs and bookings beside a bare Flask app and a plain booking.

One run on a fresh PostgreSQL database, every server gunicorn with the same workers, one at a time:
  - the bare app (bench/apps/bare.py, `{"ok": true}`): the denominator, measured first and last;
  - vmo's public GETs (/api/v1/offices, /api/v1/test-sessions, /api/v1/tour-stops) and the OpenAPI document;
  - a plain Flask-SQLAlchemy booking (bench/apps/plain_booking.py) over 40 sessions, distinct candidates;
  - vmo's booking over 40 sessions, distinct candidates, all confirmed;
  - the click race: many candidates for one first-come session's seats at once.
Prints every figure, the ratios to the bare app, the statements one booking costs, and the
performance targets below (met or not). Fails (exit 1) when a check fails: a non-2xx answer where none
is expected, an overbooked slot, or answers that disagree with the database.
"""
import argparse
import math
import os
import sys
from datetime import timedelta

from sqlalchemy import func, select

if not __package__:  # run as a script: the repository root makes `bench` and `testkit` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import common  # noqa: E402

PUBLIC_GETS = ("/api/v1/offices", "/api/v1/test-sessions", "/api/v1/tour-stops")
SESSIONS = 40
# The performance targets (docs/performance.md): booking rate against the plain booking, the click
# race's p99, public lists against the bare app.
BOOKING_OVER_PLAIN = 1.0
BOOKING_OVER_PLAIN_STRETCH = 2.0
GETS_OVER_BARE = 0.5
RACE_P99_MS = 250.0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench_http", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each GET run (default 10)")
    parser.add_argument("--bookings", type=int, default=3000,
                        help="bookings in each booking run, one candidate each (default 3000)")
    parser.add_argument("--race-candidates", type=int, default=2000, help="click race candidates (default 2000)")
    parser.add_argument("--race-seats", type=int, default=100, help="click race seats (default 100)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--server-threads", type=int, default=1,
                        help="threads per gunicorn worker (default 1: sync workers; more: gthread workers)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--race-connections", type=int, default=64, help="wrk connections in the race (default 64)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="default: DATABASE_URL, else a fresh PostgreSQL database (dropped afterwards)")
    args = parser.parse_args(argv)
    for name in ("seconds", "bookings", "race_candidates", "race_seats", "workers", "server_threads", "threads",
                 "connections", "race_connections"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def prepare(url: str, args):
    """Tables, an office with an officer, 81 first-come sessions, a published tour, candidates with tokens."""
    from schedules.exams import services as exams
    from testkit.factories import make_tour
    from vmo import clock
    from vmo.accounts.models import User
    from vmo.extensions import db

    app = common.make_app(url, RATELIMIT_ENABLED=False)
    office = common.add_office(app)
    per_session = math.ceil(args.bookings / SESSIONS)
    with app.app_context():
        officer = db.session.get(User, office.officer_ids[0])
        now = clock.now()

        def session(day: int, capacity: int) -> int:
            starts = now + timedelta(days=day)
            return exams.create_session(officer, {
                "subject": 1, "license_class": "C1", "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                "venue": "压测考场", "capacity": capacity, "kind": "regular", "allocation": "first_come",
                "applications_close_at": None}, now).id

        plain = [session(7 + n % 20, per_session) for n in range(SESSIONS)]
        vmo = [session(7 + n % 20, per_session) for n in range(SESSIONS)]
        race = session(30, args.race_seats)
        probe = session(31, 10)
        db.session.commit()
    make_tour(app, office.officer_ids, day=(now + timedelta(days=10)).date(), stops=6, office=office.code)
    people = common.add_candidates(app, office, 2 * args.bookings + args.race_candidates + 1)
    tokens = [p["token"] for p in people]
    return app, office.code, {"plain": plain, "vmo": vmo, "race": [race], "probe": probe}, {
        "plain": tokens[:args.bookings], "vmo": tokens[args.bookings:2 * args.bookings],
        "race": tokens[2 * args.bookings:-1], "probe": tokens[-1]}


def statements_per_booking(app, session_id: int, token: str) -> int:
    """One booking in process (the test client) on the same database, its statements counted."""
    from testkit.statements import count_statements
    from vmo.extensions import db

    with app.app_context():
        engine = db.engine
    client = app.test_client()
    client.get("/api/v1/offices")  # the first request pays for imports and the connection
    with count_statements(engine) as seen:
        response = client.post(f"/api/v1/test-sessions/{session_id}/bookings",
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    return len(seen)


def booked(app, session_ids: list[int]) -> tuple[int, int, int]:
    """(confirmed bookings, sum of the slots' booked, slots over capacity) for these sessions."""
    from schedules.exams.models import ExamBooking, ExamSession
    from vmo.booking.models import Slot
    from vmo.extensions import db

    with app.app_context():
        confirmed = db.session.scalar(select(func.count()).where(
            ExamBooking.session_id.in_(session_ids), ExamBooking.status == "confirmed"))
        slots = db.session.execute(select(Slot.booked, Slot.capacity).join(
            ExamSession, ExamSession.slot_id == Slot.id).where(ExamSession.id.in_(session_ids))).all()
        db.session.remove()
    return confirmed, sum(b for b, _ in slots), sum(1 for b, c in slots if b > c)


def ms(us: float) -> str:
    return f"{us / 1000:.1f} ms"


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    return common.with_wrk_on_postgres(args.database_url, "http", lambda url: _run(args, url))


def _run(args, url: str) -> int:
    kind = "sync workers" if args.server_threads == 1 else f"gthread workers x {args.server_threads} threads"
    print(f"database: {common.where(url)}; gunicorn {args.workers} {kind}; "
          f"wrk -t{args.threads} -c{args.connections} ({args.seconds} s per GET run)", flush=True)
    app, office, sessions, tokens = prepare(url, args)
    load = {"threads": args.threads, "connections": args.connections, "seconds": args.seconds}
    failures: list[str] = []
    rows: list[tuple[str, dict]] = []

    def run(label: str, base: str, paths: list[str], running=None, **kw) -> dict:
        # With the server (`running`), the CPU its workers and the database's backends spent on the run.
        before = (common.cpu_seconds(common.workers(running)), common.cpu_seconds(common.backends(app))) \
            if running else None
        figures = common.wrk(base, paths, **{**load, **kw})
        if running:
            answers = max(figures["answers"], 1)
            figures["app_cpu_ms"] = 1000 * (common.cpu_seconds(common.workers(running)) - before[0]) / answers
            figures["db_cpu_ms"] = 1000 * (common.cpu_seconds(common.backends(app)) - before[1]) / answers
        rows.append((label, figures))
        ok = {"201", "409"} if label.startswith("click race") else {"201"} if kw.get("tokens") else {"200"}
        odd = {k: v for k, v in figures["statuses"].items() if k not in ok}
        if odd or figures["errors_total"]:
            failures.append(f"{label}: unexpected answers {odd}, socket errors {figures['errors']}")
        cpu = (f", CPU per answer: app {figures['app_cpu_ms']:.2f} ms, database {figures['db_cpu_ms']:.2f} ms"
               f" (idle 404s meanwhile: {figures['idle']})" if running else "")
        print(f"  {label}: {figures['rps']:,.0f} requests/s, p50 {ms(figures['p50_us'])}, "
              f"p99 {ms(figures['p99_us'])}, answers {figures['statuses']}{cpu}", flush=True)
        return figures

    served = {"workers": args.workers, "threads": args.server_threads}
    with common.server(url, **served, app="bench.apps.bare:app", ready_path="/") as bare:
        bare_first = run("bare Flask app (first)", bare.url, ["/"])
    with common.server(url, **served) as vmo:
        common.wrk(vmo.url, ["/api/v1/offices"], threads=1, connections=args.workers * 2, seconds=2)  # warm the workers
        # The bench office is not the default one: the lists name it (/api/v1/offices has no such argument).
        gets = {path: run(f"vmo GET {path}", vmo.url, [path if path.endswith("offices") else f"{path}?office={office}"])
                for path in PUBLIC_GETS}
        run("vmo GET /api/v1/openapi.json", vmo.url, ["/api/v1/openapi.json"])
        booking = run("vmo booking", vmo.url, [f"/api/v1/test-sessions/{s}/bookings" for s in sessions["vmo"]],
                      running=vmo, method="POST", tokens=tokens["vmo"], seconds=600)
        race = run("click race", vmo.url, [f"/api/v1/test-sessions/{sessions['race'][0]}/bookings"],
                   running=vmo, method="POST", tokens=tokens["race"], seconds=600,
                   connections=args.race_connections)
        memory = common.worker_memory(vmo)
    with common.server(url, **served, app="bench.apps.plain_booking:app", ready_path="/bench-idle") as plain:
        plain_booking = run("plain Flask-SQLAlchemy booking", plain.url,
                            [f"/api/v1/test-sessions/{s}/bookings" for s in sessions["plain"]],
                            running=plain, method="POST", tokens=tokens["plain"], seconds=600)
    with common.server(url, **served, app="bench.apps.bare:app", ready_path="/") as bare:
        bare_last = run("bare Flask app (last)", bare.url, ["/"])
    statements = statements_per_booking(app, sessions["probe"], tokens["probe"])

    for label, ids, answered in (("vmo booking", sessions["vmo"], booking), ("plain booking", sessions["plain"],
                                                                            plain_booking),
                                 ("click race", sessions["race"], race)):
        confirmed, slot_total, over = booked(app, ids)
        created = answered["statuses"].get("201", 0)
        print(f"  {label}: database {confirmed} confirmed, slots booked {slot_total}, overbooked slots {over}; "
              f"answered 201: {created}")
        if over or confirmed != created or slot_total != confirmed:
            failures.append(f"{label}: answers disagree with the database or a slot is overbooked")
    common.dispose(app)

    bare_rps = (bare_first["rps"] + bare_last["rps"]) / 2
    print(f"\nbare Flask app: {bare_first['rps']:,.0f} and {bare_last['rps']:,.0f} requests/s "
          f"(first and last run; ratios below are over their mean, {bare_rps:,.0f})")
    print(f"{'endpoint':<42} {'requests/s':>11} {'over bare':>10} {'p50':>10} {'p99':>10}")
    for label, figures in rows:
        print(f"{label:<42} {figures['rps']:>11,.0f} {figures['rps'] / bare_rps:>10.3f} "
              f"{ms(figures['p50_us']):>10} {ms(figures['p99_us']):>10}")
    print(f"statements per booking (in process, PostgreSQL): {statements}")
    print(f"vmo's gunicorn workers' resident memory after the bookings: {', '.join(f'{m:.0f}' for m in memory)} MB")

    over_plain = booking["rps"] / plain_booking["rps"]
    worst_get = min(f["rps"] for f in gets.values()) / bare_rps
    targets = [
        (f"vmo booking >= {BOOKING_OVER_PLAIN:g} x the plain booking", f"{over_plain:.2f} x",
         over_plain >= BOOKING_OVER_PLAIN),
        (f"(stretch) vmo booking >= {BOOKING_OVER_PLAIN_STRETCH:g} x the plain booking", f"{over_plain:.2f} x",
         over_plain >= BOOKING_OVER_PLAIN_STRETCH),
        ("vmo booking on the way to 0.30 of the bare app", f"{booking['rps'] / bare_rps:.3f}",
         booking["rps"] / bare_rps >= 0.30),
        (f"click race p99 < {RACE_P99_MS:g} ms at {args.race_connections} connections", ms(race["p99_us"]),
         race["p99_us"] / 1000 < RACE_P99_MS),
        (f"public GETs >= {GETS_OVER_BARE:g} of the bare app (worst of three)", f"{worst_get:.3f}",
         worst_get >= GETS_OVER_BARE),
    ]
    print("\ntargets:")
    for name, figure, met in targets:
        print(f"  {'MET    ' if met else 'NOT MET'} {name}: {figure}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
