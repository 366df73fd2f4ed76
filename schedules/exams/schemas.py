"""Wire formats for test sessions, bookings, outcomes, draws, progress and calendar links."""

from marshmallow import Schema, fields, validate

from schedules.exams import ballot, services
from schedules.exams.models import Allocation, BookingStatus, Outcome, SessionKind
from schedules.exams.settings import ExamSettings
from vmo import clock, redact, settings
from vmo.bounds import id_field
from vmo.accounts.models import LICENSE_CLASSES
from vmo.fields import Mobile, ResidentId
from vmo.schemas_common import ErrorSchema
from vmo.timefmt import local_iso, office_zone
from vmo.types import values

REASONS = ("license_class", "subject_order", "already_passed", "waiting_period", "session_started",
           "applications_closed", "applications_open", "cutoff", "max_changes", "subject", "not_a_ballot",
           "session_not_started", "session_cancelled", "permit_missing", "permit_waiting", "permit_expired",
           "bookings_exhausted", "not_required", "not_accepted")
CLASS = validate.OneOf(LICENSE_CLASSES)


class OfficeTime(fields.AwareDateTime):
    """An instant written in the session office's own zone (ISO 8601 with its offset, e.g. +08:00)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(obj.office.zone).isoformat()


# ---- sessions --------------------------------------------------------------------------

class ExamSessionCreateSchema(Schema):
    subject = fields.Integer(required=True, validate=validate.Range(1, 4),
                             metadata={"description": "科目 1-4", "example": 2})
    license_class = fields.String(required=True, validate=CLASS, metadata={
        "description": "The class tested; with license_classes, the first of them", "example": "C1"})
    license_classes = fields.List(fields.String(validate=CLASS), load_default=None,
                                  validate=validate.Length(1, 8), metadata={
                                      "description": "Every class the sitting serves (e.g. subject 1 for C1, C2 "
                                                     "and C5 at once); give this or license_class",
                                      "example": ["C1", "C2", "C5"]})
    starts_at = fields.AwareDateTime(required=True, metadata={"example": "2026-11-28T09:00:00+08:00"})
    ends_at = fields.AwareDateTime(required=True, metadata={"example": "2026-11-28T12:00:00+08:00"})
    venue = fields.String(required=True, validate=validate.Length(1, 200),
                          metadata={"example": "南川区大观镇机动车驾驶人考试中心 2号场地"})
    capacity = fields.Integer(required=True, validate=validate.Range(1, 5000), metadata={"example": 30})
    kind = fields.String(load_default=SessionKind.REGULAR.value, validate=validate.OneOf(values(SessionKind)),
                         metadata={"description": "regular, or extra (加考)"})
    allocation = fields.String(load_default=Allocation.FIRST_COME.value,
                               validate=validate.OneOf(values(Allocation)),
                               metadata={"description": "first_come (atomic seats) or ballot (a seeded draw "
                                                        "after applications close)"})
    applications_close_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "Ballot only: applications are accepted until then",
                                     "example": "2026-11-26T20:00:00+08:00"})


class ExamSessionSchema(Schema):
    id = fields.Integer(required=True)
    office = fields.Function(lambda s: s.office.code, required=True, metadata={"description": "Office code"})
    subject = fields.Integer(required=True)
    license_class = fields.String(required=True, metadata={"description": "The first of license_classes"})
    license_classes = fields.List(fields.String(), required=True)
    starts_at = OfficeTime(required=True)
    ends_at = OfficeTime(required=True)
    date = fields.Date(attribute="local_date", required=True, metadata={"description": "Local date of the start"})
    weekend = fields.Boolean(attribute="is_weekend", required=True,
                             metadata={"description": "Saturday or Sunday in the office's time zone"})
    venue = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "regular or extra"})
    allocation = fields.String(required=True, metadata={"description": "first_come or ballot"})
    applications_close_at = OfficeTime(allow_none=True)
    capacity = fields.Function(lambda s: s.slot.capacity, required=True)
    seats_left = fields.Function(lambda s: s.slot.available, required=True,
                                 metadata={"description": "Seats not yet confirmed (a ballot holds none before "
                                                          "its draw)"})
    waitlist_length = fields.Integer(required=True)
    state = fields.Function(lambda s: services.session_state(s, clock.now()), required=True, metadata={
        "description": "open, applications_closed (ballot awaiting its draw), drawn, started or cancelled"})
    drawn_at = OfficeTime(allow_none=True)
    cancelled_at = OfficeTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


class ExamSessionUpdateSchema(Schema):
    starts_at = fields.AwareDateTime(metadata={"example": "2026-11-28T13:00:00+08:00"})
    ends_at = fields.AwareDateTime(metadata={"example": "2026-11-28T16:00:00+08:00"})
    venue = fields.String(validate=validate.Length(1, 200))
    capacity = fields.Integer(validate=validate.Range(1, 5000), metadata={
        "description": "Never below the seats booked (409); new seats go to the waiting list first"})
    examiners = fields.List(id_field(), validate=validate.Length(max=10), metadata={
        "description": "Staff user ids of the office, replacing the list (empty: none); the first receives the "
                       "sitting's satisfaction follow-ups and their escalations. May be set after the start.",
        "example": [12, 15]})


class ExamSessionStaffSchema(ExamSessionSchema):
    """A session as its office's staff see it: with its examiners."""

    examiners = fields.List(fields.Integer(), required=True, metadata={
        "description": "Staff user ids; the first receives the sitting's follow-ups"})

class ExamSessionCancelSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 200), metadata={
        "description": "Told to every candidate in a text", "example": "暴雨预警，考场积水"})


class RosterLineSchema(Schema):
    booking_id = fields.Integer(required=True)
    name = fields.String(required=True)
    id_number = fields.String(required=True, metadata={"description": "First 6 and last 4 characters"})
    phone = fields.String(required=True, metadata={"description": "First 3 and last 4 digits"})
    license_class = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "confirmed, or waitlisted"})
    outcome = fields.String(allow_none=True)


class RosterSchema(Schema):
    session = fields.Nested(ExamSessionSchema, required=True)
    candidates = fields.List(fields.Nested(RosterLineSchema), required=True)


class RosterQueryArgsSchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class ExamSessionQueryArgsSchema(Schema):
    subject = fields.Integer(load_default=None, validate=validate.Range(1, 4))
    license_class = fields.String(load_default=None, validate=validate.OneOf(LICENSE_CLASSES))
    from_ = fields.Date(data_key="from", load_default=None,
                        metadata={"description": "First local date (default: today in the office's zone)"})
    to = fields.Date(load_default=None, metadata={"description": "Last local date, inclusive"})
    weekend = fields.Boolean(load_default=None, metadata={
        "description": "true: Saturdays and Sundays only; false: weekdays only (office time zone)"})
    kind = fields.String(load_default=None, validate=validate.OneOf(values(SessionKind)))
    allocation = fields.String(load_default=None, validate=validate.OneOf(values(Allocation)))
    office = fields.String(load_default=None, validate=validate.Length(1, 40),
                           metadata={"description": "Office code (default: yours, or the default office)"})


# ---- bookings --------------------------------------------------------------------------

class ExamWaitlistSchema(Schema):
    waitlist_if_full = fields.Boolean(load_default=False, metadata={
        "description": "When no seat is left, join the waiting list (201, status waitlisted) instead of a 409"})


class ExamBookingCreateSchema(ExamWaitlistSchema):
    candidate_id = id_field(load_default=None, metadata={
        "description": "Staff only: book at the counter for this candidate of the office"})


class ExamBookingChangeSchema(ExamWaitlistSchema):
    session_id = id_field(required=True, metadata={"description": "Another session of the same subject",
                                                    "example": 2})


SCORE = validate.Range(0, 100)


class ExamOutcomeSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(values(Outcome)),
                            metadata={"description": "passed, failed (the retake failed or was not taken) or no_show "
                                                     "(a failed sitting)"})
    score = fields.Integer(load_default=None, allow_none=True, validate=SCORE,
                           metadata={"description": "The first attempt's score (0-100)"})
    retake_score = fields.Integer(load_default=None, allow_none=True, validate=SCORE,
                                  metadata={"description": "The same-day retake's score (补考), after a failed attempt"})


class ExamOutcomeRowSchema(ExamOutcomeSchema):
    booking_id = id_field(required=True)


class ExamOutcomesSchema(Schema):
    results = fields.List(fields.Nested(ExamOutcomeRowSchema), required=True, validate=validate.Length(1, 2000),
                          metadata={"description": "One row per booking of the session",
                                    "example": [{"booking_id": 1, "outcome": Outcome.PASSED, "score": 92},
                                                {"booking_id": 2, "outcome": Outcome.FAILED, "score": 70,
                                                 "retake_score": 76},
                                                {"booking_id": 3, "outcome": Outcome.NO_SHOW}]})


