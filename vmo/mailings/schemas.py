"""Wire formats for mailings: staff record one, a company asks for its batch's, staff list and close them."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from vmo import redact, validators
from vmo.fields import Mobile
from vmo.mailings.models import MailingStatus
from vmo.types import values

CHANGES = (MailingStatus.DELIVERED.value, MailingStatus.RETURNED.value, MailingStatus.SENT.value)
# A courier's waybill number: letters and digits (EMS 13, SF 12 to 15, others up to 20).
TRACKING_NUMBER = validate.Regexp(r"^[A-Za-z0-9]{6,20}$", error="6 to 20 letters and digits, as on the waybill")


class Address(fields.String):
    """A postal address: province, city, district or county, street and number (vmo.validators)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return validators.validate_address(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class CaseRefSchema(Schema):
    type = fields.String(required=True, validate=validate.Length(1, 32),
                         metadata={"description": "fleet_batch or tour_inspection", "example": "fleet_batch"})
    id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))


class RecipientSchema(Schema):
    recipient = fields.String(required=True, validate=validate.Length(1, 60), metadata={"example": "李建国"})
    phone = Mobile(required=True, metadata={"example": "13983000002"})
    address = Address(required=True, metadata={
        "description": "Province, city (not for 直辖市), district or county, street and number",
        "example": "重庆市南川区东城街道金佛大道38号"})


class MailingCreateSchema(RecipientSchema):
    case = fields.Nested(CaseRefSchema, load_default=None, metadata={
        "description": "What it is for (a finished fleet batch, a passed tour inspection); none for a counter case"})
    items = fields.List(fields.String(validate=validate.Length(1, 20)), required=True,
                        validate=validate.Length(1, 10), metadata={"example": ["号牌", "行驶证"]})
    carrier = fields.String(load_default=None, validate=validate.Length(1, 10),
                            metadata={"description": "Default: the office's carrier (EMS)", "example": "EMS"})
    tracking_number = fields.String(required=True, validate=TRACKING_NUMBER, metadata={"example": "1187654321098"})


class BatchMailingCreateSchema(RecipientSchema):
    """A company asks for its batch's plates and papers by post."""


class MailingUpdateSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(CHANGES), metadata={
        "description": "delivered or returned (a sent mailing); sent, with tracking_number (a requested one)"})
    carrier = fields.String(load_default=None, validate=validate.Length(1, 10),
                            metadata={"description": "With sent: default EMS", "example": "EMS"})
    tracking_number = fields.String(load_default=None, validate=TRACKING_NUMBER, metadata={
        "description": "With sent: the recipient is texted the carrier and this number", "example": "1187654321098"})

    @validates_schema
    def _posting_needs_the_number(self, data, **kwargs):
        if data["status"] == MailingStatus.SENT and data["tracking_number"] is None:
            raise ValidationError("a mailing is sent with its tracking number", "tracking_number")
        if data["status"] != MailingStatus.SENT:
            for name in ("carrier", "tracking_number"):
                if data[name] is not None:
                    raise ValidationError(f"given only with status sent, not {data['status']}", name)


class MailingSchema(Schema):
    id = fields.Integer(required=True)
    case = fields.Function(lambda m: {"type": m.case_type, "id": m.case_id} if m.case_type else None,
                           allow_none=True, metadata={"description": "{type, id}, or none"})
    recipient = fields.String(required=True)
    # Masked for staff (PIPL) like every phone in a staff answer; the address is shown: it is the job.
    phone = fields.Function(lambda m: redact.mask_phone(m.phone), required=True,
                            metadata={"description": "Masked, e.g. 139****9000"})
    address = fields.String(required=True)
    items = fields.List(fields.String(), required=True)
    carrier = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(values(MailingStatus)),
                           metadata={"description": "requested, sent, delivered or returned"})
    created_at = fields.AwareDateTime(required=True)
    sent_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True, metadata={"description": "When delivered or returned"})


class MailingQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(values(MailingStatus)))
