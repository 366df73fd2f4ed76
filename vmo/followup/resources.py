"""HTTP resources: the SMS gateway's webhook and the escalation list."""
import functools

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo import clock, hooks, integrity, settings
from vmo.accounts.models import Role
from vmo.followup import models, services
from vmo.followup.schemas import (
    CallbackCreateSchema, CallbackSchema, EscalationConflictErrorSchema, EscalationQueryArgsSchema, EscalationSchema, InboundCreateSchema,
    InboundResultSchema, ResolveSchema,
)
from vmo.followup.settings import FollowUpSettings
from vmo.http.auth import auth, current_user
from vmo.http.paging import SelectPage
from vmo.schemas_common import ErrorSchema
from vmo.notify.settings import SmsSettings

blp = Blueprint("follow-up", __name__, url_prefix="/api/v1",
                description="Replies to follow-up texts and escalations of dissatisfied ones")


def signed(fn):
    """Check the gateway's HMAC signature before the body is even parsed."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        services.verify_signature(settings.get(SmsSettings).hmac_secret, request.headers.get("X-Timestamp"),
                                  request.headers.get("X-Signature"), request.get_data(cache=True), clock.now(),
                                  settings.get(FollowUpSettings).signature_max_age_seconds)
        return fn(*args, **kwargs)

    wrapper = blp.doc(security=[], parameters=[
        {"in": "header", "name": "X-Timestamp", "required": True, "schema": {"type": "string"},
         "description": "Unix seconds; more than 5 minutes from the server's clock is refused"},
        {"in": "header", "name": "X-Signature", "required": True, "schema": {"type": "string"},
         "description": 'Hex HMAC-SHA256 with VMO_SMS_HMAC_SECRET over "<X-Timestamp>.<raw body>"'},
    ])(wrapper)
    return blp.alt_response(401, schema=ErrorSchema, description="unsigned, badly signed or stale")(wrapper)


@blp.route("/sms/inbound")
class InboundResource(MethodView):
    @signed
    @blp.arguments(InboundCreateSchema)
    @blp.response(200, InboundResultSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="the sender is not a mobile number")
    def post(self, data):
        """Record a reply to a follow-up (the SMS gateway's webhook, HMAC-signed)"""
        return services.record_reply(data["message_id"], data["phone"], data["text"], data["received_at"],
                                     clock.now(), settings.get(FollowUpSettings).reply_window,
                                     hooks.registered(hooks.SMS_REPLY_HANDLERS))


def _highlight_after():
    return settings.get(FollowUpSettings).highlight_after


@blp.route("/escalations")
class EscalationsResource(MethodView):
    @auth(blp, Role.ADMIN, Role.SUPERVISOR, Role.OFFICER)
    @blp.arguments(EscalationQueryArgsSchema, location="query")
    @blp.response(200, EscalationSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Escalations: an officer's own, a supervisor's officers' (all without a supervisor), open first"""
        return services.list_escalations(current_user(), args["status"], args["overdue"], clock.now(),
                                         _highlight_after())


@blp.route("/escalations/<int:escalation_id>")
class EscalationResource(MethodView):
    @auth(blp, Role.ADMIN, Role.SUPERVISOR, Role.OFFICER)
    @blp.response(200, EscalationSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such escalation, or not yours to see")
    def get(self, escalation_id):
        """One escalation"""
        return services.get_escalation(current_user(), escalation_id)


@blp.route("/escalations/<int:escalation_id>/callbacks")
class CallbacksResource(MethodView):
    @auth(blp, Role.ADMIN, Role.SUPERVISOR, Role.OFFICER)
    @blp.arguments(CallbackCreateSchema)
    @blp.response(201, CallbackSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such escalation, or not yours to see")
    @blp.alt_response(409, schema=EscalationConflictErrorSchema, description="already resolved")
    def post(self, data, escalation_id):
        """Record a call to the person (the handling officer, or the leader in charge)"""
        return services.add_callback(current_user(), escalation_id, data["reached"], data["note"], clock.now())


@blp.route("/escalations/<int:escalation_id>/resolve")
class ResolveResource(MethodView):
    @auth(blp, Role.SUPERVISOR, Role.ADMIN)  # an officer: 403, closing a complaint is the leader's decision
    @blp.arguments(ResolveSchema)
    @blp.response(200, EscalationSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such escalation, or not yours to see")
    @blp.alt_response(409, schema=EscalationConflictErrorSchema,
                      description="already resolved, or no call-back recorded yet")
    def post(self, data, escalation_id):
        """Close an escalation after the call-backs, with what was done and the outcome (a supervisor)"""
        return services.resolve(current_user(), escalation_id, data["note"], clock.now(), data["outcome"])


def register(app, api) -> None:
    integrity.register(app, models.CONFLICTS)
    settings.install(app, FollowUpSettings)
    api.register_blueprint(blp)
