"""Inbound replies: signature check, matching to the latest open follow-up, opt-out and escalations."""
import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, selectinload

from vmo import validators
from vmo.accounts.models import Role, User
from vmo.audit import services as audit
from vmo.errors import Conflict, Forbidden, NotFound, RuleViolation, Unauthorized
from vmo.extensions import db
from vmo.followup import notifications as texts
from vmo.followup import replies
from vmo.followup.models import Escalation, EscalationCallback, EscalationStatus, InboundMessage, InboundOutcome
from vmo.notify import services as notify
from vmo.notify.models import MessageStatus, OutboxMessage



# ---- the webhook signature -------------------------------------------------------------

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 over "<timestamp>.<raw body>", as the gateway computes it."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(secret: str | None, timestamp: str | None, signature: str | None, body: bytes,
                     now: datetime, max_age_seconds: int = 300) -> None:
    """Raise Unauthorized unless the request is signed with `secret` and its timestamp is fresh."""
    if not secret:
        raise Unauthorized("inbound messages are not accepted: no SMS_HMAC_SECRET is configured")
    if not timestamp or not signature:
        raise Unauthorized("unsigned request: send X-Timestamp and X-Signature")
    try:
        sent_at = int(timestamp.strip())
    except ValueError:
        raise Unauthorized("X-Timestamp must be Unix seconds") from None
    if abs(now.timestamp() - sent_at) > max_age_seconds:
        raise Unauthorized(f"X-Timestamp is more than {max_age_seconds} seconds away from the server's clock")
    # Compared in constant time so the signature cannot be guessed byte by byte.
    if not hmac.compare_digest(sign(secret, timestamp.strip(), body), signature.strip().lower()):
        raise Unauthorized("bad signature")


# ---- replies ---------------------------------------------------------------------------

@dataclass
class ReplyResult:
    inbound: InboundMessage
    duplicate: bool


# A reply handler: (phone, text, now) -> True when it took the reply. It works in the caller's
# transaction (record_reply commits once), so a redelivered message_id never runs it twice.
ReplyHandler = Callable[[str, str, datetime], bool]
# The outcomes that answer a follow-up (OutboxMessage.answer); the others are remarks or no answer.
VERDICTS = (InboundOutcome.SATISFIED, InboundOutcome.DISSATISFIED)


def _follow_ups_of(phone: str, since: datetime):
    """The number's follow-ups sent in the window, newest first; whatever the case (a vehicle, a
    fleet batch, a test, an inspection), a reply answers the newest one still open."""
    return (select(OutboxMessage)
            .where(OutboxMessage.kind == "follow_up", OutboxMessage.phone == phone,
                   OutboxMessage.status == MessageStatus.SENT, OutboxMessage.sent_at >= since)
            .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
            .limit(1))


