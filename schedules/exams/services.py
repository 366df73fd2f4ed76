"""Driving-test sessions and bookings: seats without overbooking, waiting lists, changes and outcomes.

Eligibility lives in `eligibility`, the ballot in `ballot`, iCalendar in `calendars`.

Every public function is one unit of work: it checks the rules, raises a domain error or commits
once (audit entry and outbox texts in the same transaction). Seats are held only through
`vmo.booking.services` (single conditional UPDATEs), never by reading a count and writing it back.

Lock order on PostgreSQL, to keep concurrent writers free of deadlocks: test-session rows
(`SELECT ... FOR UPDATE`, lowest id first), then slot rows. The hot path of a first-come booking
takes no session lock at all: one conditional UPDATE of the slot, one INSERT, one COMMIT.
"""
from datetime import date, datetime

from sqlalchemy import Select, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from schedules.exams import bookings, notifications as texts
from schedules.exams.eligibility import check_eligible, ineligible
from schedules.exams.models import (
    SUBJECT_NAMES, Allocation, BookingStatus, CancelledBy, ExamBooking, ExamSession, SessionKind, SessionStatus,
)
from schedules.exams.settings import ExamSettings, cancel_deadline
from vmo import uow
from vmo.accounts.models import LICENSE_CLASSES, Candidate, Role, User
from vmo.accounts.services import candidate_of
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.errors import Conflict, NotFound, RuleViolation
from vmo.extensions import db
from vmo.notify import services as notify
from vmo.types import values
from vmo.accounts.models import STAFF_ROLES



# ---- sessions --------------------------------------------------------------------------

def session_classes(data: dict) -> tuple[list[str], list[str]]:
    """The session's classes from `license_classes` and/or `license_class` (its first), with any errors."""
    classes = list(data.get("license_classes") or [])
    single = data.get("license_class")
    if not classes and single:
        classes = [single]
    if not classes:
        return [], ["give license_class or license_classes"]
    unknown = [c for c in classes if c not in LICENSE_CLASSES]
    if unknown:
        return classes, [f"unknown licence class {', '.join(unknown)}; must be one of {', '.join(LICENSE_CLASSES)}"]
    if len(set(classes)) != len(classes):
        return classes, ["a class is listed twice"]
    if single and single != classes[0]:
        return classes, [f"license_class ({single}) must be the first of license_classes ({classes[0]})"]
    return classes, []


def _check_times(errors: dict, starts: datetime, ends: datetime, close: datetime | None, allocation: str,
                 now: datetime) -> None:
    if starts <= now:
        errors["starts_at"] = ["must be in the future"]
    if ends <= starts:
        errors["ends_at"] = ["must be after starts_at"]
    if allocation == Allocation.BALLOT:
        if close is None:
            errors["applications_close_at"] = ["required for a ballot session"]
        elif close <= now:
            errors["applications_close_at"] = ["must be in the future"]
        elif close >= starts:
            errors["applications_close_at"] = ["must be before starts_at"]
    elif close is not None:
        errors["applications_close_at"] = ["only a ballot session has a closing time for applications"]


