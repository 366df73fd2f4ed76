"""Wire formats for green-channel days and the day's serving queue."""
from marshmallow import Schema, fields, validate


class DaySchema(Schema):
    date = fields.Date(attribute="day", required=True)
    capacity = fields.Function(lambda d: d.total_capacity, required=True,
                               metadata={"description": "Vehicles, priority share included"})
    booked = fields.Function(lambda d: d.total_booked, required=True, metadata={"description": "All bookings"})
    available = fields.Function(lambda d: d.slot.available, required=True,
                                metadata={"description": "Places an ordinary (fleet) booking can still take"})
    priority_capacity = fields.Function(lambda d: d.priority_slot.capacity if d.priority_slot else 0,
                                        required=True, metadata={"description": "Places kept for pregnant, "
                                                                                "elderly and disabled people"})
    priority_available = fields.Function(lambda d: d.priority_slot.available if d.priority_slot else 0,
                                         required=True)
    note = fields.String(allow_none=True)


class DayUpdateSchema(Schema):
    capacity = fields.Integer(required=True, validate=validate.Range(0, 10000),
                              metadata={"description": "Vehicles the day can take, extra shifts included",
                                        "example": 30})
    note = fields.String(load_default=None, validate=validate.Length(0, 200), metadata={"example": "加班至20:00"})


class DayQueryArgsSchema(Schema):
    from_ = fields.Date(data_key="from", load_default=None)
    to = fields.Date(load_default=None)
    office = fields.String(load_default=None, metadata={"description": "Office code (default: yours, or the default office)"})


class DayQueueEntrySchema(Schema):
    position = fields.Integer(required=True, metadata={"description": "Serving order, from 1"})
    kind = fields.String(required=True, metadata={"description": "priority (served first) or fleet"})
    id = fields.Integer(required=True, metadata={"description": "Priority booking or fleet appointment id"})
    reference = fields.String(allow_none=True)
    name = fields.String(required=True, metadata={"description": "The person, or the company"})
    reason = fields.String(allow_none=True)
    business = fields.String(allow_none=True)
    phone = fields.String(required=True)
    vehicles = fields.Integer(required=True)
    batch_id = fields.Integer(allow_none=True)
    booked_at = fields.AwareDateTime(required=True)


class DayQueueSchema(Schema):
    date = fields.Date(required=True)
    capacity = fields.Integer(required=True)
    priority_capacity = fields.Integer(required=True)
    entries = fields.List(fields.Nested(DayQueueEntrySchema), required=True)
