"""Wire formats of home visits; staff answers mask the person's phone (the reveal gives it, audited)."""
from marshmallow import Schema, fields, validate

from vmo.bounds import within_years
from vmo.fields import Mobile
from vmo.homevisits.models import VisitOutcome, VisitReason, VisitStatus
from vmo.redact import mask_phone
from vmo.types import values

HHMM = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="a local time HH:MM, e.g. 14:00")


def _text(lo: int, hi: int, example: str, **kw) -> fields.String:
    return fields.String(required=True, validate=validate.Length(lo, hi), metadata={"example": example, **kw})


def _hhmm(description: str, example: str) -> fields.String:
    return fields.String(required=True, validate=HHMM, metadata={"description": description, "example": example,
                                                                 "pattern": HHMM.regex.pattern})


class VisitRequestSchema(Schema):
    name = _text(1, 120, "张桂英")
    phone = Mobile(required=True, metadata={"example": "13983000011"})
    address = _text(4, 200, "南川区大观镇中江村3组12号")
    township = _text(1, 60, "大观镇")
    reason = fields.String(required=True, validate=validate.OneOf(values(VisitReason)),
                           metadata={"description": "Why the person cannot come to the hall"})
    business = _text(1, 200, "机动车驾驶证期满换证", description="What is to be done at the house")
    wanted_date = fields.Date(load_default=None, validate=within_years,
                              metadata={"description": "The day the person asked for, if any"})


class AssignSchema(Schema):
    officer = _text(1, 80, "officer", description="The officer's username (same office)")
    date = fields.Date(required=True, validate=within_years, metadata={"example": "2026-11-27"})
    window_from = _hhmm("From (office time)", "14:00")
    window_until = _hhmm("Until (office time)", "16:00")


class OutcomeSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(values(VisitOutcome)))
    note = fields.String(load_default=None, validate=validate.Length(1, 500), metadata={"example": "已办结，新证已交本人"})
    client_id = fields.UUID(load_default=None, metadata={
        "description": "The tablet's id for this outcome: sent again, it changes nothing and answers the visit"})
    recorded_at = fields.AwareDateTime(load_default=None, validate=within_years, metadata={
        "description": "When the officer pressed the button (the tablet's clock; default: when received)"})


class VisitQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(values(VisitStatus)))
    date = fields.Date(load_default=None, validate=within_years, metadata={"description": "The visit's day"})


class VisitCreatedSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"example": "requested"})


class VisitSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": ", ".join(values(VisitStatus))})
    name = fields.String(required=True)
    phone = fields.Function(lambda v: mask_phone(v.phone), required=True,
                            metadata={"description": "Masked; POST /phones/reveal gives it in full"})
    address = fields.String(required=True)
    township = fields.String(required=True)
    reason = fields.String(required=True)
    business = fields.String(required=True)
    wanted_date = fields.Date(allow_none=True)
    requested_at = fields.AwareDateTime(required=True)
    officer = fields.Function(lambda v: v.officer.username if v.officer else None, allow_none=True,
                              metadata={"description": "The assigned officer's username"})
    date = fields.Date(allow_none=True)
    window_from = fields.String(allow_none=True)
    window_until = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    recorded_at = fields.AwareDateTime(allow_none=True)


class HomeVisitStatsSchema(Schema):
    """Home visits by request and by visit day in the period (office-local dates)."""

    requested = fields.Integer(required=True, metadata={"description": "Visits asked for in the period"})
    scheduled = fields.Integer(required=True, metadata={"description": "Visits with a day in the period, "
                                                                      "not yet ended"})
    done = fields.Integer(required=True, metadata={"description": "Visits done, by their day"})
    not_home = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)
    per_officer = fields.List(fields.Dict(), required=True, metadata={
        "description": "Per officer with visits in the period: username, scheduled, done, not_home, cancelled"})
    by_month = fields.List(fields.Dict(), required=True, metadata={
        "description": "Each month of the period: month (YYYY-MM), requested, done, not_home, cancelled"})
