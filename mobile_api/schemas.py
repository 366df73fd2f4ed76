"""Wire formats of the mobile endpoint: assignments, the sync envelope and its per-record answers, photos."""
from marshmallow import Schema, ValidationError, fields, pre_load, validate

from mobile_api.settings import MobileSettings
from vmo import settings, validators
from vmo.bounds import id_field, unstorable_errors, within_years
from schedules.tours.schemas import RECORD_EXTRAS, DeclaredPhotoSchema
from schedules.tours.sync import SyncStatus
from vmo.fields import Plate
from vmo.fleet import papers
from vmo.schemas_common import ErrorSchema
from vmo.types import values

CHECK_VALUES = ("pass", "fail", "n/a")
_FRAME_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class FrameNumber(fields.String):
    """A 17-character VIN (check digit verified) or an older motorcycle frame number (6 to 25 characters)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if len(text) == 17:
            try:
                return validators.validate_vin(text)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
        if not 6 <= len(text) <= 25 or not _FRAME_CHARS.issuperset(text):
            raise ValidationError("must be a 17-character VIN or a frame number of 6 to 25 letters and digits")
        return text


# ---- assignments ------------------------------------------------------------------------

class ChecklistItemSchema(Schema):
    code = fields.String(required=True, metadata={"example": "brake_front"})
    zh = fields.String(required=True, metadata={"example": "前制动"})
    en = fields.String(required=True, metadata={"example": "Front brake"})


class AssignedRegistrationSchema(Schema):
    id = fields.Integer(required=True)
    plate = fields.String(required=True, metadata={"example": "渝G12345"})
    owner_name = fields.String(required=True, metadata={"example": "张三"})
    phone = fields.String(allow_none=True, metadata={"description": "The owner's phone, masked",
                                                     "example": "139****1234"})
    vin = fields.String(allow_none=True, metadata={"description": "VIN or frame number on the register (null: "
                                                                  "not on it, or none recorded)"})
    engine_number = fields.String(allow_none=True, metadata={"description": "Engine number on the register"})
    on_register = fields.Boolean(required=True, metadata={"description": "The plate is on the motorcycle register"})
    status = fields.String(required=True, metadata={"description": "The registration's status on the server"})


class AssignedStopSchema(Schema):
    id = fields.Integer(required=True)
    position = fields.Integer(allow_none=True, metadata={"description": "Place in the route, once routed"})
    township = fields.String(required=True, metadata={"example": "大观镇"})
    venue = fields.String(required=True, metadata={"example": "大观镇政府广场"})
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    arrives_at = fields.AwareDateTime(required=True, metadata={"description": "In the office's zone"})
    departs_at = fields.AwareDateTime(required=True, metadata={"description": "In the office's zone"})
    capacity = fields.Integer(required=True)
    registrations = fields.List(fields.Nested(AssignedRegistrationSchema), required=True,
                                metadata={"description": "Pre-registered motorcycles (cancelled ones left out)"})


class AssignedTourSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    date = fields.Date(required=True)
    status = fields.String(required=True)
    depot = fields.Dict(required=True, metadata={"example": {"lat": 29.158, "lon": 107.099}})
    officers = fields.List(fields.String(), required=True, metadata={"description": "Usernames"})
    stops = fields.List(fields.Nested(AssignedStopSchema), required=True)


class PaperLabelSchema(Schema):
    code = fields.String(required=True, metadata={"example": "certificate_number"})
    zh = fields.String(required=True, metadata={"example": "机动车整车出厂合格证编号"})


class HallVehicleSchema(Schema):
    """A green-channel vehicle as the officer checks it: what it is, and its papers against the originals."""
    vin = fields.String(required=True)
    make = fields.String(required=True)
    model = fields.String(required=True)
    vehicle_type = fields.String(required=True)
    fuel_type = fields.String(required=True)
    status = fields.String(required=True)
    certificate_number = fields.String(allow_none=True)
    purchase_tax_number = fields.String(allow_none=True)
    insurance_policy = fields.String(allow_none=True)
    use_character = fields.String(allow_none=True)
    documents_missing = fields.Function(papers.missing, required=True, metadata={
        "description": "Papers not given yet: the vehicle cannot be registered until they are"})


class HallBatchSchema(Schema):
    batch_id = fields.Integer(required=True)
    company = fields.String(required=True)
    vehicles = fields.List(fields.Nested(HallVehicleSchema), required=True)


class GreenChannelDaySchema(Schema):
    date = fields.Date(required=True)
    arrive_from = fields.String(required=True, metadata={"description": "Office time, HH:MM"})
    arrive_until = fields.String(required=True)
    batches = fields.List(fields.Nested(HallBatchSchema), required=True, metadata={"description": "In booking order"})


class AssignedHomeVisitSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, metadata={"example": "王德明"})
    phone = fields.String(required=True, metadata={"description": "Masked; the call button reveals it (audited)",
                                                   "example": "139****0021"})
    address = fields.String(required=True, metadata={"example": "南川区大观镇中江村3组12号"})
    township = fields.String(required=True, metadata={"example": "大观镇"})
    reason = fields.String(required=True, metadata={"example": "elderly"})
    business = fields.String(required=True, metadata={"example": "机动车驾驶证期满换证"})
    date = fields.Date(required=True)
    window_from = fields.String(required=True, metadata={"description": "Office time", "example": "14:00"})
    window_until = fields.String(required=True, metadata={"description": "Office time", "example": "16:00"})
    status = fields.String(required=True, metadata={"example": "scheduled"})


class AssignmentsSchema(Schema):
    officer = fields.String(required=True, metadata={"description": "The signed-in officer's username"})
    from_ = fields.Date(required=True, data_key="from", metadata={"description": "Today in the office's zone"})
    to = fields.Date(required=True, metadata={"description": "Last day included"})
    checklist = fields.List(fields.Nested(ChecklistItemSchema), required=True,
                            metadata={"description": "The inspection items, with Chinese and English labels"})
    tours = fields.List(fields.Nested(AssignedTourSchema), required=True)
    home_visits = fields.List(fields.Nested(AssignedHomeVisitSchema), required=True, metadata={
        "description": "The officer's scheduled home visits in the same days; the outcome is "
                       "POST /api/v1/home-visits/{id}/outcome with the tablet's client_id"})
    photo_kinds = fields.List(fields.String(), required=True, metadata={
        "description": "What a photo may show (PHOTO_KINDS)", "example": ["左前45度", "右后45度", "车架号", "号牌"]})
    required_photo_kinds = fields.List(fields.String(), required=True, metadata={
        "description": "Kinds a pass needs (PHOTO_REQUIRED_KINDS)", "example": ["左前45度", "车架号"]})
    papers = fields.List(fields.Nested(PaperLabelSchema), required=True, metadata={
        "description": "A new vehicle's papers, checked at the green-channel inspection, with their Chinese names"})
    green_channel = fields.List(fields.Nested(GreenChannelDaySchema), required=True, metadata={
        "description": "The office's green-channel days in the same days, with each booked batch's vehicles "
                       "and their papers (the hall's inspection checklist)"})


# ---- sync -------------------------------------------------------------------------------

class InspectionRecordSchema(Schema.from_dict({name: make() for name, make in RECORD_EXTRAS.items()})):
    """One inspection as logged on the tablet."""

    client_id = fields.UUID(required=True, metadata={"description": "Made on the tablet (UUID); the record's identity",
                                                     "example": "0b7f4a52-3c1e-4f0a-9d2b-6e8c1a5f7d30"})
    stop_id = id_field(required=True, strict=True, metadata={"example": 1})
    plate = Plate(required=True, metadata={"example": "渝G12345"})
    vin = FrameNumber(load_default=None, allow_none=True, metadata={"description": "VIN or frame number"})
    odometer_km = fields.Integer(load_default=None, allow_none=True, strict=True,
                                 validate=validate.Range(0, 10_000_000))
    checklist = fields.Dict(keys=fields.String(validate=validate.Length(1, 40)),
                            values=fields.String(validate=validate.OneOf(CHECK_VALUES)), required=True,
                            metadata={"example": {"lights": "pass", "brake_front": "pass", "horn": "n/a"}})
    result = fields.String(required=True, validate=validate.OneOf(("pass", "fail")))
    defects = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=list,
                          validate=validate.Length(0, 50), metadata={"example": ["左后视镜缺失"]})
    recorded_at = fields.AwareDateTime(required=True, validate=within_years,
                                       metadata={"description": "The tablet's clock, with offset",
                                                 "example": "2026-11-25T09:30:00+08:00"})
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))

    @pre_load
    def _storable_text(self, data, **_kwargs):
        # The edge check leaves the sync body to us: a NUL in one record rejects that record only.
        errors = unstorable_errors(data)
        if errors:
            raise ValidationError(errors)
        return data


class Rejected:
    """A record that did not pass validation: answered `rejected` with its field errors, in place."""

    def __init__(self, client_id, errors: dict):
        self.client_id = client_id
        self.errors = errors


class LenientRecord(fields.Nested):
    """Loads one record; a bad one becomes a `Rejected` instead of failing the whole batch."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        raw_id = value.get("client_id") if isinstance(value, dict) else None
        raw_id = raw_id if isinstance(raw_id, str) else None
        if not isinstance(value, dict):
            return Rejected(None, {"_schema": ["a record must be a JSON object"]})
        try:
            loaded = super()._deserialize(value, attr, data, partial=partial, **kwargs)
        except ValidationError as exc:
            return Rejected(raw_id, exc.normalized_messages())
        # Answer with the tablet's own spelling of the id, so it finds the record in its queue.
        loaded["client_id_as_sent"] = raw_id
        return loaded


