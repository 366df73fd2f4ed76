"""Wire formats for tours, stops, registrations, inspections and reports."""
from marshmallow import Schema, ValidationError, fields, validate

from vmo.bounds import id_field
from vmo.fields import Mobile, Plate
from schedules.tours.models import TourStatus
from vmo.redact import mask_phone
from vmo.schemas_common import ErrorSchema
from vmo.types import values
from vmo.motorcycles import services as register_of_motorcycles


LAT = validate.Range(-90, 90)
LON = validate.Range(-180, 180)


class TourPointSchema(Schema):
    lat = fields.Float(required=True, validate=LAT, metadata={"example": 29.1577})
    lon = fields.Float(required=True, validate=LON, metadata={"example": 107.0993})


class TourStopCreateSchema(Schema):
    township = fields.String(required=True, validate=validate.Length(1, 40), metadata={"example": "大观镇"})
    venue = fields.String(required=True, validate=validate.Length(1, 200), metadata={"example": "大观镇政府广场"})
    lat = fields.Float(required=True, validate=LAT, metadata={"example": 29.2306})
    lon = fields.Float(required=True, validate=LON, metadata={"example": 107.1878})
    arrives_at = fields.AwareDateTime(required=True, metadata={"example": "2026-11-28T09:00:00+08:00"})
    departs_at = fields.AwareDateTime(required=True, metadata={"example": "2026-11-28T10:30:00+08:00"})
    capacity = fields.Integer(required=True, validate=validate.Range(1, 2000),
                              metadata={"description": "Vehicles that can be inspected (and pre-registered)",
                                        "example": 30})


class TourCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 120), metadata={"example": "南川东线下乡检验"})
    date = fields.Date(required=True, metadata={"example": "2026-11-28"})
    depot = fields.Nested(TourPointSchema, required=True, metadata={"description": "Where the tour starts and ends"})
    stops = fields.List(fields.Nested(TourStopCreateSchema), required=True, validate=validate.Length(1, 100))
    officers = fields.List(fields.String(validate=validate.Length(1, 64)), required=True,
                           validate=validate.Length(1, 20),
                           metadata={"description": "Usernames of officers", "example": ["officer"]})


class TourStopUpdateSchema(Schema):
    id = id_field(metadata={"description": "An existing stop; leave out to add a new stop"})
    remove = fields.Boolean(load_default=False, metadata={"description": "Remove (after publishing: cancel) it"})
    township = fields.String(validate=validate.Length(1, 40))
    venue = fields.String(validate=validate.Length(1, 200))
    lat = fields.Float(validate=LAT)
    lon = fields.Float(validate=LON)
    arrives_at = fields.AwareDateTime()
    departs_at = fields.AwareDateTime()
    capacity = fields.Integer(validate=validate.Range(1, 2000))


class TourUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(1, 120))
    date = fields.Date()
    depot = fields.Nested(TourPointSchema)
    stops = fields.List(fields.Nested(TourStopUpdateSchema), validate=validate.Length(0, 100),
                        metadata={"description": "Changes per stop: with id to edit or remove, without to add"})
    officers = fields.List(fields.String(validate=validate.Length(1, 64)), validate=validate.Length(1, 20))


class TourRouteRequestSchema(Schema):
    matrix = fields.List(fields.List(fields.Float()), load_default=None, metadata={
        "description": "Road distances in km, (n+1)x(n+1): row/column 0 the depot, then the stops in their "
                       "current order (position); may be asymmetric. Default: great-circle distances."})
    speed_kmh = fields.Float(load_default=None, validate=validate.Range(5, 130),
                             metadata={"description": "Average speed (default VMO_TOUR_AVERAGE_SPEED_KMH)"})
    service_minutes = fields.Integer(load_default=None, validate=validate.Range(0, 720), metadata={
        "description": "Time at every stop; default: each stop keeps the length of its current window"})
    depart_at = fields.AwareDateTime(load_default=None, metadata={
        "description": "Leaving the depot; default VMO_TOUR_DEPART_TIME on the tour's day"})


