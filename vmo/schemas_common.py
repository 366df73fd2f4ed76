"""Schemas used across packages."""
from marshmallow import Schema, fields


class ErrorSchema(Schema):
    """The one error shape of the API."""

    code = fields.Integer(required=True, metadata={"description": "HTTP status"})
    status = fields.String(required=True, metadata={"description": "HTTP reason phrase"})
    message = fields.String(required=True, metadata={"description": "What went wrong, for a person"})
    errors = fields.Dict(metadata={"description": "Per location and field, e.g. {'json': {'vin': ['...']}}"})
    request_id = fields.String(metadata={"description": "Quote it when reporting a problem"})
    # Context some errors add (one place lists them all, so the document matches what is sent).
    reason = fields.String(metadata={"description": "Machine-readable cause of a 422 rule violation",
                                     "example": "waiting_period"})
    eligible_from = fields.Date(metadata={"description": "With reason `waiting_period`: first day to book again"})
    available = fields.Integer(metadata={"description": "With a capacity 409: places still free"})
    actual_sha256 = fields.String(metadata={"description": "With a photo hash mismatch: the hash of the bytes sent"})
    max_bytes = fields.Integer(metadata={"description": "With a 413: the largest body accepted, in bytes"})
