"""A booking's one read and one write, in Core statements built once per process.

The booking is the request a release minute is made of, so it costs as few statements and as little
Python as its rules allow (docs/performance.md):

- `read_caller` (`read` at the counter): one SELECT brings everything the rules need: the bearer token's
  user, the session with its office and seats (and its waiting list's length), the candidate (the
  caller, or at the counter the one named), their latest learner permit with the subjects passed under
  it, when their application was accepted (受理), and their bookings here (the history the rules of
  Order 162 count). On PostgreSQL it also draws the new booking's id from its sequence when the booking
  may go ahead, so that the write can be one statement.
- `write`: the seat's conditional UPDATE (the booking core's `TAKE`: `booked + 1 <= capacity`, no row
  back = no seat), the booking's INSERT, its audit row and its confirmation text (the SMS opt-out read
  inside that INSERT): one statement on PostgreSQL (data-modifying CTEs, each INSERT selecting from the
  one before, so nothing is written unless the seat was taken), four on SQLite (which has no such CTEs).

The rules themselves stay where they are (`services.book`, `eligibility`): these are their inputs and
their outputs, as plain values instead of ORM objects.
"""
from collections import namedtuple
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean, Sequence, String, and_, bindparam, case, cast, exists, func, insert, literal, or_, select, true,
)
from sqlalchemy.dialects import postgresql

from schedules.exams.models import (
    Allocation, Application, BookingStatus, ExamBooking, ExamSession, LearnerPermit, PermitPass,
)
from vmo.accounts import services as accounts
from vmo.accounts.models import Candidate, Token, User
from vmo.audit.models import AuditEntry
from vmo.booking import services as booking
from vmo.booking.models import Slot
from vmo.clock import zone_named
from vmo.extensions import db
from vmo.notify import services as notify
from vmo.notify.models import OutboxMessage
from vmo.offices.models import Office

_SESSIONS, _OFFICES, _SLOTS = ExamSession.__table__, Office.__table__, Slot.__table__
_CANDIDATES, _PERMITS, _PASSES = Candidate.__table__, LearnerPermit.__table__, PermitPass.__table__
_BOOKINGS, _AUDIT, _OUTBOX = ExamBooking.__table__, AuditEntry.__table__, OutboxMessage.__table__

SESSION_COLUMNS = ("id", "office_id", "subject", "license_class", "class_list", "starts_at", "ends_at", "local_date",
                   "is_weekend", "venue", "kind", "allocation", "applications_close_at", "drawn_at", "status",
                   "cancelled_at", "cancel_reason", "slot_id")
BOOKING_COLUMNS = ("office_id", "session_id", "candidate_id", "subject", "status", "active_key", "queue_position",
                   "changes", "sequence", "created_at", "updated_at", "booked_by_id")
AUDIT_COLUMNS = ("office_id", "actor_id", "actor_username", "action", "entity", "entity_id", "before", "after",
                 "request_id", "at")
OUTBOX_COLUMNS = ("office_id", "key", "kind", "phone", "body", "length", "segments", "subject_type", "subject_id",
                  "created_at", "not_before")
# Separators inside the aggregated history and passes: none of the values can hold them.
ITEM, FIELD = ";", "|"

# One booking of the candidate, as `eligibility._record` reads it (active_key: set or None).
HistoryRow = namedtuple("HistoryRow", "id subject status outcome active_key local_date")
PermitPassFacts = namedtuple("PermitPassFacts", "subject passed_on score")


@dataclass(slots=True)
class Seats:
    capacity: int
    booked: int

    @property
    def available(self) -> int:
        return max(self.capacity - self.booked, 0)


@dataclass(slots=True)
class OfficeFacts:
    id: int
    code: str
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return zone_named(self.timezone)


@dataclass(slots=True)
class SessionFacts:
    """The session as the rules, the text and the answer read it (an `ExamSession`'s attribute names)."""

    id: int
    office_id: int
    subject: int
    license_class: str
    class_list: str
    starts_at: datetime
    ends_at: datetime
    local_date: date
    is_weekend: bool
    venue: str
    kind: str
    allocation: str
    applications_close_at: datetime | None
    drawn_at: datetime | None
    status: str
    cancelled_at: datetime | None
    cancel_reason: str | None
    slot_id: int
    office: OfficeFacts
    slot: Seats
    waitlist_length: int

    @property
    def license_classes(self) -> list[str]:
        return self.class_list.split(",")

    def serves(self, license_class: str) -> bool:
        return license_class in self.license_classes


