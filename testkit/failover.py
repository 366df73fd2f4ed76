"""The release minute through a database failover: clients booking seats and tablets syncing records
while the primary is lost, then what the database holds checked against what the clients were told.

Used by tests/test_failover.py (which asserts) and bench/bench_failover.py (which reports).

    release = Release.prepare(app, label="crash", sessions=3, candidates=3000)
    report = release.run(base_url, fault=lambda: cluster.crash_member(cluster.leader()))
    check = release.check(app)          # on whatever database `app` reaches (the new primary)

Each client does what a well-behaved client of the API does (docs/scale.md): a booking carries an
`Idempotency-Key` and is sent again with the same key after a 503, a lost connection, or a 409 "in
progress"; a tablet sends the same records again (the server counts a record once by its client_id).
Every attempt is recorded with its start, end and answer, so the report can say when the service
stopped writing, when it wrote again, and what it answered in between.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import func, select

from testkit.factories import bulk_candidates, make_tour

SHANGHAI = ZoneInfo("Asia/Shanghai")
IN_PROGRESS = "a request with this Idempotency-Key is in progress; retry shortly"
# A client gives one request this long before it calls it unanswered (a failure of the run).
GIVE_UP_AFTER = 120.0
CHECKS = ("lights", "horn", "brake_front", "brake_rear", "tyres", "mirrors", "plate", "frame_number",
          "exhaust_noise")


@dataclass
class Attempt:
    kind: str  # "book" or "sync"
    started: float
    ended: float
    status: int | str  # the HTTP status, or the name of the connection error


@dataclass
class Report:
    """What the clients saw during one run."""

    fault_at: float
    attempts: list[Attempt]
    booked: dict[int, int]  # candidate id -> booking id answered 201
    synced: set[str]  # client ids the server answered created or duplicate
    unexpected: list[str] = field(default_factory=list)  # answers a client did not expect, with bodies
    unanswered: int = 0  # requests given up after GIVE_UP_AFTER

    def statuses(self) -> Counter:
        return Counter(a.status for a in self.attempts)

    def server_errors(self) -> int:
        """Answers of 500 or any 5xx other than 503."""
        return sum(1 for a in self.attempts if isinstance(a.status, int) and a.status >= 500 and a.status != 503)

    def refusals(self) -> int:
        """Attempts the service did not carry out: 503s, connections lost or refused, keys in progress."""
        return sum(1 for a in self.attempts if not _written(a))

    def seconds_without_writes(self) -> float:
        """From the fault to the first write answered 2xx after the last refused attempt (0 when nothing
        was refused: the writes only slowed down)."""
        failed = [a.ended for a in self.attempts if not _written(a) and a.ended >= self.fault_at]
        if not failed:
            slowest = max((a.ended for a in self.attempts if a.started <= self.fault_at <= a.ended),
                          default=self.fault_at)
            return max(slowest - self.fault_at, 0.0)
        last = max(failed)
        recovered = min((a.ended for a in self.attempts if _written(a) and a.ended >= last), default=None)
        return (recovered if recovered is not None else float("inf")) - self.fault_at

    def writes_after(self, moment: float) -> int:
        return sum(1 for a in self.attempts if _written(a) and a.ended >= moment)


def _written(attempt: Attempt) -> bool:
    return isinstance(attempt.status, int) and 200 <= attempt.status < 300


@dataclass
class Check:
    """What the database holds, against what the clients were told."""

    booked_missing: list[int]  # candidates told 201 whose booking is not there
    booked_twice: list[int]  # candidates with more than one booking in these sessions
    booked_other: list[int]  # candidates told 201 whose booking has another id
    overbooked: dict[int, tuple[int, int]]  # session id -> (slot's booked, confirmed bookings) where they differ
    synced_missing: list[str]
    synced_twice: list[str]
    bookings: int
    inspections: int

    @property
    def lost(self) -> int:
        """Answered writes the database does not hold."""
        return len(self.booked_missing) + len(self.booked_other) + len(self.synced_missing)

    @property
    def doubled(self) -> int:
        return len(self.booked_twice) + len(self.synced_twice)

    def problems(self) -> list[str]:
        found = []
        for name in ("booked_missing", "booked_twice", "booked_other", "overbooked", "synced_missing", "synced_twice"):
            value = getattr(self, name)
            if value:
                found.append(f"{name}: {value if len(value) < 20 else f'{len(value)} of them'}")
        return found


class Release:
    """One release's sessions, candidates and a tour, made directly in the database."""

    def __init__(self, session_ids, candidates, officer_username, password, stop_ids, day):
        self.day = day  # the tour's day: the records' date
        self.session_ids = session_ids
        self.candidates = candidates  # [{"candidate_id", "token"}]
        self.officer_username = officer_username
        self.password = password
        self.stop_ids = stop_ids

    @classmethod
    def prepare(cls, app, *, label: str, now: datetime, sessions: int = 3, candidates: int = 3000,
                office_code: str = "nanchuan") -> Release:
        """First-come sessions with a seat for everyone on the Saturday after `now`, `candidates`
        C1 candidates of the office, and a tour today with an officer to sync its records."""
        from schedules.exams import services as exams
        from vmo.accounts.services import AuthSettings, create_staff
        from vmo.extensions import db
        from vmo.offices.services import ensure_office

        password = "failover-" + uuid.uuid4().hex[:8]
        local = now.astimezone(SHANGHAI)
        saturday = (local + timedelta(days=(5 - local.weekday()) % 7 or 7)).replace(hour=8, minute=0, second=0,
                                                                                     microsecond=0)
        with app.app_context():
            office = ensure_office(office_code, "南川区车管所", "渝G", region_code="500119")
            officer = create_staff(office, f"officer-{label}-{uuid.uuid4().hex[:6]}", password, "officer",
                                   AuthSettings(time_cost=1, memory_cost=1024, parallelism=1))
            seats = candidates // sessions + 1
            session_ids = []
            for n in range(sessions):
                starts = saturday + timedelta(hours=2 * n)
                session_ids.append(exams.create_session(officer, {
                    "subject": 1, "license_class": "C1", "starts_at": starts, "ends_at": starts + timedelta(hours=2),
                    "venue": f"考场{n + 1}", "capacity": seats, "kind": "regular", "allocation": "first_come"},
                    now).id)
            officer_id, username = officer.id, officer.username
            db.session.commit()
        people = bulk_candidates(app, office_code, candidates)
        tour = make_tour(app, [officer_id], day=local.date(), stops=2, office=office_code)
        return cls(session_ids, people, username, password, tour.stop_ids, local.date())

    # ---- the run ----------------------------------------------------------------------

    def run(self, base: str, fault, *, bookers: int = 8, tablets: int = 2, warm_up: float = 3.0,
            after_recovery: float = 3.0, limit: float = 90.0) -> Report:
        """Clients at work; `fault()` after `warm_up` seconds; they stop `after_recovery` seconds after
        writes succeed again (at most `limit` seconds after the fault), each finishing its request."""
        officer_token = _sign_in(base, self.officer_username, self.password)
        stop = threading.Event()
        lock = threading.Lock()
        attempts: list[Attempt] = []
        booked: dict[int, int] = {}
        synced: set[str] = set()
        unexpected: list[str] = []
        unanswered = [0]
        queue = list(enumerate(self.candidates))
        queue.reverse()

        def note(kind, started, status):
            with lock:
                attempts.append(Attempt(kind, started, time.monotonic(), status))

        def send(kind, http: requests.Session, method, url, **kwargs):
            """The request until it is carried out or refused for good: retried after a 503, a lost
            or refused connection, or a key in progress. The final response, or None."""
            deadline = time.monotonic() + GIVE_UP_AFTER
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    response = http.request(method, url, timeout=30, **kwargs)
                except requests.RequestException as exc:
                    note(kind, started, type(exc).__name__)
                    time.sleep(0.5)
                    continue
                note(kind, started, response.status_code)
                if response.status_code == 503:
                    time.sleep(min(float(response.headers.get("Retry-After", "1")), 1.0))
                    continue
                if response.status_code == 409 and _message(response) == IN_PROGRESS:
                    time.sleep(0.5)
                    continue
                return response
            with lock:
                unanswered[0] += 1
            return None

        def booker():
            http = requests.Session()
            while not stop.is_set():
                with lock:
                    if not queue:
                        return
                    n, person = queue.pop()
                session_id = self.session_ids[n % len(self.session_ids)]
                headers = {"Authorization": f"Bearer {person['token']}", "Idempotency-Key": uuid.uuid4().hex}
                response = send("book", http, "POST", f"{base}/api/v1/test-sessions/{session_id}/bookings",
                                headers=headers)
                if response is None:
                    continue
                if response.status_code == 201:
                    with lock:
                        booked[person["candidate_id"]] = response.json()["id"]
                else:
                    with lock:
                        unexpected.append(f"booking {response.status_code}: {response.text[:300]}")

        def tablet(number):
            http = requests.Session()
            headers = {"Authorization": f"Bearer {officer_token}"}
            sent = 0
            while not stop.is_set():
                records = [_record(self.stop_ids[(sent + i) % len(self.stop_ids)], self.day, number * 100000 + sent + i)
                           for i in range(3)]
                sent += len(records)
                body = {"device_id": f"tablet-{number}", "records": records}
                response = send("sync", http, "POST", f"{base}/api/v1/mobile/inspections/sync", json=body,
                                headers=headers)
                if response is None:
                    continue
                if response.status_code != 200:
                    with lock:
                        unexpected.append(f"sync {response.status_code}: {response.text[:300]}")
                    continue
                for result in response.json()["results"]:
                    if result["status"] in ("created", "duplicate"):
                        with lock:
                            synced.add(result["client_id"])
                    else:
                        with lock:
                            unexpected.append(f"sync record {result}")
                time.sleep(0.05)

        threads = ([threading.Thread(target=booker, daemon=True) for _ in range(bookers)]
                   + [threading.Thread(target=tablet, args=(n,), daemon=True) for n in range(tablets)])
        for thread in threads:
            thread.start()
        time.sleep(warm_up)
        fault_at = time.monotonic()
        fault()
        report = Report(fault_at, attempts, booked, synced, unexpected)
        deadline = fault_at + limit
        while time.monotonic() < deadline:
            time.sleep(0.5)
            with lock:
                seconds = report.seconds_without_writes()
            if seconds != float("inf") and time.monotonic() > fault_at + seconds + after_recovery \
                    and report.writes_after(fault_at + seconds) > 0:
                break
        stop.set()
        for thread in threads:
            thread.join(GIVE_UP_AFTER + 30)
        report.unanswered = unanswered[0]
        return report

    # ---- the check --------------------------------------------------------------------

    def check(self, app, report: Report) -> Check:
        """Compare the database `app` reaches with what the clients were told."""
        from schedules.exams.models import ExamBooking, ExamSession
        from schedules.tours.models import TourInspection
        from vmo.booking.models import Slot
        from vmo.extensions import db

        with app.app_context():
            db.engine.dispose()  # connections from before the failover
            rows = db.session.execute(select(ExamBooking.candidate_id, ExamBooking.id)
                                      .where(ExamBooking.session_id.in_(self.session_ids))).all()
            per_candidate: dict[int, list[int]] = {}
            for candidate_id, booking_id in rows:
                per_candidate.setdefault(candidate_id, []).append(booking_id)
            missing = sorted(c for c in report.booked if c not in per_candidate)
            twice = sorted(c for c, ids in per_candidate.items() if len(ids) > 1)
            other = sorted(c for c, b in report.booked.items() if c in per_candidate and b not in per_candidate[c])
            overbooked = {}
            for session_id in self.session_ids:
                slot_booked = db.session.scalar(select(Slot.booked).join(ExamSession, ExamSession.slot_id == Slot.id)
                                                 .where(ExamSession.id == session_id))
                confirmed = db.session.scalar(select(func.count()).select_from(ExamBooking).where(
                    ExamBooking.session_id == session_id, ExamBooking.status == "confirmed"))
                if slot_booked != confirmed:
                    overbooked[session_id] = (slot_booked, confirmed)
            counts = dict(db.session.execute(
                select(TourInspection.client_id, func.count()).where(TourInspection.stop_id.in_(self.stop_ids))
                .group_by(TourInspection.client_id)).all())
            db.session.remove()
        return Check(missing, twice, other, overbooked,
                     sorted(c for c in report.synced if c not in counts),
                     sorted(c for c, n in counts.items() if n > 1), len(rows), sum(counts.values()))


def _sign_in(base: str, username: str, password: str) -> str:
    deadline = time.monotonic() + 60
    while True:
        response = requests.post(base + "/api/v1/auth/token", json={"username": username, "password": password},
                                 timeout=30)
        if response.status_code == 200 or time.monotonic() > deadline:
            response.raise_for_status()
            return response.json()["token"]
        time.sleep(0.5)


def _message(response) -> str | None:
    try:
        return response.json().get("message")
    except ValueError:
        return None


def _record(stop_id: int, day: date, n: int) -> dict:
    recorded = datetime(day.year, day.month, day.day, 9, 30, tzinfo=SHANGHAI)
    return {"client_id": str(uuid.uuid4()), "stop_id": stop_id, "plate": f"渝G{n % 100000:05d}", "vin": "LFG12345AB",
            "odometer_km": 12000 + n, "checklist": {code: "pass" for code in CHECKS}, "result": "pass",
            "defects": [], "recorded_at": recorded.isoformat(), "lat": 29.2, "lon": 107.1}
