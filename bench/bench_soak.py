"""Soak: a mixed workload for a fixed time against gunicorn on PostgreSQL, then the invariants checked in the database.

Client threads, each with its own requests.Session, run at once until the time is up:

- browsers: anonymous GETs of test sessions, public tour stops and the calendar feeds (with ETags),
  and now and then the OpenAPI document;
- candidates: book seats in a few scarce weekend sessions (far more candidates than seats, some
  asking for the waiting list), cancel them, and look at their bookings and progress;
- registrants: public pre-registrations at tour stops of limited capacity, some sent twice with
  the same Idempotency-Key (a retry after a lost answer);
- tablets: officers sync inspection batches, each mixed with records sent before, shuffled, some
  batches sent twice in a row and some twice at the same moment; and fetch their assignments;
- SMS senders (in this process, the service `vmo sms worker` runs: notify.send_pending with the log
  backend) drain the outbox while the others queue texts; after the run `vmo sms send` drains it.

Prints requests/s per kind and overall, p50/p95/p99 latency, errors (5xx and connection errors:
must be 0), expected 409 "full" answers apart, and checks afterwards, directly in the database: no
slot overbooked and every slot's `booked` equal to its live bookings or registrations; one
inspection per client_id and as many as the distinct client_ids accepted; every queued message
sent exactly once. Exits 1 if any check fails or any error was seen.

Database: DATABASE_URL / --database-url if given, else a fresh PostgreSQL database (created next to
VMO_BENCH_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres, dropped afterwards);
if PostgreSQL does not answer, it says so and falls back to a temporary SQLite file.
"""
import argparse
import itertools
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import func, insert, select

if not __package__:  # run as a script: the repository root makes `bench` and `testkit` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import common  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
API = "/api/v1"
CHECKS = ("lights", "horn", "brake_front", "brake_rear", "tyres", "mirrors", "plate", "frame_number",
          "exhaust_noise")
# Answers that are part of the workload (anything else is unexpected; 5xx and no answer are errors).
EXPECTED = {"browse": {200, 304}, "openapi": {200}, "candidate_get": {200}, "book": {201}, "cancel": {200},
            "register": {201}, "register_retry": {201}, "assignments": {200, 304}, "sync": {200}}