class SyncSchema(Schema):
    device_id = fields.String(required=True, validate=validate.Length(1, 64),
                              metadata={"example": "tablet-6f1c"})
    sent_at = fields.AwareDateTime(load_default=None, metadata={
        "description": "The tablet's clock when sending; more than CLOCK_SKEW_MINUTES off the server's "
                       "is recorded and flagged in the tour report"})
    records = fields.List(LenientRecord(InspectionRecordSchema), required=True, metadata={
        "description": "At most MOBILE_SYNC_MAX_RECORDS (500) records; answered one by one, in order"})

    @pre_load
    def _storable_envelope(self, data, **_kwargs):
        envelope = {k: v for k, v in data.items() if k != "records"} if isinstance(data, dict) else None
        errors = unstorable_errors(envelope)
        if errors:
            raise ValidationError(errors)
        return data

    @pre_load
    def _not_too_many(self, data, **_kwargs):
        limit = settings.get(MobileSettings).max_records
        records = data.get("records") if isinstance(data, dict) else None
        if isinstance(records, list) and len(records) > limit:
            raise ValidationError(f"at most {limit} records per sync, got {len(records)}; send them in "
                                  "smaller batches", "records")
        return data


class SyncResultSchema(Schema):
    client_id = fields.String(allow_none=True, required=True, metadata={"description": "As sent"})
    status = fields.String(required=True, validate=validate.OneOf(values(SyncStatus)), metadata={
        "description": "created; duplicate (same content already there, nothing changed); conflict (other "
                       "content already there under this client_id, the first stays); rejected (see errors)"})
    id = fields.Integer(metadata={"description": "The server's id of the inspection (created, duplicate, conflict)"})
    errors = fields.Dict(metadata={"description": "Field errors of a rejected record",
                                   "example": {"plate": ["must start with a province character such as 渝"]}})
    differences = fields.List(fields.String(), metadata={"description": "Fields that differ, for a conflict",
                                                         "example": ["result", "defects"]})


