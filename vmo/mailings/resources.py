"""HTTP resources for mailings (邮寄服务): record, post, close and list; a company's request for its batch."""
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo import clock, hooks, integrity, settings
from vmo.accounts.models import STAFF_ROLES, Role
from vmo.audit import phones
from vmo.http.auth import auth, current_user
from vmo.http.idempotency import idempotent
from vmo.http.paging import SelectPage
from vmo.mailings import demo, models, services
from vmo.mailings.schemas import (
    BatchMailingCreateSchema, MailingCreateSchema, MailingQueryArgsSchema, MailingSchema, MailingUpdateSchema,
)
from vmo.mailings.settings import MailingSettings
from vmo.schemas_common import ErrorSchema

blp = Blueprint("mailings", __name__, url_prefix="/api/v1",
                description="Mailing (邮寄服务): plates and papers posted, tracked until delivered or returned")
STAFF = STAFF_ROLES


def _carrier() -> str:
    return settings.get(MailingSettings).default_carrier


@blp.route("/mailings")
class MailingsResource(MethodView):
    @auth(blp, *STAFF)
    @blp.arguments(MailingQueryArgsSchema, location="query")
    @blp.response(200, MailingSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """The office's mailings, newest first (phones masked, addresses shown)"""
        return services.list_mailings(current_user().office_id, args["status"])

    @auth(blp, *STAFF)
    @idempotent(blp)
    @blp.arguments(MailingCreateSchema)
    @blp.response(201, MailingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such case in this office")
    @blp.alt_response(409, schema=ErrorSchema, description="the case is not finished, or has a mailing under way")
    @blp.alt_response(422, schema=ErrorSchema, description="an address missing a part, an unknown case type")
    def post(self, data):
        """Record a mailing handed to the carrier; the recipient is texted the carrier and tracking number"""
        return services.create(current_user(), data, clock.now(), _carrier())


@blp.route("/mailings/<int:mailing_id>")
class MailingResource(MethodView):
    @auth(blp, *STAFF)
    @blp.response(200, MailingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such mailing in this office")
    def get(self, mailing_id):
        """One mailing"""
        return services.get_mailing(current_user().office_id, mailing_id)

    @auth(blp, *STAFF)
    @blp.arguments(MailingUpdateSchema)
    @blp.response(200, MailingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such mailing in this office")
    @blp.alt_response(409, schema=ErrorSchema, description="not in a state for this change")
    def patch(self, data, mailing_id):
        """Delivered or returned (a sent mailing), or posted: carrier and tracking number (a requested one)"""
        return services.update(current_user(), mailing_id, data, clock.now(), _carrier())


@blp.route("/fleet/batches/<int:batch_id>/mailing")
class BatchMailingResource(MethodView):
    @auth(blp, Role.COMPANY, *STAFF)
    @blp.response(200, MailingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such batch, not yours, or no mailing yet")
    def get(self, batch_id):
        """The batch's latest mailing: requested, sent (carrier and tracking number), delivered or returned"""
        return services.batch_mailing(current_user(), batch_id)

    @auth(blp, Role.COMPANY)
    @idempotent(blp)
    @blp.arguments(BatchMailingCreateSchema)
    @blp.response(201, MailingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such batch, or not yours")
    @blp.alt_response(409, schema=ErrorSchema, description="the batch already has a mailing under way")
    @blp.alt_response(422, schema=ErrorSchema, description="an address missing a part")
    def post(self, data, batch_id):
        """Ask for the batch's plates and papers by post (the office records the tracking number when it posts)"""
        return services.request_for_batch(current_user(), batch_id, data, clock.now())


def register(app, api) -> None:
    integrity.register(app, models.CONFLICTS)
    settings.install(app, MailingSettings)
    api.register_blueprint(blp)
    hooks.add(app, hooks.DEMO_STEPS, demo.demo_step)
    phones.provide(app, "mailing", services.reveal_phone)  # the full number goes on the waybill
