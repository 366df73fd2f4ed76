"""Tablet sync throughput: N inspection records in batches against gunicorn, first sync and re-sync.

Prints records per second for the first sync (every record created, with its side effects: the
registration, register and follow-up statements) and for a re-sync of the same records (every one a
duplicate), and the ratio of each against inserting the same number of rows into tour_inspections
with one bulk SQLAlchemy Core insert in the same run (the floor: no HTTP, no checks, no side effects).
Uses DATABASE_URL, or a temporary SQLite file. Against PostgreSQL point it at a scratch database: it
adds an office named bench-<random> with its data.
"""
import argparse
import os
import sys
import time
import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import insert

if not __package__:  # run as a script: the repository root makes `bench` and `testkit` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import common  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench_sync", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000, help="records to sync (default 1000)")
    parser.add_argument("--batch", type=int, default=200, help="records per sync request (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="default: DATABASE_URL, else a temporary SQLite file")
    args = parser.parse_args(argv)
    if args.records < 1 or not 1 <= args.batch <= 500 or args.workers < 1:
        parser.error("--records and --workers must be at least 1, --batch 1 to 500")
    return args


def prepare(url: str):
    """Tables, an office with an officer on today's published two-stop tour."""
    from testkit.factories import make_tour

    app = common.make_app(url)
    office = common.add_office(app)
    ids = {"officer_id": office.officer_ids[0], "office_id": office.id, "username": office.usernames[0]}
    tour = make_tour(app, [ids["officer_id"]], office=office.code,
                     day=datetime.now(ZoneInfo("Asia/Shanghai")).date())
    return app, ids, tour


def make_records(stop_ids, count):
    now = datetime.now(timezone.utc).isoformat()
    checks = ("lights", "horn", "brake_front", "brake_rear", "tyres", "mirrors", "plate", "frame_number",
              "exhaust_noise")
    return [{"client_id": str(uuid.uuid4()), "stop_id": stop_ids[n % len(stop_ids)],
             "plate": f"渝G{n % 100000:05d}", "vin": "LFG12345AB", "odometer_km": n,
             "checklist": dict.fromkeys(checks, "pass"), "result": "pass", "defects": [],
             "recorded_at": now, "lat": 29.2, "lon": 107.1} for n in range(count)]


def timed_sync(base, token, records, batch) -> tuple[float, dict]:
    statuses: dict[str, int] = {}
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        for start in range(0, len(records), batch):
            response = http.post(base + "/api/v1/mobile/inspections/sync", timeout=120, json={
                "device_id": "bench-tablet", "sent_at": datetime.now(timezone.utc).isoformat(),
                "records": records[start:start + batch]})
            response.raise_for_status()
            for result in response.json()["results"]:
                statuses[result["status"]] = statuses.get(result["status"], 0) + 1
        return time.perf_counter() - started, statuses


def core_insert(app, ids, tour, count) -> float:
    """The same number of rows in one bulk Core INSERT (new client_ids, the same columns)."""
    from schedules.tours.models import TourInspection
    from vmo.extensions import db

    officer_id, office_id = ids["officer_id"], ids["office_id"]
    with app.app_context():
        now = datetime.now(timezone.utc)
        rows = [{"office_id": office_id, "tour_id": tour.id, "stop_id": tour.stop_ids[n % 2],
                 "client_id": str(uuid.uuid4()), "device_id": "bench-core", "plate": f"渝G{n % 100000:05d}",
                 "vin": "LFG12345AB", "odometer_km": n, "checklist": {"lights": "pass"}, "result": "pass",
                 "defects": [], "officer_id": officer_id, "walk_in": True, "lat": 29.2, "lon": 107.1,
                 "recorded_at": now, "received_at": now, "clock_skew": False, "content_hash": "0" * 64}
                for n in range(count)]
        started = time.perf_counter()
        db.session.execute(insert(TourInspection), rows)
        db.session.commit()
        return time.perf_counter() - started


def main(argv=None) -> int:
    args = parse_args(argv or [])
    with common.scratch_database(args.database_url, "sync") as url:
        app, ids, tour = prepare(url)
        records = make_records(tour.stop_ids, args.records)
        with common.server(url, workers=args.workers) as server:
            token = common.login(server.url, ids["username"])
            first, first_statuses = timed_sync(server.url, token, records, args.batch)
            again, again_statuses = timed_sync(server.url, token, records, args.batch)
        floor = core_insert(app, ids, tour, args.records)
        common.dispose(app)
    n = args.records
    print(f"database: {common.where(url)}; {n} records in batches of {args.batch}; gunicorn workers {args.workers}")
    print(f"first sync: {first:.3f} s, {n / first:,.0f} records/s  {first_statuses}")
    print(f"re-sync:    {again:.3f} s, {n / again:,.0f} records/s  {again_statuses}")
    print(f"bulk Core insert of {n} rows (no HTTP): {floor:.3f} s, {n / floor:,.0f} rows/s")
    print(f"ratio first sync / Core insert: {first / floor:.1f}x; re-sync / Core insert: {again / floor:.1f}x")
    ok = first_statuses == {"created": n} and again_statuses == {"duplicate": n}
    if not ok:
        print("FAILED: the first sync must create every record and the re-sync must find them all duplicates",
              file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
