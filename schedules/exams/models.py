"""Tables for driving-test sessions, bookings, ballot draws and candidates' calendar feeds."""
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vmo.extensions import db
from vmo.types import JSONType, UTCDateTime, utcnow

SUBJECTS = (1, 2, 3, 4)
SESSION_KINDS = ("regular", "extra")
ALLOCATIONS = ("first_come", "ballot")
BOOKING_STATUSES = ("applied", "confirmed", "waitlisted", "cancelled")
ACTIVE_STATUSES = ("applied", "confirmed", "waitlisted")
OUTCOMES = ("passed", "failed", "no_show")
SUBJECT_NAMES = {1: "科目一", 2: "科目二", 3: "科目三", 4: "科目四"}


class ExamSession(db.Model):
    """A sitting of one subject for one licence class; its seats are a row in `slots`."""

    __tablename__ = "test_sessions"
    __table_args__ = (
        CheckConstraint("subject BETWEEN 1 AND 4", name="subject_range"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    subject: Mapped[int] = mapped_column(Integer)
    license_class: Mapped[str] = mapped_column(String(4))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The start's date and weekday in the office's zone, fixed at creation, so "weekend" and
    # date filters are plain indexed comparisons on both databases.
    local_date: Mapped[date] = mapped_column(Date, index=True)
    is_weekend: Mapped[bool] = mapped_column(Boolean, index=True)
    venue: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    allocation: Mapped[str] = mapped_column(String(16))
    applications_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    office = relationship("Office", lazy="joined")
    slot = relationship("Slot", lazy="joined")


class ExamBooking(db.Model):
    """A candidate's place in a session: applied (ballot), confirmed, waitlisted or cancelled."""

    __tablename__ = "exam_bookings"
    __table_args__ = (
        CheckConstraint("changes >= 0", name="changes_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_sessions.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    subject: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # "<candidate_id>:<subject>" while the booking is active, NULL afterwards: the database itself
    # refuses a second active booking for the same subject, even from two concurrent requests.
    active_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    # Order on the session's waiting list (ties broken by id).
    queue_position: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changes: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped on every change a calendar client must see (the iCalendar SEQUENCE).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the candidate gave up a confirmed seat: it moves their seniority date back.
    forfeited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session = relationship("ExamSession", lazy="joined")
    candidate = relationship("Candidate")

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES and self.outcome is None


class ExamDraw(db.Model):
    """The stored ballot of one session: seed, inputs and result, so anyone can recompute it."""

    __tablename__ = "exam_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_sessions.id"), unique=True)
    seed: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict] = mapped_column(JSONType)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    session = relationship("ExamSession")


class CalendarFeed(db.Model):
    """A candidate's personal feed; only the secret's SHA-256 is kept, like bearer tokens."""

    __tablename__ = "exam_calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
