"""A candidate's public sign-up and forgotten password: bound to the office's acceptance (受理), and
answered alike whoever asks.

An account opens only for an ID number whose application the office accepted, and only with the code
texted to the phone recorded at acceptance, never to the phone typed at sign-up. Every other sign-up
(no acceptance yet, or an ID number that already has an account) gets the same 201 pending answer and
no code, and can never open; it holds nothing (not the ID number, and its username only until it lapses
after `PENDING_FOR`), so whoever types another person's number gains nothing and the owner's own
sign-up opens normally. Codes: vmo.accounts.codes.
"""
from datetime import datetime

from sqlalchemy import delete, select, update

from vmo import redact, uow, validators
from vmo.accounts import codes as phone_codes
from vmo.accounts import notifications as texts
from vmo.accounts.codes import Codes
from vmo.accounts.models import Candidate, CandidateSignup, PasswordReset, Role, SignupStatus, Token, User
from vmo.accounts.services import (
    PENDING_FOR, AuthSettings, IssuedToken, authenticate, check_password_rules, checked_candidate, hash_password,
    issue_token, new_candidate, new_user, pending_signup,
)
from vmo.audit import services as audit
from vmo.audit.models import AuditEntry
from vmo.errors import Forbidden, RuleViolation, valid_field
from vmo.extensions import db
from vmo.notify import services as notify
from vmo.offices.models import Office

WRONG_CODE = "wrong or expired code"
MINUTES = int(phone_codes.TTL.total_seconds()) // 60
SIGNUP_MESSAGE = (f"如您已在车管所窗口或驾校办理受理，验证码将发送至受理时登记的手机，{MINUTES}分钟内有效，"
                  "输入验证码后账号即可使用；尚未受理的，请先到车管所窗口或驾校办理。")
RESET_MESSAGE = f"如该身份证号已开通考试账号，验证码将发送至受理时登记的手机，{MINUTES}分钟内有效。"


def _wrong_code() -> RuleViolation:
    return RuleViolation(f"{WRONG_CODE}; sign in again for a new one", fields={"code": [WRONG_CODE]},
                         reason="wrong_code")


def _owner(id_number: str) -> Candidate | None:
    return db.session.scalar(select(Candidate).where(Candidate.id_number == id_number))


def _lapse(now: datetime) -> None:
    """Sign-ups that waited longer than `PENDING_FOR` go, with their never-opened accounts: the usernames
    are free again. (Their audit entries stay, without the account as actor.)"""
    lapsed = list(db.session.scalars(select(CandidateSignup.user_id)
                                     .where(CandidateSignup.created_at <= now - PENDING_FOR)))
    if not lapsed:
        return
    db.session.execute(update(AuditEntry).where(AuditEntry.actor_id.in_(lapsed)).values(actor_id=None)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(CandidateSignup).where(CandidateSignup.user_id.in_(lapsed))
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(User).where(User.id.in_(lapsed), User.active.is_(False))
                       .execution_options(synchronize_session=False))


def _new_code(signup: CandidateSignup, codes: Codes, now: datetime) -> None:
    """A fresh code for the sign-up, texted to the phone recorded at acceptance; with no acceptance (or an
    ID number that has an account) the same request is counted and nothing goes out."""
    accepted = codes.acceptance(signup.office_id, signup.id_number) if _owner(signup.id_number) is None else None
    phone_codes.take_request(codes, signup.id_number, accepted.phone if accepted else None, now)
    signup.code_expires_at, signup.tries, signup.code_hash = now + phone_codes.TTL, 0, None
    if accepted is not None:
        code = phone_codes.new_code()
        signup.code_hash = codes.digest("signup", signup.id, code)
        phone_codes.text(signup.office_id, accepted.phone, texts.SIGNUP_CODE, code, kind="candidate_code",
                         subject_type="candidate_signup", subject_id=signup.id)


