"""Claiming a key before the write and keeping its answer after."""
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from vmo.errors import Conflict, RuleViolation
from vmo.extensions import db
from vmo.idempotency.models import IdempotencyRecord


@dataclass
class StoredResponse:
    status_code: int
    content_type: str | None
    body: bytes
    location: str | None


def claim(scope: str, key: str, fingerprint: str) -> StoredResponse | None:
    """Claim the key (committed at once), or return the first answer if it was already given.

    The claim is committed before the write runs, so two concurrent retries cannot both run it.
    """
    db.session.add(IdempotencyRecord(scope=scope, key=key, fingerprint=fingerprint))
    try:
        db.session.commit()
        return None
    except IntegrityError:
        db.session.rollback()
    record = db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )
    if record is None:  # released between our insert and our read: treat as in progress
        raise Conflict("a request with this Idempotency-Key is in progress; retry shortly")
    if record.fingerprint != fingerprint:
        raise RuleViolation("this Idempotency-Key was used with a different request body")
    if record.status_code is None:
        raise Conflict("a request with this Idempotency-Key is in progress; retry shortly")
    return StoredResponse(record.status_code, record.content_type, record.body or b"", record.location)


def complete(scope: str, key: str, response: StoredResponse) -> None:
    record = db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )
    record.status_code = response.status_code
    record.content_type = response.content_type
    record.body = response.body
    record.location = response.location
    db.session.commit()


def release(scope: str, key: str) -> None:
    """Forget a claim whose request failed, so a retry runs it afresh."""
    db.session.rollback()
    db.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )
    db.session.commit()
