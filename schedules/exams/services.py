"""Driving-test rules: sessions, eligibility, seats without overbooking, waiting lists, the draw and calendars.

Every public function is one unit of work: it checks the rules, raises a domain error or commits
once (audit entry and outbox texts in the same transaction). Seats are held only through
`vmo.booking.services` (single conditional UPDATEs), never by reading a count and writing it back.

Lock order on PostgreSQL, to keep concurrent writers free of deadlocks: test-session rows
(`SELECT ... FOR UPDATE`, lowest id first), then slot rows. The hot path of a first-come booking
takes no session lock at all: one conditional UPDATE of the slot, one INSERT, one COMMIT.
"""
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from schedules import draw as ballot
from schedules import ical
from vmo.accounts.models import LICENSE_CLASSES, Candidate, User
from vmo.accounts.services import candidate_of
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.errors import Conflict, NotFound, RuleViolation
from vmo.extensions import db
from vmo.notify import services as notify
from vmo.offices.models import Office
from schedules.exams.models import (
    ALLOCATIONS, OUTCOMES, SESSION_KINDS, SUBJECT_NAMES, CalendarFeed, ExamBooking, ExamDraw,
    ExamSession,
)

STAFF_ROLES = ("admin", "supervisor", "officer")


@dataclass(frozen=True)
class ExamSettings:
    """The feature's tunables (app config `EXAM_*`, see schedules.register)."""

    retest_wait_days: int = 10
    max_changes: int = 2
    cancel_cutoff: timedelta = timedelta(hours=24)
    # A fixed seed makes demos and cross-checks reproducible; None draws a fresh 256-bit seed per draw.
    draw_seed: str | None = None
    organizer: str | None = None


def settings_from(config: Mapping) -> ExamSettings:
    return ExamSettings(
        retest_wait_days=int(config.get("EXAM_RETEST_WAIT_DAYS", 10)),
        max_changes=int(config.get("EXAM_MAX_CHANGES", 2)),
        cancel_cutoff=timedelta(hours=float(config.get("EXAM_CANCEL_CUTOFF_HOURS", 24))),
        draw_seed=config.get("EXAM_DRAW_SEED") or None,
        organizer=config.get("EXAM_CALENDAR_ORGANIZER") or None,
    )


def _zone(office: Office) -> ZoneInfo:
    return ZoneInfo(office.timezone or "Asia/Shanghai")


def _local_date(moment: datetime, office: Office) -> date:
    return moment.astimezone(_zone(office)).date()


def _ineligible(reason: str, message: str, **extra) -> RuleViolation:
    # `reason` is a stable code for programs; the message is for the person.
    return RuleViolation(message, reason=reason, **extra)


# ---- sessions --------------------------------------------------------------------------

def create_session(officer: User, data: dict, now: datetime) -> ExamSession:
    """Open a test session in the officer's office, with its seats as a booking-core slot."""
    errors: dict[str, list[str]] = {}
    starts, ends, close = data["starts_at"], data["ends_at"], data.get("applications_close_at")
    if data["subject"] not in (1, 2, 3, 4):
        errors["subject"] = ["must be 1, 2, 3 or 4"]
    if data["license_class"] not in LICENSE_CLASSES:
        errors["license_class"] = [f"must be one of {', '.join(LICENSE_CLASSES)}"]
    if data["kind"] not in SESSION_KINDS:
        errors["kind"] = [f"must be one of {', '.join(SESSION_KINDS)}"]
    if data["allocation"] not in ALLOCATIONS:
        errors["allocation"] = [f"must be one of {', '.join(ALLOCATIONS)}"]
    if starts <= now:
        errors["starts_at"] = ["must be in the future"]
    if ends <= starts:
        errors["ends_at"] = ["must be after starts_at"]
    if data["capacity"] < 1:
        errors["capacity"] = ["must be at least 1"]
    if data["allocation"] == "ballot":
        if close is None:
            errors["applications_close_at"] = ["required for a ballot session"]
        elif close <= now:
            errors["applications_close_at"] = ["must be in the future"]
        elif close >= starts:
            errors["applications_close_at"] = ["must be before starts_at"]
    elif close is not None:
        errors["applications_close_at"] = ["only a ballot session has a closing time for applications"]
    if errors:
        raise RuleViolation("the test session is not valid", errors={"json": errors})

    office = officer.office
    local = starts.astimezone(_zone(office))
    slot = booking.create_slot(office.id, "test_seat", data["capacity"])
    session = ExamSession(
        office_id=office.id, subject=data["subject"], license_class=data["license_class"], starts_at=starts,
        ends_at=ends, local_date=local.date(), is_weekend=local.weekday() >= 5, venue=data["venue"],
        kind=data["kind"], allocation=data["allocation"], applications_close_at=close, slot_id=slot.id,
        created_by_id=officer.id, created_at=now, updated_at=now,
    )
    db.session.add(session)
    db.session.flush()
    audit.record("test_session.create", "test_session", session.id, actor=officer, after={
        "subject": session.subject, "license_class": session.license_class, "starts_at": starts,
        "ends_at": ends, "venue": session.venue, "capacity": data["capacity"], "kind": session.kind,
        "allocation": session.allocation, "applications_close_at": close})
    db.session.commit()
    return session