class ExamBookingSchema(Schema):
    id = fields.Integer(required=True)
    session_id = fields.Integer(required=True)
    candidate_id = fields.Integer(required=True)
    subject = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(values(BookingStatus)),
                           metadata={"description": "applied, confirmed, waitlisted or cancelled"})
    outcome = fields.String(allow_none=True, metadata={"description": "passed, failed or no_show once recorded"})
    waitlist_position = fields.Integer(allow_none=True,
                                       metadata={"description": "1 = first in line; null unless waitlisted"})
    score = fields.Integer(allow_none=True)
    retake_score = fields.Integer(allow_none=True)
    cancelled_by = fields.String(allow_none=True, metadata={
        "description": "candidate or office; an office cancellation never counts against the candidate"})
    changes = fields.Integer(required=True, metadata={"description": "Times the booking was moved"})
    changes_left = fields.Function(
        lambda b: max(settings.get(ExamSettings).max_changes - b.changes, 0), required=True)
    session = fields.Nested(ExamSessionSchema, required=True)
    calendar_url = fields.Function(lambda b: f"/api/v1/bookings/{b.id}/calendar.ics", required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    outcome_at = fields.AwareDateTime(allow_none=True)


def booking_answer(booked, changes_left: int, now) -> dict:
    """`ExamBookingSchema`'s answer for a booking just made (services.book's `Booked`), built from the
    values in hand: the same keys in the same order, every time in office time as the app's JSON provider
    writes it. The booking's POST sends it without marshmallow (the schema still documents it);
    tests/test_exams_bookings.py holds it equal to the schema's dump of the stored booking."""
    session, zone = booked.session, office_zone()
    seats = session.slot

    def when(value):
        return None if value is None else local_iso(value, zone)

    created = when(booked.created_at)
    return {
        "id": booked.id, "session_id": session.id, "candidate_id": booked.candidate_id, "subject": booked.subject,
        "status": str(booked.status), "outcome": None, "waitlist_position": booked.waitlist_position, "score": None,
        "retake_score": None, "cancelled_by": None, "changes": 0, "changes_left": changes_left,
        "session": {
            "id": session.id, "office": session.office.code, "subject": session.subject,
            "license_class": session.license_class, "license_classes": session.license_classes,
            "starts_at": when(session.starts_at), "ends_at": when(session.ends_at),
            "date": session.local_date.isoformat(), "weekend": session.is_weekend, "venue": session.venue,
            "kind": session.kind, "allocation": session.allocation,
            "applications_close_at": when(session.applications_close_at), "capacity": seats.capacity,
            "seats_left": seats.available, "waitlist_length": session.waitlist_length,
            "state": services.session_state(session, now), "drawn_at": when(session.drawn_at),
            "cancelled_at": when(session.cancelled_at), "cancel_reason": session.cancel_reason,
        },
        "calendar_url": f"/api/v1/bookings/{booked.id}/calendar.ics",
        "created_at": created, "updated_at": created, "cancelled_at": None, "outcome_at": None,
    }


class ExamOutcomeResultSchema(Schema):
    booking_id = fields.Integer(attribute="id", required=True)
    candidate_id = fields.Integer(required=True)
    subject = fields.Integer(required=True)
    outcome = fields.String(required=True)
    score = fields.Integer(allow_none=True)
    retake_score = fields.Integer(allow_none=True)
    changed = fields.Boolean(required=True, metadata={"description": "false: already recorded the same way"})


class ExamOutcomesResultSchema(Schema):
    session_id = fields.Integer(required=True)
    results = fields.List(fields.Nested(ExamOutcomeResultSchema), required=True)


class ExamBookingQueryArgsSchema(Schema):
    session_id = id_field(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(values(BookingStatus)))


# ---- the draw -----------------------------------------------------------------------------

class DrawApplicantSchema(Schema):
    application_id = fields.Integer(required=True, metadata={"description": "The booking id: a candidate "
                                                                           "finds their own line by it"})
    pseudonym = fields.Integer(attribute="candidate_id", required=True, metadata={
        "description": "The applicant's name in this draw only (an HMAC of session and candidate under the "
                       "office's key); it is what `candidate_id` stands for in `key_formula`"})
    # Kept as the ISO text stored in the draw record, which is what anyone recomputes from.
    seniority_date = fields.String(required=True, metadata={
        "description": "vmo-draw-v2: the instant (UTC, to the second); vmo-draw-v1: the date",
        "example": "2026-08-01T01:30:15+00:00"})


class ExamDrawSchema(Schema):
    session_id = fields.Integer(required=True)
    algorithm = fields.String(attribute="record.algorithm", required=True, metadata={"example": "vmo-draw-v2"})
    key_formula = fields.String(attribute="record.key_formula", required=True)
    seed = fields.String(required=True, metadata={"description": "64 hex characters, drawn once and kept"})
    capacity = fields.Integer(attribute="record.capacity", required=True,
                              metadata={"description": "Seats that were drawn"})
    applicants = fields.List(fields.Nested(DrawApplicantSchema), attribute="record.applicants", required=True)
    ranking = fields.List(fields.Integer(), attribute="record.ranking", required=True,
                          metadata={"description": "Application ids by (seniority_date, key, id)"})
    winners = fields.List(fields.Integer(), attribute="record.winners", required=True)
    waitlist = fields.List(fields.Integer(), attribute="record.waitlist", required=True)
    keys = fields.Dict(keys=fields.String(), values=fields.String(), attribute="record.keys", required=True,
                       metadata={"description": "Lottery key per application id"})
    drawn_at = fields.AwareDateTime(required=True)
    verified = fields.Function(ballot.verify, required=True,
                               metadata={"description": "Recomputing from the inputs gives this result"})


# ---- progress and calendars ----------------------------------------------------------------

class ExamSubjectProgressSchema(Schema):
    subject = fields.Integer(required=True)
    passed = fields.Boolean(required=True)
    passed_on = fields.Date(allow_none=True)
    score = fields.Integer(allow_none=True, metadata={"description": "The passing score, when known"})
    eligible_from = fields.Date(allow_none=True, metadata={
        "description": "First day the waiting rules allow a booking (after the permit, after a failed sitting); "
                       "null when no waiting date applies (see eligible and reason)"})
    bookings_used = fields.Integer(allow_none=True, metadata={
        "description": "Subjects 2 and 3: bookings used within the permit (here and entered); null for 1 and 4"})
    bookings_left = fields.Integer(allow_none=True, metadata={"description": "Of the 5 allowed (article 47)"})
    attempts = fields.Integer(required=True, metadata={"description": "Exams taken (passed or failed)"})
    no_shows = fields.Integer(required=True)
    last_failed_on = fields.Date(allow_none=True)
    retest_from = fields.Date(allow_none=True, metadata={"description": "After a failed subject 2 or 3"})
    active_booking_id = fields.Integer(allow_none=True)
    eligible = fields.Boolean(required=True, metadata={"description": "May book this subject now"})
    reason = fields.String(allow_none=True, metadata={"description": "Why not, as a code"})
    message = fields.String(allow_none=True)


class ExamProgressSchema(Schema):
    candidate_id = fields.Integer(required=True)
    license_class = fields.String(required=True)
    permit_issued_on = fields.Date(allow_none=True, metadata={"description": "Learner permit (学习驾驶证明)"})
    permit_expires_on = fields.Date(allow_none=True, metadata={"description": "Its last valid day (3 years)"})
    permit_status = fields.String(allow_none=True, metadata={
        "description": "valid, expired, or void (fifth failed booking); null without a permit"})
    seniority_date = fields.Date(required=True, metadata={
        "description": "Ranks the candidate in ballots: acceptance, last exam, or last forfeited seat"})
    accepted_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "When the office accepted the application (受理) for the class, to the second; null: "
                       "not accepted, so nothing can be booked"})
    subjects = fields.List(fields.Nested(ExamSubjectProgressSchema), required=True)


