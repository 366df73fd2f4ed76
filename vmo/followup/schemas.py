"""Wire formats for the SMS webhook and escalations."""
from marshmallow import Schema, fields, validate

from vmo import clock, settings
from vmo.followup.models import EscalationStatus, InboundOutcome, ResolveOutcome
from vmo.followup.services import is_overdue
from vmo.followup.settings import FollowUpSettings
from vmo.schemas_common import ErrorSchema
from vmo.types import values


class InboundCreateSchema(Schema):
    message_id = fields.String(required=True, validate=validate.Length(1, 120),
                               metadata={"description": "The gateway's id; a redelivery with the same id counts once",
                                         "example": "gw-20261125-000123"})
    phone = fields.String(required=True, data_key="from", validate=validate.Length(5, 20),
                          metadata={"description": "The sender's mobile number", "example": "13800138000"})
    text = fields.String(required=True, validate=validate.Length(0, 1000),
                         metadata={"description": "1/满意/好 satisfied, 2/不满意/差 dissatisfied (the words "
                                                  "after the verdict are the reason), TD opt out; a reply "
                                                  "handler may take it (取消 <code>); anything else is kept "
                                                  "as a comment", "example": "不满意，排队太久"})
    received_at = fields.AwareDateTime(load_default=None)


class FollowUpCaseSchema(Schema):
    type = fields.String(attribute="subject_type", allow_none=True, metadata={"example": "fleet_vehicle"})
    id = fields.Integer(attribute="subject_id", allow_none=True)


class InboundResultSchema(Schema):
    message_id = fields.String(attribute="inbound.message_id", required=True)
    outcome = fields.String(attribute="inbound.outcome", required=True,
                            metadata={"description": " | ".join(InboundOutcome) + " (unmatched: no open follow-up "
                                                                            "for this number)"})
    duplicate = fields.Boolean(required=True, metadata={"description": "True when this message_id was "
                                                                       "already recorded: nothing changed"})
    reason = fields.String(attribute="inbound.reason", allow_none=True,
                           metadata={"description": "The words after the verdict", "example": "排队太久"})
    follow_up_id = fields.Integer(attribute="inbound.follow_up_id", allow_none=True)
    case = fields.Function(lambda r: FollowUpCaseSchema().dump(r.inbound.follow_up) if r.inbound.follow_up else None,
                           allow_none=True, metadata={"description": "What the follow-up was about"})
    escalation_id = fields.Function(lambda r: r.inbound.escalation.id if r.inbound.escalation else None,
                                    allow_none=True)


def _staff_name(user):
    if user is None:
        return None
    return {"username": user.username, "badge_number": user.badge_number, "display_name": user.display_name}


def _overdue(escalation) -> bool:
    return is_overdue(escalation, clock.now(), settings.get(FollowUpSettings).highlight_after)


class CallbackSchema(Schema):
    id = fields.Integer(required=True)
    caller = fields.Function(lambda c: _staff_name(c.caller), required=True)
    role = fields.Function(lambda c: c.caller.role, required=True,
                           metadata={"description": "officer: the handling officer; supervisor or admin: the "
                                                    "leader in charge"})
    reached = fields.Boolean(required=True, metadata={"description": "Whether the person was reached"})
    note = fields.String(required=True)
    called_at = fields.AwareDateTime(required=True)


class CallbackCreateSchema(Schema):
    reached = fields.Boolean(required=True, metadata={"description": "Whether the person answered",
                                                      "example": True})
    note = fields.String(required=True, validate=validate.Length(1, 2000),
                         metadata={"description": "What was said", "example": "已电话联系车主，解释排队原因并致歉"})


class EscalationSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "open or resolved"})
    overdue = fields.Function(_overdue, required=True,
                              metadata={"description": "Open for longer than ESCALATION_HIGHLIGHT_HOURS"})
    opened_at = fields.AwareDateTime(required=True)
    case = fields.Function(lambda e: FollowUpCaseSchema().dump(e), required=True)
    officer = fields.Function(lambda e: _staff_name(e.officer), allow_none=True,
                              metadata={"description": "The officer who handled the case"})
    supervisor = fields.Function(lambda e: e.officer.supervisor.username if e.officer and e.officer.supervisor
                                 else None, allow_none=True,
                                 metadata={"description": "The officer's supervisor; null: every supervisor "
                                                          "of the office sees it"})
    phone = fields.String(required=True, metadata={"description": "Whom to call back"})
    reply = fields.Function(lambda e: e.inbound.text, required=True)
    reason = fields.Function(lambda e: e.inbound.reason, allow_none=True,
                             metadata={"description": "The person's reason: the words after the verdict"})
    comments = fields.List(fields.String(), required=True,
                               metadata={"description": "Other texts the person sent about the case, oldest first"})
    follow_up_text = fields.Function(lambda e: e.follow_up.body, required=True)
    resolved_at = fields.AwareDateTime(allow_none=True)
    resolved_by = fields.Function(lambda e: _staff_name(e.resolved_by), allow_none=True)
    note = fields.String(allow_none=True, metadata={"description": "What was done"})
    outcome = fields.String(allow_none=True, metadata={"description": " | ".join(ResolveOutcome)})
    callbacks = fields.List(fields.Nested(CallbackSchema), required=True,
                            metadata={"description": "Calls to the person, oldest first"})


class EscalationQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(values(EscalationStatus)))
    overdue = fields.Boolean(load_default=None)


class ResolveSchema(Schema):
    note = fields.String(required=True, validate=validate.Length(1, 2000),
                         metadata={"description": "What was done", "example": "已电话回访，车主对等待时间不满，已致歉并说明高峰时段"})
    outcome = fields.String(load_default=None, validate=validate.OneOf(values(ResolveOutcome)),
                            metadata={"description": "How it ended: satisfied (now satisfied), understood (accepts "
                                                     "the explanation), still_dissatisfied, unreachable"})


class EscalationConflictErrorSchema(ErrorSchema):
    """An escalation already resolved: when it was."""

    resolved_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "With an already-resolved escalation 409: when it was resolved"})