def list_sessions(office_id: int, today: date, *, subject: int | None = None, license_class: str | None = None,
                  start: date | None = None, end: date | None = None, weekend: bool | None = None,
                  kind: str | None = None, allocation: str | None = None) -> Select:
    """Sessions of an office from `start` (default: today, office time) to `end`, soonest first."""
    stmt = select(ExamSession).where(ExamSession.office_id == office_id,
                                     ExamSession.local_date >= (start or today))
    if end is not None:
        stmt = stmt.where(ExamSession.local_date <= end)
    if subject is not None:
        stmt = stmt.where(ExamSession.subject == subject)
    if license_class is not None:
        stmt = stmt.where(ExamSession.license_class == license_class)
    if weekend is not None:
        stmt = stmt.where(ExamSession.is_weekend.is_(weekend))
    if kind is not None:
        stmt = stmt.where(ExamSession.kind == kind)
    if allocation is not None:
        stmt = stmt.where(ExamSession.allocation == allocation)
    return stmt.order_by(ExamSession.starts_at, ExamSession.id)


def get_session(session_id: int, office_id: int | None = None) -> ExamSession:
    stmt = select(ExamSession).where(ExamSession.id == session_id)
    if office_id is not None:
        stmt = stmt.where(ExamSession.office_id == office_id)
    session = db.session.scalar(stmt)
    if session is None:
        raise NotFound(f"no test session {session_id}")
    return session


def session_state(session: ExamSession, now: datetime) -> str:
    """open, applications_closed (ballot waiting for its draw), drawn, or started."""
    if now >= session.starts_at:
        return "started"
    if session.allocation == "ballot":
        if session.drawn_at is not None:
            return "drawn"
        if now >= session.applications_close_at:
            return "applications_closed"
    return "open"


def waitlist_length(session_id: int) -> int:
    return db.session.scalar(select(func.count(ExamBooking.id)).where(
        ExamBooking.session_id == session_id, ExamBooking.status == "waitlisted"))


def _lock_sessions(*session_ids: int) -> None:
    # PostgreSQL: serialise waiting-list moves of a session (lowest id first, so two changes in
    # opposite directions cannot deadlock). FOR NO KEY UPDATE, not FOR UPDATE: a booking INSERT takes
    # KEY SHARE on its session through the foreign key while holding its seat, and must not wait
    # for us while we wait for that seat's slot row. SQLite has no row locks; its writers are serial.
    for session_id in sorted(set(session_ids)):
        db.session.execute(select(ExamSession.id).where(ExamSession.id == session_id)
                           .with_for_update(key_share=True))


# ---- candidates' history and eligibility ----------------------------------------------

@dataclass
class SubjectProgress:
    subject: int
    passed_on: date | None = None
    attempts: int = 0
    no_shows: int = 0
    last_failed_on: date | None = None
    retest_from: date | None = None
    active_booking_id: int | None = None
    eligible: bool = False
    reason: str | None = None
    message: str | None = None

    @property
    def passed(self) -> bool:
        return self.passed_on is not None


@dataclass
class Progress:
    candidate: Candidate
    seniority_date: date
    subjects: list[SubjectProgress]

    @property
    def candidate_id(self) -> int:
        return self.candidate.id

    @property
    def license_class(self) -> str:
        return self.candidate.license_class


def _subject_progress(candidate: Candidate, settings: ExamSettings, today: date) -> dict[int, SubjectProgress]:
    office = db.session.get(Office, candidate.office_id)
    rows = db.session.execute(
        select(ExamBooking.id, ExamBooking.subject, ExamBooking.outcome, ExamBooking.active_key,
               ExamSession.starts_at)
        .join(ExamSession, ExamSession.id == ExamBooking.session_id)
        .where(ExamBooking.candidate_id == candidate.id)
        .order_by(ExamSession.starts_at, ExamBooking.id)
    ).all()
    subjects = {s: SubjectProgress(s) for s in (1, 2, 3, 4)}
    for row in rows:
        item = subjects[row.subject]
        exam_day = _local_date(row.starts_at, office)
        if row.active_key is not None:
            item.active_booking_id = row.id
        if row.outcome == "passed":
            item.attempts += 1
            item.passed_on = item.passed_on or exam_day
        elif row.outcome == "failed":
            item.attempts += 1
            item.last_failed_on = exam_day
        elif row.outcome == "no_show":
            item.no_shows += 1
    for item in subjects.values():
        if item.last_failed_on is not None and item.subject in (2, 3) and not item.passed:
            item.retest_from = item.last_failed_on + timedelta(days=settings.retest_wait_days)
        problem = _eligibility_problem(subjects, item.subject, settings, today)
        item.eligible = problem is None and item.active_booking_id is None
        if problem is not None:
            item.reason, item.message = problem[0], problem[1]
        elif item.active_booking_id is not None:
            item.reason, item.message = "active_booking", f"booking {item.active_booking_id} is still active"
    return subjects