class TourCancelSchema(Schema):
    reason = fields.String(load_default=None, validate=validate.Length(1, 200), metadata={"example": "暴雨预警"})


class TourStopSchema(Schema):
    id = fields.Integer(required=True)
    position = fields.Integer(required=True, metadata={"description": "Order in the day's drive, from 0"})
    township = fields.String(required=True)
    venue = fields.String(required=True)
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    arrives_at = fields.AwareDateTime(required=True)
    departs_at = fields.AwareDateTime(required=True)
    capacity = fields.Function(lambda s: s.slot.capacity, required=True)
    registered = fields.Function(lambda s: s.slot.booked, required=True)
    available = fields.Function(lambda s: s.slot.available, required=True)
    status = fields.String(required=True, metadata={"description": "scheduled or cancelled"})


class TourOfficerSchema(Schema):
    username = fields.String(required=True)
    display_name = fields.String(allow_none=True)
    badge_number = fields.String(allow_none=True)


class TourSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    date = fields.Date(required=True)
    status = fields.String(required=True, metadata={"description": "draft, published or cancelled"})
    sequence = fields.Integer(required=True, metadata={"description": "iCalendar SEQUENCE of the stops' events"})
    depot = fields.Function(lambda t: {"lat": t.depot_lat, "lon": t.depot_lon}, required=True)
    distance_km = fields.Float(allow_none=True, metadata={"description": "Round trip, once routed"})
    route_method = fields.String(allow_none=True)
    route_exact = fields.Boolean(allow_none=True, metadata={"description": "True when provably the shortest"})
    returns_at = fields.AwareDateTime(allow_none=True, metadata={"description": "Back at the depot, once routed"})
    officers = fields.List(fields.Nested(TourOfficerSchema), required=True)
    stops = fields.List(fields.Nested(TourStopSchema), required=True)
    created_at = fields.AwareDateTime(required=True)
    published_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)


class TourQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(values(TourStatus)))
    from_ = fields.Date(data_key="from", load_default=None)
    to = fields.Date(load_default=None)


class PublicTourStopSchema(TourStopSchema):
    tour_id = fields.Integer(required=True)
    tour_name = fields.Function(lambda s: s.tour.name, required=True)
    date = fields.Function(lambda s: s.tour.date.isoformat(), required=True, metadata={"format": "date"})


class PublicTourStopQueryArgsSchema(Schema):
    township = fields.String(load_default=None, metadata={"example": "大观镇"})
    office = fields.String(load_default=None, metadata={"description": "Office code (default: the default office)"})


class TownshipFeedQueryArgsSchema(Schema):
    office = fields.String(load_default=None, validate=validate.Length(1, 40),
                           metadata={"description": "Office code (default: the default office)"})


class StopRegistrationCreateSchema(Schema):
    plate = Plate(required=True, metadata={"example": "渝G12345"})
    owner_name = fields.String(required=True, validate=validate.Length(1, 60), metadata={"example": "王德明"})
    phone = Mobile(required=True, metadata={"example": "13983001234"})


class StopRegistrationSchema(Schema):
    id = fields.Integer(required=True)
    tour_id = fields.Integer(required=True)
    stop_id = fields.Integer(required=True)
    plate = fields.String(required=True)
    owner_name = fields.String(required=True)
    phone = fields.Function(lambda r: mask_phone(r.phone), required=True, metadata={
        "description": "Masked (138****5678); an officer who must call asks POST /phones/reveal"})
    status = fields.String(required=True, metadata={"description": "registered, inspected or cancelled"})
    township = fields.Function(lambda r: r.stop.township, required=True)
    venue = fields.Function(lambda r: r.stop.venue, required=True)
    arrives_at = fields.Function(lambda r: r.stop.arrives_at.isoformat(), required=True,
                                 metadata={"format": "date-time"})
    departs_at = fields.Function(lambda r: r.stop.departs_at.isoformat(), required=True,
                                 metadata={"format": "date-time"})
    created_at = fields.AwareDateTime(required=True)


