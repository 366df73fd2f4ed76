"""Wire formats for the outbox as staff see it."""
from marshmallow import Schema, fields, validate

from vmo import redact
from vmo.notify.models import MessageStatus
from vmo.types import values


class OutboxMessageSchema(Schema):
    id = fields.Integer(required=True)
    key = fields.String(required=True, metadata={"description": "Unique per message; also sent to the gateway "
                                                                "as its Idempotency-Key",
                                                 "example": "follow_up:fleet_vehicle:12"})
    kind = fields.String(required=True, metadata={"example": "follow_up"})
    # Masked for staff (PIPL): the person's number and any code that cancels or looks up a booking.
    phone = fields.Function(lambda m: redact.mask_phone(m.phone), required=True,
                            metadata={"description": "Masked, e.g. 139****9000 (filter with ?phone=)"})
    body = fields.Function(lambda m: redact.mask_text(m.body), required=True,
                           metadata={"description": "As sent, with codes and phone numbers masked"})
    length = fields.Integer(required=True, metadata={"description": "Characters, signature included"})
    segments = fields.Integer(required=True, metadata={
        "description": "Billed SMS segments: 70 characters fit one, 67 each of several", "example": 1})
    status = fields.String(required=True, metadata={"description": "pending, sent, failed or opted_out"})
    attempts = fields.Integer(required=True)
    last_error = fields.String(allow_none=True, metadata={"description": "Why the last attempt failed"})
    subject_type = fields.String(allow_none=True, metadata={"example": "fleet_vehicle"})
    subject_id = fields.Integer(allow_none=True)
    officer = fields.Function(lambda m: (m.officer.badge_number or m.officer.username) if m.officer else None,
                              allow_none=True, metadata={"description": "Badge number of the handling officer"})
    answer = fields.String(allow_none=True, metadata={"description": "Follow-ups: satisfied or dissatisfied"})
    replied_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    not_before = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Held until then: queued in the quiet night hours (21:00-08:00 office time)"})
    sent_at = fields.AwareDateTime(allow_none=True)


class OutboxQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(values(MessageStatus)))
    kind = fields.String(load_default=None, validate=validate.Length(1, 32))
    phone = fields.String(load_default=None, validate=validate.Length(5, 20))


class OutboxSummarySchema(Schema):
    pending = fields.Integer(required=True)
    sent = fields.Integer(required=True)
    failed = fields.Integer(required=True, metadata={"description": "Given up on: look at last_error"})
    opted_out = fields.Integer(required=True)
    segments = fields.Integer(required=True, metadata={"description": "Billed segments of the messages sent"})
    segments_pending = fields.Integer(required=True, metadata={
        "description": "Segments the pending messages will cost"})
    backend = fields.String(required=True, metadata={"description": "The configured SMS backend (log or http)"})