def _eligibility_problem(subjects: dict[int, SubjectProgress], subject: int, settings: ExamSettings,
                         today: date) -> tuple[str, str, dict] | None:
    item = subjects[subject]
    if item.passed:
        return "already_passed", f"subject {subject} was passed on {item.passed_on.isoformat()}", {}
    if subject in (2, 3) and not subjects[1].passed:
        return "subject_order", f"subject 1 must be passed before subject {subject} can be booked", {}
    if subject == 4 and not subjects[3].passed:
        return "subject_order", "subject 3 must be passed before subject 4 can be booked", {}
    if item.retest_from is not None and today < item.retest_from:
        return ("waiting_period",
                f"subject {subject} was failed on {item.last_failed_on.isoformat()}; after a failed subject "
                f"{subject} the next booking is possible from {item.retest_from.isoformat()} "
                f"({settings.retest_wait_days} days)",
                {"eligible_from": item.retest_from.isoformat()})
    return None


def _check_eligible(candidate: Candidate, session: ExamSession, settings: ExamSettings, today: date) -> None:
    if candidate.license_class != session.license_class:
        raise _ineligible("license_class", f"this session is for licence class {session.license_class}; "
                                           f"you are training for {candidate.license_class}")
    subjects = _subject_progress(candidate, settings, today)
    problem = _eligibility_problem(subjects, session.subject, settings, today)
    if problem is not None:
        reason, message, extra = problem
        raise _ineligible(reason, message, **extra)


def progress(candidate: Candidate, settings: ExamSettings, today: date) -> Progress:
    """Where the candidate stands in each subject, and their seniority date for the next draw."""
    subjects = _subject_progress(candidate, settings, today)
    return Progress(candidate, seniority_dates([candidate.id])[candidate.id], list(subjects.values()))


def my_progress(user: User, settings: ExamSettings, today: date) -> Progress:
    return progress(candidate_of(user), settings, today)


def candidate_progress(staff: User, candidate_id: int, settings: ExamSettings, today: date) -> Progress:
    candidate = db.session.scalar(select(Candidate).where(Candidate.id == candidate_id,
                                                          Candidate.office_id == staff.office_id))
    if candidate is None:
        raise NotFound(f"no candidate {candidate_id}")
    return progress(candidate, settings, today)


def seniority_dates(candidate_ids: Iterable[int]) -> dict[int, date]:
    """How long each candidate has waited, the way the national booking system ranks them.

    The latest of: the day their application was accepted (account created), the day of their
    last exam (passed, failed or missed) and the day they last gave up a confirmed seat. So a
    first subject 1 counts from acceptance, a retake from the last exam, and a cancellation or
    a no-show moves the candidate back.
    """
    ids = sorted(set(candidate_ids))
    if not ids:
        return {}
    dates: dict[int, date] = {}

    def later(candidate_id: int, day: date) -> None:
        dates[candidate_id] = max(dates.get(candidate_id, day), day)

    zones: dict[int, ZoneInfo] = {}
    for cand_id, created_at, tz in db.session.execute(
            select(Candidate.id, Candidate.created_at, Office.timezone)
            .join(Office, Office.id == Candidate.office_id).where(Candidate.id.in_(ids))):
        zones[cand_id] = ZoneInfo(tz or "Asia/Shanghai")
        later(cand_id, created_at.astimezone(zones[cand_id]).date())
    for cand_id, starts_at in db.session.execute(
            select(ExamBooking.candidate_id, ExamSession.starts_at)
            .join(ExamSession, ExamSession.id == ExamBooking.session_id)
            .where(ExamBooking.candidate_id.in_(ids), ExamBooking.outcome.is_not(None))):
        later(cand_id, starts_at.astimezone(zones[cand_id]).date())
    for cand_id, forfeited_at in db.session.execute(
            select(ExamBooking.candidate_id, ExamBooking.forfeited_at)
            .where(ExamBooking.candidate_id.in_(ids), ExamBooking.forfeited_at.is_not(None))):
        later(cand_id, forfeited_at.astimezone(zones[cand_id]).date())
    return dates