def _tell_owner(owner: Candidate, signup: CandidateSignup) -> None:
    """The ID number's existing account is told by text, once per sign-up; no code is ever sent."""
    signup.code_hash = None
    office = db.session.get(Office, owner.office_id)
    notify.queue(owner.office_id, owner.phone, texts.ID_NUMBER_REUSED.render(phone=office.phone or "本所窗口"),
                 kind="candidate_id_reused", key=f"candidate_id_reused:{signup.id}",
                 subject_type="candidate", subject_id=owner.id)


def sign_up(office: Office, data: dict, settings: AuthSettings, today, now: datetime, codes: Codes) -> dict:
    """Take a public sign-up: an account that stays shut until the code texted to the accepted phone is
    entered. The answer is the same for every ID number (accepted or not, with an account or not): only
    a taken username is a 409 (a username is not personal data), and too many requests for one ID number
    a 429."""
    rid, typed_phone = checked_candidate(data, today)
    _lapse(now)
    owner = _owner(rid.number)
    user = new_user(office, data["username"], data["password"], Role.CANDIDATE, settings,
                    display_name=data["name"], active=False)
    signup = CandidateSignup(office_id=office.id, user_id=user.id, name=data["name"], id_number=rid.number,
                             phone=typed_phone, license_class=data["license_class"], code_hash=None,
                             code_expires_at=now, tries=0, created_at=now)
    db.session.add(signup)
    db.session.flush()
    _new_code(signup, codes, now)
    if owner is not None:
        _tell_owner(owner, signup)
    # No actor: the account may lapse unopened, and the entry stays.
    audit.record("candidate.signup", "user", user.id, office_id=office.id,
                 after={"username": user.username, "license_class": signup.license_class,
                        "accepted": signup.code_hash is not None,
                        "existing_candidate_id": owner.id if owner is not None else None})
    uow.flush()  # a concurrent same username is a 409 too (vmo.integrity)
    return {"status": SignupStatus.PENDING, "username": user.username, "name": signup.name,
            "id_number": redact.mask_id_number(rid.number), "phone": redact.mask_phone(typed_phone),
            "license_class": signup.license_class, "office": office.code, "message": SIGNUP_MESSAGE}


def at_sign_in(user: User, now: datetime, codes: Codes) -> None:
    """The right password of an account still waiting for its code: 403, after a new code when the last
    one is spent (expired or tried out), exactly as for a sign-up that was never accepted."""
    signup = pending_signup(user, now)
    if signup.code_expires_at <= now or signup.tries >= phone_codes.TRIES:
        _new_code(signup, codes, now)
        # Deliberately committed here, outside the request's unit of work (vmo.uow): the answer is a 403
        # (rolled back), but the new code must be kept and texted, and the request counted.
        db.session.commit()
    raise Forbidden("the account is not open yet: enter the code texted to the phone recorded when the office "
                    "accepted your application", reason="phone_unverified",
                    phone=redact.mask_phone(signup.phone))


def verify(username: str, password: str, code: str, settings: AuthSettings, now: datetime, codes: Codes,
           lockout=None) -> IssuedToken:
    """Enter the texted code: the candidate is made from the acceptance, the account opens and is signed in.

    A wrong password answers as a wrong sign-in (and counts toward the lock-out); a wrong, used-up or
    expired code is a 422, and so is any code for a sign-up that was not accepted or whose ID number
    already has an account. Each try is counted by one UPDATE before any code is compared.
    """
    user = authenticate(username, password, settings, now, lockout)
    if user.active:  # verified already (a retried request): a sign-in
        return issue_token(user, settings, now)
    signup = pending_signup(user, now)
    counted = phone_codes.count_try(CandidateSignup, signup.id)
    if counted is None:  # verified at the same moment by a parallel request
        db.session.refresh(user)
        if user.active:
            return issue_token(user, settings, now)
        raise _wrong_code()
    tries, stored, expires_at = counted
    accepted = None
    if tries <= phone_codes.TRIES and expires_at > now and codes.matches(stored, "signup", signup.id, code):
        accepted = codes.acceptance(signup.office_id, signup.id_number)
        owner = _owner(signup.id_number)
        if owner is not None:  # another sign-up of this ID number opened first
            _tell_owner(owner, signup)
            accepted = None
    if accepted is None:
        # Deliberately committed here, outside the request's unit of work (vmo.uow): the answer is a 422
        # (rolled back), but the try must count and the owner's text must go.
        db.session.commit()
        raise _wrong_code()
    candidate = new_candidate(user, accepted.name, signup.id_number, accepted.phone, accepted.license_class, now)
    user.active, user.display_name = True, accepted.name
    db.session.delete(signup)  # the ID number is now held by the candidate only
    audit.record("candidate.verified", "candidate", candidate.id, actor=user,
                 after={"license_class": candidate.license_class, "username": user.username})
    return issue_token(user, settings, now)  # a concurrent verify of one ID number: 409 (vmo.integrity)


