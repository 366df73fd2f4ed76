"""Where a booking's CPU goes: many first-come bookings in process (Flask's test client), under cProfile.

On a fresh PostgreSQL database (or --database-url): one office, sessions with room for everyone,
`--bookings` candidates, each booking once. Prints the process CPU time per booking (the figure that
decides throughput on a CPU-bound machine), the statements one booking runs, and cProfile's top
functions by cumulative and by own time. No server, no wrk: run it on a quiet machine.
"""
import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from datetime import timedelta

if not __package__:  # run as a script: the repository root makes `bench` and `testkit` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import common  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="profile_booking", description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=300, help="bookings to profile (default 300)")
    parser.add_argument("--top", type=int, default=25, help="functions to print (default 25)")
    parser.add_argument("--prepare-threshold", default="default",
                        help="psycopg's prepare_threshold for vmo's connections: a number, 'none' (never "
                             "prepare), or 'default' (psycopg's: prepared from the 5th execution)")
    parser.add_argument("--plain", action="store_true",
                        help="book through the yardstick (bench/apps/plain_booking.py) instead of vmo")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="default: DATABASE_URL, else a fresh PostgreSQL database (dropped afterwards)")
    return parser.parse_args(argv)


def _database_pids(engine) -> list[int]:
    """The PostgreSQL backends of this process's pool (a booking runs on one of them)."""
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        return list(connection.scalars(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'")))


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    with common.scratch_database(args.database_url, "profile", postgres=True) as url:
        return _run(args, url)


def _run(args, url: str) -> int:
    from schedules.exams import services as exams
    from testkit.statements import count_statements
    from vmo import clock
    from vmo.accounts.models import User
    from vmo.extensions import db

    config = {}
    if args.prepare_threshold != "default":
        threshold = None if args.prepare_threshold == "none" else int(args.prepare_threshold)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"prepare_threshold": threshold}}
    app = common.make_app(url, RATELIMIT_ENABLED=False, **config)
    office = common.add_office(app)
    with app.app_context():
        officer = db.session.get(User, office.officer_ids[0])
        now = clock.now()
        starts = now + timedelta(days=9)
        session_id = exams.create_session(officer, {
            "subject": 1, "license_class": "C1", "starts_at": starts, "ends_at": starts + timedelta(hours=2),
            "venue": "压测考场", "capacity": args.bookings + 16, "kind": "regular", "allocation": "first_come",
            "applications_close_at": None}, now).id
        db.session.commit()
        engine = db.engine
    people = common.add_candidates(app, office, args.bookings + 6)
    client = app.test_client()
    if args.plain:
        os.environ["DATABASE_URL"] = url
        from bench.apps.plain_booking import app as plain_app

        client = plain_app.test_client()
        with plain_app.app_context():
            from bench.apps.plain_booking import db as plain_db

            engine = plain_db.engine
    path = f"/api/v1/test-sessions/{session_id}/bookings"

    def book(token: str) -> None:
        response = client.post(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.get_data(as_text=True)

    for person in people[:5]:  # the first requests pay for imports, the connection and prepared statements
        book(person["token"])
    with count_statements(engine) as seen:
        book(people[5]["token"])
    # Half the bookings as they run (the CPU figure), the other half under the profiler (where it goes).
    plain, profiled = people[6:6 + args.bookings // 2], people[6 + args.bookings // 2:]
    database = _database_pids(engine)
    started_cpu, started_db = time.process_time(), common.cpu_seconds(database)
    for person in plain:
        book(person["token"])
    cpu = (time.process_time() - started_cpu) / len(plain)
    db_cpu = (common.cpu_seconds(database) - started_db) / len(plain)
    profiler = cProfile.Profile(time.process_time)
    started_cpu = time.process_time()
    profiler.enable()
    for person in profiled:
        book(person["token"])
    profiler.disable()
    cpu_profiled = (time.process_time() - started_cpu) / len(profiled)
    common.dispose(app)
    print(f"{len(plain)} bookings in process on {common.where(url)} (Flask's test client, this process's CPU, "
          f"the database's apart): {1000 * cpu:.2f} ms of CPU each in this process, {1000 * db_cpu:.2f} ms in the "
          f"database's backend; {1000 * cpu_profiled:.2f} ms under the profiler ({len(profiled)} more)")
    print(f"statements per booking: {len(seen)}")
    for statement in seen:
        print("   ", " ".join(statement.split())[:160])
    by_package: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in pstats.Stats(profiler).stats.items():
        package = filename.split("site-packages/")[-1].split("/")[0] if "site-packages" in filename else (
            "vmo-code" if "/wt-" in filename or "/work/main/" in filename else filename.split("/")[-1])
        by_package[package] = by_package.get(package, 0.0) + own
    total = sum(by_package.values())
    print("\nown CPU time by package (share of the profiled time):")
    for package, own in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {package:<28} {100 * own / total:5.1f} %")
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
        print(f"\ntop {args.top} by {order}:")
        print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