def create_session(officer: User, data: dict, now: datetime) -> ExamSession:
    """Open a test session in the officer's office, with its seats as a booking-core slot."""
    errors: dict[str, list[str]] = {}
    starts, ends, close = data["starts_at"], data["ends_at"], data.get("applications_close_at")
    if data["subject"] not in (1, 2, 3, 4):
        errors["subject"] = ["must be 1, 2, 3 or 4"]
    classes, class_errors = session_classes(data)
    if class_errors:
        errors["license_classes" if data.get("license_classes") else "license_class"] = class_errors
    if data["kind"] not in values(SessionKind):
        errors["kind"] = [f"must be one of {', '.join(SessionKind)}"]
    if data["allocation"] not in values(Allocation):
        errors["allocation"] = [f"must be one of {', '.join(Allocation)}"]
    _check_times(errors, starts, ends, close, data["allocation"], now)
    if data["capacity"] < 1:
        errors["capacity"] = ["must be at least 1"]
    if errors:
        raise RuleViolation("the test session is not valid", fields=errors)

    office = officer.office
    local = starts.astimezone(office.zone)
    slot = booking.create_slot(office.id, "test_seat", data["capacity"])
    session = ExamSession(
        office_id=office.id, subject=data["subject"], license_class=classes[0], class_list=",".join(classes),
        starts_at=starts, ends_at=ends, local_date=local.date(), is_weekend=local.weekday() >= 5,
        venue=data["venue"], kind=data["kind"], allocation=data["allocation"], applications_close_at=close,
        status=SessionStatus.SCHEDULED, slot_id=slot.id, created_by_id=officer.id, created_at=now, updated_at=now,
    )
    db.session.add(session)
    db.session.flush()
    audit.record("test_session.create", "test_session", session.id, actor=officer, after={
        "subject": session.subject, "license_classes": classes, "starts_at": starts,
        "ends_at": ends, "venue": session.venue, "capacity": data["capacity"], "kind": session.kind,
        "allocation": session.allocation, "applications_close_at": close})
    uow.flush()
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
        # Any session serving the class, wherever it stands in the session's list.
        stmt = stmt.where((literal(",") + ExamSession.class_list + literal(",")).contains(f",{license_class},"))
    if weekend is not None:
        stmt = stmt.where(ExamSession.is_weekend.is_(weekend))
    if kind is not None:
        stmt = stmt.where(ExamSession.kind == kind)
    if allocation is not None:
        stmt = stmt.where(ExamSession.allocation == allocation)
    return stmt.order_by(ExamSession.starts_at, ExamSession.id)


def get_session(session_id: int, office_id: int | None = None, with_slot: bool = False) -> ExamSession:
    stmt = select(ExamSession).where(ExamSession.id == session_id)
    if with_slot:  # its seats in the same query
        stmt = stmt.options(joinedload(ExamSession.slot))
    if office_id is not None:
        stmt = stmt.where(ExamSession.office_id == office_id)
    session = db.session.scalar(stmt)
    if session is None:
        raise NotFound(f"no test session {session_id}")
    return session


def session_state(session: ExamSession, now: datetime) -> str:
    """open, applications_closed (ballot waiting for its draw), drawn, started, or cancelled."""
    if session.status == SessionStatus.CANCELLED:
        return "cancelled"
    if now >= session.starts_at:
        return "started"
    if session.allocation == Allocation.BALLOT:
        if session.drawn_at is not None:
            return "drawn"
        if now >= session.applications_close_at:
            return "applications_closed"
    return "open"


def lock_sessions(*session_ids: int) -> None:
    # PostgreSQL: serialise waiting-list moves of a session (lowest id first, so two changes in
    # opposite directions cannot deadlock). FOR NO KEY UPDATE, not FOR UPDATE: a booking INSERT takes
    # KEY SHARE on its session through the foreign key while holding its seat, and must not wait
    # for us while we wait for that seat's slot row. SQLite has no row locks; its writers are serial.
    for session_id in sorted(set(session_ids)):
        db.session.execute(select(ExamSession.id).where(ExamSession.id == session_id)
                           .with_for_update(key_share=True))


# ---- bookings ---------------------------------------------------------------------------

def _bookings_visible_to(user: User) -> Select:
    stmt = select(ExamBooking).where(ExamBooking.office_id == user.office_id)
    if user.role == Role.CANDIDATE:
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


def _session_for_candidate(candidate: Candidate, session_id: int) -> ExamSession:
    # A session of another office does not exist for this candidate.
    return get_session(session_id, office_id=candidate.office_id)


def _check_bookable(session: ExamSession, now: datetime) -> None:
    state = session_state(session, now)
    if state == "cancelled":
        raise Conflict(f"session {session.id} was cancelled by the office", reason="session_cancelled")
    if state == "started":
        raise ineligible("session_started", f"session {session.id} has already started")
    if state == "applications_closed":
        raise ineligible("applications_closed",
                          f"applications for session {session.id} closed at "
                          f"{session.applications_close_at.astimezone(session.office.zone).isoformat()}; "
                          "the draw has not been run yet")


