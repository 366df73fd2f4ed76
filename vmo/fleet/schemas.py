"""Wire formats for batches, vehicles, appointments and inspections."""
from marshmallow import Schema, ValidationError, fields, validate

from vmo import validators
from vmo.fields import VIN
from vmo.fleet import papers
from vmo.fleet.models import FUEL_TYPES, MAX_BATCH_CEILING, VEHICLE_TYPES, BatchStatus, RequestStatus
from vmo.fleet.settings import FleetSettings
from vmo.greenchannel.schemas import local_time
from vmo.schemas_common import ErrorSchema
from vmo.types import values


class PaperNumber(fields.String):
    """One of a vehicle's paper numbers, normalised and checked (vmo.fleet.papers)."""

    def __init__(self, name: str, **kwargs):
        zh, low, high = papers.PAPERS[name]
        self.paper = name
        metadata = {"description": f"{zh}: {low} to {high} letters and digits (spaces and dashes are dropped)",
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return papers.validate_paper(self.paper, super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class UseCharacter(fields.String):
    """使用性质, one of GA 24.3's names that a new vehicle may be registered with."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return papers.validate_use_character(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def paper_fields(**kwargs) -> dict:
    """The four papers as schema fields (`kwargs`: e.g. load_default=None)."""
    return {
        "certificate_number": PaperNumber("certificate_number", metadata={"example": "WDY123456789012"}, **kwargs),
        "purchase_tax_number": PaperNumber("purchase_tax_number", metadata={"example": "350012026001234567"},
                                           **kwargs),
        "insurance_policy": PaperNumber("insurance_policy", metadata={"example": "PDZA202650010000012345"},
                                        **kwargs),
        "use_character": UseCharacter(metadata={
            "description": "使用性质 (GA 24.3), e.g. 非营运", "enum": list(papers.NEW_VEHICLE_USE_CHARACTERS),
            "example": "非营运"}, **kwargs),
    }


# A batch may carry the papers (all, some or none): registration needs them all.
class VehicleCreateSchema(Schema.from_dict(paper_fields(load_default=None), name="OptionalPapersSchema")):
    vin = VIN(required=True, metadata={"description": "17 characters, check digit in position 9",
                                       "example": "LSVAU218XN2183294"})
    make = fields.String(required=True, validate=validate.Length(1, 80), metadata={"example": "长安"})
    model = fields.String(required=True, validate=validate.Length(1, 80), metadata={"example": "CS75 PLUS"})
    vehicle_type = fields.String(required=True, validate=validate.OneOf(VEHICLE_TYPES),
                                 metadata={"example": "suv"})
    fuel_type = fields.String(load_default="petrol", validate=validate.OneOf(FUEL_TYPES),
                              metadata={"description": "plug_in_hybrid, electric and fuel_cell get new-energy plates"})
    color = fields.String(load_default=None, validate=validate.Length(1, 40))
    invoice_number = fields.String(load_default=None, validate=validate.Length(1, 64))


class VehiclePapersSchema(Schema.from_dict(paper_fields())):
    """`PATCH /fleet/vehicles/{vin}`: any of the papers; those left out stay as they are."""


class BatchCreateSchema(Schema):
    vehicles = fields.List(fields.Nested(VehicleCreateSchema), required=True,
                           validate=validate.Length(max=MAX_BATCH_CEILING,
                                                    error=f"a batch has 1 to {MAX_BATCH_CEILING} vehicles"),
                           # The office's own limit is checked by the service, which knows it.
                           metadata={"minItems": 1,
                                     "description": f"1 to the office's limit (`FLEET_MAX_BATCH`, default {FleetSettings().max_batch}) "
                                                    f"vehicles; no office allows more than {MAX_BATCH_CEILING}."})
    note = fields.String(load_default=None, validate=validate.Length(0, 2000))

    def __init__(self, *args, office_id=None, **kwargs):
        """`office_id`: a function giving the caller's office, whose known VINs are named too."""
        super().__init__(*args, **kwargs)
        self.office_id = office_id

    def handle_error(self, error, data, *, many, **kwargs):
        # Field errors stop the load before the service runs; add the batch-level VIN problems
        # (twice in the batch, already known) now, so one 422 names every bad index.
        from vmo.fleet.services import vin_problems

        vehicles = data.get("vehicles") if isinstance(data, dict) else None
        messages = error.messages
        if not isinstance(vehicles, list) or not isinstance(messages.get("vehicles", {}), dict):
            return
        problems, _ = vin_problems([vin_or_none(v.get("vin") if isinstance(v, dict) else None) for v in vehicles],
                                   self.office_id() if self.office_id else None)
        for index, fields_ in problems.items():
            slot = messages.setdefault("vehicles", {}).setdefault(index, {})
            for name, msgs in fields_.items():
                slot.setdefault(name, []).extend(msgs)


def vin_or_none(value) -> str | None:
    """The normalised VIN, or None if it is not a valid one (its own error is reported elsewhere)."""
    try:
        return validators.validate_vin(value) if isinstance(value, str) else None
    except ValueError:
        return None


class InspectionSchema(Schema):
    id = fields.Integer(required=True)
    vin = fields.Function(lambda i: i.vehicle.vin, required=True)
    result = fields.String(required=True)
    defects = fields.List(fields.String(), required=True)
    officer = fields.Function(lambda i: i.officer.badge_number or i.officer.username, required=True,
                              metadata={"description": "Badge number (or username) of the inspecting officer"})
    inspected_at = fields.AwareDateTime(required=True)
    vehicle_status = fields.Function(lambda i: i.vehicle.status, required=True)


class InspectionSummarySchema(Schema):
    result = fields.String(required=True)
    defects = fields.List(fields.String(), required=True)
    officer = fields.Function(lambda i: i.officer.badge_number or i.officer.username, required=True)
    inspected_at = fields.AwareDateTime(required=True)


class PlateChoiceStateSchema(Schema):
    state = fields.String(required=True, metadata={"description": "none, choosing (50 choices held for it), "
                                                                  "reserved (chosen) or issued"})
    plate = fields.String(allow_none=True, metadata={"description": "The reserved or issued plate"})
    expires_at = fields.AwareDateTime(allow_none=True, metadata={"description": "While choosing: until when"})


class VehicleSchema(Schema):
    id = fields.Integer(required=True)
    vin = fields.String(required=True)
    make = fields.String(required=True)
    model = fields.String(required=True)
    vehicle_type = fields.String(required=True)
    fuel_type = fields.String(required=True)
    color = fields.String(allow_none=True)
    invoice_number = fields.String(allow_none=True)
    certificate_number = fields.String(allow_none=True, metadata={"description": "合格证编号"})
    purchase_tax_number = fields.String(allow_none=True, metadata={"description": "车辆购置税完税证明号码"})
    insurance_policy = fields.String(allow_none=True, metadata={"description": "交强险保单号"})
    use_character = fields.String(allow_none=True, metadata={"description": "使用性质"})
    documents_missing = fields.Function(papers.missing, required=True, metadata={
        "description": "The papers still missing (registration is refused until none is)"})
    status = fields.String(required=True, metadata={
        "description": "submitted, scheduled, inspected, failed_inspection or registered"})
    plate = fields.String(allow_none=True, metadata={"description": "Set once registered"})
    batch_id = fields.Integer(required=True)
    last_inspection = fields.Nested(InspectionSummarySchema, allow_none=True)
    inspected_at = fields.AwareDateTime(allow_none=True)
    registered_at = fields.AwareDateTime(allow_none=True)
    plate_choice = fields.Function(lambda v: PlateChoiceStateSchema().dump(getattr(v, "plate_choice", None))
                                   if getattr(v, "plate_choice", None) else None, allow_none=True,
                                   metadata={"description": "In one batch's answer: the plate choice state "
                                                            "(`state`, `plate`, `expires_at`)"})


class AppointmentSchema(Schema):
    id = fields.Integer(required=True)
    batch_id = fields.Integer(required=True)
    date = fields.Function(lambda a: a.day.day.isoformat(), required=True, metadata={"format": "date"})
    arrive_from = fields.Function(lambda a: a.day.arrive_from, required=True,
                                  metadata={"description": "Come from (office time, HH:MM)"})
    arrive_until = fields.Function(lambda a: a.day.arrive_until, required=True,
                                   metadata={"description": "Come until (office time, HH:MM)"})
    vehicles = fields.Integer(attribute="units", required=True, metadata={"description": "Places held on the day"})
    status = fields.String(required=True, metadata={"description": "booked or cancelled"})
    created_at = fields.AwareDateTime(required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)


class AppointmentCreateSchema(Schema):
    date = fields.Date(required=True, metadata={"example": "2026-11-27"})


class AppointmentMoveSchema(Schema):
    date = fields.Date(required=True, metadata={"description": "The new day; the whole batch moves",
                                                "example": "2026-11-30"})


class GreenChannelRequestCreateSchema(Schema):
    wanted_date = fields.Date(required=True, metadata={"description": "The day the company would like",
                                                       "example": "2026-11-26"})
    note = fields.String(load_default=None, validate=validate.Length(0, 500),
                         metadata={"example": "公司新购15台车，急需上户投入运营"})


class GreenChannelRequestSchema(Schema):
    id = fields.Integer(required=True)
    batch_id = fields.Integer(required=True)
    company = fields.Function(lambda r: r.batch.company.name, required=True)
    vehicles = fields.Function(lambda r: len(r.batch.vehicles), required=True)
    wanted_date = fields.Date(required=True)
    note = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"description": "requested, granted or declined"})
    created_at = fields.AwareDateTime(required=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    date = fields.Date(attribute="granted_date", allow_none=True, metadata={"description": "The day granted"})
    arrive_from = fields.String(allow_none=True, metadata={"description": "Granted arrival window (office time)"})
    arrive_until = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "Why it was declined"})
    appointment_id = fields.Integer(allow_none=True)


class GreenChannelRequestQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(values(RequestStatus)))


class GrantSchema(Schema):
    date = fields.Date(required=True, metadata={"example": "2026-11-26"})
    arrive_from = local_time("Come from (office time)", "12:00", required=True)
    arrive_until = local_time("Come until (office time)", "20:00", required=True)


class DeclineSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 200),
                           metadata={"description": "Sent to the company in the text", "example": "当日查验场地检修"})


class PlateChoicesSchema(Schema):
    vin = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "ordinary, new_energy or new_energy_large"})
    choices = fields.List(fields.String(), required=True,
                          metadata={"description": "Random free plates held for this vehicle (50 by default)"})
    expires_at = fields.AwareDateTime(required=True, metadata={"description": "Choose before this; asking again "
                                                                              "afterwards draws new plates"})
    draws_left = fields.Integer(required=True, metadata={"description": "Fresh draws this vehicle may still have "
                                                                        "(`PLATE_CHOICE_DRAWS` in all, default 3)"})


class PlateReserveSchema(Schema):
    plate = fields.String(required=True, validate=validate.Length(1, 20), metadata={
        "description": "One of the choices, or a self-composed number within GA 36 and the office's rules",
        "example": "渝G5A2B8"})


class PlateReservationSchema(Schema):
    vin = fields.String(required=True)
    plate = fields.String(required=True)
    kind = fields.String(required=True)
    origin = fields.String(required=True, metadata={"description": "pool (one of the choices or drawn) or composed"})
    reserved_at = fields.AwareDateTime(required=True)


