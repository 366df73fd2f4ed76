"""Schemas used across packages."""
from marshmallow import Schema, fields


class ErrorSchema(Schema):
    """The one error shape of the API."""

    code = fields.Integer(required=True, metadata={"description": "HTTP status"})
    status = fields.String(required=True, metadata={"description": "HTTP reason phrase"})
    message = fields.String(required=True, metadata={"description": "What went wrong, for a person"})
    errors = fields.Dict(metadata={"description": "Per location and field, e.g. {'json': {'vin': ['...']}}"})
    request_id = fields.String(metadata={"description": "Quote it when reporting a problem"})
    error_count = fields.Integer(metadata={
        "description": "When `errors` lists only the first 100 problems: how many there were in all"})
    # Context some errors add (one place lists them all, so the document matches what is sent).
    reason = fields.String(metadata={"description": "Machine-readable cause of a 422 rule violation",
                                     "example": "waiting_period"})
    eligible_from = fields.Date(metadata={"description": "With reason `waiting_period`: first day to book again"})
    available = fields.Integer(metadata={"description": "With a capacity 409: places still free"})
    booked = fields.Integer(metadata={"description": "With a capacity 409 on resizing: units already booked"})
    seats_left = fields.Integer(metadata={"description": "With a full-session 409: seats left (0)"})
    active_booking_id = fields.Integer(allow_none=True, metadata={
        "description": "With a one-booking-per-subject 409: the booking already held"})
    registration_id = fields.Integer(metadata={"description": "With a duplicate pre-registration 409: the earlier one"})
    resolved_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "With an already-resolved escalation 409: when it was resolved"})
    applications_close_at = fields.AwareDateTime(metadata={
        "description": "With reason `applications_open`: when applications close"})
    actual_sha256 = fields.String(metadata={"description": "With a photo hash mismatch: the hash of the bytes sent"})
    max_bytes = fields.Integer(metadata={"description": "With a 413: the largest body accepted, in bytes"})
