"""Tables for inbound replies and the escalations opened by dissatisfied ones."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from vmo import integrity
from vmo.extensions import db
from vmo.types import UTCDateTime, utcnow

class InboundOutcome(StrEnum):
    """What an inbound text was taken as; `handled`: a reply handler of another feature took it (e.g. 取消 <code>)."""

    SATISFIED = "satisfied"
    DISSATISFIED = "dissatisfied"
    COMMENT = "comment"
    OPTED_OUT = "opted_out"
    UNMATCHED = "unmatched"
    HANDLED = "handled"


class EscalationStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class ResolveOutcome(StrEnum):
    """How the supervisor closed an escalation, after the call-backs."""

    SATISFIED = "satisfied"
    UNDERSTOOD = "understood"
    STILL_DISSATISFIED = "still_dissatisfied"
    UNREACHABLE = "unreachable"


class InboundMessage(db.Model):
    """One text received from the gateway; `message_id` is unique, so a redelivery counts once."""

    __tablename__ = "sms_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(120), unique=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    # The words after the verdict ("不满意，排队太久" -> "排队太久"), shown on the escalation.
    reason: Mapped[str | None] = mapped_column(Text)
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # `OutboxMessage.replies`: every text answering that message, oldest first (the outbox knows nothing of it).
    follow_up = relationship("OutboxMessage", backref=backref("replies", order_by="InboundMessage.id"))
    escalation = relationship("Escalation", back_populates="inbound", uselist=False)


class Escalation(db.Model):
    """A dissatisfied reply, for the handling officer and their supervisor to call back and close."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    # One escalation per follow-up: a second "2" to the same case adds nothing.
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id"), unique=True)
    inbound_id: Mapped[int] = mapped_column(ForeignKey("sms_inbound.id"))
    # Who handled the case (the outbox officer); NULL when unknown: then every supervisor sees it.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default=EscalationStatus.OPEN, index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(24))

    # The list shows all four on every row: joined into the page's query, not one query per row.
    officer = relationship("User", foreign_keys=[officer_id], lazy="joined")
    resolved_by = relationship("User", foreign_keys=[resolved_by_id], lazy="joined")
    follow_up = relationship("OutboxMessage", lazy="joined")
    inbound = relationship("InboundMessage", back_populates="escalation", lazy="joined")
    callbacks = relationship("EscalationCallback", back_populates="escalation", order_by="EscalationCallback.id")

    @property
    def comments(self) -> list[str]:
        """What the person wrote about the case besides the verdict (e.g. "2", then "排队太久")."""
        return [m.text for m in self.follow_up.replies if m.outcome == InboundOutcome.COMMENT]


class EscalationCallback(db.Model):
    """One call to the person: the handling officer's, or the leader in charge's (分管负责人)."""

    __tablename__ = "escalation_callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    caller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reached: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
    called_at: Mapped[datetime] = mapped_column(UTCDateTime)

    escalation = relationship("Escalation", back_populates="callbacks")
    caller = relationship("User")


# The 409 each unique constraint above answers when a concurrent request got there first (vmo.integrity).
CONFLICTS: dict[str, integrity.Unique] = {
    "uq_sms_inbound_message_id": integrity.Unique("this message was already received"),
    "uq_escalations_follow_up_id": integrity.Unique(integrity.RACE),
}
