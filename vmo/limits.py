"""Rate limits (flask-limiter) and the sign-in lock-out, answered 429 with Retry-After in the JSON error shape.

Limits are strings in flask-limiter's notation ("10 per minute;60 per day"), settings of `LimitSettings`
(env `VMO_RATELIMIT_*`, checked when the app starts); an empty string turns one limit off and
`RATELIMIT_ENABLED = False` turns all of them off. Counters live in `RATELIMIT_STORAGE_URI`: `memory://`
(each gunicorn worker counts on its own) or `redis://host:6379/0` (shared by every worker and server).
The sign-in lock-out never counts per worker: in Redis when configured, else in the database.
"""
import hashlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.storage import MemoryStorage, storage_from_string
from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vmo import settings
from vmo.accounts.models import LoginCounter, Role
from vmo.extensions import db

from vmo.schemas_common import ErrorSchema
from vmo.settings import setting, text

# One limiter for the process, configured by `init_app` from each app's config (flask-limiter's own
# pattern): the decorators below register their limits on it when the resource modules are imported.
limiter = Limiter(key_func=get_remote_address)
log = logging.getLogger("vmo.limits")

RETRY_AFTER_HEADER = {"Retry-After": {"description": "Seconds to wait before trying again",
                                      "schema": {"type": "integer", "minimum": 1}}}


def _limit(value) -> str:
    """A limit in flask-limiter's notation ("" turns it off), refused at start when it does not parse."""
    value = text(value)
    if value.strip():
        try:
            parse_many(value)
        except ValueError:
            raise ValueError('must be limits like "10 per minute;60 per day"') from None
    return value


@dataclass(frozen=True)
class LimitSettings:
    """Rate limits (env `VMO_RATELIMIT_*`). The first six are flask-limiter's own settings: `init_app`
    hands them to it through the app config, where it reads them."""
    enabled: bool = setting(True, key="RATELIMIT_ENABLED")
    # memory:// counts per process; use redis://host:6379/0 with several workers.
    storage_uri: str = setting("memory://", key="RATELIMIT_STORAGE_URI")
    storage_options: dict = setting({}, key="RATELIMIT_STORAGE_OPTIONS")
    strategy: str = setting("moving-window", key="RATELIMIT_STRATEGY",
                            choices=("fixed-window", "moving-window", "sliding-window-counter"))
    # Redis down: count in memory meanwhile, and never turn a storage error into a 500.
    in_memory_fallback_enabled: bool = setting(True, key="RATELIMIT_IN_MEMORY_FALLBACK_ENABLED")
    swallow_errors: bool = setting(True, key="RATELIMIT_SWALLOW_ERRORS")
    login_per_address: str = setting("30 per minute;300 per hour", key="RATELIMIT_LOGIN_PER_ADDRESS", parse=_limit)
    login_per_username: str = setting("10 per minute", key="RATELIMIT_LOGIN_PER_USERNAME", parse=_limit)
    signups_per_address: str = setting("10 per hour", key="RATELIMIT_SIGNUPS_PER_ADDRESS", parse=_limit)
    registrations_per_address: str = setting("30 per hour", key="RATELIMIT_REGISTRATIONS_PER_ADDRESS", parse=_limit)
    # Look-ups and cancels of a booking by its reference: guessing references costs one a few minutes.
    references_per_address: str = setting("20 per hour", key="RATELIMIT_REFERENCES_PER_ADDRESS", parse=_limit)
    bookings_per_candidate: str = setting("10 per minute;60 per day", key="RATELIMIT_BOOKINGS_PER_CANDIDATE",
                                          parse=_limit)

    def for_flask_limiter(self) -> dict:
        return {"RATELIMIT_ENABLED": self.enabled, "RATELIMIT_STORAGE_URI": self.storage_uri,
                "RATELIMIT_STORAGE_OPTIONS": dict(self.storage_options), "RATELIMIT_STRATEGY": self.strategy,
                "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": self.in_memory_fallback_enabled,
                "RATELIMIT_SWALLOW_ERRORS": self.swallow_errors}


def init_app(app) -> None:
    """Configure flask-limiter and the lock-out store for this app."""
    chosen = settings.install(app, LimitSettings)
    app.config.update(chosen.for_flask_limiter())
    # A storage outage seen by an earlier app of this process (tests) must not carry over to this one.
    limiter._storage_dead = False
    limiter.init_app(app)
    app.extensions["vmo.lockout"] = make_lockout(chosen)


def make_lockout(limits: LimitSettings) -> "LoginLockout":
    """The lock-out counts where every worker sees them: the shared store (Redis) when one is configured,
    else the database (never `memory://`, which each gunicorn worker would keep on its own)."""
    if limits.storage_uri.startswith("memory://"):
        return LoginLockout(DatabaseCounters())
    return LoginLockout(storage_from_string(limits.storage_uri, **limits.storage_options))


