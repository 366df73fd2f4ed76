"""The green-channel day table: one open day of an office, with its fleet slot and its priority slot."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vmo import integrity
from vmo.extensions import db
from vmo.types import UTCDateTime, utcnow


class GreenChannelDay(db.Model):
    __tablename__ = "green_channel_days"
    __table_args__ = (UniqueConstraint("office_id", "day", name="office_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), unique=True)
    # The share kept for priority bookings (vmo.priority); `slot` holds the rest, for ordinary bookings.
    priority_slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id"), unique=True)
    note: Mapped[str | None] = mapped_column(String(200))
    # When the day's visitors are asked to come, office time "HH:MM" (e.g. "12:00"-"20:00" for
    # an afternoon opened with overtime, as in the seed story).
    arrive_from: Mapped[str] = mapped_column(String(5), server_default="09:00")
    arrive_until: Mapped[str] = mapped_column(String(5), server_default="17:00")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    slot = relationship("Slot", lazy="joined", foreign_keys=[slot_id])
    priority_slot = relationship("Slot", lazy="joined", foreign_keys=[priority_slot_id])

    @property
    def capacity(self) -> int:
        """Places fleets can book; the priority places come on top (never out of these)."""
        return self.slot.capacity

    @property
    def priority_capacity(self) -> int:
        return self.priority_slot.capacity if self.priority_slot else 0


# The 409 each unique constraint above answers when a concurrent request got there first (vmo.integrity).
CONFLICTS: dict[str, integrity.Unique] = {
    "office_day": integrity.Unique(integrity.RACE),  # green-channel day opened twice at once
    "uq_green_channel_days_slot_id": integrity.Unique(integrity.RACE),
    "uq_green_channel_days_priority_slot_id": integrity.Unique(integrity.RACE),
}
