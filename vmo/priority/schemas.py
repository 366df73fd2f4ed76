"""Wire formats for priority bookings."""
from marshmallow import Schema, fields, validate

from vmo.fields import Mobile, ResidentId
from vmo.priority.models import REASONS


class PriorityBookingCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 120), metadata={"example": "张桂英"})
    id_number = ResidentId(required=True,
                           metadata={"description": "18-digit resident ID; for `elderly` the age (60+ on the "
                                                       "day) is read from it", "example": "500119195201150029"})
    phone = Mobile(required=True, metadata={"example": "13983000002"})
    reason = fields.String(required=True, validate=validate.OneOf(REASONS),
                           metadata={"description": "pregnant, elderly (60 or over, 老年人权益保障法 art. 2) or disabled"})
    date = fields.Date(required=True, metadata={"example": "2026-11-27"})
    business = fields.String(load_default=None, validate=validate.Length(1, 200),
                             metadata={"description": "The vehicle business to be done", "example": "机动车转移登记"})
    certificate_number = fields.String(load_default=None, validate=validate.Length(1, 40),
                                       metadata={"description": "Disability certificate number, shown at the counter"})
    office = fields.String(load_default=None, validate=validate.Length(1, 40),
                           metadata={"description": "Office code (default: the deployment's default office)"})


class PriorityBookingSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True, metadata={"description": "Keep it: it looks the booking up and "
                                                                      "cancels it", "example": "PK7M2Q9XD"})
    date = fields.Function(lambda b: b.day.day.isoformat(), required=True, metadata={"format": "date"})
    name = fields.String(required=True)
    id_number = fields.Function(lambda b: b.id_number[:6] + "********" + b.id_number[-4:], required=True,
                                metadata={"description": "Masked"})
    reason = fields.String(required=True)
    business = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"description": "booked or cancelled"})
    created_at = fields.AwareDateTime(required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)


class PriorityBookingReceiptSchema(Schema):
    status = fields.String(required=True, metadata={"description": "received: the result and the reference "
                                                                   "are sent by text to the phone given"})
    date = fields.Date(required=True)
    reason = fields.String(required=True)
    phone = fields.String(required=True, metadata={"description": "Masked: where the text goes"})
    message = fields.String(required=True)