class ExamCalendarSecretSchema(Schema):
    url = fields.String(required=True, metadata={"description": "Subscribe to it in a phone calendar; no token"})
    secret = fields.String(required=True, metadata={"description": "Shown once; rotate to revoke the old URL"})
    rotated_at = fields.AwareDateTime(required=True)


class ExamFeedQueryArgsSchema(Schema):
    office = fields.String(load_default=None, validate=validate.Length(1, 40),
                           metadata={"description": "Office code (default: the default office)"})


# ---- errors that carry more than a message ----------------------------------------------

class ExamNoSeatErrorSchema(ErrorSchema):
    seats_left = fields.Integer(metadata={"description": "0 when the session is full"})
    active_booking_id = fields.Integer(allow_none=True, metadata={
        "description": "When the conflict is another active booking of the same subject"})


class ExamIneligibleErrorSchema(ErrorSchema):
    reason = fields.String(validate=validate.OneOf(REASONS), metadata={"description": "Why, as a stable code"})
    eligible_from = fields.Date(metadata={"description": "With waiting_period or permit_waiting: the first day "
                                                         "to book"})
    cutoff_at = fields.String(metadata={"description": "With cutoff: the last moment a candidate could cancel"})
    applications_close_at = fields.String(metadata={"description": "With applications_open"})