def next_queue_position(session_id: int) -> int:
    return (db.session.scalar(select(func.max(ExamBooking.queue_position))
                              .where(ExamBooking.session_id == session_id)) or 0) + 1


def _takes_seat_now(session: ExamSession) -> bool:
    """A booking of this session takes a seat at once (first come, or a ballot after its draw)."""
    return not (session.allocation == Allocation.BALLOT and session.drawn_at is None)


def _no_seat(session: ExamSession) -> Conflict:
    return Conflict(f"no seat is left in session {session.id}; send {{\"waitlist_if_full\": true}} "
                    "to join its waiting list", seats_left=0)


def _place(session: ExamSession, now: datetime, waitlist_if_full: bool) -> tuple[str, int | None]:
    """Take a seat (or a place in the ballot or on the waiting list); returns (status, queue position)."""
    if not _takes_seat_now(session):
        return BookingStatus.APPLIED, None
    if not waitlist_if_full:
        if booking.try_take(session.slot_id):
            return BookingStatus.CONFIRMED, None
        raise _no_seat(session)
    # Joining the waiting list takes the session lock next. On PostgreSQL a refused conditional UPDATE
    # can still hold the slot row (a row changed under it is locked before the recheck refuses it), and
    # holding it while waiting for the session deadlocks with a cancel, which locks session then slot
    # (seen in the soak). So the first try runs in a savepoint whose rollback lets go of that row.
    first_try = db.session.begin_nested()
    if booking.try_take(session.slot_id):
        first_try.commit()  # releases the savepoint only; the request's unit of work commits
        return BookingStatus.CONFIRMED, None
    first_try.rollback()
    lock_sessions(session.id)
    # A seat freed while we were refused goes to whoever is first; we may be first.
    if booking.try_take(session.slot_id):
        return BookingStatus.CONFIRMED, None
    return BookingStatus.WAITLISTED, next_queue_position(session.id)


def _active_conflict(candidate: Candidate, subject: int, active: int | None = None) -> Conflict:
    if active is None:
        active = db.session.scalar(select(ExamBooking.id).where(
            ExamBooking.active_key == f"{candidate.id}:{subject}"))
    return Conflict(f"you already hold an active booking for subject {subject}"
                    + (f" (booking {active})" if active else "") + "; cancel or change it instead",
                    active_booking_id=active)


