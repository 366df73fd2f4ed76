"""Wire formats for the priority lane: its days, the two-step public booking, the counter booking."""
from marshmallow import Schema, fields, validate

from vmo.fields import Mobile, ResidentId
from vmo.priority.models import REASONS


class PriorityBookingCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 120), metadata={"example": "张桂英"})
    id_number = ResidentId(required=True,
                           metadata={"description": "18-digit resident ID; for `elderly` the age (60+ on the "
                                                       "day) is read from it", "example": "500119195201150029"})
    phone = Mobile(required=True, metadata={"description": "The code (and then the reference) is texted here",
                                            "example": "13983000002"})
    reason = fields.String(required=True, validate=validate.OneOf(REASONS),
                           metadata={"description": "pregnant, elderly (60 or over, 老年人权益保障法 art. 2) or disabled"})
    date = fields.Date(required=True, metadata={"example": "2026-11-27"})
    business = fields.String(load_default=None, validate=validate.Length(1, 200),
                             metadata={"description": "The vehicle business to be done", "example": "机动车转移登记"})
    certificate_number = fields.String(load_default=None, validate=validate.Length(1, 40),
                                       metadata={"description": "Disability certificate number, shown at the counter"})
    office = fields.String(load_default=None, validate=validate.Length(1, 40),
                           metadata={"description": "Office code (default: the deployment's default office)"})


class PriorityCodeSentSchema(Schema):
    status = fields.String(required=True, metadata={"description": "code_sent: nothing is held until the code "
                                                                   "texted to the phone is confirmed"})
    date = fields.Date(required=True)
    phone = fields.String(required=True, metadata={"description": "Masked: where the code went"})
    expires_at = fields.AwareDateTime(required=True, metadata={"description": "Confirm before this"})
    message = fields.String(required=True)


class PriorityConfirmSchema(Schema):
    phone = Mobile(required=True, metadata={"example": "13983000002"})
    code = fields.String(required=True, validate=validate.Length(1, 12), metadata={"example": "482913"})


class PriorityBookingSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True, metadata={"description": "Keep it: it looks the booking up and "
                                                                      "cancels it", "example": "PK7M2Q9X"})
    date = fields.Date(required=True)
    status = fields.String(required=True, metadata={"description": "booked or cancelled"})
    name = fields.String(allow_none=True, metadata={
        "description": "Shown to staff and to the holder of the booking's phone (`?phone=`); else null"})
    reason = fields.String(allow_none=True, metadata={"description": "As `name`"})
    id_number = fields.String(allow_none=True, metadata={"description": "Masked; as `name`"})
    business = fields.String(allow_none=True, metadata={"description": "As `name`"})
    phone = fields.String(required=True, metadata={"description": "Masked (138****5678)"})
    at_counter = fields.Boolean(required=True, metadata={"description": "Booked by staff at the counter"})
    created_at = fields.AwareDateTime(required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)


class PriorityLookupArgsSchema(Schema):
    phone = fields.String(load_default=None, validate=validate.Length(1, 20), metadata={
        "description": "The booking's phone number: with it the name and reason are shown"})


class PriorityDaySchema(Schema):
    date = fields.Date(required=True)
    capacity = fields.Integer(required=True, metadata={"description": "Priority places that day"})
    booked = fields.Integer(required=True)
    available = fields.Integer(required=True)


class PriorityDaySetSchema(Schema):
    capacity = fields.Integer(required=True, validate=validate.Range(0, 10000), metadata={"example": 12})


class PriorityDaysArgsSchema(Schema):
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    office = fields.String(load_default=None, validate=validate.Length(1, 40))


class PriorityQueueEntrySchema(Schema):
    position = fields.Integer(required=True)
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    name = fields.String(required=True)
    reason = fields.String(required=True)
    business = fields.String(allow_none=True)
    phone = fields.String(required=True, metadata={"description": "Masked; POST /phones/reveal to call"})
    at_counter = fields.Boolean(required=True)
    booked_at = fields.AwareDateTime(required=True)
