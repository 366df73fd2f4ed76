"""Schemas used across packages."""
from marshmallow import Schema, fields


class ErrorSchema(Schema):
    """The one error shape of the API."""

    code = fields.Integer(required=True, metadata={"description": "HTTP status"})
    status = fields.String(required=True, metadata={"description": "HTTP reason phrase"})
    message = fields.String(required=True, metadata={"description": "What went wrong, for a person"})
    errors = fields.Dict(metadata={"description": "Per location and field, e.g. {'json': {'vin': ['...']}}"})
    request_id = fields.String(metadata={"description": "Quote it when reporting a problem"})
