"""Driving tests as iCalendar: one booking, the office's public sessions feed, and each candidate's private feed."""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select

from schedules import ical
from schedules.exams.models import (
    SUBJECT_NAMES, Allocation, BookingStatus, CalendarFeed, ExamBooking, ExamSession, SessionKind,
)
from schedules.exams.services import get_booking
from schedules.exams.settings import ExamSettings
from vmo.accounts.models import Candidate, User
from vmo.accounts.services import candidate_of
from vmo.audit import services as audit
from vmo.errors import NotFound
from vmo.extensions import db
from vmo.offices.models import Office


_ICAL_STATUS = {BookingStatus.CONFIRMED: "CONFIRMED", BookingStatus.APPLIED: "TENTATIVE",
                BookingStatus.WAITLISTED: "TENTATIVE", BookingStatus.CANCELLED: "CANCELLED"}
_STATUS_WORDS = {BookingStatus.CONFIRMED: "", BookingStatus.APPLIED: "已报名待摇号 Applied (ballot) · ",
                 BookingStatus.WAITLISTED: "候补 Waitlisted · ", BookingStatus.CANCELLED: "已取消 Cancelled · "}


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
        last_modified=row.updated_at, alarm=ical.EVENING_BEFORE if row.status == BookingStatus.CONFIRMED else None,
        organizer=settings.organizer)


def booking_calendar(user: User, booking_id: int, settings: ExamSettings) -> tuple[bytes, datetime]:
    """One booking as iCalendar (METHOD:CANCEL once cancelled), and when it last changed."""
    row = get_booking(user, booking_id)
    office = row.session.office
    body = ical.build_calendar(
        [_booking_event(row, settings)], tz=office.timezone, name=f"{office.name} 考试预约 {row.id}",
        method="CANCEL" if row.status == BookingStatus.CANCELLED else "PUBLISH", dtstamp=row.updated_at)
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
        description=(f"{'加考 Extra session' if s.kind == SessionKind.EXTRA else '常规 Regular session'} · "
                     f"{'摇号 Ballot' if s.allocation == Allocation.BALLOT else '先到先得 First come'} · "
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