@dataclass(slots=True)
class CandidateFacts:
    id: int
    office_id: int
    id_number: str
    license_class: str
    phone: str


@dataclass(slots=True)
class PermitFacts:
    """The latest learner permit, with the attributes `eligibility` reads."""

    id: int
    license_class: str
    issued_on: date
    expires_on: date
    voided_on: date | None
    prior_bookings_2: int
    prior_bookings_3: int
    passes: list


@dataclass(slots=True)
class BookingFacts:
    session: SessionFacts | None  # None: no such session in the caller's office (read_caller)
    candidate: CandidateFacts | None
    permit: PermitFacts | None
    history: list
    new_id: int | None  # drawn from the sequence by the read (PostgreSQL), else None
    accepted_at: datetime | None = None  # the application's acceptance (受理); None: not accepted


@dataclass(slots=True)
class Booked:
    """A booking just written, with everything its answer shows."""

    id: int
    session: SessionFacts
    candidate_id: int
    subject: int
    status: str
    waitlist_position: int | None
    created_at: datetime


def _text(column):
    return func.coalesce(cast(column, String), "")


@cache
def _read_statement(dialect: str, by_token: bool):
    """The booking's read. `by_token`: from the bearer token (parameters of `accounts.live_token_rules`) to
    its user and the user's own candidate record, the session looked up in the user's office; else the
    session in `office_id` and the candidate `candidate_id` of that office."""
    s, c = _SESSIONS, _CANDIDATES
    waiting = _BOOKINGS.alias("waiting")
    waitlist_length = (select(func.count(waiting.c.id))
                       .where(waiting.c.session_id == s.c.id, waiting.c.status == BookingStatus.WAITLISTED.value)
                       .correlate(s).scalar_subquery())
    p, later = _PERMITS, _PERMITS.alias("later")
    # The latest permit (eligibility.current_permit's order: issued_on, then id) as a join on the indexed
    # id_number with no later permit beside it: a correlated "= (SELECT ... LIMIT 1)" in the ON clause
    # is evaluated against every permit row.
    latest_permit = and_(p.c.id_number == c.c.id_number, ~exists().where(
        later.c.id_number == p.c.id_number,
        or_(later.c.issued_on > p.c.issued_on, and_(later.c.issued_on == p.c.issued_on, later.c.id > p.c.id))))
    passes = (select(func.aggregate_strings(
        _text(_PASSES.c.subject) + FIELD + _text(_PASSES.c.passed_on) + FIELD + _text(_PASSES.c.score), ITEM))
        .where(_PASSES.c.permit_id == p.c.id).correlate(p).scalar_subquery())
    b, hs = _BOOKINGS.alias("mine"), _SESSIONS.alias("mine_session")
    history = (select(func.aggregate_strings(
        _text(b.c.id) + FIELD + _text(b.c.subject) + FIELD + b.c.status + FIELD + _text(b.c.outcome) + FIELD
        + case((b.c.active_key.is_(None), "0"), else_="1") + FIELD + _text(hs.c.local_date) + FIELD
        + _text(hs.c.starts_at), ITEM))
        .select_from(b.join(hs, hs.c.id == b.c.session_id)).where(b.c.candidate_id == c.c.id)
        .correlate(c).scalar_subquery())
    # When the person's application for the permit's class (without a permit: the class they signed up
    # for) was accepted (受理): no acceptance, no booking (eligibility's not_accepted), read here too.
    applications = Application.__table__
    accepted_at = (select(func.max(applications.c.accepted_at))
                   .where(applications.c.id_number == c.c.id_number,
                          applications.c.license_class == func.coalesce(p.c.license_class, c.c.license_class))
                   .correlate(c, p).scalar_subquery())
    columns = [s.c[name] for name in SESSION_COLUMNS] + [
        _OFFICES.c.code, _OFFICES.c.timezone, _SLOTS.c.capacity, _SLOTS.c.booked, waitlist_length.label("waiting"),
        c.c.id.label("candidate_id"), c.c.id_number,
        c.c.license_class.label("candidate_class"), c.c.phone,
        p.c.id.label("permit_id"), p.c.license_class.label("permit_class"), p.c.issued_on, p.c.expires_on,
        p.c.voided_on, p.c.prior_bookings_2, p.c.prior_bookings_3, passes.label("passes"), history.label("history"),
        accepted_at.label("accepted_at")]
    if dialect == "postgresql":
        # The new booking's id, drawn only when the booking may go ahead (a free seat seen, a ballot, or a
        # waiting list welcome): the full session's refusals of a click race draw none.
        may_go = or_(_SLOTS.c.booked < _SLOTS.c.capacity, s.c.allocation == Allocation.BALLOT.value,
                     bindparam("may_wait", type_=Boolean))
        columns.append(case((and_(may_go, c.c.id.is_not(None)), Sequence("exam_bookings_id_seq").next_value()),
                            else_=None).label("new_id"))
    if not by_token:
        return (select(*columns)
                .select_from(s.join(_OFFICES, _OFFICES.c.id == s.c.office_id).join(_SLOTS, _SLOTS.c.id == s.c.slot_id)
                             .outerjoin(c, and_(c.c.id == bindparam("candidate_id"), c.c.office_id == s.c.office_id))
                             .outerjoin(p, latest_permit))
                .where(s.c.id == bindparam("session_id"), s.c.office_id == bindparam("office_id")))
    users, tokens = User.__table__, Token.__table__
    columns += [users.c.id.label("caller_id"), users.c.office_id.label("caller_office_id"),
                users.c.username.label("caller_username"), users.c.role.label("caller_role")]
    return (select(*columns)
            .select_from(tokens.join(users, users.c.id == tokens.c.user_id)
                         .outerjoin(s, and_(s.c.id == bindparam("session_id"), s.c.office_id == users.c.office_id))
                         .outerjoin(_OFFICES, _OFFICES.c.id == s.c.office_id)
                         .outerjoin(_SLOTS, _SLOTS.c.id == s.c.slot_id)
                         .outerjoin(c, c.c.user_id == users.c.id)
                         .outerjoin(p, latest_permit))
            .where(*accounts.live_token_rules()))


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def read(session_id: int, office_id: int, candidate_id: int | None, may_wait: bool) -> BookingFacts | None:
    """Everything a booking of `session_id` (in `office_id`) by `candidate_id` needs, in one statement;
    None when the office has no such session. The candidate is None when not of the session's office."""
    connection = db.session.connection()
    row = connection.execute(_read_statement(connection.dialect.name, False), {
        "session_id": session_id, "office_id": office_id, "candidate_id": candidate_id, "may_wait": may_wait,
    }).first()
    return None if row is None else _facts(row)


