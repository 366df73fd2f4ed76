"""Tables for driving-test sessions, bookings, ballot draws and candidates' calendar feeds."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint, and_, case, func, or_,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from vmo import integrity
from vmo.extensions import db
from vmo.types import JSONType, UTCDateTime, utcnow

SUBJECTS = (1, 2, 3, 4)


class SessionKind(StrEnum):
    REGULAR = "regular"
    EXTRA = "extra"


class Allocation(StrEnum):
    FIRST_COME = "first_come"
    BALLOT = "ballot"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class BookingStatus(StrEnum):
    APPLIED = "applied"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (BookingStatus.APPLIED, BookingStatus.CONFIRMED, BookingStatus.WAITLISTED)


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NO_SHOW = "no_show"


class CancelledBy(StrEnum):
    """Who cancelled a booking: a seat the office cancelled never counts against the candidate."""

    CANDIDATE = "candidate"
    OFFICE = "office"


class PermitSource(StrEnum):
    EXAM = "exam"
    ENTERED = "entered"
    IMPORT = "import"


class PermitStatus(StrEnum):
    """A learner permit's standing on a day (worked out, not stored)."""

    VALID = "valid"
    VOID = "void"
    EXPIRED = "expired"


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
    # The first of `license_classes`, kept for the clients that know one class per session.
    license_class: Mapped[str] = mapped_column(String(4))
    # Every class the sitting serves, comma-separated ("C1,C2,C5"): a theory test or a shared course
    # serves several at once. Filtered with a LIKE on ",<list>,", which both databases index-scan cheaply.
    class_list: Mapped[str] = mapped_column(String(80))
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
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.SCHEDULED)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    office = relationship("Office", lazy="joined")
    slot = relationship("Slot", lazy="joined")
    # The examiners of the sitting, in the order the office gave them; the first one receives the
    # sitting's satisfaction follow-ups (and so their escalations). Loaded only when asked for.
    examiner_rows = relationship("SessionExaminer", order_by="SessionExaminer.position",
                                 cascade="all, delete-orphan", lazy="select")

    @property
    def examiners(self) -> list[int]:
        return [row.user_id for row in self.examiner_rows]

    @property
    def license_classes(self) -> list[str]:
        return self.class_list.split(",")

    def serves(self, license_class: str) -> bool:
        return license_class in self.license_classes