KINDS = tuple(EXPECTED)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench_soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS") or 60),
                        help="how long the load runs (default: SOAK_SECONDS, else 60)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--browsers", type=int, default=6, help="anonymous browsing threads (default 6)")
    parser.add_argument("--candidate-threads", type=int, default=12, help="candidate threads (default 12)")
    parser.add_argument("--candidates", type=int, default=240, help="candidate accounts (default 240)")
    parser.add_argument("--sessions", type=int, default=3, help="weekend test sessions (default 3)")
    parser.add_argument("--seats", type=int, default=10, help="seats per session (default 10)")
    parser.add_argument("--registrants", type=int, default=4, help="public registration threads (default 4)")
    parser.add_argument("--stops", type=int, default=6, help="tour stops (1-7, default 6)")
    parser.add_argument("--stop-capacity", type=int, default=25, help="registrations per stop (default 25)")
    parser.add_argument("--tablets", type=int, default=4, help="officers syncing, a thread each (default 4)")
    parser.add_argument("--batch", type=int, default=20, help="new records per sync batch (default 20)")
    parser.add_argument("--senders", type=int, default=2, help="SMS sender threads (default 2)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the workload (default 2026)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="default: DATABASE_URL, else a fresh PostgreSQL database")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be more than 0")
    for name in ("workers", "candidates", "sessions", "seats", "stop_capacity", "batch", "tablets"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("browsers", "candidate_threads", "registrants", "senders"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be 0 or more")
    if not 1 <= args.stops <= 7:
        parser.error("--stops must be 1 to 7 (one every two hours from 09:00)")
    if args.sessions > 7 or args.tablets > 10:
        parser.error("--sessions at most 7 (one every two hours from 08:00), --tablets at most 10")
    if args.candidates < args.candidate_threads:
        parser.error("--candidates must be at least --candidate-threads")
    return args


# ---- setup ------------------------------------------------------------------------------------

@dataclass
class World:
    """What the workload runs against: ids made before the server starts."""

    office: common.Office
    session_ids: list[int]
    tour_id: int
    stop_ids: list[int]
    township: str
    candidates: list[dict]
    register_plates: list[list[str]]  # per tablet: plates on the motorcycle register (with a phone)


def _weekend_day(today: date) -> date:
    """The first Saturday at least two days ahead (past the 24-hour cancellation cut-off during the run)."""
    day = today + timedelta(days=2)
    while day.weekday() != 5:
        day += timedelta(days=1)
    return day


def prepare(url: str, args) -> tuple:
    """The app, and an office with officers, scarce weekend sessions, a tour two days ahead, a register, candidates."""
    from schedules.exams import services as exams
    from schedules.tours.models import TourStop
    from testkit.factories import make_tour
    from vmo import clock
    from vmo.accounts.models import User
    from vmo.booking.models import Slot
    from vmo.extensions import db
    from vmo.motorcycles.models import Motorcycle
    from vmo.motorcycles.rules import DueRules

    app = common.make_app(url)
    office = common.add_office(app, officers=args.tablets)
    today = datetime.now(SHANGHAI).date()
    saturday = _weekend_day(today)
    with app.app_context():
        officer = db.session.get(User, office.officer_ids[0])
        session_ids = []
        for n in range(args.sessions):
            starts = datetime(saturday.year, saturday.month, saturday.day, 8 + 2 * n, tzinfo=SHANGHAI)
            session_ids.append(exams.create_session(officer, {
                "subject": 1, "license_class": "C1", "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                "venue": f"压测考场 {n + 1}号", "capacity": args.seats, "kind": "regular",
                "allocation": "first_come", "applications_close_at": None}, clock.now()).id)
        db.session.commit()  # services only flush: the bench's setup is its own unit of work
    tour = make_tour(app, office.officer_ids, office=office.code, day=today + timedelta(days=2), stops=args.stops)
    rules = DueRules()
    per_tablet = 400
    register_plates = [[f"渝G{t:01d}{n:04d}" for n in range(per_tablet)] for t in range(args.tablets)]
    with app.app_context():
        db.session.execute(Slot.__table__.update()
                           .where(Slot.id.in_(select(TourStop.slot_id).where(TourStop.tour_id == tour.id)))
                           .values(capacity=args.stop_capacity))
        registered_on = date(2019, 6, 1)
        db.session.execute(insert(Motorcycle), [
            {"office_id": office.id, "plate": plate, "vin": "LFG1234567", "owner_name": "车主", "township": "大观镇",
             "phone": f"137{t:02d}{n:06d}", "registered_on": registered_on, "last_inspected_on": None,
             "next_due_on": rules.next_due(registered_on, None), "due_rules": rules.fingerprint}
            for t, plates in enumerate(register_plates) for n, plate in enumerate(plates)])
        township = db.session.scalar(select(TourStop.township).where(TourStop.id == tour.stop_ids[0]))
        db.session.commit()
    world = World(office, session_ids, tour.id, tour.stop_ids, township,
                  common.add_candidates(app, office, args.candidates), register_plates)
    return app, world


# ---- measuring --------------------------------------------------------------------------------

@dataclass
class Tally:
    """One thread's answers: per kind, (status, seconds, full) of every request."""

    answers: dict = field(default_factory=lambda: defaultdict(list))
    notes: Counter = field(default_factory=Counter)
    problems: list = field(default_factory=list)


class Client:
    """A requests.Session that times and records every request under a kind."""

    def __init__(self, base: str, tally: Tally, token: str | None = None):
        self.base = base
        self.tally = tally
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, kind: str, method: str, path: str, **kwargs):
        started = time.perf_counter()
        try:
            response = self.http.request(method, self.base + API + path, timeout=60, **kwargs)
        except requests.RequestException as exc:
            self.tally.answers[kind].append((0, time.perf_counter() - started, False))
            self.tally.problems.append(f"{kind} {method} {path}: {type(exc).__name__}: {exc}")
            return None
        elapsed = time.perf_counter() - started
        full = response.status_code == 409 and _is_full(response)
        self.tally.answers[kind].append((response.status_code, elapsed, full))
        if not full and response.status_code not in EXPECTED[kind]:
            self.tally.problems.append(f"{kind} {method} {path}: {response.status_code} {response.text[:300]}")
        return response


def _is_full(response) -> bool:
    """A 409 meaning "no seat / no place left", the answer scarce capacity is expected to give."""
    try:
        body = response.json()
    except ValueError:
        return False
    return body.get("seats_left") == 0 or body.get("available") == 0


# ---- the workload -----------------------------------------------------------------------------

def browser(base, world, deadline, rng, tally):
    client = Client(base, tally)
    etags: dict[str, str] = {}
    code = world.office.code
    pages = [f"/test-sessions?office={code}&weekend=true", f"/tour-stops?office={code}",
             f"/calendars/townships/{world.township}.ics?office={code}", f"/calendars/test-sessions.ics?office={code}"]
    while time.monotonic() < deadline:
        if rng.random() < 0.02:
            client.call("openapi", "GET", "/openapi.json")
            continue
        path = rng.choice(pages + [f"/test-sessions/{rng.choice(world.session_ids)}"])
        headers = {"If-None-Match": etags[path]} if path in etags and rng.random() < 0.5 else {}
        response = client.call("browse", "GET", path, headers=headers)
        if response is not None and response.headers.get("ETag"):
            etags[path] = response.headers["ETag"]


def candidate(base, world, people, deadline, rng, tally):
    """Plays the candidates in `people` (no other thread does): book, hold, cancel, look."""
    clients = [Client(base, tally, person["token"]) for person in people]
    holding: list[int | None] = [None] * len(people)
    while time.monotonic() < deadline:
        i = rng.randrange(len(people))
        client = clients[i]
        if holding[i] is None:
            response = client.call("book", "POST", f"/test-sessions/{rng.choice(world.session_ids)}/bookings",
                                   json={"waitlist_if_full": rng.random() < 0.3})
            if response is not None and response.status_code == 201:
                holding[i] = response.json()["id"]
                tally.notes[f"booking {response.json()['status']}"] += 1
        elif rng.random() < 0.4:
            response = client.call("cancel", "DELETE", f"/bookings/{holding[i]}")
            if response is not None and response.status_code == 200:
                holding[i] = None
        else:
            client.call("candidate_get", "GET", rng.choice(
                [f"/bookings/{holding[i]}", "/bookings", "/me/exam-progress"]))


def registrant(base, world, shared, deadline, rng, tally):
    """Public sign-ups at the stops; one in ten sent again with its Idempotency-Key, as after a lost answer."""
    client = Client(base, tally)
    while time.monotonic() < deadline:
        if rng.random() < 0.2:
            client.call("browse", "GET", f"/tour-stops?office={world.office.code}")
            continue
        plate = f"渝F{next(shared.plates):05d}"
        stop_id = rng.choice(world.stop_ids)
        body = {"plate": plate, "owner_name": "王德明", "phone": f"139{rng.randrange(10 ** 8):08d}"}
        key = str(uuid.uuid4())
        path = f"/tours/{world.tour_id}/stops/{stop_id}/registrations"
        response = client.call("register", "POST", path, json=body, headers={"Idempotency-Key": key})
        if response is None or response.status_code != 201:
            continue
        first_id = response.json()["id"]
        with shared.lock:
            shared.registered.append(plate)
        if rng.random() < 0.1:
            again = client.call("register_retry", "POST", path, json=body, headers={"Idempotency-Key": key})
            if again is not None and again.status_code == 201 and again.json()["id"] != first_id:
                tally.problems.append(f"idempotent retry of {plate} made registration {again.json()['id']} "
                                      f"besides {first_id}")


@dataclass
class SyncLog:
    """What the tablets were told, per client_id: created answers and every status seen."""

    created: Counter = field(default_factory=Counter)
    seen: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, response, tally) -> None:
        with self.lock:
            for result in response.json()["results"]:
                status = result["status"]
                tally.notes[f"sync {status}"] += 1
                if status == "created":
                    self.created[result["client_id"]] += 1
                elif status != "duplicate":
                    tally.problems.append(f"sync record {result['client_id']}: {status} {result}")
                self.seen.setdefault(result["client_id"], set()).add(status)


