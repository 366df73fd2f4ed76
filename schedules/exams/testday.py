"""Running a test day: change a session, cancel it (bad weather), and the roster for the identity check.

A session changed or cancelled by the office tells every booked candidate by text, and nothing the
office does counts against a candidate: a cancelled seat is not a used booking, not a forfeit and
not a no-show.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from schedules.exams import notifications as texts
from schedules.exams.eligibility import ineligible
from schedules.exams.models import (
    ACTIVE_STATUSES, BookingStatus, CancelledBy, ExamBooking, ExamSession, LearnerPermit, SessionExaminer,
    SessionStatus,
)
from schedules.exams.services import (
    get_session, lock_sessions, promote_first_waiting, session_state, text_candidate,
)
from vmo import uow
from vmo.accounts.models import STAFF_ROLES, Candidate, User
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.errors import Conflict, RuleViolation, field_error
from vmo.extensions import db


def _active_rows(session_id: int) -> list[ExamBooking]:
    return list(db.session.scalars(select(ExamBooking).where(
        ExamBooking.session_id == session_id, ExamBooking.status.in_(ACTIVE_STATUSES),
        ExamBooking.outcome.is_(None)).order_by(ExamBooking.id)))


def _editable(session: ExamSession, now: datetime) -> None:
    state = session_state(session, now)
    if state == "cancelled":
        raise Conflict(f"session {session.id} was cancelled; open a new one instead")
    if state == "started":
        raise ineligible("session_started", f"session {session.id} has already started")


def _set_examiners(session: ExamSession, user_ids: list[int]) -> None:
    """Replace the session's examiners: active staff of its office, each once, in the order given."""
    if len(set(user_ids)) != len(user_ids):
        raise field_error("examiners", "an examiner is listed twice")
    staff = set(db.session.scalars(select(User.id).where(
        User.id.in_(user_ids), User.office_id == session.office_id, User.role.in_(STAFF_ROLES),
        User.active.is_(True))))
    strangers = [str(uid) for uid in user_ids if uid not in staff]
    if strangers:
        raise field_error("examiners", f"not active staff of this office: {', '.join(strangers)}")
    # Old rows go first: a new order may give a user another place, and (session, user) is unique.
    db.session.execute(delete(SessionExaminer).where(SessionExaminer.session_id == session.id))
    db.session.add_all(SessionExaminer(session_id=session.id, position=place, office_id=session.office_id,
                                       user_id=uid) for place, uid in enumerate(user_ids, start=1))
    db.session.flush()
    db.session.expire(session, ["examiner_rows"])


def update_session(officer: User, session_id: int, data: dict, now: datetime) -> ExamSession:
    """Change a session's time, venue, capacity (never below the seats booked) or examiners; its
    candidates get a text when the time or venue changes. The examiners alone may still be set once
    the session has started (the results are keyed afterwards), not once it was cancelled."""
    session = get_session(session_id, office_id=officer.office_id)
    lock_sessions(session.id)
    db.session.refresh(session)
    if set(data) - {"examiners"} or "examiners" not in data:
        _editable(session, now)
    elif session.status == SessionStatus.CANCELLED:
        raise Conflict(f"session {session.id} was cancelled; open a new one instead")
    before = {"starts_at": session.starts_at, "ends_at": session.ends_at, "venue": session.venue,
              "capacity": session.slot.capacity, "examiners": session.examiners}
    if "examiners" in data:
        _set_examiners(session, data["examiners"])
    starts = data.get("starts_at") or session.starts_at
    ends = data.get("ends_at") or session.ends_at
    errors: dict[str, list[str]] = {}
    if "starts_at" in data and starts <= now:
        errors["starts_at"] = ["must be in the future"]
    if ends <= starts:
        errors["ends_at"] = ["must be after starts_at"]
    close = session.applications_close_at
    if session.drawn_at is None and close is not None and close >= starts:
        errors["starts_at"] = ["must be after the session's applications_close_at"]
    if errors:
        raise RuleViolation("the change is not valid", fields=errors)
    capacity = data.get("capacity")
    if capacity is not None and capacity != session.slot.capacity:
        booking.resize(session.slot_id, capacity)  # 409 below the seats booked; nothing else changed yet
        # New seats go to the waiting list first, in its order.
        while booking.try_take(session.slot_id):
            if promote_first_waiting(session, now) is None:
                booking.release(session.slot_id)
                break
    local = starts.astimezone(session.office.zone)
    moved = starts != session.starts_at or ends != session.ends_at
    new_venue = data.get("venue") or session.venue
    told = new_venue != session.venue or starts != session.starts_at
    session.starts_at, session.ends_at, session.venue = starts, ends, new_venue
    session.local_date, session.is_weekend = local.date(), local.weekday() >= 5
    session.updated_at = now
    db.session.flush()
    if told or moved:
        rows = _active_rows(session.id)
        db.session.execute(update(ExamBooking).where(ExamBooking.id.in_([r.id for r in rows]))
                           .values(sequence=ExamBooking.sequence + 1, updated_at=now)
                           .execution_options(synchronize_session=False))
        for row in rows:
            db.session.refresh(row)
            if told:
                text_candidate(row, "session_changed", texts.SESSION_CHANGED, session)
    db.session.refresh(session.slot)
    audit.record("test_session.update", "test_session", session.id, actor=officer, before=before,
                 after={"starts_at": session.starts_at, "ends_at": session.ends_at, "venue": session.venue,
                        "capacity": session.slot.capacity, "examiners": session.examiners})
    uow.flush()
    return session