# ---- bookings ---------------------------------------------------------------------------

def _bookings_visible_to(user: User) -> Select:
    stmt = select(ExamBooking).where(ExamBooking.office_id == user.office_id)
    if user.role == "candidate":
        stmt = stmt.join(Candidate, Candidate.id == ExamBooking.candidate_id).where(Candidate.user_id == user.id)
    elif user.role not in STAFF_ROLES:
        stmt = stmt.where(False)
    return stmt


def get_booking(user: User, booking_id: int) -> ExamBooking:
    """The booking if the user may see it; another candidate's booking is 'not found', as if absent."""
    row = db.session.scalar(_bookings_visible_to(user).where(ExamBooking.id == booking_id))
    if row is None:
        raise NotFound(f"no booking {booking_id}")
    return row


def list_bookings(user: User, session_id: int | None = None, status: str | None = None) -> Select:
    stmt = _bookings_visible_to(user)
    if session_id is not None:
        stmt = stmt.where(ExamBooking.session_id == session_id)
    if status is not None:
        stmt = stmt.where(ExamBooking.status == status)
    if session_id is not None:
        # Within one session the natural order is the waiting list's.
        return stmt.order_by(ExamBooking.status, ExamBooking.queue_position, ExamBooking.id)
    return stmt.order_by(ExamBooking.id.desc())


def waitlist_position(row: ExamBooking) -> int | None:
    """1 for the first candidate waiting, or None when not on a waiting list."""
    if row.status != "waitlisted":
        return None
    ahead = db.session.scalar(select(func.count(ExamBooking.id)).where(
        ExamBooking.session_id == row.session_id, ExamBooking.status == "waitlisted",
        (ExamBooking.queue_position < row.queue_position)
        | ((ExamBooking.queue_position == row.queue_position) & (ExamBooking.id < row.id))))
    return ahead + 1


def _session_for_candidate(candidate: Candidate, session_id: int) -> ExamSession:
    # A session of another office does not exist for this candidate.
    return get_session(session_id, office_id=candidate.office_id)


def _check_bookable(session: ExamSession, now: datetime) -> None:
    state = session_state(session, now)
    if state == "started":
        raise _ineligible("session_started", f"session {session.id} has already started")
    if state == "applications_closed":
        raise _ineligible("applications_closed",
                          f"applications for session {session.id} closed at "
                          f"{session.applications_close_at.astimezone(_zone(session.office)).isoformat()}; "
                          "the draw has not been run yet")


def _next_queue_position(session_id: int) -> int:
    return (db.session.scalar(select(func.max(ExamBooking.queue_position))
                              .where(ExamBooking.session_id == session_id)) or 0) + 1


def _place(session: ExamSession, now: datetime, waitlist_if_full: bool) -> tuple[str, int | None]:
    """Take a seat (or a place in the ballot or on the waiting list); returns (status, queue position)."""
    if session.allocation == "ballot" and session.drawn_at is None:
        return "applied", None
    if booking.try_take(session.slot_id):
        return "confirmed", None
    if not waitlist_if_full:
        raise Conflict(f"no seat is left in session {session.id}; send {{\"waitlist_if_full\": true}} "
                       "to join its waiting list", seats_left=0)
    _lock_sessions(session.id)
    # A seat freed while we were refused goes to whoever is first; we may be first.
    if booking.try_take(session.slot_id):
        return "confirmed", None
    return "waitlisted", _next_queue_position(session.id)


def _active_conflict(candidate: Candidate, subject: int) -> Conflict:
    active = db.session.scalar(select(ExamBooking.id).where(
        ExamBooking.active_key == f"{candidate.id}:{subject}"))
    return Conflict(f"you already hold an active booking for subject {subject}"
                    + (f" (booking {active})" if active else "") + "; cancel or change it instead",
                    active_booking_id=active)


def book(user: User, session_id: int, settings: ExamSettings, now: datetime, today: date,
         waitlist_if_full: bool = False) -> ExamBooking:
    """Book a seat (first come), apply (ballot, until applications close) or join the waiting list."""
    candidate = candidate_of(user)
    session = _session_for_candidate(candidate, session_id)
    _check_bookable(session, now)
    _check_eligible(candidate, session, settings, today)
    active_key = f"{candidate.id}:{session.subject}"
    if db.session.scalar(select(ExamBooking.id).where(ExamBooking.active_key == active_key)) is not None:
        raise _active_conflict(candidate, session.subject)
    status, position = _place(session, now, waitlist_if_full)
    row = ExamBooking(office_id=session.office_id, session_id=session.id, candidate_id=candidate.id,
                      subject=session.subject, status=status, active_key=active_key, queue_position=position,
                      changes=0, sequence=0, created_at=now, updated_at=now)
    db.session.add(row)
    try:
        db.session.flush()
        audit.record("exam_booking.create", "exam_booking", row.id, actor=user,
                     after={"session_id": session.id, "status": status, "queue_position": position})
        db.session.commit()
    except IntegrityError:
        # A concurrent request of the same candidate won; our seat goes back with the rollback.
        db.session.rollback()
        raise _active_conflict(candidate, session.subject) from None
    return row