def record_reply(message_id: str, phone: str, text: str, received_at: datetime | None, now: datetime,
                 reply_window: timedelta = timedelta(days=30), handlers: Iterable[ReplyHandler] = ()) -> ReplyResult:
    """Record one inbound text; the same `message_id` again returns the first result and changes nothing.

    Reply handlers of other features (e.g. `取消 <code>` from schedules) see the text first; the
    first that takes it ends the matching. Otherwise the verdict answers the number's newest open
    follow-up, with the words after it kept as the reason.
    """
    first = _inbound(message_id)
    if first is not None:
        return ReplyResult(first, duplicate=True)
    try:
        phone = validators.validate_mobile(phone)
    except (ValueError, TypeError) as exc:
        raise RuleViolation(f"from: {exc}", fields={"from": [str(exc)]}) from None

    if any(handler(phone, text, now) for handler in handlers):
        return _save(InboundMessage(message_id=message_id, office_id=None, phone=phone, text=text,
                                    outcome=InboundOutcome.HANDLED, received_at=received_at or now,
                                    created_at=now), None, now)

    reply = replies.parse(text)
    outcome = reply.verdict or InboundOutcome.COMMENT
    since = now - reply_window
    follow_up = None
    if outcome == InboundOutcome.OPTED_OUT:
        notify.opt_out(phone, now, message_id)
        follow_up = db.session.scalar(_follow_ups_of(phone, since))
    else:
        follow_up = db.session.scalar(_follow_ups_of(phone, since).where(OutboxMessage.answer.is_(None)))
        if follow_up is None and outcome == InboundOutcome.COMMENT:
            # A remark after the verdict is still about the last case.
            follow_up = db.session.scalar(_follow_ups_of(phone, since))
        if follow_up is None:
            outcome = InboundOutcome.UNMATCHED
        elif outcome in VERDICTS:
            # Guarded: of two verdicts racing for one follow-up, only the first counts.
            won = db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == follow_up.id, OutboxMessage.answer.is_(None))
                .values(answer=outcome, answered_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount == 1
            if not won:
                outcome = InboundOutcome.COMMENT
    if follow_up is not None and follow_up.replied_at is None:
        follow_up.replied_at = now

    inbound = InboundMessage(message_id=message_id, office_id=follow_up.office_id if follow_up else None,
                             phone=phone, text=text, outcome=outcome,
                             reason=reply.reason if outcome in VERDICTS else None,
                             follow_up_id=follow_up.id if follow_up else None, received_at=received_at or now,
                             created_at=now)
    return _save(inbound, follow_up, now)


def _save(inbound: InboundMessage, follow_up: OutboxMessage | None, now: datetime) -> ReplyResult:
    try:
        # A savepoint: the same message delivered twice at the same moment is recorded by the other
        # delivery, and this request's transaction goes on to answer with that one.
        with db.session.begin_nested():
            db.session.add(inbound)
            db.session.flush()
            if inbound.outcome == InboundOutcome.DISSATISFIED:
                _open_escalation(inbound, follow_up, now)
    except IntegrityError:
        first = _inbound(inbound.message_id)
        if first is None:
            raise
        return ReplyResult(first, duplicate=True)
    return ReplyResult(inbound, duplicate=False)


def _inbound(message_id: str) -> InboundMessage | None:
    return db.session.scalar(select(InboundMessage).where(InboundMessage.message_id == message_id))


def _open_escalation(inbound: InboundMessage, follow_up: OutboxMessage, now: datetime) -> Escalation:
    escalation = Escalation(office_id=follow_up.office_id, follow_up_id=follow_up.id, inbound_id=inbound.id,
                            officer_id=follow_up.officer_id, subject_type=follow_up.subject_type,
                            subject_id=follow_up.subject_id, phone=inbound.phone, status=EscalationStatus.OPEN,
                            opened_at=now)
    db.session.add(escalation)
    db.session.flush()
    inbound.escalation = escalation
    audit.record("escalation.open", "escalation", escalation.id, office_id=follow_up.office_id,
                 after={"officer_id": follow_up.officer_id, "follow_up": follow_up.key})
    # The person hears that someone will call (once per case: the key is the escalation's).
    notify.queue(follow_up.office_id, inbound.phone, texts.DISSATISFIED_RECEIVED.render(), kind="follow_up_ack",
                 key=f"follow_up_ack:{escalation.id}", subject_type=follow_up.subject_type,
                 subject_id=follow_up.subject_id, officer_id=follow_up.officer_id)
    return escalation


# ---- escalations -----------------------------------------------------------------------

def is_overdue(escalation: Escalation, now: datetime, highlight_after: timedelta) -> bool:
    return escalation.status == EscalationStatus.OPEN and escalation.opened_at <= now - highlight_after


def _visible_to(user: User) -> Select:
    """An officer sees their own cases; a supervisor those of their officers, and of every officer
    (or unknown officer) with no supervisor set; an admin the whole office."""
    stmt = select(Escalation).where(Escalation.office_id == user.office_id)
    if user.role == Role.OFFICER:
        return stmt.where(Escalation.officer_id == user.id)
    if user.role == Role.SUPERVISOR:
        handler = aliased(User)
        return (stmt.outerjoin(handler, handler.id == Escalation.officer_id)
                .where(or_(Escalation.officer_id.is_(None), Escalation.officer_id == user.id,
                           handler.supervisor_id == user.id, handler.supervisor_id.is_(None))))
    if user.role == Role.ADMIN:
        return stmt
    raise Forbidden("escalations are for staff")


def list_escalations(user: User, status: str | None, overdue: bool | None, now: datetime,
                     highlight_after: timedelta) -> Select:
    stmt = _visible_to(user)
    if status:
        stmt = stmt.where(Escalation.status == status)
    cutoff = now - highlight_after
    if overdue is True:
        stmt = stmt.where(Escalation.status == EscalationStatus.OPEN, Escalation.opened_at <= cutoff)
    elif overdue is False:
        stmt = stmt.where(or_(Escalation.status != EscalationStatus.OPEN, Escalation.opened_at > cutoff))
    # Open ones first, the oldest (most urgent) on top; the call-backs come with them (no query per row).
    stmt = stmt.options(selectinload(Escalation.callbacks).joinedload(EscalationCallback.caller),
                        joinedload(Escalation.follow_up).selectinload(OutboxMessage.replies),
                        joinedload(Escalation.officer).joinedload(User.supervisor))  # the answer names the leader
    return stmt.order_by(case((Escalation.status == EscalationStatus.OPEN, 0), else_=1), Escalation.opened_at,
                         Escalation.id)


def get_escalation(user: User, escalation_id: int) -> Escalation:
    escalation = db.session.scalar(_visible_to(user).where(Escalation.id == escalation_id))
    if escalation is None:
        raise NotFound(f"no escalation {escalation_id}")
    return escalation


def add_callback(user: User, escalation_id: int, reached: bool, note: str, now: datetime) -> EscalationCallback:
    """Record one call to the person: by the handling officer, or by the leader in charge (a
    supervisor or admin who sees the case), as the seed's loop has both talk to the person."""
    escalation = get_escalation(user, escalation_id)  # an officer sees only the cases they handled
    note = (note or "").strip()
    if not note:
        raise RuleViolation("say what was said", fields={"note": ["must not be blank"]})
    if escalation.status != EscalationStatus.OPEN:
        raise Conflict(f"escalation {escalation_id} was already resolved",
                       resolved_at=escalation.resolved_at.isoformat() if escalation.resolved_at else None)
    callback = EscalationCallback(office_id=escalation.office_id, escalation_id=escalation.id, caller_id=user.id, reached=bool(reached), note=note,
                                  called_at=now)
    db.session.add(callback)
    db.session.flush()
    audit.record("escalation.callback", "escalation", escalation.id, actor=user,
                 after={"reached": bool(reached), "note": note})
    db.session.flush()
    return callback


def resolve(user: User, escalation_id: int, note: str, now: datetime, outcome: str | None = None) -> Escalation:
    """Close an escalation with what was done and how it ended: a supervisor's (or admin's) decision,
    after at least one call-back, so no officer closes a complaint against himself alone."""
    escalation = get_escalation(user, escalation_id)
    if user.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("an escalation is closed by a supervisor, after the call-backs")
    note = (note or "").strip()
    if not note:
        raise RuleViolation("say what was done", fields={"note": ["must not be blank"]})
    if escalation.status != EscalationStatus.OPEN:
        raise Conflict(f"escalation {escalation_id} was already resolved",
                       resolved_at=escalation.resolved_at.isoformat() if escalation.resolved_at else None)
    called = db.session.scalar(select(func.count(EscalationCallback.id))
                               .where(EscalationCallback.escalation_id == escalation.id))
    if not called:
        raise Conflict(f"escalation {escalation_id} has no call-back yet: record one at "
                       f"POST /api/v1/escalations/{escalation_id}/callbacks first")
    # Guarded, so two people closing it at once get one success and one 409.
    won = db.session.execute(
        update(Escalation).where(Escalation.id == escalation.id, Escalation.status == EscalationStatus.OPEN)
        .values(status=EscalationStatus.RESOLVED, resolved_at=now, resolved_by_id=user.id, note=note, outcome=outcome)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not won:
        raise Conflict(f"escalation {escalation_id} was already resolved")
    audit.record("escalation.resolve", "escalation", escalation.id, actor=user,
                 before={"status": EscalationStatus.OPEN},
                 after={"status": EscalationStatus.RESOLVED, "note": note, "outcome": outcome})
    db.session.flush()
    db.session.refresh(escalation)
    return escalation