# ---- candidates and their learner permits ------------------------------------------------------

class CandidateQueryArgsSchema(Schema):
    id_number = fields.String(load_default=None, validate=validate.Length(18, 18),
                              metadata={"description": "The full 18-character ID number"})
    name = fields.String(load_default=None, validate=validate.Length(1, 120),
                         metadata={"description": "Part of the name"})


class CandidateRowSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    id_number = fields.Function(lambda c: c.id_number[:6] + "********" + c.id_number[-4:], required=True,
                                metadata={"description": "Masked: region code and last four characters"})
    license_class = fields.String(required=True)


class PassedSubjectSchema(Schema):
    subject = fields.Integer(required=True, validate=validate.Range(1, 4))
    passed_on = fields.Date(required=True)
    score = fields.Integer(load_default=None, allow_none=True, validate=SCORE)


class LearnerPermitSchema(Schema):
    license_class = fields.String(required=True, validate=CLASS, metadata={"example": "C1"})
    issued_on = fields.Date(required=True, metadata={"description": "The day subject 1 was passed (article 41)",
                                                     "example": "2026-10-10"})
    passed = fields.List(fields.Nested(PassedSubjectSchema), load_default=list, metadata={
        "description": "Subjects passed under the permit (subject 1 is implied by the permit)"})
    bookings_used = fields.Dict(keys=fields.String(validate=validate.OneOf(("2", "3"))),
                                values=fields.Integer(validate=validate.Range(0, 5)), load_default=dict,
                                metadata={"description": "Bookings of subjects 2 and 3 already used elsewhere",
                                          "example": {"2": 1}})


# ---- acceptance (受理) ----------------------------------------------------------------------------

class ApplicationCreateSchema(Schema):
    id_number = ResidentId(required=True, metadata={"description": "18-digit resident ID (GB 11643)",
                                                    "example": "500119199001011233"})
    name = fields.String(required=True, validate=validate.Length(1, 120), metadata={"example": "王芳"})
    phone = Mobile(required=True, metadata={
        "description": "The applicant's phone: sign-up and password-reset codes go to this number only",
        "example": "13900139000"})
    license_class = fields.String(required=True, validate=CLASS, metadata={"example": "C1"})
    medical_on = fields.Date(required=True, metadata={
        "description": "Date of the medical certificate (身体条件证明), valid six months", "example": "2026-11-02"})
    school = fields.String(load_default=None, validate=validate.Length(1, 200),
                           metadata={"description": "The driving school that submitted it", "example": "南川驾校"})
    accepted_at = fields.AwareDateTime(load_default=None, metadata={
        "description": "When it was accepted (default: now); kept to the second",
        "example": "2026-11-25T09:30:15+08:00"})


class ApplicationSchema(Schema):
    id = fields.Integer(required=True)
    office = fields.Function(lambda a: a.office.code, required=True)
    name = fields.String(required=True)
    id_number = fields.Function(lambda a: redact.mask_id_number(a.id_number), required=True,
                                metadata={"description": "Masked: region code and last four characters"})
    phone = fields.Function(lambda a: redact.mask_phone(a.phone), required=True, metadata={"description": "Masked"})
    license_class = fields.String(required=True)
    birth_date = fields.Date(required=True, metadata={"description": "From the ID number"})
    medical_on = fields.Date(required=True)
    school = fields.String(allow_none=True)
    accepted_at = fields.AwareDateTime(required=True, metadata={"description": "Office time, to the second"})
    source = fields.String(required=True, metadata={"description": "counter or import"})


class ApplicationQueryArgsSchema(Schema):
    id_number = fields.String(load_default=None, validate=validate.Length(18, 18),
                              metadata={"description": "The full 18-character ID number"})


class ApplicationRefusedErrorSchema(ErrorSchema):
    reason = fields.String(validate=validate.OneOf(("age", "medical_expired", "class_not_initial")),
                           metadata={"description": "Why the application cannot be accepted"})
