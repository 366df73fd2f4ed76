"""Wire formats for test sessions, bookings, outcomes, draws, progress and calendar links."""

from flask import current_app
from marshmallow import Schema, fields, validate

from schedules.exams import ballot, services
from schedules.exams.models import ALLOCATIONS, BOOKING_STATUSES, OUTCOMES, SESSION_KINDS
from schedules.exams.settings import settings_from
from vmo import clock
from vmo.bounds import id_field
from vmo.accounts.models import LICENSE_CLASSES
from vmo.schemas_common import ErrorSchema

REASONS = ("license_class", "subject_order", "already_passed", "waiting_period", "session_started",
           "applications_closed", "applications_open", "cutoff", "max_changes", "subject", "not_a_ballot",
           "session_not_started")


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
    license_class = fields.String(required=True, validate=validate.OneOf(LICENSE_CLASSES), metadata={"example": "C1"})
    starts_at = fields.AwareDateTime(required=True, metadata={"example": "2026-11-28T09:00:00+08:00"})
    ends_at = fields.AwareDateTime(required=True, metadata={"example": "2026-11-28T12:00:00+08:00"})
    venue = fields.String(required=True, validate=validate.Length(1, 200),
                          metadata={"example": "南川区大观镇机动车驾驶人考试中心 2号场地"})
    capacity = fields.Integer(required=True, validate=validate.Range(1, 5000), metadata={"example": 30})
    kind = fields.String(load_default="regular", validate=validate.OneOf(SESSION_KINDS),
                         metadata={"description": "regular, or extra (加考)"})
    allocation = fields.String(load_default="first_come", validate=validate.OneOf(ALLOCATIONS),
                               metadata={"description": "first_come (atomic seats) or ballot (a seeded draw "
                                                        "after applications close)"})
    applications_close_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "Ballot only: applications are accepted until then",
                                     "example": "2026-11-26T20:00:00+08:00"})


class ExamSessionSchema(Schema):
    id = fields.Integer(required=True)
    office = fields.Function(lambda s: s.office.code, required=True, metadata={"description": "Office code"})
    subject = fields.Integer(required=True)
    license_class = fields.String(required=True)
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
    waitlist_length = fields.Function(lambda s: services.waitlist_length(s.id), required=True)
    state = fields.Function(lambda s: services.session_state(s, clock.now()), required=True, metadata={
        "description": "open, applications_closed (ballot awaiting its draw), drawn or started"})
    drawn_at = fields.AwareDateTime(allow_none=True)


class ExamSessionQueryArgsSchema(Schema):
    subject = fields.Integer(load_default=None, validate=validate.Range(1, 4))
    license_class = fields.String(load_default=None, validate=validate.OneOf(LICENSE_CLASSES))
    from_ = fields.Date(data_key="from", load_default=None,
                        metadata={"description": "First local date (default: today in the office's zone)"})
    to = fields.Date(load_default=None, metadata={"description": "Last local date, inclusive"})
    weekend = fields.Boolean(load_default=None, metadata={
        "description": "true: Saturdays and Sundays only; false: weekdays only (office time zone)"})
    kind = fields.String(load_default=None, validate=validate.OneOf(SESSION_KINDS))
    allocation = fields.String(load_default=None, validate=validate.OneOf(ALLOCATIONS))
    office = fields.String(load_default=None, validate=validate.Length(1, 40),
                           metadata={"description": "Office code (default: yours, or the default office)"})


# ---- bookings --------------------------------------------------------------------------

class ExamBookingCreateSchema(Schema):
    waitlist_if_full = fields.Boolean(load_default=False, metadata={
        "description": "When no seat is left, join the waiting list (201, status waitlisted) instead of a 409"})


class ExamBookingChangeSchema(ExamBookingCreateSchema):
    session_id = id_field(required=True, metadata={"description": "Another session of the same subject",
                                                    "example": 2})


class ExamOutcomeSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES),
                            metadata={"description": "passed, failed or no_show"})


class ExamBookingSchema(Schema):
    id = fields.Integer(required=True)
    session_id = fields.Integer(required=True)
    candidate_id = fields.Integer(required=True)
    subject = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(BOOKING_STATUSES),
                           metadata={"description": "applied, confirmed, waitlisted or cancelled"})
    outcome = fields.String(allow_none=True, metadata={"description": "passed, failed or no_show once recorded"})
    waitlist_position = fields.Function(services.waitlist_position, allow_none=True,
                                        metadata={"description": "1 = first in line; null unless waitlisted"})
    changes = fields.Integer(required=True, metadata={"description": "Times the booking was moved"})
    changes_left = fields.Function(
        lambda b: max(settings_from(current_app.config).max_changes - b.changes, 0), required=True)
    session = fields.Nested(ExamSessionSchema, required=True)
    calendar_url = fields.Function(lambda b: f"/api/v1/bookings/{b.id}/calendar.ics", required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    outcome_at = fields.AwareDateTime(allow_none=True)


class ExamBookingQueryArgsSchema(Schema):
    session_id = id_field(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(BOOKING_STATUSES))


# ---- the draw -----------------------------------------------------------------------------

class DrawApplicantSchema(Schema):
    application_id = fields.Integer(required=True, metadata={"description": "The booking id"})
    candidate_id = fields.Integer(required=True)
    # Kept as the ISO text stored in the draw record, which is what anyone recomputes from.
    seniority_date = fields.String(required=True, metadata={"format": "date", "example": "2026-08-01"})


class ExamDrawSchema(Schema):
    session_id = fields.Integer(required=True)
    algorithm = fields.String(attribute="record.algorithm", required=True, metadata={"example": "vmo-draw-v1"})
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
    seniority_date = fields.Date(required=True, metadata={
        "description": "Ranks the candidate in ballots: acceptance, last exam, or last forfeited seat"})
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
    eligible_from = fields.Date(metadata={"description": "With waiting_period: the first day to book again"})
    applications_close_at = fields.String(metadata={"description": "With applications_open"})
