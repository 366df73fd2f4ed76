"""Sign-up, staff accounts, passwords, sign-in with lock-out, and bearer tokens."""
import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from vmo.accounts import notifications as texts
from vmo.accounts.models import (
    LICENSE_CLASSES, ROLES, STAFF_ROLES, Candidate, CandidateSignup, Company, CompanyStatus, Role, SignupStatus,
    Token, User,
)
from vmo.audit import services as audit
from vmo.errors import (
    Conflict, Forbidden, NotFound, RuleViolation, TooManyRequests, Unauthorized, field_error, valid_field,
)
from vmo.extensions import db
from vmo.notify import services as notify
from vmo.offices.models import Office
from vmo import redact, uow, validators
from vmo.settings import setting


@dataclass(frozen=True)
class AuthSettings:
    """Sign-in settings (env `VMO_TOKEN_TTL_HOURS`, `VMO_LOGIN_*`, `VMO_ARGON2_*`), installed by accounts' register."""

    token_ttl_hours: float = setting(12.0, key="TOKEN_TTL_HOURS", low=0.01)
    # Failures in a row per username before it is locked (0 turns the lock-out off), and for how long.
    max_failures: int = setting(5, key="LOGIN_MAX_FAILURES", low=0)
    lock_minutes: float = setting(15.0, key="LOGIN_LOCK_MINUTES", low=0.01)
    # argon2id parameters; tests lower them to keep the suite fast.
    time_cost: int = setting(3, key="ARGON2_TIME_COST", low=1)
    memory_cost: int = setting(64 * 1024, key="ARGON2_MEMORY_COST", low=8)
    parallelism: int = setting(2, key="ARGON2_PARALLELISM", low=1)

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(hours=self.token_ttl_hours)

    @property
    def lock_for(self) -> timedelta:
        return timedelta(minutes=self.lock_minutes)

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(time_cost=self.time_cost, memory_cost=self.memory_cost,
                              parallelism=self.parallelism)


# A hash to verify against when the username is unknown, so timing does not reveal which names exist:
# made once per settings, so an unknown name costs one verify, exactly like a real one (not a hash too).
_DUMMY_HASHES: dict[AuthSettings, str] = {}


def hash_password(password: str, settings: AuthSettings) -> str:
    return settings.hasher().hash(password)


def _dummy_hash(settings: AuthSettings) -> str:
    dummy = _DUMMY_HASHES.get(settings)
    if dummy is None:
        dummy = _DUMMY_HASHES[settings] = hash_password("not-a-real-password", settings)
    return dummy


def _check_password(user: User | None, password: str, settings: AuthSettings) -> bool:
    hasher = settings.hasher()
    if user is None:
        dummy = _dummy_hash(settings)
        try:
            hasher.verify(dummy, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str) -> None:
    if len(password) < 8:
        raise field_error("password", "must be at least 8 characters")


def new_user(office: Office, username: str, password: str, role: str, settings: AuthSettings, **fields) -> User:
    if role not in ROLES:
        raise field_error("role", f"must be one of {', '.join(ROLES)}")
    check_password_rules(password)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"username {username!r} is taken", fields={"username": ["already taken"]})
    user = User(office_id=office.id, username=username, role=role,
                password_hash=hash_password(password, settings), **fields)
    db.session.add(user)
    db.session.flush()
    return user


def register_company(office: Office, data: dict, settings: AuthSettings) -> Company:
    credit_code = valid_field("credit_code", validators.validate_credit_code, data["credit_code"])
    phone = valid_field("contact_phone", validators.validate_mobile, data["contact_phone"])
    if db.session.scalar(select(Company.id).where(Company.credit_code == credit_code)) is not None:
        raise Conflict("a company with this credit code is already registered",
                       fields={"credit_code": ["already registered"]})
    user = new_user(office, data["username"], data["password"], Role.COMPANY, settings,
                     display_name=data["name"])
    # Pending until an officer has checked the business licence (vmo.accounts.companies).
    company = Company(office_id=office.id, user_id=user.id, name=data["name"], credit_code=credit_code,
                      contact_name=data["contact_name"], contact_phone=phone, status=CompanyStatus.PENDING)
    db.session.add(company)
    db.session.flush()
    audit.record("company.signup", "company", company.id, actor=user,
                 after={"name": company.name, "credit_code": credit_code, "username": user.username})
    uow.flush()  # a concurrent duplicate is a 409 too (vmo.integrity)
    return company