class StopRegistrationCreatedSchema(StopRegistrationSchema):
    cancel_code = fields.String(required=True, metadata={
        "description": "The owner's code to cancel this registration without an account (also sent by text); "
                       "given only in this answer", "example": "K7P2QX9M"})


class StopRegistrationCancelSchema(Schema):
    code = fields.String(load_default=None, validate=validate.Length(1, 32), metadata={
        "description": "The cancel code from the registration (not needed by staff of the office)",
        "example": "K7P2QX9M"})


CHECK_VALUES = ("pass", "fail", "n/a")


class EngineNumber(fields.String):
    """An engine number as stamped (发动机号): 4 to 30 letters, digits or hyphens, upper-cased."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return register_of_motorcycles.engine_number(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class DeclaredPhotoSchema(Schema):
    """A photo the record will send (PUT .../photos/{sha256}), and what it shows."""
    kind = fields.String(required=True, validate=validate.Length(1, 20), metadata={
        "description": "One of PHOTO_KINDS", "example": "左前45度"})
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-fA-F]{64}$"),
                           metadata={"description": "Hex SHA-256 of the photo's bytes"})


# What an officer enters at the stop besides the checklist: the same fields on both inspection paths.
RECORD_EXTRAS = {
    "engine_number": lambda: EngineNumber(load_default=None, allow_none=True, metadata={
        "description": "Engine number as read on the motorcycle"}),
    "owner_name": lambda: fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 120),
                                        metadata={"description": "For a walk-in not on the register"}),
    "phone": lambda: Mobile(load_default=None, allow_none=True,
                            metadata={"description": "For a walk-in not on the register"}),
    "photos": lambda: fields.List(fields.Nested(DeclaredPhotoSchema), load_default=list, allow_none=True,
                                  validate=validate.Length(0, 20), metadata={
                                      "description": "Photos taken, by kind; the office may require kinds for a pass"}),
}


class TourInspectionCreateSchema(Schema.from_dict({name: make() for name, make in RECORD_EXTRAS.items()})):
    plate = Plate(required=True, metadata={"example": "渝G12345"})
    result = fields.String(required=True, validate=validate.OneOf(("pass", "fail")))
    defects = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=list,
                          validate=validate.Length(0, 50), metadata={"example": ["后转向灯不亮"]})
    checklist = fields.Dict(keys=fields.String(validate=validate.Length(1, 64)),
                            values=fields.String(validate=validate.OneOf(CHECK_VALUES)), load_default=dict,
                            metadata={"example": {"brake_front": "pass", "lights": "pass", "horn": "n/a"}})
    vin = fields.String(load_default=None, validate=validate.Length(6, 25))
    odometer_km = fields.Integer(load_default=None, validate=validate.Range(0, 10_000_000))
    recorded_at = fields.AwareDateTime(load_default=None, metadata={"description": "Default: now"})
    lat = fields.Float(load_default=None, validate=LAT)
    lon = fields.Float(load_default=None, validate=LON)
    client_id = fields.UUID(load_default=None, metadata={"description": "The recording device's UUID"})
    note = fields.String(load_default=None, validate=validate.Length(0, 1000))


class TourInspectionSchema(Schema):
    id = fields.Integer(required=True)
    client_id = fields.String(required=True)
    tour_id = fields.Integer(required=True)
    stop_id = fields.Integer(required=True)
    plate = fields.String(required=True)
    vin = fields.String(allow_none=True)
    odometer_km = fields.Integer(allow_none=True)
    result = fields.String(required=True)
    defects = fields.List(fields.String(), required=True)
    checklist = fields.Dict(required=True)
    officer = fields.Function(lambda i: i.officer.badge_number or i.officer.username, required=True)
    walk_in = fields.Boolean(required=True, metadata={"description": "Inspected without pre-registration"})
    clock_skew = fields.Boolean(required=True, metadata={"description": "The device's time cannot be right"})
    engine_number = fields.String(allow_none=True)
    vin_matches = fields.Boolean(allow_none=True, metadata={
        "description": "The VIN read matches the register's (null: not read, or none on the register)"})
    engine_number_matches = fields.Boolean(allow_none=True, metadata={
        "description": "The engine number read matches the register's (null: not read, or none registered)"})
    not_on_register = fields.Boolean(required=True, metadata={
        "description": "The plate was not on the motorcycle register; it has been added, flagged"})
    photos = fields.List(fields.Nested(DeclaredPhotoSchema), required=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    recorded_at = fields.AwareDateTime(required=True)
    received_at = fields.AwareDateTime(required=True)


class TourStopReportSchema(Schema):
    stop_id = fields.Integer(required=True)
    position = fields.Integer(required=True)
    township = fields.String(required=True)
    venue = fields.String(required=True)
    arrives_at = fields.AwareDateTime(required=True)
    departs_at = fields.AwareDateTime(required=True)
    status = fields.String(required=True)
    capacity = fields.Integer(required=True)
    registered = fields.Integer(required=True)
    inspected = fields.Integer(required=True, metadata={"description": "Vehicles (a re-inspection counts once)"})
    passed = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    walk_ins = fields.Integer(required=True, metadata={"description": "Inspected without pre-registration"})
    not_on_register = fields.Integer(required=True, metadata={
        "description": "Inspected motorcycles that were not on the register (added since, flagged)"})
    ended = fields.Boolean(required=True, metadata={"description": "The stop's time window is over"})
    no_shows = fields.Integer(required=True, metadata={
        "description": "Pre-registered but not inspected; counted once the stop has ended (0 before)"})
    clock_skew = fields.Integer(required=True, metadata={"description": "Inspections with a doubtful device time"})


class TourReportTotalsSchema(Schema):
    capacity = fields.Integer(required=True)
    registered = fields.Integer(required=True)
    inspected = fields.Integer(required=True)
    passed = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    walk_ins = fields.Integer(required=True)
    not_on_register = fields.Integer(required=True)
    no_shows = fields.Integer(required=True)
    clock_skew = fields.Integer(required=True)
    pass_rate = fields.Float(allow_none=True)
    scrap_due = fields.Integer(required=True, metadata={
        "description": "Motorcycles on the register in the tour's townships due for compulsory scrapping on its "
                       "date: not invited, told to deregister"})
    scrap_due_registered = fields.Integer(required=True, metadata={
        "description": "Pre-registered motorcycles among them (inspected or not, they are to be deregistered)"})


class TourReportSchema(Schema):
    tour_id = fields.Integer(required=True)
    name = fields.String(required=True)
    date = fields.Date(required=True)
    status = fields.String(required=True)
    distance_km = fields.Float(allow_none=True)
    stops = fields.List(fields.Nested(TourStopReportSchema), required=True)
    totals = fields.Nested(TourReportTotalsSchema, required=True)


class TourReportQueryArgsSchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class TourSeasonQueryArgsSchema(Schema):
    from_ = fields.Date(data_key="from", required=True, metadata={"example": "2026-10-01"})
    to = fields.Date(required=True, metadata={"example": "2027-03-31"})


class TourSeasonReportSchema(Schema):
    from_ = fields.Date(data_key="from", attribute="from", required=True)
    to = fields.Date(required=True)
    tours = fields.Integer(required=True, metadata={"description": "Tours held (published, not cancelled)"})
    cancelled_tours = fields.Integer(required=True)
    stops = fields.Integer(required=True)
    registered = fields.Integer(required=True)
    vehicles_inspected = fields.Integer(required=True)
    passed = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    walk_ins = fields.Integer(required=True)
    pass_rate = fields.Float(allow_none=True)
    distance_km = fields.Float(required=True)


class RegistrationConflictErrorSchema(ErrorSchema):
    """A pre-registration refused with 409; a duplicate seen by the office names the earlier one."""

    registration_id = fields.Integer(metadata={"description": "With a duplicate pre-registration 409: the earlier one"})
