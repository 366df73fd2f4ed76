"""HTTP resources for the outbox: what was sent, what waits, what failed (staff)."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo.http import SelectPage, auth, current_user
from vmo.notify import services
from vmo.notify.schemas import OutboxMessageSchema, OutboxQueryArgsSchema, OutboxSummarySchema
from vmo.accounts.models import STAFF_ROLES

blp = Blueprint("sms-outbox", __name__, url_prefix="/api/v1", description="Outbound text messages (the outbox)")
STAFF = STAFF_ROLES


@blp.route("/sms/outbox")
class OutboxResource(MethodView):
    @auth(blp, *STAFF)
    @blp.arguments(OutboxQueryArgsSchema, location="query")
    @blp.response(200, OutboxMessageSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Messages of the office, newest first; `status=failed` lists those given up on"""
        return services.list_outbox(current_user().office_id, args["status"], args["kind"], args["phone"])


@blp.route("/sms/outbox/summary")
class OutboxSummaryResource(MethodView):
    @auth(blp, *STAFF)
    @blp.response(200, OutboxSummarySchema)
    def get(self):
        """How many of the office's messages are pending, sent, failed and opted out"""
        return {**services.status_counts(current_user().office_id),
                "backend": (current_app.config.get("SMS_BACKEND") or "log").lower()}


def register(app, api) -> None:
    api.register_blueprint(blp)
