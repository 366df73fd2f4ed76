"""The capacity table every bookable thing points at (green-channel days, test seats, tour stops)."""
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vmo.extensions import db


class Slot(db.Model):
    """A pool of `capacity` units of which `booked` are taken.

    The CHECK constraint is a second line of defence: even a buggy caller cannot
    commit an overbooked slot, on SQLite or PostgreSQL.
    """

    __tablename__ = "slots"
    __table_args__ = (
        CheckConstraint("booked >= 0", name="booked_not_negative"),
        CheckConstraint("booked <= capacity", name="not_overbooked"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def available(self) -> int:
        return max(self.capacity - self.booked, 0)
