"""The priority booking table: one person, one green-channel day, from the share kept for them."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vmo import integrity
from vmo.extensions import db
from vmo.greenchannel.models import GreenChannelDay
from vmo.types import UTCDateTime, utcnow

REASONS = ("pregnant", "elderly", "disabled")


class PriorityStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class PriorityBooking(db.Model):
    __tablename__ = "priority_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("green_channel_days.id"), index=True)
    # Handed to the person: with it they can look the booking up or cancel it without an account.
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(16))
    business: Mapped[str | None] = mapped_column(String(200))
    certificate_number: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=PriorityStatus.BOOKED)
    # "<id_number>:<date>" while booked, NULL once cancelled: the database refuses a second
    # active booking of one person on one day (NULLs never collide).
    active_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    day = relationship(GreenChannelDay)


# The 409 each unique constraint above answers when a concurrent request got there first (vmo.integrity).
CONFLICTS: dict[str, integrity.Unique] = {
    "uq_priority_bookings_active_key": integrity.Unique(integrity.RACE),  # no confirmation that someone has a booking
    "uq_priority_bookings_reference": integrity.Unique(integrity.RACE),
}
