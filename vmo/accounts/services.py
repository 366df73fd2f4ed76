"""Sign-up, staff accounts, passwords, sign-in with lock-out, and bearer tokens."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
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


def _check_password_rules(password: str) -> None:
    if len(password) < 8:
        raise field_error("password", "must be at least 8 characters")


def _new_user(office: Office, username: str, password: str, role: str, settings: AuthSettings, **fields) -> User:
    if role not in ROLES:
        raise field_error("role", f"must be one of {', '.join(ROLES)}")
    _check_password_rules(password)
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
    user = _new_user(office, data["username"], data["password"], Role.COMPANY, settings,
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


def _checked_candidate(data: dict, today):
    """The sign-up's ID number (read) and phone (normalised), or a 422 naming the field."""
    rid = valid_field("id_number", validators.validate_resident_id, data["id_number"], today=today)
    phone = valid_field("phone", validators.validate_mobile, data["phone"])
    if data["license_class"] not in LICENSE_CLASSES:
        raise field_error("license_class", f"must be one of {', '.join(LICENSE_CLASSES)}")
    return rid, phone


def register_candidate(office: Office, data: dict, settings: AuthSettings, today) -> Candidate:
    """A candidate account made by the office itself (the demo, a counter): usable at once.

    The public sign-up is `sign_up_candidate`; this one may say the ID number is registered, since
    only the office calls it.
    """
    rid, phone = _checked_candidate(data, today)
    if db.session.scalar(select(Candidate.id).where(Candidate.id_number == rid.number)) is not None:
        raise Conflict("a candidate with this ID number is already registered",
                       fields={"id_number": ["already registered"]})
    user = _new_user(office, data["username"], data["password"], Role.CANDIDATE, settings,
                     display_name=data["name"])
    candidate = _new_candidate(user, data["name"], rid.number, phone, data["license_class"])
    audit.record("candidate.signup", "candidate", candidate.id, actor=user,
                 after={"name": candidate.name, "license_class": candidate.license_class,
                        "username": user.username})
    uow.flush()  # a concurrent duplicate is a 409 too (vmo.integrity)
    return candidate


def _new_candidate(user: User, name: str, id_number: str, phone: str, license_class: str,
                   now: datetime | None = None) -> Candidate:
    rid = validators.validate_resident_id(id_number)
    candidate = Candidate(office_id=user.office_id, user_id=user.id, name=name, id_number=rid.number,
                          birth_date=rid.birth_date, sex=rid.sex, phone=phone, license_class=license_class,
                          **({"created_at": now} if now is not None else {}))
    db.session.add(candidate)
    db.session.flush()
    return candidate


# ---- the public sign-up: accepted alike, usable once the phone proves itself ------------------

CODE_TTL = timedelta(minutes=15)
CODE_TRIES = 5
WRONG_CODE = "wrong or expired code"


def sign_up_candidate(office: Office, data: dict, settings: AuthSettings, today, now: datetime) -> dict:
    """Accept a public sign-up: an inactive account, and a code texted to the phone given.

    The answer is the same whether or not the ID number already has an account:
    it must not confirm to a stranger that a person is registered. When it has one, no code is sent;
    the existing account's phone is told instead, and the new account can never be verified. Only a
    taken username is a 409 (a username is not personal data).
    """
    rid, phone = _checked_candidate(data, today)
    owner = db.session.scalar(select(Candidate).where(Candidate.id_number == rid.number))
    user = _new_user(office, data["username"], data["password"], Role.CANDIDATE, settings,
                     display_name=data["name"], active=False)
    signup = CandidateSignup(office_id=office.id, user_id=user.id, name=data["name"], id_number=rid.number,
                             phone=phone, license_class=data["license_class"], code_hash=None,
                             code_expires_at=now + CODE_TTL, tries=0, created_at=now)
    db.session.add(signup)
    db.session.flush()
    if owner is None:
        _send_code(office, signup, now)
    else:
        _tell_owner(owner, signup)
    audit.record("candidate.signup", "user", user.id, actor=user,
                 after={"name": signup.name, "license_class": signup.license_class, "username": user.username,
                        "existing_candidate_id": owner.id if owner is not None else None})
    uow.flush()  # a concurrent same username is a 409 too (vmo.integrity)
    return {"status": SignupStatus.PENDING, "username": user.username, "name": signup.name,
            "id_number": rid.number[:6] + "********" + rid.number[-4:], "phone": redact.mask_phone(phone),
            "license_class": signup.license_class, "office": office.code,
            "message": f"如信息无误，验证码将以短信发送至尾号{phone[-4:]}的手机，"
                       f"{CODE_TTL.seconds // 60}分钟内有效；输入验证码后账号即可使用。"}


def _code_hash(signup: CandidateSignup, code: str) -> str:
    return hashlib.sha256(f"{signup.id}:{code}".encode()).hexdigest()


