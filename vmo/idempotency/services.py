"""Claiming a key before the write and keeping its answer after."""
import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from vmo import failover
from vmo.errors import Conflict, RuleViolation
from vmo.extensions import db
from vmo.idempotency.models import IdempotencyRecord


@dataclass
class StoredResponse:
    status_code: int
    content_type: str | None
    body: bytes
    location: str | None


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and the exact body bytes."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


# A claim whose request never finished (the worker was killed) is taken over after this long, so a
# key cannot stay "in progress" for ever; answers are kept for a day, like common payment APIs do.
STALE_CLAIM = timedelta(seconds=60)
KEEP_ANSWERS = timedelta(hours=24)


def claim(scope: str, key: str, fingerprint: str, now: datetime, *,
          stale_claim: timedelta = STALE_CLAIM, keep_answers: timedelta = KEEP_ANSWERS) -> StoredResponse | None:
    """Claim the key (committed at once), or return the first answer if it was already given.

    The claim is committed before the write runs, on its own (outside the request's unit of work,
    vmo.uow), so two concurrent retries cannot both run it.
    An expired answer, or a stale claim of the same request, is taken over by one compare-and-set
    UPDATE, so of two retries racing for it only one runs the write.
    """
    pending = _pending_releases()
    if pending:  # on their own: the insert below may conflict (a retry of one of them) and roll back
        for entry in pending:
            _forget(*entry)
        db.session.commit()
        _released(pending)
    db.session.add(IdempotencyRecord(scope=scope, key=key, fingerprint=fingerprint, created_at=now))
    try:
        db.session.commit()
        purge(now, keep_answers)
        return None
    except IntegrityError:
        db.session.rollback()
    except DBAPIError as exc:
        # The claim may have been committed with its success unheard: forgotten later, as a failed
        # request's claim is (see release), or the key would read "in progress" until it goes stale.
        _remember_if_unavailable(exc, scope, key, now)
        raise
    record = db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )
    if record is None:  # released between our insert and our read: treat as in progress
        raise Conflict("a request with this Idempotency-Key is in progress; retry shortly")
    expired = record.created_at <= now - keep_answers
    stale = record.status_code is None and record.fingerprint == fingerprint and record.created_at <= now - stale_claim
    if expired or stale:
        if _take_over(record, fingerprint, now):
            return None
        raise Conflict("a request with this Idempotency-Key is in progress; retry shortly")
    if record.fingerprint != fingerprint:
        raise RuleViolation("this Idempotency-Key was used with a different request body")
    if record.status_code is None:
        raise Conflict("a request with this Idempotency-Key is in progress; retry shortly")
    return StoredResponse(record.status_code, record.content_type, record.body or b"", record.location)


def purge(now: datetime, keep_answers: timedelta = KEEP_ANSWERS) -> int:
    """Delete the answers past their replay window (they may hold a cancel code) and claims long
    abandoned; done whenever a new key is claimed, so nothing is kept longer than the window."""
    deleted = db.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= now - keep_answers)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()  # part of the claim's own transaction (see claim)
    return deleted


def _take_over(record: IdempotencyRecord, fingerprint: str, now: datetime) -> bool:
    taken = db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record.id, IdempotencyRecord.created_at == record.created_at)
        .values(fingerprint=fingerprint, created_at=now, status_code=None, content_type=None, body=None,
                location=None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()  # part of the claim's own transaction (see claim)
    return taken


def complete(scope: str, key: str, response: StoredResponse) -> None:
    """Store the answer in the caller's transaction: it commits with the work it answers, or not at all."""
    record = db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )
    record.status_code = response.status_code
    record.content_type = response.content_type
    record.body = response.body
    record.location = response.location
    db.session.flush()


def release(scope: str, key: str, claimed_at: datetime | None = None) -> None:
    """Forget a claim whose request failed, so a retry runs it afresh: after the failed work is rolled
    back, in a transaction of its own that commits whatever the request's outcome.

    Only a claim without an answer is forgotten (a commit whose success never reached us may have
    stored one: a retry replays it), and with `claimed_at` only the claim this request made (not one
    a retry took over since). When the database cannot be reached (a failover), this process forgets
    the claim at its next claim instead; until then a retry is told the key is in progress.
    """
    db.session.rollback()
    try:
        _forget(scope, key, claimed_at)
        db.session.commit()
    except DBAPIError as exc:
        _remember_if_unavailable(exc, scope, key, claimed_at)
        raise


# Claims this process could not release while the database was unavailable: (scope, key, claimed_at).
_PENDING: set[tuple[str, str, datetime | None]] = set()
_PENDING_LOCK = threading.Lock()


def _remember_if_unavailable(exc: DBAPIError, scope: str, key: str, claimed_at: datetime | None) -> None:
    db.session.rollback()
    if failover.unavailable(exc):
        with _PENDING_LOCK:
            _PENDING.add((scope, key, claimed_at))


def _pending_releases() -> list[tuple[str, str, datetime | None]]:
    with _PENDING_LOCK:
        return list(_PENDING)


def _released(entries) -> None:
    with _PENDING_LOCK:
        _PENDING.difference_update(entries)


def _forget(scope: str, key: str, claimed_at: datetime | None = None) -> None:
    stmt = delete(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key,
                                           IdempotencyRecord.status_code.is_(None))
    if claimed_at is not None:
        stmt = stmt.where(IdempotencyRecord.created_at == claimed_at)
    db.session.execute(stmt.execution_options(synchronize_session=False))
