"""HTTP resources for the outbox: what was sent, what waits, what failed (staff)."""
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo import hooks, settings
from vmo.accounts.models import STAFF_ROLES
from vmo.http.auth import auth, current_user
from vmo.http.paging import SelectPage
from vmo.notify import services
from vmo.notify.settings import SmsSettings
from vmo.notify.schemas import OutboxMessageSchema, OutboxQueryArgsSchema, OutboxSummarySchema

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
        return {**services.status_counts(current_user().office_id), "backend": _backend_name()}


def _backend_name() -> str:
    return settings.get(SmsSettings).backend


def demo_step(office) -> list[str]:
    """Tell the demo user where the texts are; adds nothing, so running the demo twice is harmless."""
    counts = services.status_counts(office.id)
    return [
        f"SMS outbox ({_backend_name()} backend): {counts['pending']} pending, {counts['sent']} sent, "
        f"{counts['failed']} failed; send with `vmo sms send`, read at GET /api/v1/sms/outbox (staff)",
        "statistics: GET /api/v1/stats, report page GET /api/v1/stats/report.html (supervisor)",
    ]


def register(app, api) -> None:
    settings.install(app, SmsSettings)
    api.register_blueprint(blp)
    hooks.add(app, hooks.DEMO_STEPS, demo_step)
