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
    reason = fields.String(metadata={"description": "Machine-readable cause of a 422 rule violation",
                                     "example": "wrong_code"})
    # The booking core's capacity refusals, which every feature booking places can answer. A feature's
    # own facts are in its own subclass of this schema, named in its endpoints' alt_response.
    available = fields.Integer(metadata={"description": "With a capacity 409: places still free"})
    booked = fields.Integer(metadata={"description": "With a capacity 409 on resizing: units already booked"})