@dataclass
class Shared:
    """What the registrants hand the tablets (plates signed up, to inspect) and what the tablets were told."""

    plates: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    registered: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    synclog: SyncLog = field(default_factory=SyncLog)


def tablet(base, world, shared, n, token, batch, deadline, rng, tally):
    """One officer's tablet: new records plus ones sent before, shuffled; some batches sent twice."""
    client = Client(base, tally, token)
    twin = Client(base, tally, token)  # a second connection of the same tablet, for the simultaneous resend
    sent: list[dict] = []
    etag = None
    plates = itertools.cycle(world.register_plates[n])
    device = f"soak-tablet-{n + 1}"
    walk_ins = itertools.count(1)
    while time.monotonic() < deadline:
        if rng.random() < 0.1:
            response = client.call("assignments", "GET", "/mobile/assignments",
                                   headers={"If-None-Match": etag} if etag else {})
            if response is not None and response.status_code == 200:
                etag = response.headers.get("ETag")
            continue
        records = []
        for _ in range(batch if rng.random() < 0.8 else rng.randrange(1, batch + 1)):
            roll = rng.random()
            if roll < 0.3:
                with shared.lock:
                    plate = (shared.registered.pop(rng.randrange(len(shared.registered))) if shared.registered
                             else next(plates))
            elif roll < 0.9:
                plate = next(plates)
            else:  # a walk-in not on the register: nobody to text
                plate = f"渝H{n}{next(walk_ins) % 10000:04d}"
            failed = rng.random() < 0.2
            records.append({
                "client_id": str(uuid.uuid4()), "stop_id": rng.choice(world.stop_ids), "plate": plate,
                "vin": "LFG12345AB", "odometer_km": rng.randrange(100, 90000),
                "checklist": {code: ("fail" if failed and code == "lights" else "pass") for code in CHECKS},
                "result": "fail" if failed else "pass", "defects": ["左前大灯不亮"] if failed else [],
                "recorded_at": datetime.now(timezone.utc).isoformat(), "lat": 29.2, "lon": 107.1})
        resent = rng.sample(sent, min(len(sent), rng.randrange(0, 8)))
        outgoing = records + resent
        rng.shuffle(outgoing)
        body = {"device_id": device, "sent_at": datetime.now(timezone.utc).isoformat(), "records": outgoing}
        roll = rng.random()
        if roll < 0.05:  # the same batch twice at the same moment (a retry racing the first try)
            answers = [None, None]

            def send(slot, who):
                answers[slot] = who.call("sync", "POST", "/mobile/inspections/sync", json=body)

            other = threading.Thread(target=send, args=(1, twin))
            other.start()
            send(0, client)
            other.join()
        else:
            answers = [client.call("sync", "POST", "/mobile/inspections/sync", json=body)]
            if roll < 0.2:  # the answer was "lost": the same batch again
                answers.append(client.call("sync", "POST", "/mobile/inspections/sync", json=body))
        for response in answers:
            if response is not None and response.status_code == 200:
                shared.synclog.take(response, tally)
        sent.extend(records)