def _seat_freed(session: ExamSession, now: datetime) -> ExamBooking | None:
    """Hand a freed seat to the first candidate waiting, or give it back to the pool."""
    while True:
        first = db.session.scalar(
            select(ExamBooking).where(ExamBooking.session_id == session.id, ExamBooking.status == "waitlisted")
            .order_by(ExamBooking.queue_position, ExamBooking.id).limit(1))
        if first is None:
            booking.release(session.slot_id)
            return None
        promoted = db.session.execute(
            update(ExamBooking).where(ExamBooking.id == first.id, ExamBooking.status == "waitlisted")
            .values(status="confirmed", queue_position=None, updated_at=now, sequence=ExamBooking.sequence + 1)
            .execution_options(synchronize_session=False)).rowcount
        if promoted == 1:
            db.session.refresh(first)
            audit.record("exam_booking.promote", "exam_booking", first.id, office_id=first.office_id,
                         before={"status": "waitlisted"}, after={"status": "confirmed"})
            _text(first, "promoted", f"{_session_words(session)}有空位，您已由候补转为正式预约（预约号{first.id}）。"
                                     "A seat became free: your booking is confirmed.")
            return first


def _session_words(session: ExamSession) -> str:
    local = session.starts_at.astimezone(_zone(session.office))
    return (f"【{session.office.name}】{local:%m月%d日 %H:%M} {SUBJECT_NAMES[session.subject]}"
            f"（{session.license_class}）考试，{session.venue}，")


def _text(row: ExamBooking, what: str, body: str) -> None:
    candidate = row.candidate or db.session.get(Candidate, row.candidate_id)
    notify.queue(row.office_id, candidate.phone, body, kind=f"exam_{what}",
                 key=f"exam:{what}:{row.id}:{row.sequence}", subject_type="exam_booking", subject_id=row.id)


def cancel(user: User, booking_id: int, settings: ExamSettings, now: datetime) -> ExamBooking:
    """Cancel a booking; a freed seat goes to the waiting list's first candidate, or back to the pool."""
    row = get_booking(user, booking_id)
    if row.status == "cancelled":
        raise Conflict(f"booking {row.id} is already cancelled")
    if row.outcome is not None:
        raise Conflict(f"booking {row.id} already has its outcome ({row.outcome}); it can no longer be cancelled")
    session = row.session
    if now >= session.starts_at:
        raise _ineligible("session_started", f"session {session.id} has already started")
    by_candidate = user.role == "candidate"
    if by_candidate and row.status == "confirmed" and now > session.starts_at - settings.cancel_cutoff:
        raise _ineligible("cutoff", f"a confirmed booking cannot be cancelled less than {_hours(settings)} "
                                    "hours before the start; please contact the office")
    before = row.status
    _lock_sessions(session.id)
    # Candidates who give up a seat move back in the queue for the next ballot; the office
    # cancelling on their behalf (bad weather, a broken car) does not count against them.
    forfeited = now if by_candidate and before == "confirmed" else None
    flipped = db.session.execute(
        update(ExamBooking).where(ExamBooking.id == row.id, ExamBooking.status == before,
                                  ExamBooking.outcome.is_(None))
        .values(status="cancelled", active_key=None, queue_position=None, cancelled_at=now, updated_at=now,
                forfeited_at=forfeited, sequence=ExamBooking.sequence + 1)
        .execution_options(synchronize_session=False)).rowcount
    if flipped != 1:
        db.session.rollback()
        raise Conflict(f"booking {booking_id} was changed at the same moment; reload it and try again")
    if before == "confirmed":
        _seat_freed(session, now)
    audit.record("exam_booking.cancel", "exam_booking", row.id, actor=user, office_id=row.office_id,
                 before={"status": before}, after={"status": "cancelled", "forfeited": forfeited is not None})
    db.session.commit()
    db.session.refresh(row)
    return row


def _hours(settings: ExamSettings) -> str:
    hours = settings.cancel_cutoff.total_seconds() / 3600
    return f"{hours:g}"


