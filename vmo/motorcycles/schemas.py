"""Wire formats for townships and motorcycles on the register."""
from marshmallow import Schema, fields, validate

from vmo.motorcycles.models import MotorcycleStatus
from vmo.redact import mask_phone
from vmo.types import values


class TownshipSchema(Schema):
    township = fields.String(required=True, metadata={"example": "大观镇"})
    motorcycles = fields.Integer(required=True, metadata={"description": "Motorcycles on the register"})
    due = fields.Integer(required=True, metadata={"description": "Due within the notice window (not yet overdue)"})
    overdue = fields.Integer(required=True, metadata={"description": "Past their due date"})
    due_or_overdue = fields.Integer(required=True, metadata={"description": "due + overdue"})
    scrap_due = fields.Integer(required=True, metadata={
        "description": "Due for compulsory scrapping (counted in neither due nor overdue)"})


class MotorcycleSchema(Schema):
    plate = fields.String(required=True, metadata={"example": "渝G12345"})
    vin = fields.String(allow_none=True, metadata={"description": "VIN or frame number"})
    engine_number = fields.String(allow_none=True, metadata={"description": "Engine number (发动机号)"})
    owner_name = fields.String(required=True)
    phone = fields.Function(lambda m: mask_phone(m["phone"] if isinstance(m, dict) else m.phone), allow_none=True, metadata={
        "description": "Masked (138****5678); an officer who must call asks POST /phones/reveal"})
    township = fields.String(required=True)
    registered_on = fields.Date(allow_none=True, metadata={"description": "Unknown for one added from a walk-in"})
    last_inspected_on = fields.Date(allow_none=True)
    next_due_on = fields.Date(allow_none=True, metadata={"description": "Next periodic inspection due date"})
    status = fields.String(required=True, validate=validate.OneOf(values(MotorcycleStatus)), metadata={
        "description": "ok, due or overdue (today, office time); unknown without a registration date; "
                       "scrap_due when due for compulsory scrapping (its age or three inspection cycles missed)"})
    three_wheeled = fields.Boolean(required=True, metadata={"description": "正三轮摩托车 (scrapped after 12 years, not 13)"})
    scrap_on = fields.Date(allow_none=True, metadata={"description": "First day due for compulsory scrapping"})
    scrap_reason = fields.String(allow_none=True, validate=validate.OneOf(("age", "missed_inspections")), metadata={
        "description": "When scrap_due: age (years of use) or missed_inspections (three cycles in a row)"})
    from_walk_in = fields.Boolean(required=True, metadata={
        "description": "Added from a tour inspection of a motorcycle not on the register; to be completed"})
