"""Queueing messages inside a unit of work, and sending what is queued."""
import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from vmo.extensions import db
from vmo.notify.models import OutboxMessage
from vmo.types import utcnow

log = logging.getLogger("vmo.sms")

MAX_ATTEMPTS = 8


def queue(office_id: int, phone: str, body: str, *, kind: str, key: str,
          subject_type: str | None = None, subject_id: int | None = None,
          officer_id: int | None = None) -> OutboxMessage | None:
    """Add a message to the caller's transaction; a key already queued is not queued again."""
    existing = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key))
    if existing is not None:
        return None
    message = OutboxMessage(
        office_id=office_id, phone=phone, body=body, kind=kind, key=key,
        subject_type=subject_type, subject_id=subject_id, officer_id=officer_id, status="pending",
    )
    db.session.add(message)
    return message


class LogBackend:
    """Writes messages to the log; the outbox table keeps them for anyone to read in the demo."""

    def send(self, message: OutboxMessage) -> None:
        log.info("SMS to %s [%s]: %s", message.phone, message.key, message.body)


def due_messages(now: datetime, limit: int = 500) -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending",
               or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
        .order_by(OutboxMessage.id)
        .limit(limit)
    ))


def send_pending(backend, now: datetime | None = None, limit: int = 500, progress=None) -> dict:
    """One pass over due messages; each is committed on its own, so a crash loses no progress."""
    now = now or utcnow()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for message in due_messages(now, limit):
        try:
            backend.send(message)
        except Exception as exc:  # any gateway failure: keep the message and try later
            message.attempts += 1
            message.last_error = str(exc)[:1000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "failed"
                counts["failed"] += 1
            else:
                message.next_attempt_at = now + timedelta(seconds=30 * 2 ** message.attempts)
                counts["retry"] += 1
        else:
            message.attempts += 1
            message.status = "sent"
            message.sent_at = now
            counts["sent"] += 1
        db.session.commit()
        if progress is not None:
            progress(1)
    return counts
