"""The hall's priority lane: its days (places of their own every working day), the bookings, and the
requests waiting for their phone's code."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vmo import integrity
from vmo.extensions import db
from vmo.types import UTCDateTime, utcnow

REASONS = ("pregnant", "elderly", "disabled")


class PriorityStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class PriorityDay(db.Model):
    """One date's priority places in one office, kept in a slot of the booking core.

    A working day without a row has the default places (VMO_PRIORITY_DAILY_CAPACITY): the row is made
    when the first booking, or an officer, touches the date. A green-channel day of the same date
    shows these same places (its `priority_slot` is this slot), fleet day or not.
    """

    __tablename__ = "priority_days"
    __table_args__ = (UniqueConstraint("office_id", "day", name="office_priority_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    slot = relationship("Slot", lazy="joined")

    @property
    def capacity(self) -> int:
        return self.slot.capacity

    @property
    def booked(self) -> int:
        return self.slot.booked

    @property
    def available(self) -> int:
        return self.slot.available


class PriorityBooking(db.Model):
    __tablename__ = "priority_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("priority_days.id"), index=True)
    # Handed to the person: with it they can look the booking up or cancel it without an account.
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(16))
    business: Mapped[str | None] = mapped_column(String(200))
    certificate_number: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=PriorityStatus.BOOKED)
    # One active booking per ID number and per phone: the number while the booking is booked and its day
    # not past, else NULL (NULLs never collide), so the database refuses a second one made at the same
    # moment. A counter booking by staff (for a walk-in, or a family member's phone) leaves the phone out.
    active_id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    active_phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    # The officer who booked at the counter; NULL for a booking the phone confirmed.
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    day = relationship(PriorityDay)


class PriorityRequest(db.Model):
    """A public booking waiting for the code texted to its phone; it holds no place.

    `code_hash` is an HMAC of the code under the app's secret key, so neither this table nor a log of
    it lets anyone recompute the code; `tries` is counted by a conditional UPDATE before the compare.
    The row is deleted once confirmed; an expired one is only a count of codes sent to the phone.
    """

    __tablename__ = "priority_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(120))
    id_number: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    business: Mapped[str | None] = mapped_column(String(200))
    certificate_number: Mapped[str | None] = mapped_column(String(40))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The 409 each unique constraint above answers when a concurrent request got there first (vmo.integrity).
CONFLICTS: dict[str, integrity.Unique] = {
    # No confirmation that someone has a booking: the retry gets the service's own answer.
    "uq_priority_bookings_active_id_number": integrity.Unique(integrity.RACE),
    "uq_priority_bookings_active_phone": integrity.Unique(integrity.RACE),
    "uq_priority_bookings_reference": integrity.Unique(integrity.RACE),
    "office_priority_day": integrity.Unique(integrity.RACE),
    "uq_priority_days_slot_id": integrity.Unique(integrity.RACE),
}