class CountingLogBackend:
    """The log backend, counting what it sends by outbox key (for the exactly-once check)."""

    name = "log"

    def __init__(self):
        from vmo.notify.backends import LogBackend

        self.inner = LogBackend()
        self.sent = Counter()
        self.lock = threading.Lock()

    def send(self, message) -> None:
        self.inner.send(message)
        with self.lock:
            self.sent[message.key] += 1


def sender(app, backend, stop, tally):
    """The `vmo sms worker` loop: a pass over due messages, a short wait when nothing was due."""
    from vmo import clock
    from vmo.extensions import db
    from vmo.notify import services as notify

    with app.app_context():
        while not stop.is_set():
            try:
                counts = notify.send_pending(backend, clock.now(), 200)
            except Exception as exc:  # reported, and the invariants will show what it left behind
                tally.problems.append(f"SMS sender: {type(exc).__name__}: {exc}")
                db.session.rollback()
                counts = {"sent": 0}
            db.session.remove()
            tally.notes["sms passes"] += 1
            tally.notes["sms sent by workers"] += counts["sent"]
            if counts["sent"] < 200:
                stop.wait(0.5)


SMS_LINE = re.compile(r"SMS to \S+ \[([^\]]+)\]")


def final_drain(url: str, tally) -> Counter:
    """`vmo sms send` (the real command) once the load has stopped; the keys its log backend sent."""
    vmo = os.path.join(os.path.dirname(sys.executable), "vmo")
    env = {**os.environ, "DATABASE_URL": url, "VMO_LOG_LEVEL": "INFO", "VMO_SMS_BACKEND": "log"}
    done = subprocess.run([vmo, "sms", "send", "--limit", "100000"], env=env, capture_output=True, text=True,
                          timeout=600, cwd=common.REPO)
    if done.returncode != 0:
        tally.problems.append(f"vmo sms send exited {done.returncode}: {done.stderr[-2000:]}")
    return Counter(SMS_LINE.findall(done.stderr + done.stdout))


