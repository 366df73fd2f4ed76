"""The mailings table: what was (or is to be) posted, to whom, by which carrier, and what became of it."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vmo import integrity
from vmo.extensions import db
from vmo.types import JSONType, UTCDateTime, utcnow


class MailingStatus(StrEnum):
    REQUESTED = "requested"  # a company asked for its batch's plates and papers; not posted yet
    SENT = "sent"  # handed to the carrier: the recipient was texted the carrier and tracking number
    DELIVERED = "delivered"
    RETURNED = "returned"  # back at the office (refused, nobody there, a wrong address)


# A mailing under way: a second one for the same case is refused until this one is delivered or returned.
UNDER_WAY = (MailingStatus.REQUESTED, MailingStatus.SENT)


class Mailing(db.Model):
    __tablename__ = "mailings"
    __table_args__ = (Index("ix_mailings_case", "case_type", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    # What it is for, e.g. ("fleet_batch", 12) or ("tour_inspection", 40); none for a counter case.
    case_type: Mapped[str | None] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(Integer)
    # "fleet_batch:12" while under way, NULL once delivered or returned: the database itself refuses
    # a second mailing of one case under way (NULLs never collide).
    open_case: Mapped[str | None] = mapped_column(String(48), unique=True)
    recipient: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    items: Mapped[list] = mapped_column(JSONType, default=list)
    carrier: Mapped[str | None] = mapped_column(String(20))
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=MailingStatus.REQUESTED, index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The 409 each unique constraint above answers when a concurrent request got there first (vmo.integrity).
CONFLICTS: dict[str, integrity.Unique] = {
    "uq_mailings_open_case": integrity.Unique("this case already has a mailing under way", "case"),
}