def checked_candidate(data: dict, today):
    """The sign-up's ID number (read) and phone (normalised), or a 422 naming the field."""
    rid = valid_field("id_number", validators.validate_resident_id, data["id_number"], today=today)
    phone = valid_field("phone", validators.validate_mobile, data["phone"])
    if data["license_class"] not in LICENSE_CLASSES:
        raise field_error("license_class", f"must be one of {', '.join(LICENSE_CLASSES)}")
    return rid, phone


def register_candidate(office: Office, data: dict, settings: AuthSettings, today) -> Candidate:
    """A candidate account made by the office itself (the demo, a counter): usable at once.

    The public sign-up is `vmo.accounts.signup.sign_up`; this one may say the ID number is registered,
    since only the office calls it.
    """
    rid, phone = checked_candidate(data, today)
    if db.session.scalar(select(Candidate.id).where(Candidate.id_number == rid.number)) is not None:
        raise Conflict("a candidate with this ID number is already registered",
                       fields={"id_number": ["already registered"]})
    user = new_user(office, data["username"], data["password"], Role.CANDIDATE, settings,
                     display_name=data["name"])
    candidate = new_candidate(user, data["name"], rid.number, phone, data["license_class"])
    audit.record("candidate.signup", "candidate", candidate.id, actor=user,
                 after={"name": candidate.name, "license_class": candidate.license_class,
                        "username": user.username})
    uow.flush()  # a concurrent duplicate is a 409 too (vmo.integrity)
    return candidate


def new_candidate(user: User, name: str, id_number: str, phone: str, license_class: str,
                   now: datetime | None = None) -> Candidate:
    rid = validators.validate_resident_id(id_number)
    candidate = Candidate(office_id=user.office_id, user_id=user.id, name=name, id_number=rid.number,
                          birth_date=rid.birth_date, sex=rid.sex, phone=phone, license_class=license_class,
                          **({"created_at": now} if now is not None else {}))
    db.session.add(candidate)
    db.session.flush()
    return candidate


# A sign-up waits this long for its code; then it lapses and frees its username (vmo.accounts.signup).
PENDING_FOR = timedelta(hours=24)


def pending_signup(user: User, now: datetime) -> CandidateSignup | None:
    """The account's sign-up waiting for its code, unless it has lapsed."""
    return db.session.scalar(select(CandidateSignup).where(CandidateSignup.user_id == user.id,
                                                           CandidateSignup.created_at > now - PENDING_FOR))


def create_staff(office: Office, username: str, password: str, role: str, settings: AuthSettings, *,
                 display_name: str | None = None, badge_number: str | None = None,
                 supervisor_username: str | None = None, actor: User | None = None) -> User:
    if role not in STAFF_ROLES:
        raise field_error("role", f"staff role must be one of {', '.join(STAFF_ROLES)}")
    supervisor_id = None
    if supervisor_username:
        supervisor = db.session.scalar(select(User).where(User.username == supervisor_username,
                                                          User.office_id == office.id))
        if supervisor is None or supervisor.role not in (Role.SUPERVISOR, Role.ADMIN):
            raise field_error("supervisor", f"{supervisor_username!r} is not a supervisor of this office")
        supervisor_id = supervisor.id
    user = new_user(office, username, password, role, settings, display_name=display_name,
                     badge_number=badge_number, supervisor_id=supervisor_id)
    audit.record("staff.create", "user", user.id, actor=actor, office_id=office.id,
                 after={"username": username, "role": role, "badge_number": badge_number,
                        "supervisor_id": supervisor_id})
    uow.flush()  # a concurrent duplicate is a 409 too (vmo.integrity)
    return user


