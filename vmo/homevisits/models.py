"""The home visit table: asked for by staff on a person's behalf, given to one officer, ended with an outcome."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vmo.extensions import db
from vmo.types import UTCDateTime, utcnow


class VisitReason(StrEnum):
    """Why the person cannot come to the hall."""

    ELDERLY = "elderly"
    DISABLED = "disabled"
    PREGNANT = "pregnant"
    ILL = "ill"
    OTHER = "other"


class VisitStatus(StrEnum):
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    DONE = "done"
    NOT_HOME = "not_home"
    CANCELLED = "cancelled"


class VisitOutcome(StrEnum):
    """What the assigned officer records; each is also the visit's status afterwards."""

    DONE = "done"
    NOT_HOME = "not_home"
    CANCELLED = "cancelled"


# The column `date` hides the type inside the class body (its annotation is read after the assignment).
Day = date

# Statuses after which nothing more happens to a visit.
ENDED = (VisitStatus.DONE, VisitStatus.NOT_HOME, VisitStatus.CANCELLED)


class HomeVisit(db.Model):
    __tablename__ = "home_visits"
    # The officer's tablet asks for their scheduled visits by date; the office's list by status and date.
    __table_args__ = (Index("ix_home_visits_officer_date", "officer_id", "date"),
                      Index("ix_home_visits_office_status_date", "office_id", "status", "date"))

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))  # led by the status-and-day index below
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    township: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(String(16))
    business: Mapped[str] = mapped_column(String(200))
    wanted_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=VisitStatus.REQUESTED)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The office-local date of the request (the statistics count requests by month).
    requested_on: Mapped[date] = mapped_column(Date)
    # Set by the assignment: who goes, which day, and the window the person was texted (office time, HH:MM).
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    date: Mapped[Day | None] = mapped_column(Date)
    window_from: Mapped[str | None] = mapped_column(String(5))
    window_until: Mapped[str | None] = mapped_column(String(5))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the outcome: `recorded_at` is when the officer pressed the button (the tablet's clock,
    # possibly offline), `outcome_at` when the server received it.
    outcome: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The tablet's id for the outcome: the same outcome sent again (a lost answer, a second sync) is
    # recognised and changes nothing.
    outcome_client_id: Mapped[str | None] = mapped_column(String(36))

    officer = relationship("User", foreign_keys=[officer_id])
    requested_by = relationship("User", foreign_keys=[requested_by_id])
