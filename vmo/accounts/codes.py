"""Codes texted to a phone (a candidate's sign-up, a forgotten password), made so they cannot be abused.

- A code is random and kept only as an HMAC-SHA256 keyed with the app's secret, so nobody who reads the
  database, the outbox's keys, the audit log or the logs can recompute it offline (a plain SHA-256 of six
  digits is reversed in a second). The outbox key of its text is random too, not derived from it.
- Every request that could text a code counts, per ID number, whether or not a code went out (at most
  `PER_DAY` a day, 429 with Retry-After after that), so the refusal says nothing about whether the
  number was accepted or has an account; the codes actually texted count per phone too (at most
  `PER_DAY` a day to one phone).
- Tries are counted by one UPDATE that adds one and returns the count (`count_try`): parallel wrong
  guesses each count, and only the first `TRIES` are ever compared.
- A code goes only to the phone the office recorded when it accepted the person's application (受理),
  never to a phone typed by whoever asks. Who was accepted is asked of the features that keep
  applications, through `vmo.hooks.CANDIDATE_ACCEPTANCE`.
"""
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from vmo.accounts.models import CodeRequest
from vmo.errors import TooManyRequests
from vmo.extensions import db
from vmo.notify import services as notify

TTL = timedelta(minutes=15)
TRIES = 5
PER_DAY = 5
DAY = timedelta(hours=24)


@dataclass(frozen=True)
class Acceptance:
    """What the office recorded when it accepted a person's application (受理)."""

    name: str
    phone: str
    license_class: str


# (office_id, id_number) -> the person's acceptance in that office, or None.
AcceptanceLookup = Callable[[int, str], Acceptance | None]


@dataclass(frozen=True)
class Codes:
    """What codes need from outside the accounts: the key of their hashes (the app's secret) and who
    accepted whom (the lookups features add to vmo.hooks.CANDIDATE_ACCEPTANCE)."""

    key: bytes
    lookups: tuple[AcceptanceLookup, ...] = ()

    def acceptance(self, office_id: int, id_number: str) -> Acceptance | None:
        return next((found for found in (lookup(office_id, id_number) for lookup in self.lookups) if found), None)

    def digest(self, purpose: str, *parts) -> str:
        """HMAC-SHA256 of the parts under the app's secret (hex): stored in place of a code or a number."""
        message = ":".join([purpose, *map(str, parts)]).encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def matches(self, stored: str | None, purpose: str, row_id: int, code: str) -> bool:
        return stored is not None and secrets.compare_digest(stored, self.digest(purpose, row_id, code.strip()))


def new_code() -> str:
    return f"{secrets.randbelow(10 ** 6):06d}"


def _retry_after(times: list[datetime], now: datetime) -> int | None:
    """Seconds until one of the day's requests leaves the window, when `PER_DAY` are in it; else None."""
    if len(times) < PER_DAY:
        return None
    return max(1, int((min(times) + DAY - now).total_seconds()) + 1)


def take_request(codes: Codes, id_number: str, phone: str | None, now: datetime) -> None:
    """Count one request for a code for `id_number`, texted to `phone` (None: no code goes out), or refuse
    it with 429 when the ID number, or the phone, had `PER_DAY` in the last 24 hours."""
    since = now - DAY
    id_key = codes.digest("id_number", id_number)
    phone_key = codes.digest("phone", phone) if phone is not None else None
    retry = _retry_after(list(db.session.scalars(select(CodeRequest.created_at).where(
        CodeRequest.id_key == id_key, CodeRequest.created_at > since))), now)
    if retry is None and phone_key is not None:
        retry = _retry_after(list(db.session.scalars(select(CodeRequest.created_at).where(
            CodeRequest.phone_key == phone_key, CodeRequest.created_at > since))), now)
    if retry is not None:
        raise TooManyRequests("too many codes were asked for today; try again later", retry_after=retry,
                              reason="too_many_codes")
    db.session.add(CodeRequest(id_key=id_key, phone_key=phone_key, created_at=now))


def count_try(model, row_id: int) -> tuple[int, str | None, datetime] | None:
    """Add one try to the row in one UPDATE and return (tries now, code hash, expiry); None if it is gone.

    Parallel guesses each add their own (the database serialises the row), so sixteen wrong codes at
    once count sixteen, and the caller compares a code only while the count is within `TRIES`.
    """
    return db.session.execute(
        update(model).where(model.id == row_id).values(tries=model.tries + 1)
        .returning(model.tries, model.code_hash, model.code_expires_at)
        .execution_options(synchronize_session=False)).one_or_none()


def text(office_id: int, phone: str, template, code: str, *, kind: str, subject_type: str, subject_id: int) -> None:
    """Queue the code's text from `template` (one of vmo.accounts.notifications'); its outbox key is random,
    never derived from the code."""
    body = template.render(code=code, minutes=int(TTL.total_seconds()) // 60)
    notify.queue(office_id, phone, body, kind=kind, key=f"{kind}:{subject_id}:{secrets.token_hex(8)}",
                 subject_type=subject_type, subject_id=subject_id)