@dataclass(frozen=True, slots=True)
class BookingCaller(accounts.Caller):
    """The caller of a booking as its one read found them, with what the read brought for the booking."""

    facts: BookingFacts | None = None


def read_caller(token: str, session_id: int, now: datetime) -> BookingCaller | None:
    """The booking's one read from its bearer token: the token's user (None when the token does not sign
    anyone in: revoked, expired, unknown, or the user deactivated) with, in `facts`, the session of
    `session_id` in the user's office (`facts.session` None: no such session there), the user's own
    candidate record, their permit and their history. A waiting-list join draws no id here (its write
    takes a statement more)."""
    connection = db.session.connection()
    row = connection.execute(_read_statement(connection.dialect.name, True), {
        **accounts.token_parameters(token, now), "session_id": session_id, "may_wait": False}).first()
    if row is None:
        return None
    return BookingCaller(row.caller_id, row.caller_office_id, row.caller_username, row.caller_role,
                         None if row.candidate_id is None else accounts.CandidateRef(row.candidate_id),
                         _facts(row) if row.id is not None else BookingFacts(None, None, None, [], None))


def _facts(row) -> BookingFacts:
    session = SessionFacts(*row[:len(SESSION_COLUMNS)], office=OfficeFacts(row.office_id, row.code, row.timezone),
                           slot=Seats(row.capacity, row.booked), waitlist_length=row.waiting)
    candidate = permit = None
    history = []
    if row.candidate_id is not None:
        candidate = CandidateFacts(row.candidate_id, session.office_id, row.id_number, row.candidate_class, row.phone)
        items = []
        for item in row.history.split(ITEM) if row.history else ():
            booking_id, subject, status, outcome, active, local_date, starts_at = item.split(FIELD)
            items.append((starts_at, int(booking_id), HistoryRow(int(booking_id), int(subject), status, outcome or None,
                                                                 "1" if active == "1" else None, _day(local_date))))
        history = [entry for _, _, entry in sorted(items, key=lambda t: (t[0], t[1]))]
    if row.permit_id is not None:
        passes = []
        for item in row.passes.split(ITEM) if row.passes else ():
            subject, passed_on, score = item.split(FIELD)
            passes.append(PermitPassFacts(int(subject), _day(passed_on), int(score) if score else None))
        passes.sort()
        permit = PermitFacts(row.permit_id, row.permit_class, row.issued_on, row.expires_on, row.voided_on,
                             row.prior_bookings_2, row.prior_bookings_3, passes)
    return BookingFacts(session, candidate, permit, history, getattr(row, "new_id", None),
                        row.accepted_at if candidate is not None else None)


