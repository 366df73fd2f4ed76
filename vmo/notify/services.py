"""Queueing messages inside a unit of work, and sending what is queued."""
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import has_app_context
from sqlalchemy import Select, and_, bindparam, case, exists, func, or_, select, update
from sqlalchemy.orm import joinedload

from vmo import clock as vmo_clock
from vmo import redact, validators
from vmo.dbutil import insert_ignoring_conflicts
from vmo.extensions import db
from vmo.notify.backends import LogBackend, PermanentSendError, make_backend  # noqa: F401  (re-exported)
from vmo.notify import quiet, texts
from vmo.notify.models import MessageStatus, OutboxMessage, SmsOptOut
from vmo.notify.settings import SmsSettings
from vmo.offices.models import Office
from vmo.types import values
from vmo.types import utcnow

log = logging.getLogger("vmo.sms")

# Defaults of the functions below, for callers without an app (the app passes its SmsSettings').
MAX_ATTEMPTS = SmsSettings().max_attempts
RETRY_BASE_SECONDS = SmsSettings().retry_base_seconds
# The longest wait between two attempts at one message.
RETRY_CAP = timedelta(hours=1)
# A sender holds a message this long; a crashed sender's messages come back after it.
LEASE = timedelta(minutes=2)
OPTED_OUT_REASON = "the number replied TD (opted out)"


def queue(office_id: int, phone: str, body: str, *, kind: str, key: str,
          subject_type: str | None = None, subject_id: int | None = None,
          officer_id: int | None = None, now: datetime | None = None) -> OutboxMessage | None:
    """Add a message to the caller's transaction; a key already queued is not queued again.

    Queued in the quiet hours (vmo.notify.quiet), a text other than a one-time code waits for the
    morning: `not_before` says when it may go out.

    `body` is the text without signature: the outbox puts the configured one in front (the one
    place that does) and records the length and billed segments. The number is checked here: an invalid one is kept as `failed` with the reason (never silently
    dropped), a number that opted out is kept as `opted_out`; neither is ever sent.
    """
    existing = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key))
    if existing is not None:
        return None
    phone, status, error = _check_number(phone)
    if status == MessageStatus.PENDING and is_opted_out(phone):
        status, error = MessageStatus.OPTED_OUT, OPTED_OUT_REASON
    message = OutboxMessage(
        office_id=office_id, phone=phone, **_text(body), kind=kind, key=key,
        subject_type=subject_type, subject_id=subject_id, officer_id=officer_id, status=status,
        last_error=error, attempts=0, not_before=_not_before(office_id, key, kind, now),
    )
    db.session.add(message)
    return message


def queue_many(messages: list[dict], zone=None) -> int:
    """Bulk `queue` for hot paths (e.g. a 500-record sync): the same checks in one INSERT.

    Each dict holds OutboxMessage columns (office_id, phone, body, kind, key, ...), the body without
    signature as for `queue`; keys already queued are skipped by the unique constraint. Returns how many were new to the outbox.
    `zone`: the office's time zone for the quiet hours, when the caller has it (else looked up per office).
    """
    if not messages:
        return 0
    now = _now()
    rows = [outbox_row(message, now, zone) for message in messages]
    return insert_ignoring_conflicts(OutboxMessage, rows, index_elements=["key"], values=QUEUED)


def outbox_row(message: dict, now: datetime | None = None, zone=None) -> dict:
    """One message of `queue_many` as the INSERT takes it: the signed text, the phone as checked, when it may
    go out (quiet hours, in the office's `zone`: looked up when not given), and `checked_phone`,
    `checked_status`, `checked_error`, which `QUEUED`'s expressions read (the opt-out check happens inside the
    INSERT). For a caller that writes the message in a statement of its own."""
    now = now or _now()
    phone, status, error = _check_number(message["phone"])
    zone = zone or _zone(message["office_id"])
    return {"created_at": utcnow(), **message, **_text(message["body"]), "phone": phone, "checked_phone": phone,
            "checked_status": status.value, "checked_error": error,
            "not_before": quiet.hours().not_before(message["key"], message["kind"], now, zone)}