def cancel_session(officer: User, session_id: int, reason: str, now: datetime) -> ExamSession:
    """Cancel a whole session: every booking and application ends `cancelled` by the office, with a text.

    The seats go back through the booking core and the capacity drops to 0, so a booking racing
    the cancellation cannot take a seat afterwards. Cancelling again answers the session as it is.
    """
    session = get_session(session_id, office_id=officer.office_id)
    lock_sessions(session.id)
    db.session.refresh(session)
    if session.status == SessionStatus.CANCELLED:
        return session
    if db.session.scalar(select(ExamBooking.id).where(ExamBooking.session_id == session.id,
                                                      ExamBooking.outcome.is_not(None)).limit(1)) is not None:
        raise Conflict(f"session {session.id} already has results; it can no longer be cancelled")
    rows = _active_rows(session.id)
    confirmed = sum(r.status == BookingStatus.CONFIRMED for r in rows)
    if rows:
        flipped = db.session.execute(
            update(ExamBooking).where(ExamBooking.id.in_([r.id for r in rows]),
                                      ExamBooking.status.in_(ACTIVE_STATUSES), ExamBooking.outcome.is_(None))
            .values(status=BookingStatus.CANCELLED, cancelled_by=CancelledBy.OFFICE, active_key=None, queue_position=None,
                    cancelled_at=now, updated_at=now, sequence=ExamBooking.sequence + 1)
            .execution_options(synchronize_session=False)).rowcount
        if flipped != len(rows):
            raise Conflict(f"a booking of session {session.id} changed at the same moment; try again")
    if confirmed:
        booking.release(session.slot_id, confirmed)
    try:
        booking.resize(session.slot_id, 0)
    except Conflict:
        raise Conflict(f"a seat of session {session.id} was taken at the same moment; try again") from None
    session.status, session.cancelled_at, session.cancel_reason = SessionStatus.CANCELLED, now, reason
    session.updated_at = now
    for row in rows:
        db.session.refresh(row)
        text_candidate(row, "session_cancelled", texts.SESSION_CANCELLED, session, reason=reason)
    audit.record("test_session.cancel", "test_session", session.id, actor=officer,
                 after={"reason": reason, "bookings_cancelled": len(rows), "seats_released": confirmed})
    uow.flush()
    db.session.refresh(session)
    return session


@dataclass
class RosterLine:
    booking_id: int
    name: str
    id_number: str
    phone: str
    license_class: str
    status: str
    outcome: str | None


def mask_id_number(id_number: str) -> str:
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_phone(phone: str) -> str:
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) > 7 else phone


def roster(officer: User, session_id: int) -> tuple[ExamSession, list[RosterLine]]:
    """Who is expected at the door: every confirmed booking (and who waits), masked for the identity check."""
    session = get_session(session_id, office_id=officer.office_id)
    rows = db.session.execute(
        select(ExamBooking.id, ExamBooking.status, ExamBooking.outcome, Candidate.name, Candidate.id_number,
               Candidate.phone, Candidate.license_class)
        .join(Candidate, Candidate.id == ExamBooking.candidate_id)
        .where(ExamBooking.session_id == session.id, ExamBooking.status.in_((BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)))
        .order_by(ExamBooking.status, ExamBooking.queue_position, Candidate.name, ExamBooking.id)).all()
    classes = dict(db.session.execute(
        select(LearnerPermit.id_number, LearnerPermit.license_class)
        .where(LearnerPermit.id_number.in_([r.id_number for r in rows]))
        .order_by(LearnerPermit.issued_on)).all())  # the latest permit's class wins
    return session, [RosterLine(r.id, r.name, mask_id_number(r.id_number), mask_phone(r.phone),
                                classes.get(r.id_number, r.license_class), r.status, r.outcome) for r in rows]
