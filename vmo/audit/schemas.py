"""Wire format of audit entries."""
from marshmallow import Schema, ValidationError, fields, validate


class AuditEntrySchema(Schema):
    id = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True)
    actor = fields.String(attribute="actor_username", allow_none=True)
    action = fields.String(required=True)
    entity = fields.String(required=True)
    entity_id = fields.String(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    request_id = fields.String(allow_none=True)


class AuditQueryArgsSchema(Schema):
    entity = fields.String(load_default=None, metadata={"description": "e.g. fleet_batch, fleet_vehicle, user"})
    entity_id = fields.String(load_default=None)
    action = fields.String(load_default=None, metadata={"description": "e.g. fleet.register"})
    since = fields.AwareDateTime(load_default=None)
    until = fields.AwareDateTime(load_default=None)


class CaseId(fields.Field):
    """A case's id: a number or a text (a motorcycle's plate), kept as text."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip():
            raise ValidationError("a number or a text")
        if len(str(value)) > 40:
            raise ValidationError("at most 40 characters")
        return str(value).strip()


class CaseSchema(Schema):
    type = fields.String(required=True, validate=validate.Length(1, 40), metadata={
        "description": "tour_registration, motorcycle, priority_booking, ...", "example": "priority_booking"})
    id = CaseId(required=True, metadata={"description": "The case's id (a motorcycle: its id or plate)",
                                         "example": 12})


class PhoneRevealSchema(Schema):
    case = fields.Nested(CaseSchema, required=True)


class PhoneRevealedSchema(Schema):
    case = fields.Nested(CaseSchema, required=True)
    phone = fields.String(allow_none=True, metadata={"description": "The number in full (the request is audited)"})
