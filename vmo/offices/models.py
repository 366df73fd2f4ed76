"""The office table."""
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from vmo.extensions import db
from vmo.clock import DEFAULT_TIMEZONE, zone_named
from vmo.types import UTCDateTime, utcnow

class Office(db.Model):
    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    # "渝G": province character and issuing-authority letter; plates are this plus 5 or 6 characters.
    plate_prefix: Mapped[str] = mapped_column(String(4))
    region_code: Mapped[str | None] = mapped_column(String(6))
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def zone(self) -> ZoneInfo:
        """The office's time zone: it decides what a day, a weekend and a shown time are."""
        return zone_named(self.timezone)