class PlateReleaseSchema(PlateReservationSchema):
    released_at = fields.AwareDateTime(required=True)


class BatchSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "submitted, scheduled, in_progress or completed"})
    note = fields.String(allow_none=True)
    company = fields.Function(lambda b: b.company.name, required=True)
    vehicle_count = fields.Function(lambda b: len(b.vehicles), required=True)
    status_counts = fields.Method("_counts", required=True,
                                  metadata={"description": "How many vehicles are in each status"})
    appointment = fields.Nested(AppointmentSchema, allow_none=True)
    vehicles = fields.List(fields.Nested(VehicleSchema), required=True)
    created_at = fields.AwareDateTime(required=True)
    completed_at = fields.AwareDateTime(allow_none=True)

    def _counts(self, batch):
        counts: dict[str, int] = {}
        for vehicle in batch.vehicles:
            counts[vehicle.status] = counts.get(vehicle.status, 0) + 1
        return counts


class BatchQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(values(BatchStatus)))


class InspectionCreateSchema(Schema):
    result = fields.String(required=True, validate=validate.OneOf(("pass", "fail")))
    defects = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=list,
                          validate=validate.Length(0, 50), metadata={"example": ["左前大灯不亮"]})


class RegistrationErrorSchema(ErrorSchema):
    """A refused registration; with `reason: "documents_missing"` it names the papers still missing."""
    missing = fields.List(fields.String(), metadata={
        "description": "The papers' fields still missing (documents_missing)", "example": ["insurance_policy"]})