def change(user: User, booking_id: int, new_session_id: int, settings: ExamSettings, now: datetime,
           today: date, waitlist_if_full: bool = False) -> ExamBooking:
    """Move a booking to another session of the same subject (at most `max_changes` times)."""
    candidate = candidate_of(user)
    row = get_booking(user, booking_id)
    if not row.active:
        raise Conflict(f"booking {row.id} is {row.outcome or row.status}; only an active booking can be changed")
    if row.changes >= settings.max_changes:
        raise _ineligible("max_changes", f"a booking can be changed at most {settings.max_changes} times; "
                                         f"booking {row.id} has been changed {row.changes} times")
    new = _session_for_candidate(candidate, new_session_id)
    old = row.session
    if new.id == old.id:
        raise RuleViolation(f"booking {row.id} is already for session {new.id}",
                            errors={"json": {"session_id": ["the booking is already for this session"]}})
    if new.subject != row.subject:
        raise RuleViolation(f"session {new.id} is for subject {new.subject}; booking {row.id} is for subject "
                            f"{row.subject}", errors={"json": {"session_id": ["another subject"]}},
                            reason="subject")
    if now >= old.starts_at:
        raise _ineligible("session_started", f"session {old.id} has already started")
    if row.status == "confirmed" and now > old.starts_at - settings.cancel_cutoff:
        raise _ineligible("cutoff", f"a confirmed booking cannot be changed less than {_hours(settings)} hours "
                                    "before the start; please contact the office")
    _check_bookable(new, now)
    _check_eligible(candidate, new, settings, today)
    before = {"session_id": old.id, "status": row.status}
    _lock_sessions(old.id, new.id)
    # Take the new place first: if the new session is full, nothing changes (409).
    status, position = _place(new, now, waitlist_if_full)
    moved = db.session.execute(
        update(ExamBooking).where(ExamBooking.id == row.id, ExamBooking.status == before["status"],
                                  ExamBooking.session_id == old.id, ExamBooking.outcome.is_(None))
        .values(session_id=new.id, status=status, queue_position=position, changes=ExamBooking.changes + 1,
                sequence=ExamBooking.sequence + 1, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        db.session.rollback()
        raise Conflict(f"booking {booking_id} was changed at the same moment; reload it and try again")
    if before["status"] == "confirmed":
        _seat_freed(old, now)
    audit.record("exam_booking.change", "exam_booking", row.id, actor=user, before=before,
                 after={"session_id": new.id, "status": status, "queue_position": position})
    db.session.commit()
    db.session.refresh(row)
    return row


def record_outcome(officer: User, booking_id: int, outcome: str, now: datetime) -> ExamBooking:
    """Record passed, failed or no_show for a confirmed booking; the candidate's progress follows."""
    if outcome not in OUTCOMES:
        raise RuleViolation(f"outcome must be one of {', '.join(OUTCOMES)}",
                            errors={"json": {"outcome": [f"must be one of {', '.join(OUTCOMES)}"]}})
    row = get_booking(officer, booking_id)
    if row.outcome == outcome:
        return row  # the same answer again (a retry) changes nothing
    if row.outcome is not None:
        raise Conflict(f"booking {row.id} already has the outcome {row.outcome}")
    if row.status != "confirmed":
        raise Conflict(f"booking {row.id} is {row.status}; only a confirmed booking has an outcome")
    session = row.session
    if now < session.starts_at:
        raise RuleViolation(f"session {session.id} has not started yet; record the outcome after the test",
                            reason="session_not_started")
    recorded = db.session.execute(
        update(ExamBooking).where(ExamBooking.id == row.id, ExamBooking.outcome.is_(None),
                                  ExamBooking.status == "confirmed")
        .values(outcome=outcome, outcome_at=now, outcome_by_id=officer.id, active_key=None, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if recorded != 1:
        db.session.rollback()
        raise Conflict(f"booking {booking_id} got its outcome at the same moment; reload it")
    db.session.refresh(row)
    audit.record("exam_booking.outcome", "exam_booking", row.id, actor=officer, before={"outcome": None},
                 after={"outcome": outcome})
    if outcome != "no_show":
        # A finished case: one follow-up text (satisfaction survey), naming the officer by badge.
        words = {"passed": "合格 passed", "failed": "不合格 failed"}[outcome]
        candidate = db.session.get(Candidate, row.candidate_id)
        notify.queue(row.office_id, candidate.phone,
                     f"{_session_words(session)}考试结果：{words}。经办民警警号{officer.badge_number or officer.id}。"
                     "满意请回复1，不满意请回复2。",
                     kind="follow_up", key=f"follow_up:exam_booking:{row.id}", subject_type="exam_booking",
                     subject_id=row.id, officer_id=officer.id)
    db.session.commit()
    return row


# ---- the ballot ------------------------------------------------------------------------

def run_draw(session_id: int, settings: ExamSettings, now: datetime, actor: User | None = None
             ) -> tuple[ExamDraw, bool]:
    """Draw a ballot session once applications have closed; later calls return the stored draw.

    Returns (draw, created). Winners are confirmed, everyone else is waitlisted in draw order,
    and each applicant gets a text.
    """
    session = get_session(session_id, office_id=actor.office_id if actor is not None else None)
    if session.allocation != "ballot":
        raise RuleViolation(f"session {session.id} is first come, first served; there is nothing to draw",
                            reason="not_a_ballot")
    existing = db.session.scalar(select(ExamDraw).where(ExamDraw.session_id == session.id))
    if existing is not None:
        return existing, False
    if now < session.applications_close_at:
        close = session.applications_close_at.astimezone(_zone(session.office)).isoformat()
        raise RuleViolation(f"applications for session {session.id} are open until {close}; draw after that",
                            reason="applications_open", applications_close_at=close)
    _lock_sessions(session.id)
    db.session.refresh(session)
    if session.drawn_at is not None:  # a concurrent draw committed first
        db.session.rollback()
        return db.session.scalar(select(ExamDraw).where(ExamDraw.session_id == session.id)), False

    rows = list(db.session.scalars(select(ExamBooking).where(
        ExamBooking.session_id == session.id, ExamBooking.status == "applied").order_by(ExamBooking.id)))
    seniority = seniority_dates(r.candidate_id for r in rows)
    applicants = [ballot.Applicant(r.id, r.candidate_id, seniority[r.candidate_id]) for r in rows]
    seats = booking.available(session.slot_id)
    result = ballot.run_draw(applicants, seats, settings.draw_seed or ballot.new_seed())
    if result.winners:
        booking.take(session.slot_id, len(result.winners), message="the session has fewer seats than winners")
    by_id = {r.id: r for r in rows}
    for app_id in result.winners:
        by_id[app_id].status, by_id[app_id].queue_position = "confirmed", None
    # Losers queue in draw order, behind anyone already waiting.
    for position, app_id in enumerate(result.waitlist, start=_next_queue_position(session.id)):
        by_id[app_id].status, by_id[app_id].queue_position = "waitlisted", position
    for row in rows:
        row.updated_at = now
        row.sequence += 1
    session.drawn_at = now
    session.updated_at = now
    record = ExamDraw(office_id=session.office_id, session_id=session.id, seed=result.seed,
                      record=result.as_record(), drawn_at=now, drawn_by_id=getattr(actor, "id", None))
    db.session.add(record)
    db.session.flush()
    for app_id in result.ranking:
        row = by_id[app_id]
        if row.status == "confirmed":
            _text(row, "drawn", f"{_session_words(session)}摇号结果：中签，预约已确认（预约号{row.id}）。"
                                "You won a seat in the draw.")
        else:
            _text(row, "drawn", f"{_session_words(session)}摇号结果：未中签，您在候补名单第{row.queue_position}位。"
                                f"Not drawn: you are number {row.queue_position} on the waiting list.")
    audit.record("test_session.draw", "test_session", session.id, actor=actor, office_id=session.office_id,
                 after={"seed": result.seed, "applicants": len(applicants), "seats": seats,
                        "winners": result.winners, "waitlist": result.waitlist})
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return db.session.scalar(select(ExamDraw).where(ExamDraw.session_id == session.id)), False
    return record, True


def get_draw(session_id: int) -> ExamDraw:
    """The stored draw of a session (public: anyone may recompute it)."""
    record = db.session.scalar(select(ExamDraw).where(ExamDraw.session_id == session_id))
    if record is None:
        get_session(session_id)
        raise NotFound(f"session {session_id} has not been drawn")
    return record


def verify(record: ExamDraw) -> bool:
    return ballot.verify_record(record.record)


# ---- calendars --------------------------------------------------------------------------

_ICAL_STATUS = {"confirmed": "CONFIRMED", "applied": "TENTATIVE", "waitlisted": "TENTATIVE",
                "cancelled": "CANCELLED"}
_STATUS_WORDS = {"confirmed": "", "applied": "已报名待摇号 Applied (ballot) · ",
                 "waitlisted": "候补 Waitlisted · ", "cancelled": "已取消 Cancelled · "}


def _uid(kind: str, item_id: int, office: Office) -> str:
    return f"vmo-{kind}-{item_id}@{office.code}.vmo"


def _session_summary(session: ExamSession) -> str:
    return (f"{SUBJECT_NAMES[session.subject]}考试（{session.license_class}）"
            f"Driving test subject {session.subject} ({session.license_class})")


def _booking_event(row: ExamBooking, settings: ExamSettings) -> ical.EventSpec:
    session = row.session
    office = session.office
    lines = [f"预约号 Booking {row.id} · {row.status}",
             f"考场 Venue: {session.venue}",
             "请携带身份证原件提前30分钟到场。Bring your ID card and arrive 30 minutes early."]
    if row.outcome:
        lines.append(f"结果 Outcome: {row.outcome}")
    return ical.EventSpec(
        uid=_uid("exam-booking", row.id, office), start=session.starts_at, end=session.ends_at,
        summary=_STATUS_WORDS[row.status] + _session_summary(session), description="\n".join(lines),
        location=session.venue, status=_ICAL_STATUS[row.status], sequence=row.sequence,
        last_modified=row.updated_at, alarm=ical.EVENING_BEFORE if row.status == "confirmed" else None,
        organizer=settings.organizer)


def booking_calendar(user: User, booking_id: int, settings: ExamSettings) -> tuple[bytes, datetime]:
    """One booking as iCalendar (METHOD:CANCEL once cancelled), and when it last changed."""
    row = get_booking(user, booking_id)
    office = row.session.office
    body = ical.build_calendar(
        [_booking_event(row, settings)], tz=office.timezone, name=f"{office.name} 考试预约 {row.id}",
        method="CANCEL" if row.status == "cancelled" else "PUBLISH", dtstamp=row.updated_at)
    return body, row.updated_at


def sessions_feed(office: Office, now: datetime, refresh: timedelta = timedelta(hours=1)) -> tuple[bytes, datetime]:
    """Public feed of the office's sessions that have not ended yet."""
    sessions = list(db.session.scalars(select(ExamSession).where(
        ExamSession.office_id == office.id, ExamSession.ends_at > now).order_by(ExamSession.starts_at)))
    # The feed also changes when a session drops out of it, at its end.
    dropped = db.session.scalar(select(func.max(ExamSession.ends_at)).where(
        ExamSession.office_id == office.id, ExamSession.ends_at <= now))
    stamps = [s.updated_at for s in sessions] + ([dropped] if dropped else [])
    last_modified = max(stamps, default=office.created_at)
    events = [ical.EventSpec(
        uid=_uid("test-session", s.id, office), start=s.starts_at, end=s.ends_at, summary=_session_summary(s),
        description=(f"{'加考 Extra session' if s.kind == 'extra' else '常规 Regular session'} · "
                     f"{'摇号 Ballot' if s.allocation == 'ballot' else '先到先得 First come'} · "
                     f"{s.slot.capacity} 座 seats\n预约 Book: POST /api/v1/test-sessions/{s.id}/bookings"),
        location=s.venue, last_modified=s.updated_at) for s in sessions]
    body = ical.build_calendar(events, tz=office.timezone, name=f"{office.name} 考试场次 Driving tests",
                               dtstamp=last_modified, refresh_interval=refresh)
    return body, last_modified


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def rotate_calendar_secret(user: User, now: datetime) -> tuple[CalendarFeed, str]:
    """A new secret for the candidate's personal feed; the previous URL stops working at once."""
    candidate = candidate_of(user)
    secret = secrets.token_urlsafe(24)
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.candidate_id == candidate.id))
    if feed is None:
        feed = CalendarFeed(candidate_id=candidate.id, secret_hash=_secret_hash(secret), created_at=now,
                            rotated_at=now)
        db.session.add(feed)
        action = "exam_calendar.create"
    else:
        feed.secret_hash = _secret_hash(secret)
        feed.rotated_at = now
        action = "exam_calendar.rotate"
    db.session.flush()
    audit.record(action, "candidate", candidate.id, actor=user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("the feed was set up at the same moment by another request; try again") from None
    return feed, secret


def candidate_feed(secret: str, settings: ExamSettings) -> tuple[bytes, datetime]:
    """The personal feed behind a secret: every booking of its candidate, cancelled ones marked so."""
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.secret_hash == _secret_hash(secret)))
    if feed is None:
        raise NotFound("no calendar at this address (the link may have been renewed)")
    candidate = db.session.get(Candidate, feed.candidate_id)
    office = db.session.get(Office, candidate.office_id)
    rows = list(db.session.scalars(select(ExamBooking).where(ExamBooking.candidate_id == candidate.id)
                                   .order_by(ExamBooking.id)))
    last_modified = max([r.updated_at for r in rows] + [feed.created_at])
    body = ical.build_calendar([_booking_event(r, settings) for r in rows], tz=office.timezone,
                               name=f"{candidate.name} 的考试 My driving tests", dtstamp=last_modified,
                               refresh_interval=timedelta(hours=1))
    return body, last_modified