class SyncAnswerSchema(Schema):
    results = fields.List(fields.Nested(SyncResultSchema), required=True)
    received_at = fields.AwareDateTime(required=True)
    clock_skew = fields.Boolean(required=True, metadata={
        "description": "True when sent_at was more than the allowed minutes off the server's clock"})


# ---- inspections and photos ---------------------------------------------------------------

class PhotoSchema(Schema):
    sha256 = fields.String(required=True)
    kind = fields.String(allow_none=True, metadata={"description": "What it shows (one of PHOTO_KINDS)"})
    content_type = fields.String(required=True, metadata={"example": "image/jpeg"})
    size = fields.Integer(required=True, metadata={"description": "Bytes"})
    uploaded_by = fields.Function(lambda p: p.uploaded_by.username if p.uploaded_by else None, allow_none=True)
    uploaded_at = fields.AwareDateTime(required=True)
    url = fields.Method("_url", required=True)

    def _url(self, photo):
        return f"/api/v1/mobile/inspections/{photo.client_id}/photos/{photo.sha256}"


class PhotoQueryArgsSchema(Schema):
    kind = fields.String(load_default=None, validate=validate.Length(1, 20), metadata={
        "description": "What the photo shows (one of PHOTO_KINDS), unless the record declared it"})


class MobileInspectionSchema(Schema):
    id = fields.Integer(required=True)
    client_id = fields.String(required=True)
    stop_id = fields.Integer(required=True)
    tour_id = fields.Integer(required=True)
    plate = fields.String(required=True)
    vin = fields.String(allow_none=True)
    odometer_km = fields.Integer(allow_none=True)
    checklist = fields.Dict(required=True)
    result = fields.String(required=True)
    defects = fields.List(fields.String(), required=True)
    officer = fields.String(required=True, metadata={"description": "Username of the officer who logged it"})
    device_id = fields.String(allow_none=True)
    recorded_at = fields.AwareDateTime(required=True)
    received_at = fields.AwareDateTime(required=True)
    clock_skew = fields.Boolean(required=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    walk_in = fields.Boolean(required=True)
    engine_number = fields.String(allow_none=True)
    vin_matches = fields.Boolean(allow_none=True)
    engine_number_matches = fields.Boolean(allow_none=True)
    not_on_register = fields.Boolean(required=True)
    declared_photos = fields.List(fields.Nested(DeclaredPhotoSchema), required=True, metadata={
        "description": "The photos the record declared, by kind"})
    photos = fields.List(fields.Nested(PhotoSchema), required=True)


class PhotoTooLargeErrorSchema(ErrorSchema):
    max_bytes = fields.Integer(metadata={"description": "With a 413: the largest body accepted, in bytes"})


class PhotoMismatchErrorSchema(ErrorSchema):
    actual_sha256 = fields.String(metadata={"description": "With a photo hash mismatch: the hash of the bytes sent"})