# ---- checks afterwards ------------------------------------------------------------------------

def invariants(app, world, synclog, sends: Counter) -> list[tuple[str, str, bool]]:
    """[(check, figure, ok)], read straight from the tables."""
    from schedules.exams.models import ExamBooking, ExamSession
    from schedules.tours.models import StopRegistration, TourInspection, TourStop
    from vmo.booking.models import Slot
    from vmo.extensions import db
    from vmo.notify.models import OutboxMessage

    office_id = world.office.id
    checks = []
    with app.app_context():
        slots = {s.id: s for s in db.session.scalars(select(Slot).where(Slot.office_id == office_id))}
        confirmed = dict(db.session.execute(
            select(ExamSession.slot_id, func.count(ExamBooking.id))
            .outerjoin(ExamBooking, (ExamBooking.session_id == ExamSession.id) & (ExamBooking.status == "confirmed"))
            .where(ExamSession.id.in_(world.session_ids)).group_by(ExamSession.slot_id)).all())
        live = dict(db.session.execute(
            select(TourStop.slot_id, func.count(StopRegistration.id))
            .outerjoin(StopRegistration, (StopRegistration.stop_id == TourStop.id)
                       & (StopRegistration.status != "cancelled"))
            .where(TourStop.tour_id == world.tour_id).group_by(TourStop.slot_id)).all())
        over = [s.id for s in slots.values() if s.booked > s.capacity]
        checks.append(("no slot overbooked (booked <= capacity)", f"{len(slots)} slots, {len(over)} over", not over))
        for label, counted in (("test sessions", confirmed), ("tour stops", live)):
            wrong = {sid: (slots[sid].booked, n) for sid, n in counted.items() if slots[sid].booked != n}
            taken = sum(counted.values())
            capacity = sum(slots[sid].capacity for sid in counted)
            checks.append((f"{label}: booked == live bookings, every slot",
                           f"{taken}/{capacity} seats taken" + (f"; differ: {wrong}" if wrong else ""), not wrong))

        rows = db.session.scalar(select(func.count()).select_from(TourInspection)
                                 .where(TourInspection.office_id == office_id))
        repeated = db.session.scalar(select(func.count()).select_from(
            select(TourInspection.client_id).where(TourInspection.office_id == office_id)
            .group_by(TourInspection.client_id).having(func.count() > 1).subquery()))
        in_db = set(db.session.scalars(select(TourInspection.client_id).where(TourInspection.office_id == office_id)))
        accepted = {c for c, statuses in synclog.seen.items() if statuses & {"created", "duplicate"}}
        twice = sum(1 for n in synclog.created.values() if n > 1)
        checks.append(("one inspection per client_id", f"{repeated} client_ids with more than one row",
                       repeated == 0))
        checks.append(("inspections == distinct client_ids accepted",
                       f"{rows} rows, {len(accepted)} accepted", rows == len(accepted) and in_db == accepted))
        checks.append(("each record answered 'created' once", f"{twice} created twice", twice == 0
                       and set(synclog.created) == accepted))

        by_status = dict(db.session.execute(select(OutboxMessage.status, func.count())
                                            .where(OutboxMessage.office_id == office_id)
                                            .group_by(OutboxMessage.status)).all())
        keys_repeated = db.session.scalar(select(func.count()).select_from(
            select(OutboxMessage.key).group_by(OutboxMessage.key).having(func.count() > 1).subquery()))
        sent_keys = set(db.session.scalars(select(OutboxMessage.key).where(OutboxMessage.office_id == office_id,
                                                                           OutboxMessage.status == "sent")))
        kinds = dict(db.session.execute(select(OutboxMessage.kind, func.count())
                                        .where(OutboxMessage.office_id == office_id)
                                        .group_by(OutboxMessage.kind)).all())
        db.session.remove()
    queued = sum(by_status.values())
    pending = by_status.get("pending", 0)
    checks.append(("no message pending after the final drain",
                   f"{queued} queued ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
                   f"status {dict(sorted(by_status.items()))}", pending == 0 and queued == by_status.get("sent", 0)))
    checks.append(("no duplicate message keys", f"{keys_repeated} repeated", keys_repeated == 0))
    more_than_once = sorted(k for k, n in sends.items() if n > 1)
    checks.append(("sent once each: log backend sends == sent rows",
                   f"{sum(sends.values())} sends, {len(sent_keys)} rows sent, {len(more_than_once)} sent twice",
                   not more_than_once and set(sends) == sent_keys and sum(sends.values()) == len(sent_keys)))
    return checks