# A number that opted out is read by the INSERT itself (one statement for the whole queue, compiled once):
# a valid number is queued `pending` unless it is in sms_opt_outs, an invalid one `failed` as checked.
_OPTED_OUT = and_(bindparam("checked_status") == MessageStatus.PENDING.value,
                  exists().where(SmsOptOut.phone == bindparam("checked_phone")))
QUEUED = {
    "status": case((_OPTED_OUT, MessageStatus.OPTED_OUT.value), else_=bindparam("checked_status")),
    "last_error": case((_OPTED_OUT, OPTED_OUT_REASON), else_=bindparam("checked_error")),
    "attempts": 0,
}


def _text(body: str) -> dict:
    """The columns that hold the text as sent: the signed body, its length and its billed segments."""
    sent = texts.as_sent(body)
    return {"body": sent, "length": len(sent), "segments": texts.segments(sent)}


def _now() -> datetime:
    return vmo_clock.now() if has_app_context() else utcnow()


def _zone(office_id: int):
    office = db.session.get(Office, office_id)  # the identity map keeps it for the rest of the request
    return office.zone if office is not None else vmo_clock.zone_named(None)


def _not_before(office_id: int, key: str, kind: str, now: datetime | None) -> datetime | None:
    return quiet.hours().not_before(key, kind, now or _now(), _zone(office_id))


def _check_number(phone) -> tuple[str, str, str | None]:
    """(phone as stored, status, reason): an invalid number is kept as `failed`, never silently dropped."""
    try:
        return validators.validate_mobile(phone or ""), MessageStatus.PENDING, None
    except (ValueError, TypeError) as exc:
        return str(phone)[:20], MessageStatus.FAILED, f"invalid phone number {phone!r}: {exc}"


# ---- opt-out ---------------------------------------------------------------------------

def is_opted_out(phone: str) -> bool:
    return db.session.scalar(select(SmsOptOut.id).where(SmsOptOut.phone == phone)) is not None


def opt_out(phone: str, now: datetime, message_id: str | None = None) -> int:
    """Record the opt-out (in the caller's transaction); messages still waiting for the number stop.

    Returns how many waiting messages were withdrawn.
    """
    insert_ignoring_conflicts(SmsOptOut, [{"phone": phone, "opted_out_at": now, "message_id": message_id}],
                              index_elements=["phone"])
    return db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.phone == phone, OutboxMessage.status == MessageStatus.PENDING)
        .values(status=MessageStatus.OPTED_OUT, last_error=OPTED_OUT_REASON)
        .execution_options(synchronize_session=False)
    ).rowcount


# ---- sending ---------------------------------------------------------------------------

def _due(now: datetime):
    return (OutboxMessage.status == MessageStatus.PENDING,
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now))


def due_messages(now: datetime, limit: int = 500) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(*_due(now)).order_by(OutboxMessage.id).limit(limit)))


def count_due(now: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(*_due(now)))


