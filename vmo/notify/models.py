"""The outbox table: a message row is written in the same transaction as its cause; and opt-outs."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vmo.extensions import db
from vmo.types import UTCDateTime, utcnow

# pending: waiting to be sent (or retried); sent: the gateway accepted it; failed: given up on
# (invalid number, refused, or too many attempts); opted_out: the person replied TD before it went out.
class MessageStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    OPTED_OUT = "opted_out"


class Answer(StrEnum):
    """A follow-up's verdict, once the person answered 1 or 2."""

    SATISFIED = "satisfied"
    DISSATISFIED = "dissatisfied"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    # Unique, so a cause that is retried cannot queue its message twice; also the gateway's idempotency key.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    # The text as sent, signature included; its length in characters and the segments it is billed as.
    body: Mapped[str] = mapped_column(Text)
    length: Mapped[int] = mapped_column(Integer)
    segments: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # What the message is about, e.g. ("fleet_vehicle", 12), and who handled it.
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Not sent before this moment: set for a text queued (or due) in the quiet night hours, the
    # morning's end of them plus its share of the spread (vmo.notify.quiet).
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Follow-ups only: the first reply, and the person's verdict once they answer 1 or 2.
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(String(16), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    officer = relationship("User")


class SmsOptOut(db.Model):
    """A phone number that replied TD (退订): nothing more is sent to it."""

    __tablename__ = "sms_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The inbound message that asked for it, for the record.
    message_id: Mapped[str | None] = mapped_column(String(120))