# ---- the run ----------------------------------------------------------------------------------

def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else [])
    with common.scratch_database(args.database_url, "soak", postgres=True) as url:
        return _run(args, url)


def _run(args, url: str) -> int:
    print(f"database: {common.where(url)}; {args.seconds:g} s; gunicorn {args.workers} workers; threads: "
          f"{args.browsers} browsers, {args.candidate_threads} candidates ({args.candidates} accounts for "
          f"{args.sessions}x{args.seats} seats), {args.registrants} registrants ({args.stops} stops x "
          f"{args.stop_capacity}), {args.tablets} tablets, {args.senders} SMS senders", flush=True)
    app, world = prepare(url, args)
    sender_app = common.make_app(url, LOG_LEVEL="WARNING")
    backend = CountingLogBackend()
    tallies: list[Tally] = []
    shared = Shared()

    def tally() -> Tally:
        tallies.append(Tally())
        return tallies[-1]

    with common.server(url, workers=args.workers) as server:
        tokens = [common.login(server.url, name) for name in world.office.usernames]
        for _ in range(args.workers * 4):  # every worker's imports and pool warm before the clock starts
            requests.get(f"{server.url}{API}/test-sessions/{world.session_ids[0]}", timeout=30)
        seeds = random.Random(args.seed)
        deadline = time.monotonic() + args.seconds

        def thread(target, *arguments):
            """A thread of `target`; a crash in it is reported as a problem (and fails the run), not lost."""
            own = tally()

            def run():
                try:
                    target(*arguments, own)
                except Exception as exc:
                    own.problems.append(f"{target.__name__} thread crashed: {type(exc).__name__}: {exc}")

            return threading.Thread(target=run)

        def load(target, *arguments):
            return thread(target, server.url, world, *arguments, deadline, random.Random(seeds.random()))

        threads = [load(browser) for _ in range(args.browsers)]
        threads += [load(candidate, world.candidates[i::args.candidate_threads])
                    for i in range(args.candidate_threads)]
        threads += [load(registrant, shared) for _ in range(args.registrants)]
        threads += [load(tablet, shared, n, token, args.batch) for n, token in enumerate(tokens)]
        stop = threading.Event()
        senders = [thread(sender, sender_app, backend, stop) for _ in range(args.senders)]
        started = time.perf_counter()
        for thread in threads + senders:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        stop.set()
        for thread in senders:
            thread.join()
        server_log = server.log()
    final = tally()
    drained = final_drain(url, final)
    sends = backend.sent + drained
    checks = invariants(app, world, shared.synclog, sends)
    common.dispose(app)
    common.dispose(sender_app)
    return report(args, wall, tallies, checks, drained, server_log)


