"""Demo for `vmo demo`: sessions next weekend and candidates at every stage of the rules (idempotent)."""
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from schedules.exams import applications, permits, services, testday
from schedules.exams.models import (
    Allocation, Application, BookingStatus, ExamBooking, ExamSession, PermitSource, SessionKind, SessionStatus,
)
from vmo import clock, uow, validators
from vmo import settings as app_settings
from vmo.accounts import services as accounts
from vmo.accounts.models import Candidate, Role, User
from vmo.booking import services as booking
from vmo.errors import RuleViolation
from vmo.extensions import db

VENUE = "南川区机动车驾驶人考试中心（大观镇）"
PASSWORD = "demo-pass-2026"  # as vmo.demo.DEMO_PASSWORD
# (username, name, what the newcomer can try with them)
CANDIDATES = [
    ("kaosheng1", "王小芳", "permit issued today: subject 2 is refused until the ten days are over (permit_waiting)"),
    ("kaosheng2", "李建国", "failed subject 2 two days ago: ten days before the next booking (waiting_period)"),
    ("kaosheng3", "陈思雨", "subject 2 passed, subject 3 booked for Saturday afternoon"),
    ("kaosheng4", "赵明", "4 of 5 subject-2 bookings used: one left, and a fifth fail voids the permit"),
]


def _id_number(n: int) -> str:
    first17 = f"50011919980301{n:03d}"
    return first17 + validators.resident_id_check_char(first17)


def accept_application(office, id_number: str, name: str, phone: str, accepted_at: datetime, today: date
                       ) -> Application:
    """The office's acceptance (受理) of a demo person's C1 application, as at the counter (idempotent)."""
    existing = db.session.scalar(select(Application).where(Application.id_number == id_number,
                                                           Application.license_class == "C1"))
    if existing is not None:
        return existing
    return applications.accept(office, {
        "id_number": id_number, "name": name, "phone": phone, "license_class": "C1",
        "medical_on": accepted_at.astimezone(office.zone).date() - timedelta(days=20), "school": "南川区平安驾校",
        "accepted_at": accepted_at}, clock.now(), today)


def _candidate(office, n: int, username: str, name: str, today: date) -> Candidate:
    existing = db.session.scalar(select(Candidate).join(User, User.id == Candidate.user_id)
                                 .where(User.username == username))
    if existing is not None:
        return existing
    phone = f"139830001{n:02d}"
    # Accepted months before their permits, a few seconds apart: the order 12123 ranks a first subject 1 by.
    accepted_at = datetime.combine(today - timedelta(days=120), time(9, 30, n), tzinfo=office.zone)
    accept_application(office, _id_number(n), name, phone, accepted_at, today)
    return accounts.register_candidate(office, {
        "name": name, "id_number": _id_number(n), "phone": phone, "license_class": "C1",
        "username": username, "password": PASSWORD}, app_settings.get(accounts.AuthSettings), today)


def refused_for_age(office, today: date) -> str:
    """A 17-year-old applies for C1 at the counter: refused (article 14), and nothing is stored."""
    born = today.replace(year=today.year - 17)
    first17 = f"500119{born:%Y%m%d}021"
    try:
        applications.accept(office, {
            "id_number": first17 + validators.resident_id_check_char(first17), "name": "周小雨",
            "phone": "13983000199", "license_class": "C1", "medical_on": today, "school": "南川区平安驾校"},
            clock.now(), today)
    except RuleViolation as refused:
        return f"application refused ({refused.reason}): 周小雨, 17, for C1: {refused.message}"
    raise AssertionError("a 17-year-old's C1 application was accepted")


def _permit(candidate: Candidate, issued_on: date, passed: list[dict], bookings_used: dict, today: date) -> None:
    record, errors = permits.check_record({"license_class": "C1", "issued_on": issued_on, "passed": passed,
                                           "bookings_used": bookings_used}, today)
    assert not errors, errors
    permits.store(record, office_id=candidate.office_id, id_number=candidate.id_number, name=candidate.name,
                  source=PermitSource.ENTERED, now=clock.now())


