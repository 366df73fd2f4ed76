"""Wire formats for green-channel days and the day's serving queue."""
from marshmallow import Schema, fields, validate


LOCAL_TIME = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="a local time HH:MM, e.g. 12:00")


def local_time(description: str, example: str, **kw) -> fields.String:
    """An office-time clock reading, `HH:MM` (24 h)."""
    return fields.String(validate=LOCAL_TIME, metadata={"description": description, "example": example,
                                                        "pattern": LOCAL_TIME.regex.pattern}, **kw)


class DaySchema(Schema):
    date = fields.Date(attribute="day", required=True)
    capacity = fields.Integer(required=True, metadata={"description": "Vehicles fleets can book (the priority "
                                                                      "places come on top of these)"})
    booked = fields.Function(lambda d: d.slot.booked, required=True,
                             metadata={"description": "Fleet places booked"})
    available = fields.Function(lambda d: d.slot.available, required=True,
                                metadata={"description": "Places a fleet booking can still take"})
    priority_capacity = fields.Integer(required=True, metadata={
        "description": "The hall's priority places of this date (pregnant, elderly and disabled people), apart "
                       "from `capacity`: the same as PUT /priority/days/{date} sets"})
    priority_available = fields.Function(lambda d: d.priority_slot.available if d.priority_slot else 0,
                                         required=True)
    arrive_from = local_time("Visitors come from (office time)", "12:00", required=True)
    arrive_until = local_time("Visitors come until (office time)", "20:00", required=True)
    note = fields.String(allow_none=True)


class DayUpdateSchema(Schema):
    capacity = fields.Integer(required=True, validate=validate.Range(0, 10000),
                              metadata={"description": "Vehicles fleets can book, extra shifts included",
                                        "example": 15})
    priority_capacity = fields.Integer(load_default=None, validate=validate.Range(0, 10000), metadata={
        "description": "The hall's priority places of this date, apart from `capacity` (default: what the "
                       "priority lane has that day, VMO_PRIORITY_DAILY_CAPACITY on a working day)", "example": 2})
    arrive_from = local_time("Visitors come from (default: the day's, or 09:00 for a new day)", "12:00",
                             load_default=None)
    arrive_until = local_time("Visitors come until (default: the day's, or 17:00 for a new day)", "20:00",
                              load_default=None)
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
    arrive_from = fields.String(required=True)
    arrive_until = fields.String(required=True)
    entries = fields.List(fields.Nested(DayQueueEntrySchema), required=True)