def retry_after() -> int:
    """Seconds until the limit just breached lets a request through again (at least 1)."""
    current = limiter.current_limit
    if current is None:
        return 1
    return max(1, int(current.reset_at - time.time()))


# ---- keys: who is counted ---------------------------------------------------------------

def _digest(value: str) -> str:
    # Hashed, so a long or odd username never becomes a storage key or a log line as typed.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _username_key() -> str:
    body = request.get_json(silent=True)
    name = body.get("username") if isinstance(body, dict) else None
    return "user:" + _digest(name if isinstance(name, str) else "")


def _user_key() -> str:
    # The limit runs below @auth (vmo.http.auth), which has put the signed-in user on `g`.
    return f"account:{g.user.id}"


def _not_a_candidate() -> bool:
    user = g.get("user")
    return user is None or user.role != Role.CANDIDATE


def _setting(name: str):
    return lambda: getattr(settings.get(LimitSettings), name)


def _unset(name: str):
    return lambda: not getattr(settings.get(LimitSettings), name)


# ---- decorators for resources -------------------------------------------------------------

def _limits(blp, decorators, description: str):
    def decorator(fn):
        for limit in decorators:
            fn = limit(fn)
        return blp.alt_response(429, schema=ErrorSchema, description=description, headers=RETRY_AFTER_HEADER)(fn)

    return decorator


def login(blp):
    """Sign-in attempts per address and per username (unknown names are counted the same way)."""
    return _limits(blp, [
        limiter.limit(_setting("login_per_address"), scope="login-address",
                      exempt_when=_unset("login_per_address"),
                      error_message="too many sign-in attempts from this address; try again later"),
        limiter.limit(_setting("login_per_username"), key_func=_username_key, scope="login-username",
                      exempt_when=_unset("login_per_username"),
                      error_message="too many sign-in attempts for this username; try again later"),
    ], "too many sign-in attempts (per address or per username), or the username is locked "
       "after repeated failures; see Retry-After")


def _shared_per_address(blp, name: str, scope: str, what: str):
    return _limits(blp, [
        limiter.shared_limit(_setting(name), scope=scope, exempt_when=_unset(name),
                             error_message=f"too many {what} from this address; try again later"),
    ], f"too many {what} from this address; see Retry-After")


def signups(blp):
    """Public account sign-ups (companies and candidates together) per address."""
    return _shared_per_address(blp, "signups_per_address", "signups", "sign-ups")


def public_bookings(blp):
    """Public bookings without an account (tour pre-registrations, priority places) per address."""
    return _shared_per_address(blp, "registrations_per_address", "public-bookings", "registrations")


def reference_lookups(blp):
    """Look-ups and cancels of a booking by its reference, per address (public; staff are not counted)."""
    return _limits(blp, [
        limiter.shared_limit(_setting("references_per_address"), scope="reference-lookups",
                             exempt_when=lambda: _unset("references_per_address")() or _signed_in_staff(),
                             error_message="too many look-ups by reference from this address; try again later"),
    ], "too many look-ups or cancels by reference from this address; see Retry-After")


def _signed_in_staff() -> bool:
    user = g.get("user")
    return user is not None and user.is_staff


def candidate_bookings(blp):
    """Bookings, ballot applications, waiting-list joins, changes and cancellations per candidate account.

    Put it below `@auth(...)`: the candidate is taken from the token. Staff are not counted.
    """
    return _limits(blp, [
        limiter.shared_limit(_setting("bookings_per_candidate"), scope="candidate-bookings",
                             key_func=_user_key,
                             exempt_when=lambda: _unset("bookings_per_candidate")() or _not_a_candidate(),
                             error_message="too many bookings or changes from this account; try again later"),
    ], "too many bookings, applications or changes from this account; see Retry-After")


# ---- the sign-in lock-out -------------------------------------------------------------------