def book(user: User, session_id: int, settings: ExamSettings, now: datetime, today: date,
         waitlist_if_full: bool = False, candidate_id: int | None = None,
         facts: bookings.BookingFacts | None = None) -> bookings.Booked:
    """Book a seat (first come), apply (ballot, until applications close) or join the waiting list.

    A candidate books for themself; an officer books at the counter for `candidate_id`, under
    the same rules, and the audit names the officer. One read (`bookings.read`: the session, the
    candidate, their permit and history) and, for a seat, one write (`bookings.write`: the seat's
    conditional UPDATE, the booking, its audit row and its text); the answer is built from those values.
    `facts`: what the request's read of its caller brought already (`bookings.read_caller`: the session
    and the caller's own candidate record); at the counter the named candidate is read here.
    """
    own = user.role == Role.CANDIDATE
    if facts is None or (not own and candidate_id is not None):
        wanted = (user.candidate.id if user.candidate is not None else None) if own else candidate_id
        facts = bookings.read(session_id, user.office_id, wanted, waitlist_if_full)
    # The session first: another office's session is 404 to everyone, before anything else is said.
    if facts is None or facts.session is None:
        raise NotFound(f"no test session {session_id}")
    session, candidate = facts.session, facts.candidate
    if own and candidate_id is not None:
        raise RuleViolation("candidate_id is for an officer booking at the counter; leave it out",
                            fields={"candidate_id": ["only staff book for another candidate"]})
    if not own and candidate_id is None:
        raise RuleViolation("an officer books for a candidate: give candidate_id",
                            fields={"candidate_id": ["required when staff book at the counter"]})
    if candidate is None:
        raise NotFound("no candidate for this account" if own else f"no candidate {candidate_id}")
    _check_bookable(session, now)
    if user.role == Role.CANDIDATE:
        _check_booking_cutoff(session, settings, now)
    if not waitlist_if_full and _takes_seat_now(session) and session.slot.available <= 0:
        # Full a moment ago: say so at once (in a click race nearly everyone gets this answer). A seat
        # freed since is missed by this caller only; the conditional UPDATE stays the authority on every
        # seat given.
        raise _no_seat(session)
    progress = check_eligible(candidate, session, settings, today, facts=(facts.permit, facts.history, facts.accepted_at))
    if progress.active_booking_id is not None:  # the eligibility read saw it: no query of its own
        raise _active_conflict(candidate, session.subject, progress.active_booking_id)
    take_seat = _takes_seat_now(session) and not waitlist_if_full
    if take_seat:
        status, position = BookingStatus.CONFIRMED, None
    else:
        # A ballot application takes nothing; joining the waiting list may still get a seat (_place).
        status, position = _place(session, now, waitlist_if_full)
    row = {"office_id": session.office_id, "session_id": session.id, "candidate_id": candidate.id,
           "subject": session.subject, "status": status.value, "active_key": f"{candidate.id}:{session.subject}",
           "queue_position": position, "changes": 0, "sequence": 0, "created_at": now, "updated_at": now,
           "booked_by_id": None if own else user.id}

    def follow(booking_id: int) -> tuple[dict, dict]:
        entry = audit.entry_values("exam_booking.create", "exam_booking", booking_id, actor=user,
                                   office_id=session.office_id,
                                   after={"session_id": session.id, "candidate_id": candidate.id, "status": status,
                                          "queue_position": position, "at_counter": not own})
        if status == BookingStatus.CONFIRMED:
            message = text_message(booking_id, session.office_id, 0, "confirmed", texts.CONFIRMED, session,
                                    candidate.phone)
        elif status == BookingStatus.APPLIED:
            message = text_message(booking_id, session.office_id, 0, "applied", texts.APPLIED, session,
                                    candidate.phone, close=f"{session.applications_close_at.astimezone(session.office.zone):%m月%d日 %H:%M}")
        else:
            message = text_message(booking_id, session.office_id, 0, "waitlisted", texts.WAITLISTED, session,
                                    candidate.phone, position=position)
        return entry, message

    try:
        written = bookings.write(facts, take_seat, row, follow)
    except IntegrityError:
        # A concurrent request of the same candidate won. The request fails (our seat goes back with
        # it): roll back now so that the answer can name the winner's booking.
        db.session.rollback()
        raise _active_conflict(candidate, session.subject) from None
    if written is None:
        raise _no_seat(session)
    booking_id, seats = written
    # The seat's row lock (booking core) is held until the request's unit of work commits, right after
    # the answer is built from these values: nothing is read back, but for a waiting place's position
    # and the seats after _place (not the first-come path).
    waiting = None
    if seats is None and status != BookingStatus.APPLIED:
        seats = bookings.Seats(booking.capacity(session.slot_id), booking.booked(session.slot_id))
    if status == BookingStatus.WAITLISTED:
        # Its place and the list's length as they are now, this booking on it (the session's lock is held).
        waiting, session.waitlist_length = db.session.execute(
            select(ExamBooking.waitlist_position, ExamSession.waitlist_length)
            .join(ExamSession, ExamSession.id == ExamBooking.session_id).where(ExamBooking.id == booking_id)).one()
    if seats is not None:
        session.slot = seats
    return bookings.Booked(booking_id, session, candidate.id, session.subject, status, waiting, now)


def promote_first_waiting(session: ExamSession, now: datetime) -> ExamBooking | None:
    """Give a seat already held for the session to the first candidate waiting; None if nobody waits."""
    while True:
        first = db.session.scalar(
            select(ExamBooking).where(ExamBooking.session_id == session.id, ExamBooking.status == BookingStatus.WAITLISTED)
            .order_by(ExamBooking.queue_position, ExamBooking.id).limit(1))
        if first is None:
            return None
        promoted = db.session.execute(
            update(ExamBooking).where(ExamBooking.id == first.id, ExamBooking.status == BookingStatus.WAITLISTED)
            .values(status=BookingStatus.CONFIRMED, queue_position=None, updated_at=now, sequence=ExamBooking.sequence + 1)
            .execution_options(synchronize_session=False)).rowcount
        if promoted == 1:
            db.session.refresh(first)
            audit.record("exam_booking.promote", "exam_booking", first.id, office_id=first.office_id,
                         before={"status": BookingStatus.WAITLISTED},
                         after={"status": BookingStatus.CONFIRMED})
            text_candidate(first, "promoted", texts.PROMOTED, session)
            return first