def _past_sitting(office, candidate: Candidate, subject: int, day: date, outcome: str, score: int) -> None:
    """A sitting that already happened (sessions cannot be opened in the past through the service)."""
    if db.session.scalar(select(ExamBooking.id).where(ExamBooking.candidate_id == candidate.id,
                                                      ExamBooking.subject == subject)) is not None:
        return
    starts = datetime.combine(day, time(9), tzinfo=office.zone)
    slot = booking.create_slot(office.id, "test_seat", 20)
    session = ExamSession(office_id=office.id, subject=subject, license_class="C1", class_list="C1",
                          starts_at=starts, ends_at=starts + timedelta(hours=3), local_date=day,
                          is_weekend=day.weekday() >= 5, venue=VENUE, kind=SessionKind.REGULAR, allocation=Allocation.FIRST_COME,
                          status=SessionStatus.SCHEDULED, slot_id=slot.id, created_at=starts - timedelta(days=14),
                          updated_at=starts)
    db.session.add(session)
    db.session.flush()
    booking.take(slot.id)
    db.session.add(ExamBooking(office_id=office.id, session_id=session.id, candidate_id=candidate.id, subject=subject,
                               status=BookingStatus.CONFIRMED, outcome=outcome, score=score, outcome_at=starts + timedelta(hours=3),
                               changes=0, sequence=0, created_at=starts - timedelta(days=7), updated_at=starts))


def demo_step(office) -> list[str]:
    officer = db.session.scalar(select(User).where(User.office_id == office.id, User.role == Role.OFFICER)
                                .order_by(User.id))
    if officer is None:
        return ["test sessions: no officer in the office, skipped"]
    zone = office.zone
    today = clock.local_today(office.timezone)
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    sunday = saturday + timedelta(days=1)
    wanted = [
        (saturday, time(9), 2, "first_come", "regular", 20, None),
        (sunday, time(9), 3, "ballot", "extra", 10, saturday - timedelta(days=2)),
        (saturday, time(14), 3, "first_come", "regular", 20, None),
    ]
    lines, sessions = [], []
    for day, start, subject, allocation, kind, capacity, close_day in wanted:
        starts = datetime.combine(day, start, tzinfo=zone)
        existing = db.session.scalar(select(ExamSession).where(
            ExamSession.office_id == office.id, ExamSession.starts_at == starts, ExamSession.venue == VENUE))
        if existing is None:
            close = datetime.combine(close_day, time(20), tzinfo=zone) if close_day else None
            if close is not None and close <= clock.now():
                close = None
                allocation = Allocation.FIRST_COME
            existing = services.create_session(officer, {
                "subject": subject, "license_class": "C1", "starts_at": starts,
                "ends_at": starts + timedelta(hours=3), "venue": VENUE, "capacity": capacity, "kind": kind,
                "allocation": allocation, "applications_close_at": close}, clock.now())
        sessions.append(existing)
        lines.append(f"test session {existing.id}: subject {existing.subject} C1 {day.isoformat()} "
                     f"({existing.allocation}, {existing.slot.capacity} seats)")

    if not sessions[0].examiners:  # the sitting's follow-ups (and any complaint) go to its examiner
        testday.update_session(officer, sessions[0].id, {"examiners": [officer.id]}, clock.now())
    lines.append(f"test session {sessions[0].id}: examiner {officer.username}, who receives its follow-ups")

    people = {}
    for n, (username, name, _) in enumerate(CANDIDATES, start=1):
        people[username] = _candidate(office, n, username, name, today)
    _permit(people["kaosheng1"], today, [{"subject": 1, "passed_on": today, "score": 94}], {}, today)
    _permit(people["kaosheng2"], today - timedelta(days=40), [], {}, today)
    _past_sitting(office, people["kaosheng2"], 2, today - timedelta(days=2), "failed", 70)
    _permit(people["kaosheng3"], today - timedelta(days=60),
            [{"subject": 2, "passed_on": today - timedelta(days=30), "score": 90}], {}, today)
    _permit(people["kaosheng4"], today - timedelta(days=90), [], {"2": 4}, today)
    uow.flush()
    third = people["kaosheng3"]
    if db.session.scalar(select(ExamBooking.id).where(ExamBooking.candidate_id == third.id,
                                                      ExamBooking.active_key.is_not(None))) is None:
        from schedules.exams.settings import ExamSettings
        services.book(db.session.get(User, third.user_id), sessions[2].id, app_settings.get(ExamSettings),
                      clock.now(), today)
    lines += [f"candidate {username} / {PASSWORD}: {what}" for username, _, what in CANDIDATES]
    lines.append(refused_for_age(office, today))
    return lines