def reset_password(username: str, password: str, settings: AuthSettings, now: datetime, lockout=None) -> User:
    """An administrator's reset (the person proved who they are another way): a new password, every
    session of the account ended, and the sign-in lock-out on the name lifted at every address."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    check_password_rules(password)
    if lockout is not None:
        # Before this transaction writes: the lock-out store commits on a connection of its own,
        # which on SQLite would wait for this transaction's write lock.
        lockout.lift(username)
    user.password_hash = hash_password(password, settings)
    db.session.execute(update(Token).where(Token.user_id == user.id, Token.revoked_at.is_(None))
                       .values(revoked_at=now).execution_options(synchronize_session=False))
    audit.record("user.password_reset", "user", user.id, office_id=user.office_id)
    uow.flush()
    return user


def list_staff(office_id: int):
    return (select(User).where(User.office_id == office_id, User.role.in_(STAFF_ROLES))
            .order_by(User.username))


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    user: User


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(username: str, password: str, settings: AuthSettings, now: datetime, lockout=None) -> User:
    """The account if the password is right: active, or waiting for its phone's code; else 401 (or 429).

    `lockout` (vmo.limits.AddressLockout) counts failures per username as typed and per address, for
    unknown names exactly as for real ones, so the lock-out never tells a caller which names exist. A
    sign-up that lapsed answers as an unknown name.
    """
    if lockout is not None:
        until = lockout.locked_until(username)
        if until is not None and until > now:
            retry = int((until - now).total_seconds()) + 1
            raise TooManyRequests("too many failed sign-ins; try again later", retry_after=retry)
    user = db.session.scalar(select(User).where(User.username == username))
    if not _check_password(user, password, settings) or (
            user is not None and not user.active and pending_signup(user, now) is None):
        locked_until = None
        if lockout is not None and settings.max_failures > 0:
            locked_until = lockout.failed(username, now, settings.max_failures, settings.lock_for)
        if user is not None and locked_until is not None:
            audit.record("user.locked", "user", user.id, office_id=user.office_id,
                         after={"locked_until": locked_until})
            # Deliberately committed here, outside the request's unit of work (vmo.uow): the sign-in
            # answers 401 and rolls back, but the lock-out must stay on the audit record.
            db.session.commit()
        raise Unauthorized("wrong username or password")
    if lockout is not None:
        lockout.succeeded(username)
    return user


def login(username: str, password: str, settings: AuthSettings, now: datetime, lockout=None,
          pending=None) -> IssuedToken:
    """Check the password; after `max_failures` misses in a row the username is locked for `lock_for`.

    An account still waiting for its sign-up code is handed to `pending(user, now)` after the right
    password only (vmo.accounts.signup.at_sign_in: a 403, and a new code if the last one is spent).
    """
    user = authenticate(username, password, settings, now, lockout)
    if not user.active:
        if pending is None:
            raise Forbidden("the account is not open yet", reason="phone_unverified")
        pending(user, now)
    return issue_token(user, settings, now)


def issue_token(user: User, settings: AuthSettings, now: datetime) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    expires_at = now + settings.token_ttl
    db.session.add(Token(user_id=user.id, token_hash=_token_hash(token), created_at=now, expires_at=expires_at))
    if user.is_staff:  # staff sessions are part of the audit trail (never the token itself)
        audit.record("auth.login", "user", user.id, actor=user, after={"expires_at": expires_at})
    uow.flush()
    return IssuedToken(token, expires_at, user)


def user_for_token(token: str, now: datetime) -> User | None:
    """The active user a live token belongs to, with their office and (a candidate's) candidate record,
    in one query (every request pays it)."""
    return db.session.scalar(_user_for_token_statement(), token_parameters(token, now))


def live_token_rules() -> list:
    """What makes a token sign its user in, as SQL over `users` joined to `tokens` (on Token.user_id):
    its hash (parameter `token_hash`), not revoked, not expired at `now` (parameter), the user active. For
    an operation that reads its caller in a statement of its own (`Caller`); `token_parameters` fills them."""
    return [Token.token_hash == bindparam("token_hash"), Token.revoked_at.is_(None),
            Token.expires_at > bindparam("now", type_=Token.expires_at.type), User.active.is_(True)]


def token_parameters(token: str, now: datetime) -> dict:
    return {"token_hash": _token_hash(token), "now": now}


@dataclass(frozen=True, slots=True)
class CandidateRef:
    id: int


@dataclass(frozen=True, slots=True)
class Caller:
    """The signed-in user as an operation's own read gave them, with the token's rules (`live_token_rules`)
    checked in it: what `@auth`, the rate limits, idempotency and the audit read of a user, without
    loading the ORM objects (see `vmo.http.auth.auth(load=...)`)."""

    id: int
    office_id: int
    username: str
    role: str
    candidate: CandidateRef | None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


@functools.cache
def _user_for_token_statement():
    # Built once per process (on first use, once the mappers are configured): building and keying a
    # statement per request cost more CPU than running it.
    return (select(User).join(Token, Token.user_id == User.id)
            .options(joinedload(User.office), joinedload(User.candidate))
            .where(*live_token_rules()))


def logout(token: str, now: datetime) -> None:
    row = db.session.scalar(select(Token).where(Token.token_hash == _token_hash(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        if row.user.is_staff:
            audit.record("auth.logout", "user", row.user_id, actor=row.user)
        uow.flush()


def company_of(user: User) -> Company:
    company = db.session.scalar(select(Company).where(Company.user_id == user.id))
    if company is None:
        raise NotFound("no company for this account")
    return company


def candidate_of(user: User) -> Candidate:
    candidate = user.candidate  # loaded with the token on a request; else one query
    if candidate is None:
        raise NotFound("no candidate for this account")
    return candidate