def _send_code(office: Office, signup: CandidateSignup, now: datetime) -> None:
    code = f"{secrets.randbelow(10 ** 6):06d}"
    signup.code_hash = _code_hash(signup, code)
    signup.code_expires_at = now + CODE_TTL
    signup.tries = 0
    notify.queue(office.id, signup.phone,
                 texts.SIGNUP_CODE.render(code=code, minutes=CODE_TTL.seconds // 60),
                 kind="candidate_code", key=f"candidate_code:{signup.id}:{signup.code_hash[:16]}",
                 subject_type="candidate_signup", subject_id=signup.id)


def _tell_owner(owner: Candidate, signup: CandidateSignup) -> None:
    """The ID number's existing account is told by text, once per attempt; no code is ever sent."""
    signup.code_hash = None
    office = db.session.get(Office, owner.office_id)
    notify.queue(owner.office_id, owner.phone, texts.ID_NUMBER_REUSED.render(phone=office.phone or "本所窗口"),
                 kind="candidate_id_reused", key=f"candidate_id_reused:{signup.id}",
                 subject_type="candidate", subject_id=owner.id)


def _pending_signup(user: User) -> CandidateSignup | None:
    return db.session.scalar(select(CandidateSignup).where(CandidateSignup.user_id == user.id))


def verify_candidate(username: str, password: str, code: str, settings: AuthSettings, now: datetime,
                     lockout=None) -> "IssuedToken":
    """Enter the texted code: the candidate is made, the account opens, and it is signed in.

    A wrong password answers as a wrong sign-in (and counts toward the lock-out); a wrong, used-up or
    expired code is a 422, and so is any code for a sign-up whose ID number already had an account.
    """
    user = _authenticate(username, password, settings, now, lockout)
    if user.active:  # verified already (a retried request): a sign-in
        return _issue_token(user, settings, now)
    signup = _pending_signup(user)
    good = (signup.code_hash is not None and signup.code_expires_at > now and signup.tries < CODE_TRIES
            and secrets.compare_digest(signup.code_hash, _code_hash(signup, code.strip())))
    if good:
        owner = db.session.scalar(select(Candidate).where(Candidate.id_number == signup.id_number))
        if owner is not None:  # another sign-up with this ID number was verified first
            _tell_owner(owner, signup)
            good = False
    if not good:
        signup.tries += 1
        # Deliberately committed here, outside the request's unit of work (vmo.uow): the answer is a 422
        # (rolled back), but the try must count and the owner's text must go.
        db.session.commit()
        raise RuleViolation(f"{WRONG_CODE}; sign in again for a new one",
                            fields={"code": [WRONG_CODE]}, reason="wrong_code")
    candidate = _new_candidate(user, signup.name, signup.id_number, signup.phone, signup.license_class, now)
    user.active = True
    db.session.delete(signup)  # the ID number is now held by the candidate only
    audit.record("candidate.verified", "candidate", candidate.id, actor=user,
                 after={"name": candidate.name, "license_class": candidate.license_class,
                        "username": user.username})
    return _issue_token(user, settings, now)  # a concurrent verify of one ID number: 409 (vmo.integrity)


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
    user = _new_user(office, username, password, role, settings, display_name=display_name,
                     badge_number=badge_number, supervisor_id=supervisor_id)
    audit.record("staff.create", "user", user.id, actor=actor, office_id=office.id,
                 after={"username": username, "role": role, "badge_number": badge_number,
                        "supervisor_id": supervisor_id})
    uow.flush()  # a concurrent duplicate is a 409 too (vmo.integrity)
    return user


def reset_password(username: str, password: str, settings: AuthSettings, now: datetime, lockout=None) -> User:
    """An administrator's reset (the person proved who they are another way): a new password, every
    session of the account ended, and the sign-in lock-out on the name lifted."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    _check_password_rules(password)
    if lockout is not None:
        # Before this transaction writes: the lock-out store commits on a connection of its own,
        # which on SQLite would wait for this transaction's write lock.
        lockout.succeeded(username)
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


def _authenticate(username: str, password: str, settings: AuthSettings, now: datetime, lockout=None) -> User:
    """The account if the password is right: active, or waiting for its phone's code; else 401 (or 429).

    `lockout` (vmo.limits.LoginLockout) counts failures per username as typed, for unknown names
    exactly as for real ones, so the lock-out never tells a caller which names exist.
    """
    if lockout is not None:
        until = lockout.locked_until(username)
        if until is not None and until > now:
            retry = int((until - now).total_seconds()) + 1
            raise TooManyRequests("too many failed sign-ins; try again later", retry_after=retry)
    user = db.session.scalar(select(User).where(User.username == username))
    if not _check_password(user, password, settings) or (
            user is not None and not user.active and _pending_signup(user) is None):
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


def login(username: str, password: str, settings: AuthSettings, now: datetime, lockout=None) -> IssuedToken:
    """Check the password; after `max_failures` misses in a row the username is locked for `lock_for`.

    A sign-up whose phone has not proved itself yet is a 403 after the right password only (it tells
    the caller nothing they did not set themselves); a new code is texted if the last one is spent.
    """
    user = _authenticate(username, password, settings, now, lockout)
    if not user.active:
        signup = _pending_signup(user)
        if signup.code_hash is not None and (signup.code_expires_at <= now or signup.tries >= CODE_TRIES):
            _send_code(user.office, signup, now)
            # Deliberately committed here, outside the request's unit of work (vmo.uow): the answer is
            # a 403 (rolled back), but the new code must be kept and texted.
            db.session.commit()
        raise Forbidden("the phone number is not verified yet: enter the code texted to it",
                        reason="phone_unverified", phone=redact.mask_phone(signup.phone))
    return _issue_token(user, settings, now)


def _issue_token(user: User, settings: AuthSettings, now: datetime) -> IssuedToken:
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
    return db.session.scalar(
        select(User).join(Token, Token.user_id == User.id)
        .options(joinedload(User.office), joinedload(User.candidate))
        .where(Token.token_hash == _token_hash(token), Token.revoked_at.is_(None), Token.expires_at > now,
               User.active.is_(True)))


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
