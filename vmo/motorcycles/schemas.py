"""Wire formats for townships and motorcycles on the register."""
from marshmallow import Schema, fields


class TownshipSchema(Schema):
    township = fields.String(required=True, metadata={"example": "大观镇"})
    motorcycles = fields.Integer(required=True, metadata={"description": "Motorcycles on the register"})
    due = fields.Integer(required=True, metadata={"description": "Due within the notice window (not yet overdue)"})
    overdue = fields.Integer(required=True, metadata={"description": "Past their due date"})
    due_or_overdue = fields.Integer(required=True, metadata={"description": "due + overdue"})


class MotorcycleSchema(Schema):
    plate = fields.String(required=True, metadata={"example": "渝G12345"})
    vin = fields.String(allow_none=True, metadata={"description": "VIN or frame number"})
    engine_number = fields.String(allow_none=True, metadata={"description": "Engine number (发动机号)"})
    owner_name = fields.String(required=True)
    phone = fields.String(allow_none=True)
    township = fields.String(required=True)
    registered_on = fields.Date(allow_none=True, metadata={"description": "Unknown for one added from a walk-in"})
    last_inspected_on = fields.Date(allow_none=True)
    next_due_on = fields.Date(allow_none=True, metadata={"description": "Next periodic inspection due date"})
    status = fields.String(required=True, metadata={
        "description": "ok, due or overdue (today, office time); unknown without a registration date"})
    from_walk_in = fields.Boolean(required=True, metadata={
        "description": "Added from a tour inspection of a motorcycle not on the register; to be completed"})