def _seat_freed(session: ExamSession, now: datetime) -> ExamBooking | None:
    """Hand a freed seat to the first candidate waiting, or give it back to the pool."""
    first = promote_first_waiting(session, now)
    if first is None:
        booking.release(session.slot_id)
    return first


def sitting(session: ExamSession) -> dict:
    """The values every text about one sitting starts with (its local time, subject, classes, venue)."""
    local = session.starts_at.astimezone(session.office.zone)
    return {"when": f"{local:%m月%d日 %H:%M}", "subject": SUBJECT_NAMES[session.subject],
            "classes": "/".join(session.license_classes), "venue": session.venue}


def text_candidate(row: ExamBooking, what: str, template, session: ExamSession | None = None,
                   candidate: Candidate | None = None, **values) -> None:
    """Queue one of `notifications`' texts about a booking to its candidate (sent after the commit)."""
    candidate = candidate or row.candidate or db.session.get(Candidate, row.candidate_id)
    # queue_many: the key's uniqueness is left to the INSERT, one statement fewer on the booking path.
    notify.queue_many([text_message(row.id, row.office_id, row.sequence, what, template, session or row.session,
                                     candidate.phone, **values)])


def text_message(booking_id: int, office_id: int, sequence: int, what: str, template, session, phone: str,
                 **values) -> dict:
    """One text about a booking, as `notify.queue_many` takes it."""
    body = template.render(**sitting(session), booking=booking_id, **values)
    return {"office_id": office_id, "phone": phone, "body": body, "kind": f"exam_{what}",
            "key": f"exam:{what}:{booking_id}:{sequence}", "subject_type": "exam_booking", "subject_id": booking_id}


def _cutoff_passed(session: ExamSession, settings: ExamSettings, now: datetime) -> str | None:
    """The session's cut-off (office time, ISO 8601) when `now` is at or past it, else None."""
    deadline = cancel_deadline(session, settings)
    return deadline.astimezone(session.office.zone).isoformat() if now >= deadline else None


def _check_cutoff(session: ExamSession, settings: ExamSettings, now: datetime, what: str) -> None:
    cutoff = _cutoff_passed(session, settings, now)
    if cutoff is not None:
        raise ineligible("cutoff", f"a confirmed booking can be {what} until {cutoff} (article 46: a day "
                                    "ahead); please contact the office", cutoff_at=cutoff)


def _check_booking_cutoff(session: ExamSession, settings: ExamSettings, now: datetime) -> None:
    """A candidate's booking closes when cancelling does: a seat taken after the cut-off could not be
    given back, so a missed test would cost one of the five bookings (article 46). The counter may
    still book (an officer sees the person and the day)."""
    cutoff = _cutoff_passed(session, settings, now)
    if cutoff is not None:
        raise ineligible("cutoff", f"session {session.id} could be booked until {cutoff}, when cancelling it "
                                    "closes (article 46: a day ahead); the office's counter may still book it",
                         cutoff_at=cutoff)