def _claim(message_id: int, now: datetime) -> bool:
    """Lease one message to this sender; a second sender running at once skips it."""
    won = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, *_due(now))
        .values(next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    # Deliberately committed at once, on its own: the lease must be seen by a second sender before
    # this one talks to the gateway.
    db.session.commit()
    return won


def retry_delay(attempts: int, base_seconds: int = RETRY_BASE_SECONDS) -> timedelta:
    """Exponential backoff between outbox attempts: base, 2*base, 4*base, ... capped at an hour."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), RETRY_CAP)


def send_pending(backend, now: datetime | None = None, limit: int = 500, progress=None, *,
                 max_attempts: int = MAX_ATTEMPTS, retry_base_seconds: int = RETRY_BASE_SECONDS,
                 clock: Callable[[], datetime] | None = None) -> dict:
    """One pass over due messages; each is committed on its own, so a crash loses no progress.

    A failure is never dropped: the message waits (exponential backoff) and is tried again, until
    `max_attempts` tries or a permanent refusal mark it `failed`, which staff see in the outbox.
    `clock` is read again for each message, so a message claimed late in a long pass gets a lease
    from that moment, not one that already ran out while earlier messages were sent.
    """
    if clock is None:
        fixed = now
        clock = utcnow if fixed is None else (lambda: fixed)
    counts = {"sent": 0, "retry": 0, "failed": 0, "opted_out": 0, "skipped": 0, "held": 0}
    for message_id in [m.id for m in due_messages(clock(), limit)]:
        now = clock()
        if not _claim(message_id, now):
            counts["skipped"] += 1
            _tick(progress)
            continue
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        held = _not_before(message.office_id, message.key, message.kind, now)
        if held is not None:
            # Due in the night (a retry, or queued before the quiet hours began): it waits for the morning.
            message.not_before, message.next_attempt_at = held, None
            counts["held"] += 1
        elif is_opted_out(message.phone):
            message.status, message.last_error = MessageStatus.OPTED_OUT, OPTED_OUT_REASON
            counts["opted_out"] += 1
        else:
            message.attempts += 1
            try:
                backend.send(message)
            except Exception as exc:  # any gateway failure: keep the message and try later
                message.last_error = redact.credentials(str(exc))[:1000]  # shown to every officer
                if isinstance(exc, PermanentSendError) or message.attempts >= max_attempts:
                    message.status = MessageStatus.FAILED
                    message.next_attempt_at = None
                    counts["failed"] += 1
                    log.warning("SMS %s failed for good: %s", message.key, message.last_error)
                else:
                    message.next_attempt_at = now + retry_delay(message.attempts, retry_base_seconds)
                    counts["retry"] += 1
            else:
                message.status = MessageStatus.SENT
                message.sent_at = now
                message.next_attempt_at = None
                message.last_error = None
                counts["sent"] += 1
        # Deliberately one commit per message (the sender is not a request): a message handed to the
        # gateway is recorded as sent before the next, so a crash never sends it twice.
        db.session.commit()
        _tick(progress)
    return counts


def _tick(progress) -> None:
    if progress is not None:
        progress(1)


def retry_failed(office_id: int, message_ids: list[int] | None = None) -> int:
    """Put failed messages (all of the office's, or the given ones) back in the queue."""
    stmt = (update(OutboxMessage)
            .where(OutboxMessage.office_id == office_id, OutboxMessage.status == MessageStatus.FAILED,
                   OutboxMessage.last_error.not_like("invalid phone number%"))
            .values(status=MessageStatus.PENDING, attempts=0, next_attempt_at=None)
            .execution_options(synchronize_session=False))
    if message_ids:
        stmt = stmt.where(OutboxMessage.id.in_(message_ids))
    return db.session.execute(stmt).rowcount


# ---- reading ---------------------------------------------------------------------------

def list_outbox(office_id: int, status: str | None = None, kind: str | None = None,
                phone: str | None = None) -> Select:
    # The officer named on a follow-up comes in the same SELECT: no query per row of the page.
    stmt = select(OutboxMessage).options(joinedload(OutboxMessage.officer)).where(OutboxMessage.office_id == office_id)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    if phone:
        stmt = stmt.where(OutboxMessage.phone == phone)
    return stmt.order_by(OutboxMessage.id.desc())


def texts_to(phone: str, limit: int = 10) -> list[OutboxMessage]:
    """The latest texts queued to one number, newest first (what that phone has received or will)."""
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.phone == phone)
                                   .order_by(OutboxMessage.id.desc()).limit(limit)))


def status_counts(office_id: int) -> dict:
    """Messages per status, and the segments sent and still to send (what the office pays for)."""
    rows = db.session.execute(select(OutboxMessage.status, func.count(), func.coalesce(func.sum(OutboxMessage.segments), 0))
                              .where(OutboxMessage.office_id == office_id)
                              .group_by(OutboxMessage.status)).all()
    counts = dict.fromkeys(values(MessageStatus), 0)
    counts.update({status: n for status, n, _ in rows})
    segments = {status: int(total) for status, _, total in rows}
    counts["segments"] = segments.get(MessageStatus.SENT, 0)
    counts["segments_pending"] = segments.get(MessageStatus.PENDING, 0)
    return counts
