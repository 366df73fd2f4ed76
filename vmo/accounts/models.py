"""Tables for users, bearer tokens, companies and candidates."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vmo.extensions import db
from vmo.types import UTCDateTime, utcnow

class Role(StrEnum):
    """What a user is; `User.role` stores the value."""
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OFFICER = "officer"
    COMPANY = "company"
    CANDIDATE = "candidate"


ROLES = tuple(Role)
STAFF_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.OFFICER)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str | None] = mapped_column(String(120))
    # Staff only: the badge number named in follow-up texts instead of the officer's private data.
    badge_number: Mapped[str | None] = mapped_column(String(32))
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    office = relationship("Office")
    supervisor = relationship("User", remote_side=[id])
    # A candidate's account and its candidate record (one at most; loaded with the token, see
    # accounts.services.user_for_token, so a candidate's request does not look it up again).
    candidate = relationship("Candidate", uselist=False, viewonly=True)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class Token(db.Model):
    """An opaque bearer token; only its SHA-256 is stored, so a database leak gives no sessions."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")


class LoginCounter(db.Model):
    """The sign-in lock-out's counters (vmo.limits) when no shared store (Redis) is configured: in the
    database, so every gunicorn worker sees the same failures. Keys hold a hash, never a username."""

    __tablename__ = "login_counters"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CompanyStatus(StrEnum):
    """Whether the office has checked a company: only an approved one may book anything scarce."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class Company(db.Model):
    """A company account. It signs up `pending`; an officer compares its business licence (营业执照) with
    the credit code at the counter and approves it (or declines it, with a reason texted to the contact)."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    contact_name: Mapped[str] = mapped_column(String(120))
    contact_phone: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A CompanyStatus. The server default too, so no row (a raw INSERT, an import) is approved unchecked.
    status: Mapped[str] = mapped_column(String(16), default=CompanyStatus.PENDING,
                                        server_default=CompanyStatus.PENDING.value, index=True)
    # Who decided and when (approved or declined), and why a decline.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decline_reason: Mapped[str | None] = mapped_column(String(200))

    user = relationship("User", foreign_keys=[user_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def approved(self) -> bool:
        return self.status == CompanyStatus.APPROVED


class Candidate(db.Model):
    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    phone: Mapped[str] = mapped_column(String(20))
    license_class: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")

# Driving licence classes (GA/T 1213 and the 2022 regulation); C6 is the light trailer class.
LICENSE_CLASSES = (
    "A1", "A2", "A3", "B1", "B2", "C1", "C2", "C3", "C4", "C5", "C6", "D", "E", "F", "M", "N", "P",
)


class SignupStatus(StrEnum):
    """What a sign-up's answer says: pending until the code texted to its phone is entered."""

    PENDING = "pending"


class CandidateSignup(db.Model):
    """A public sign-up waiting for its phone to prove itself.

    The account (a `User`, inactive) exists from the sign-up, so the answer and the sign-in behave the
    same whether or not the ID number already had an account. The candidate is made only when the code
    texted to `phone` comes back. When the ID number already had an account, `code_hash` stays NULL
    (no code can ever match) and the existing account's phone was told instead. The row is deleted once
    verified; the ID number is not held here any longer than that.
    """

    __tablename__ = "candidate_signups"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    license_class: Mapped[str] = mapped_column(String(4))
    # HMAC-SHA256 (keyed with the app's secret) of the code texted to the phone recorded at acceptance;
    # NULL when no code can open this sign-up (no accepted application, or the ID number has an account).
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")


class PasswordReset(db.Model):
    """A candidate's forgotten password: a code texted to the phone recorded at acceptance (one per account).

    Only a keyed hash of the code is kept, as for sign-ups; tries are counted by one UPDATE.
    """

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    code_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CodeRequest(db.Model):
    """One request that could text a code (a sign-up, a sign-in asking for a new one, a password reset),
    counted per ID number and per phone over the last day. Both are kept as keyed hashes (HMAC with the
    app's secret): the table says how often, never whose number. `phone_key` is NULL when no code went out,
    which is counted per ID number all the same, so a refusal says nothing about whether one went out."""

    __tablename__ = "code_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_key: Mapped[str] = mapped_column(String(64), index=True)
    phone_key: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
