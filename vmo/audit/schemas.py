"""Wire format of audit entries."""
from marshmallow import Schema, fields


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
