"""The motorcycle register table."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from vmo import integrity
from vmo.extensions import db
from vmo.types import UTCDateTime, utcnow


class MotorcycleStatus(StrEnum):
    """Where a motorcycle stands on a day (computed, not stored): vmo.motorcycles.rules."""

    OK = "ok"
    DUE = "due"
    OVERDUE = "overdue"
    UNKNOWN = "unknown"  # no registration date (a walk-in not yet completed)
    SCRAP_DUE = "scrap_due"  # due for compulsory scrapping: deregistered, never invited


class Motorcycle(db.Model):
    """One registered motorcycle, as the office's register knows it.

    `next_due_on` is derived from the registration and last inspection dates by the due rules
    (vmo.motorcycles.rules) and stored so township counts are one indexed GROUP BY; `due_rules`
    names the rules it was computed with, so rows computed under other settings are recomputed.
    """

    __tablename__ = "motorcycles"
    __table_args__ = (Index("ix_motorcycles_office_township_due", "office_id", "township", "next_due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    # A plate is one physical plate across the deployment, hence unique without the office.
    plate: Mapped[str] = mapped_column(String(12), unique=True)
    # A 17-character VIN, or an older frame number (车架号) of another length.
    vin: Mapped[str | None] = mapped_column(String(25))
    engine_number: Mapped[str | None] = mapped_column(String(30))
    owner_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20))
    township: Mapped[str] = mapped_column(String(40))
    # Unknown for a motorcycle first seen as a walk-in at a tour stop (then it has no due date either).
    registered_on: Mapped[date | None] = mapped_column(Date)
    last_inspected_on: Mapped[date | None] = mapped_column(Date)
    next_due_on: Mapped[date | None] = mapped_column(Date)
    # 正三轮摩托车: scrapped after 12 years of use instead of 13 (vmo.motorcycles.rules).
    three_wheeled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The first day it is due for compulsory scrapping (its age, or three inspection cycles missed),
    # derived like next_due_on and recomputed with it; None without a registration date.
    scrap_on: Mapped[date | None] = mapped_column(Date)
    due_rules: Mapped[str] = mapped_column(String(32), default="", index=True)
    # Added from a tour inspection of a motorcycle not on the register, with what the officer entered:
    # the office completes the record (registration date) from its own files.
    from_walk_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# The 409 each unique constraint above answers when a concurrent request got there first (vmo.integrity).
CONFLICTS: dict[str, integrity.Unique] = {
    "uq_motorcycles_plate": integrity.Unique("a motorcycle with this plate is already on the register", "plate"),
}