class SessionExaminer(db.Model):
    """One examiner (a staff user of the office) of a test session, at its place in the list."""

    __tablename__ = "test_session_examiners"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", name="one_place_per_examiner"),
        CheckConstraint("position >= 1", name="examiner_position_from_1"),
    )

    session_id: Mapped[int] = mapped_column(ForeignKey("test_sessions.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))  # the session's
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)


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
    # candidate or office: a seat the office cancelled never counts against the candidate.
    cancelled_by: Mapped[str | None] = mapped_column(String(16))
    # Scores of the attempt and of the same-day retake (补考), when the exam system gives them.
    score: Mapped[int | None] = mapped_column(Integer)
    retake_score: Mapped[int | None] = mapped_column(Integer)
    # The officer who booked at the counter for the candidate (None: the candidate booked).
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

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


class LearnerPermit(db.Model):
    """A learner permit (学习驾驶证明), keyed by the person's ID number so a record can exist before sign-up.

    A person's current permit is the latest issued; a new one follows a new subject 1 after the old
    one expired or was voided by a fifth failed booking.
    """

    __tablename__ = "learner_permits"
    __table_args__ = (
        UniqueConstraint("id_number", "issued_on", name="one_permit_per_person_and_day"),
        CheckConstraint("prior_bookings_2 >= 0 AND prior_bookings_3 >= 0", name="prior_bookings_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(120))
    license_class: Mapped[str] = mapped_column(String(4))
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    # Bookings of subjects 2 and 3 used before the record came into this service (another centre).
    prior_bookings_2: Mapped[int] = mapped_column(Integer, default=0)
    prior_bookings_3: Mapped[int] = mapped_column(Integer, default=0)
    voided_on: Mapped[date | None] = mapped_column(Date)
    void_reason: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    passes = relationship("PermitPass", order_by="PermitPass.subject", cascade="all, delete-orphan",
                          lazy="selectin")


class PermitPass(db.Model):
    """A subject passed under a permit: here (with its booking) or entered by staff or imported."""

    __tablename__ = "learner_permit_passes"
    __table_args__ = (
        UniqueConstraint("permit_id", "subject", name="one_pass_per_subject"),
        CheckConstraint("subject BETWEEN 1 AND 4", name="pass_subject_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("learner_permits.id"), index=True)
    subject: Mapped[int] = mapped_column(Integer)
    passed_on: Mapped[date] = mapped_column(Date)
    score: Mapped[int | None] = mapped_column(Integer)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("exam_bookings.id"))


class ApplicationSource(StrEnum):
    """Where an accepted application was keyed in: at the counter (or the school's submission typed in
    by an officer), or from the driving school's export file."""

    COUNTER = "counter"
    IMPORT = "import"


class Application(db.Model):
    """An application the office accepted (受理): the person, the class, the medical certificate's date.

    Nothing scarce is handed out before it: a candidate account opens only for an ID number with one
    (and only with the code texted to the phone recorded here), and every booking needs one for the
    class. Only accepted applications are stored; a refused one is answered 422 and leaves nothing.
    Keyed by the person's ID number, like the learner permit, so it can exist before the sign-up.
    """

    __tablename__ = "exam_applications"
    __table_args__ = (UniqueConstraint("id_number", "license_class", name="one_application_per_class"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # The phone recorded at acceptance: sign-up and password-reset codes go here, never elsewhere.
    phone: Mapped[str] = mapped_column(String(20))
    license_class: Mapped[str] = mapped_column(String(4))
    birth_date: Mapped[date] = mapped_column(Date)
    medical_on: Mapped[date] = mapped_column(Date)
    school: Mapped[str | None] = mapped_column(String(200))
    # To the second: first-time subject 1 ballots rank by it (12123's order).
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    office = relationship("Office", lazy="joined")


# Waiting-list figures as part of the row's own SELECT, so a list page costs the same few statements
# however many rows it has: no query per session or per booking while serialising.
# (Table aliases, not ORM ones: aliasing a mapped class here would configure the mappers at import time.)
_waiting = ExamBooking.__table__.alias("waiting")
ExamSession.waitlist_length = column_property(
    select(func.count(_waiting.c.id)).where(_waiting.c.session_id == ExamSession.id,
                                            _waiting.c.status == BookingStatus.WAITLISTED)
    .correlate_except(_waiting).scalar_subquery())
_ahead = ExamBooking.__table__.alias("ahead")
ExamBooking.waitlist_position = column_property(case(
    (ExamBooking.status == BookingStatus.WAITLISTED,
     select(func.count(_ahead.c.id) + 1).where(
         _ahead.c.session_id == ExamBooking.session_id, _ahead.c.status == BookingStatus.WAITLISTED,
         or_(_ahead.c.queue_position < ExamBooking.queue_position,
             and_(_ahead.c.queue_position == ExamBooking.queue_position, _ahead.c.id < ExamBooking.id)))
     .correlate_except(_ahead).scalar_subquery()),
    else_=None))


# The 409 each unique constraint above answers when a concurrent request got there first (vmo.integrity).
CONFLICTS: dict[str, integrity.Unique] = {
    "uq_test_sessions_slot_id": integrity.Unique(integrity.RACE),
    "uq_exam_bookings_active_key": integrity.Unique("a booking for this subject is already held"),
    "uq_exam_draws_session_id": integrity.Unique("the draw for this session has already been made"),
    "one_application_per_class": integrity.Unique(
        "an application for this class is already accepted for this ID number", "license_class", "already accepted"),
    "uq_exam_calendar_feeds_candidate_id": integrity.Unique(integrity.RACE),
    "uq_exam_calendar_feeds_secret_hash": integrity.Unique(integrity.RACE),
    # Two lists of examiners for one session at the same moment (the session lock orders them on PostgreSQL).
    "one_place_per_examiner": integrity.Unique(integrity.RACE),
    "pk_test_session_examiners": integrity.Unique(integrity.RACE),
}
