"""The ballot for scarce sessions: drawn once after applications close, with a stored seed anyone can recompute."""
import hashlib
import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from schedules.exams import draw as lottery
from schedules.exams.eligibility import seniority
from schedules.exams.models import Allocation, BookingStatus, ExamBooking, ExamDraw, ExamSession
from schedules.exams import notifications as texts
from schedules.exams.services import get_session, lock_sessions, next_queue_position, text_message
from schedules.exams.settings import ExamSettings
from vmo.accounts.models import Candidate, User
from vmo.audit import services as audit
from vmo.booking import services as booking
from vmo.errors import NotFound, RuleViolation
from vmo.extensions import db
from vmo.notify import services as notify


def pseudonym(key: bytes, session_id: int, candidate_id: int) -> int:
    """The candidate's name in one session's published draw: a 48-bit HMAC of the session and the
    candidate under the app's secret key. It stands for `candidate_id` in the draw's key formula, so the
    draw is recomputed as before, but the public record names no candidate, links no candidate across
    sessions, and cannot be turned back into a candidate id without the key. A candidate finds their
    own line by their booking id (`application_id`)."""
    digest = hmac.new(key, f"draw:{session_id}:{candidate_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:6], "big")


def run_draw(session_id: int, settings: ExamSettings, now: datetime, key: bytes, actor: User | None = None
             ) -> tuple[ExamDraw, bool]:
    """Draw a ballot session once applications have closed; later calls return the stored draw.

    Returns (draw, created). Winners are confirmed, everyone else is waitlisted in draw order,
    and each applicant gets a text.
    """
    session = get_session(session_id, office_id=actor.office_id if actor is not None else None)
    if session.allocation != Allocation.BALLOT:
        raise RuleViolation(f"session {session.id} is first come, first served; there is nothing to draw",
                            reason="not_a_ballot")
    existing = db.session.scalar(select(ExamDraw).where(ExamDraw.session_id == session.id))
    if existing is not None:
        return existing, False
    if now < session.applications_close_at:
        close = session.applications_close_at.astimezone(session.office.zone).isoformat()
        raise RuleViolation(f"applications for session {session.id} are open until {close}; draw after that",
                            reason="applications_open", applications_close_at=close)
    lock_sessions(session.id)
    db.session.refresh(session)
    if session.drawn_at is not None:  # a concurrent draw committed first
        return db.session.scalar(select(ExamDraw).where(ExamDraw.session_id == session.id)), False

    try:
        # A savepoint: if a concurrent draw was stored first, ours is undone and theirs is the answer.
        with db.session.begin_nested():
            record = _run_draw(session, settings, now, key, actor)
    except IntegrityError:
        return db.session.scalar(select(ExamDraw).where(ExamDraw.session_id == session.id)), False
    return record, True


def _run_draw(session: ExamSession, settings: ExamSettings, now: datetime, key: bytes,
              actor: User | None) -> ExamDraw:
    """The draw itself: seats to the winners, the others on the waiting list, texts and the record."""
    rows = list(db.session.scalars(select(ExamBooking).where(
        ExamBooking.session_id == session.id, ExamBooking.status == BookingStatus.APPLIED).order_by(ExamBooking.id)))
    ranked = seniority(r.candidate_id for r in rows)
    applicants = [lottery.Applicant(r.id, pseudonym(key, session.id, r.candidate_id), ranked[r.candidate_id])
                  for r in rows]
    seats = booking.available(session.slot_id)
    result = lottery.run_draw(applicants, seats, settings.draw_seed or lottery.new_seed())
    if result.winners:
        booking.take(session.slot_id, len(result.winners), message="the session has fewer seats than winners")
    by_id = {r.id: r for r in rows}
    for app_id in result.winners:
        by_id[app_id].status, by_id[app_id].queue_position = BookingStatus.CONFIRMED, None
    # Losers queue in draw order, behind anyone already waiting.
    for position, app_id in enumerate(result.waitlist, start=next_queue_position(session.id)):
        by_id[app_id].status, by_id[app_id].queue_position = BookingStatus.WAITLISTED, position
    for row in rows:
        row.updated_at = now
        row.sequence += 1
    session.drawn_at = now
    session.updated_at = now
    record = ExamDraw(office_id=session.office_id, session_id=session.id, seed=result.seed,
                      record=result.as_record(), drawn_at=now, drawn_by_id=getattr(actor, "id", None))
    db.session.add(record)
    db.session.flush()
    # Every applicant's text in one INSERT, their phones in one query (a ballot of a release minute has
    # a thousand applicants: a query and an INSERT each made the city's draws take a minute).
    phones = dict(db.session.execute(select(Candidate.id, Candidate.phone).where(
        Candidate.id.in_({row.candidate_id for row in rows}))).all()) if rows else {}
    messages = []
    for app_id in result.ranking:
        row = by_id[app_id]
        if row.status == BookingStatus.CONFIRMED:
            messages.append(text_message(row.id, row.office_id, row.sequence, "drawn", texts.DRAWN_WON, session,
                                         phones[row.candidate_id]))
        else:
            messages.append(text_message(row.id, row.office_id, row.sequence, "drawn", texts.DRAWN_LOST, session,
                                         phones[row.candidate_id], position=row.queue_position))
    notify.queue_many(messages, zone=session.office.zone)
    audit.record("test_session.draw", "test_session", session.id, actor=actor, office_id=session.office_id,
                 after={"seed": result.seed, "applicants": len(applicants), "seats": seats,
                        "winners": result.winners, "waitlist": result.waitlist})
    return record


def get_draw(session_id: int) -> ExamDraw:
    """The stored draw of a session (public: anyone may recompute it)."""
    record = db.session.scalar(select(ExamDraw).where(ExamDraw.session_id == session_id))
    if record is None:
        get_session(session_id)
        raise NotFound(f"session {session_id} has not been drawn")
    return record


def verify(record: ExamDraw) -> bool:
    return lottery.verify_record(record.record)