class DatabaseCounters:
    """The counter calls the lock-out makes of a `limits` storage (get, incr, clear), kept in the
    login_counters table. Each call is a transaction of its own on its own connection, committed at
    once: a failure counts even though the request that saw it then answers 401 and rolls back."""

    table = LoginCounter.__table__

    def get(self, key: str) -> int:
        now = datetime.now(timezone.utc)
        with db.engine.begin() as conn:
            return conn.scalar(select(self.table.c.value).where(self.table.c.key == key,
                                                                self.table.c.expires_at > now)) or 0

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` and return the new value; a counter past its expiry starts again from `amount`."""
        now = datetime.now(timezone.utc)
        expires = now + timedelta(seconds=expiry)
        c = self.table.c
        live = c.expires_at > now
        insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(self.table).values(key=key, value=amount, expires_at=expires).on_conflict_do_update(
            index_elements=[c.key],
            set_={"value": case((live, c.value + amount), else_=amount),
                  "expires_at": case((live, c.expires_at), else_=expires)},
        ).returning(c.value)
        with db.engine.begin() as conn:
            return conn.scalar(statement)

    def clear(self, key: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.key == key))


class LoginLockout:
    """Consecutive sign-in failures per username as typed and per address, whether or not the account exists.

    Counting unknown names exactly like real ones means a caller cannot tell them apart by the lock-out.
    Counting per (username, address) means nobody can lock `officer2` out from another machine by typing
    wrong passwords: only the address that failed is locked (guessing from many addresses is held back by
    the per-address sign-in limit and the cost of argon2). An administrator's password reset lifts the
    name's locks at every address at once: each name has an epoch in its keys, and `lift` moves it on.
    The lock's end is stored as a timestamp from `vmo.clock` (so FROZEN_NOW applies); the store's own
    expiry only clears old keys.
    """

    EPOCH_SECONDS = 30 * 24 * 3600  # an epoch key outlives any lock by far

    def __init__(self, storage):
        self.storage = storage
        # If the shared store (Redis) is down, sign-in keeps working and failures are counted here.
        self.fallback: MemoryStorage | None = None
        self.degraded = False

    def _call(self, method: str, *args, **kwargs):
        try:
            return getattr(self.storage, method)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001  (any storage error: availability first)
            if not self.degraded:
                log.warning("lock-out store unreachable (%s); counting in this process's memory meanwhile",
                            type(exc).__name__)
            self.degraded = True
            if self.fallback is None:
                self.fallback = MemoryStorage()
            return getattr(self.fallback, method)(*args, **kwargs)

    def at(self, address: str | None) -> "AddressLockout":
        """The lock-out as seen from one address (a request's)."""
        return AddressLockout(self, address or "")

    @staticmethod
    def _epoch_key(username: str) -> str:
        return f"vmo/lockout/epoch/{_digest(username)}"

    def keys(self, username: str, address: str) -> tuple[str, str]:
        epoch = self._call("get", self._epoch_key(username)) or 0
        where = _digest(f"{epoch}\0{username}\0{address}")
        return f"vmo/lockout/failures/{where}", f"vmo/lockout/until/{where}"

    def locked_until(self, keys: tuple[str, str]) -> datetime | None:
        until = self._call("get", keys[1])
        return datetime.fromtimestamp(until, timezone.utc) if until else None

    def failed(self, keys: tuple[str, str], now: datetime, max_failures: int, lock_for: timedelta
               ) -> datetime | None:
        """Count a failure; returns when the lock ends if this failure locked the name at the address."""
        failures_key, until_key = keys
        keep = max(1, math.ceil(lock_for.total_seconds()))
        if self._call("incr", failures_key, keep) < max_failures:
            return None
        self._call("clear", failures_key)
        self._call("clear", until_key)
        until = now + lock_for
        # The store keeps counters only: the lock's end goes in as the counter's value.
        self._call("incr", until_key, keep, amount=math.ceil(until.timestamp()))
        return datetime.fromtimestamp(math.ceil(until.timestamp()), timezone.utc)

    def clear(self, keys: tuple[str, str]) -> None:
        for key in keys:
            self._call("clear", key)

    def lift(self, username: str) -> None:
        """Lift the name's locks and failures at every address (an administrator's reset)."""
        self._call("incr", self._epoch_key(username), self.EPOCH_SECONDS)


class AddressLockout:
    """The lock-out of one request's address: what sign-in (vmo.accounts.services) calls."""

    def __init__(self, lockout: LoginLockout, address: str):
        self.lockout, self.address = lockout, address
        self._keys: dict[str, tuple[str, str]] = {}

    def _of(self, username: str) -> tuple[str, str]:
        if username not in self._keys:
            self._keys[username] = self.lockout.keys(username, self.address)
        return self._keys[username]

    def locked_until(self, username: str) -> datetime | None:
        return self.lockout.locked_until(self._of(username))

    def failed(self, username: str, now: datetime, max_failures: int, lock_for: timedelta) -> datetime | None:
        return self.lockout.failed(self._of(username), now, max_failures, lock_for)

    def succeeded(self, username: str) -> None:
        self.lockout.clear(self._of(username))

    def lift(self, username: str) -> None:
        self.lockout.lift(username)
        self._keys.pop(username, None)


def lockout(address: str | None = None) -> AddressLockout:
    """The sign-in lock-out as seen from `address` (default: this request's)."""
    return current_app.extensions["vmo.lockout"].at(get_remote_address() if address is None else address)