def cancel(user: User, booking_id: int, settings: ExamSettings, now: datetime) -> ExamBooking:
    """Cancel a booking; a freed seat goes to the waiting list's first candidate, or back to the pool."""
    row = get_booking(user, booking_id)
    # Every status change of a booking (a promotion, a draw, a change) happens under its session's lock:
    # take it first and read the booking again, so a waitlisted booking promoted a moment ago is
    # cancelled as the confirmed booking it now is, instead of answering 409 to a plain cancel.
    lock_sessions(row.session_id)
    db.session.refresh(row)
    if row.status == BookingStatus.CANCELLED:
        raise Conflict(f"booking {row.id} is already cancelled")
    if row.outcome is not None:
        raise Conflict(f"booking {row.id} already has its outcome ({row.outcome}); it can no longer be cancelled")
    session = row.session
    if now >= session.starts_at:
        raise ineligible("session_started", f"session {session.id} has already started")
    by_candidate = user.role == Role.CANDIDATE
    if by_candidate and row.status == BookingStatus.CONFIRMED:
        _check_cutoff(session, settings, now, "cancelled")
    before = row.status
    # Candidates who give up a seat move back in the queue for the next ballot; the office
    # cancelling on their behalf (bad weather, a broken car) does not count against them.
    forfeited = now if by_candidate and before == BookingStatus.CONFIRMED else None
    flipped = db.session.execute(
        update(ExamBooking).where(ExamBooking.id == row.id, ExamBooking.status == before,
                                  ExamBooking.outcome.is_(None))
        .values(status=BookingStatus.CANCELLED, active_key=None, queue_position=None, cancelled_at=now, updated_at=now,
                forfeited_at=forfeited, cancelled_by=CancelledBy.CANDIDATE if by_candidate else CancelledBy.OFFICE,
                sequence=ExamBooking.sequence + 1)
        .execution_options(synchronize_session=False)).rowcount
    if flipped != 1:
        raise Conflict(f"booking {booking_id} was changed at the same moment; reload it and try again")
    if before == BookingStatus.CONFIRMED:
        _seat_freed(session, now)
    audit.record("exam_booking.cancel", "exam_booking", row.id, actor=user, office_id=row.office_id,
                 before={"status": before}, after={"status": BookingStatus.CANCELLED,
                                                   "forfeited": forfeited is not None})
    uow.flush()
    db.session.refresh(row)
    return row


def change(user: User, booking_id: int, new_session_id: int, settings: ExamSettings, now: datetime,
           today: date, waitlist_if_full: bool = False) -> ExamBooking:
    """Move a booking to another session of the same subject (at most `max_changes` times)."""
    candidate = candidate_of(user)
    row = get_booking(user, booking_id)
    if not row.active:
        raise Conflict(f"booking {row.id} is {row.outcome or row.status}; only an active booking can be changed")
    if row.changes >= settings.max_changes:
        raise ineligible("max_changes", f"a booking can be changed at most {settings.max_changes} times; "
                                         f"booking {row.id} has been changed {row.changes} times")
    new = _session_for_candidate(candidate, new_session_id)
    old = row.session
    if new.id == old.id:
        raise RuleViolation(f"booking {row.id} is already for session {new.id}",
                            fields={"session_id": ["the booking is already for this session"]})
    if new.subject != row.subject:
        raise RuleViolation(f"session {new.id} is for subject {new.subject}; booking {row.id} is for subject "
                            f"{row.subject}", fields={"session_id": ["another subject"]},
                            reason="subject")
    if now >= old.starts_at:
        raise ineligible("session_started", f"session {old.id} has already started")
    if row.status == BookingStatus.CONFIRMED:
        _check_cutoff(old, settings, now, "changed")
    _check_bookable(new, now)
    _check_booking_cutoff(new, settings, now)
    check_eligible(candidate, new, settings, today)
    before = {"session_id": old.id, "status": row.status}
    lock_sessions(old.id, new.id)
    # Take the new place first: if the new session is full, nothing changes (409).
    status, position = _place(new, now, waitlist_if_full)
    moved = db.session.execute(
        update(ExamBooking).where(ExamBooking.id == row.id, ExamBooking.status == before["status"],
                                  ExamBooking.session_id == old.id, ExamBooking.outcome.is_(None))
        .values(session_id=new.id, status=status, queue_position=position, changes=ExamBooking.changes + 1,
                sequence=ExamBooking.sequence + 1, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict(f"booking {booking_id} was changed at the same moment; reload it and try again")
    if before["status"] == BookingStatus.CONFIRMED:
        _seat_freed(old, now)
    audit.record("exam_booking.change", "exam_booking", row.id, actor=user, before=before,
                 after={"session_id": new.id, "status": status, "queue_position": position})
    uow.flush()
    db.session.refresh(row)
    return row