# ---- a forgotten password: a code to the accepted phone -----------------------------------------------

def _account(id_number: str) -> tuple[Candidate, User] | None:
    found = db.session.execute(select(Candidate, User).join(User, User.id == Candidate.user_id)
                               .where(Candidate.id_number == id_number, User.active.is_(True))).one_or_none()
    return tuple(found) if found is not None else None


def request_password_reset(id_number: str, today, now: datetime, codes: Codes) -> dict:
    """Text a code to the phone recorded at acceptance if the ID number has an account; the answer is the
    same either way, and so is the count of requests (429 after `PER_DAY` a day)."""
    rid = valid_field("id_number", validators.validate_resident_id, id_number, today=today)
    account = _account(rid.number)
    accepted = codes.acceptance(account[0].office_id, rid.number) if account is not None else None
    phone_codes.take_request(codes, rid.number, accepted.phone if accepted else None, now)
    if accepted is not None:
        candidate, user = account
        reset = db.session.scalar(select(PasswordReset).where(PasswordReset.user_id == user.id))
        if reset is None:
            reset = PasswordReset(office_id=user.office_id, user_id=user.id, created_at=now)
            db.session.add(reset)
        reset.code_hash, reset.code_expires_at, reset.tries = "", now + phone_codes.TTL, 0
        db.session.flush()
        code = phone_codes.new_code()
        reset.code_hash = codes.digest("reset", reset.id, code)
        phone_codes.text(candidate.office_id, accepted.phone, texts.RESET_CODE, code, kind="candidate_reset_code",
                         subject_type="candidate", subject_id=candidate.id)
        audit.record("user.password_reset_asked", "user", user.id, office_id=user.office_id)
    uow.flush()
    return {"status": SignupStatus.PENDING, "message": RESET_MESSAGE}


def confirm_password_reset(id_number: str, code: str, password: str, settings: AuthSettings, now: datetime,
                           codes: Codes) -> IssuedToken:
    """A new password with the texted code: every session of the account ends, and this one begins. Any
    other ID number, a wrong, used-up or expired code: the same 422."""
    check_password_rules(password)
    account = _account(id_number.strip().upper())
    reset = None if account is None else db.session.scalar(
        select(PasswordReset).where(PasswordReset.user_id == account[1].id))
    counted = phone_codes.count_try(PasswordReset, reset.id) if reset is not None else None
    if counted is None:
        raise _wrong_code()
    tries, stored, expires_at = counted
    if not (tries <= phone_codes.TRIES and expires_at > now and codes.matches(stored, "reset", reset.id, code)):
        # Deliberately committed here, outside the request's unit of work (vmo.uow): the answer is a 422
        # (rolled back), but the try must count.
        db.session.commit()
        raise _wrong_code()
    _, user = account
    user.password_hash = hash_password(password, settings)
    db.session.execute(update(Token).where(Token.user_id == user.id, Token.revoked_at.is_(None))
                       .values(revoked_at=now).execution_options(synchronize_session=False))
    db.session.delete(reset)
    audit.record("user.password_reset", "user", user.id, actor=user, after={"by": "code texted to the phone"})
    return issue_token(user, settings, now)
