"""Wire formats for batches, vehicles, appointments and inspections."""
from marshmallow import Schema, fields, validate

from vmo import validators
from vmo.fields import VIN
from vmo.fleet.models import BATCH_STATUSES, FUEL_TYPES, MAX_BATCH_CEILING, VEHICLE_TYPES


class VehicleCreateSchema(Schema):
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


class BatchCreateSchema(Schema):
    vehicles = fields.List(fields.Nested(VehicleCreateSchema), required=True,
                           validate=validate.Length(max=MAX_BATCH_CEILING,
                                                    error=f"a batch has 1 to {MAX_BATCH_CEILING} vehicles"),
                           # The office's own limit is checked by the service, which knows it.
                           metadata={"minItems": 1,
                                     "description": "1 to the office's limit (`FLEET_MAX_BATCH`, default 500) "
                                                    f"vehicles; no office allows more than {MAX_BATCH_CEILING}."})
    note = fields.String(load_default=None, validate=validate.Length(0, 2000))

    def handle_error(self, error, data, *, many, **kwargs):
        # Field errors stop the load before the service runs; add the batch-level VIN problems
        # (twice in the batch, already known) now, so one 422 names every bad index.
        from vmo.fleet.services import vin_problems

        vehicles = data.get("vehicles") if isinstance(data, dict) else None
        messages = error.messages
        if not isinstance(vehicles, list) or not isinstance(messages.get("vehicles", {}), dict):
            return
        problems, _ = vin_problems([vin_or_none(v.get("vin") if isinstance(v, dict) else None) for v in vehicles])
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


class VehicleSchema(Schema):
    id = fields.Integer(required=True)
    vin = fields.String(required=True)
    make = fields.String(required=True)
    model = fields.String(required=True)
    vehicle_type = fields.String(required=True)
    fuel_type = fields.String(required=True)
    color = fields.String(allow_none=True)
    invoice_number = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={
        "description": "submitted, scheduled, inspected, failed_inspection or registered"})
    plate = fields.String(allow_none=True, metadata={"description": "Set once registered"})
    batch_id = fields.Integer(required=True)
    last_inspection = fields.Nested(InspectionSummarySchema, allow_none=True)
    inspected_at = fields.AwareDateTime(allow_none=True)
    registered_at = fields.AwareDateTime(allow_none=True)


class AppointmentSchema(Schema):
    id = fields.Integer(required=True)
    batch_id = fields.Integer(required=True)
    date = fields.Function(lambda a: a.day.day.isoformat(), required=True, metadata={"format": "date"})
    vehicles = fields.Integer(attribute="units", required=True, metadata={"description": "Places held on the day"})
    status = fields.String(required=True, metadata={"description": "booked or cancelled"})
    created_at = fields.AwareDateTime(required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)


class AppointmentCreateSchema(Schema):
    date = fields.Date(required=True, metadata={"example": "2026-11-27"})


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
    status = fields.String(load_default=None, validate=validate.OneOf(BATCH_STATUSES))


class InspectionCreateSchema(Schema):
    result = fields.String(required=True, validate=validate.OneOf(("pass", "fail")))
    defects = fields.List(fields.String(validate=validate.Length(1, 200)), load_default=list,
                          validate=validate.Length(0, 50), metadata={"example": ["左前大灯不亮"]})