def _params(table, names, prefix: str) -> list:
    return [bindparam(prefix + name, type_=table.c[name].type) for name in names]


@cache
def _write_statement(take_seat: bool):
    """PostgreSQL: the seat (optional), the booking, its audit row and its text in one statement."""
    seat = booking.TAKE.cte("seat") if take_seat else None
    rows = select(bindparam("b_id", type_=_BOOKINGS.c.id.type), *_params(_BOOKINGS, BOOKING_COLUMNS, "b_"))
    if seat is not None:
        rows = rows.select_from(seat)  # no seat, no booking (and then no audit row and no text)
    written = insert(_BOOKINGS).from_select(("id",) + BOOKING_COLUMNS, rows).returning(_BOOKINGS.c.id).cte("written")
    audited = insert(_AUDIT).from_select(
        AUDIT_COLUMNS, select(*_params(_AUDIT, AUDIT_COLUMNS, "a_")).select_from(written)).cte("audited")
    queued = notify.QUEUED
    texted = (postgresql.insert(_OUTBOX).from_select(
        OUTBOX_COLUMNS + ("status", "last_error", "attempts"),
        select(*_params(_OUTBOX, OUTBOX_COLUMNS, "o_"), queued["status"], queued["last_error"],
               literal(queued["attempts"])).select_from(written))
        .on_conflict_do_nothing(index_elements=["key"]).cte("texted"))
    if seat is None:
        return select(written.c.id, literal(None).label("booked"), literal(None).label("capacity")).add_cte(
            audited, texted)
    return (select(written.c.id, seat.c.booked, seat.c.capacity).select_from(seat.join(written, true()))
            .add_cte(audited, texted))


def write(facts: BookingFacts, take_seat: bool, booking_row: dict, follow) -> tuple[int, Seats | None] | None:
    """Write the booking (taking its seat first when `take_seat`): its id and the seats as they now are
    (None without `take_seat`), or None when the seat was gone. `booking_row` holds the booking's columns;
    `follow(booking_id)` gives its audit entry's (`audit.entry_values`) and its text (`notify.queue_many`'s
    message, rendered from a `notifications` template by `services.text_message`)."""
    connection = db.session.connection()
    slot_id = facts.session.slot_id
    if connection.dialect.name == "postgresql" and facts.new_id is not None:
        audit_row, message = follow(facts.new_id)
        outbox = notify.outbox_row(message, zone=facts.session.office.zone)
        params = {"b_id": facts.new_id, "slot_id": slot_id, "units": 1,
                  **{"b_" + k: booking_row[k] for k in BOOKING_COLUMNS},
                  **{"a_" + k: audit_row[k] for k in AUDIT_COLUMNS},
                  **{"o_" + k: outbox[k] for k in OUTBOX_COLUMNS},
                  **{k: outbox[k] for k in ("checked_phone", "checked_status", "checked_error")}}
        done = connection.execute(_write_statement(take_seat), params).first()
        if done is None:
            return None
        if not take_seat:
            return done.id, None
        booking.forget(slot_id, done)
        return done.id, Seats(done.capacity, done.booked)
    # SQLite (or a read that drew no id): the same writes, one statement each.
    seats = None
    if take_seat:
        taken = booking.take_returning(slot_id)
        if taken is None:
            return None
        seats = Seats(taken.capacity, taken.booked)
    booking_id = connection.execute(insert(_BOOKINGS).returning(_BOOKINGS.c.id),
                                    {k: booking_row[k] for k in BOOKING_COLUMNS}).scalar_one()
    audit_row, message = follow(booking_id)
    connection.execute(insert(_AUDIT), audit_row)
    notify.queue_many([message], zone=facts.session.office.zone)
    return booking_id, seats