def _keep_server_log(text: str) -> str:
    """Keep gunicorn's log of a failed run (its tracebacks carry the request ids of the 5xx) and say where."""
    fd, path = tempfile.mkstemp(prefix="vmo-soak-server-", suffix=".log")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    return path


def report(args, wall: float, tallies: list[Tally], checks, drained: Counter, server_log: str = "") -> int:
    merged = defaultdict(list)
    notes = Counter()
    problems = []
    for t in tallies:
        for kind, answers in t.answers.items():
            merged[kind].extend(answers)
        notes.update(t.notes)
        problems.extend(t.problems)
    rows = []
    total = {"n": 0, "ok": 0, "full": 0, "unexpected": 0, "errors": 0}
    every_latency = []
    for kind in KINDS:
        answers = merged.get(kind, [])
        if not answers:
            continue
        ms = sorted(seconds * 1000 for _, seconds, _ in answers)
        every_latency.extend(ms)
        ok = sum(1 for status, _, _ in answers if status in EXPECTED[kind])
        full = sum(1 for _, _, is_full in answers if is_full)
        errors = sum(1 for status, _, _ in answers if status == 0 or status >= 500)
        unexpected = len(answers) - ok - full - errors
        for name, value in (("n", len(answers)), ("ok", ok), ("full", full), ("unexpected", unexpected),
                            ("errors", errors)):
            total[name] += value
        rows.append((kind, len(answers), len(answers) / wall, *(common.percentile(ms, q) for q in (50, 95, 99)),
                     ok, full, unexpected, errors))
    every_latency.sort()
    rows.append(("ALL", total["n"], total["n"] / wall, *(common.percentile(every_latency, q) for q in (50, 95, 99)),
                 total["ok"], total["full"], total["unexpected"], total["errors"]))
    print(f"load ran {wall:.1f} s; machine load average now {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores, "
          "shared by the clients, gunicorn and PostgreSQL)")
    print(f"{'kind':<15}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'ok':>8}"
          f"{'409 full':>10}{'unexpected':>11}{'errors':>8}")
    for kind, n, rps, p50, p95, p99, ok, full, unexpected, errors in rows:
        print(f"{kind:<15}{n:>9,}{rps:>8.1f}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{ok:>8,}{full:>10,}{unexpected:>11,}"
              f"{errors:>8,}")
    print("; ".join(f"{k} {v:,}" for k, v in sorted(notes.items())) + f"; final drain sent {sum(drained.values())}")
    print(f"{'invariant':<52}{'result':<8}figures")
    for name, figure, ok in checks:
        print(f"{name:<52}{'ok' if ok else 'FAILED':<8}{figure}")
    if problems or total["errors"]:
        print(f"  the server's log (tracebacks by request id): {_keep_server_log(server_log)}", file=sys.stderr)
    for problem in problems[:20]:
        print(f"  problem: {problem}", file=sys.stderr)
    if len(problems) > 20:
        print(f"  ... and {len(problems) - 20} more problems", file=sys.stderr)
    failed = [name for name, _, ok in checks if not ok]
    if total["errors"] or total["unexpected"] or failed or problems:
        print(f"FAILED: {total['errors']} errors, {total['unexpected']} unexpected answers, "
              f"{len(problems)} problems, invariants failed: {', '.join(failed) or 'none'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
