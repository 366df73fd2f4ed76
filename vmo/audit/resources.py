"""HTTP resource: staff read their office's audit log."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo.accounts.models import STAFF_ROLES, Role
from vmo.audit import phones, services
from vmo.audit.schemas import AuditEntrySchema, AuditQueryArgsSchema, PhoneRevealedSchema, PhoneRevealSchema
from vmo.schemas_common import ErrorSchema
from vmo.http.auth import auth, current_user
from vmo.http.paging import SelectPage

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="The audit log of state changes")


@blp.route("/audit")
class AuditResource(MethodView):
    @auth(blp, Role.ADMIN, Role.SUPERVISOR, Role.OFFICER)
    @blp.arguments(AuditQueryArgsSchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Audit entries of the signed-in staff member's office, newest first"""
        return services.query(current_user().office_id, **args)


@blp.route("/phones/reveal")
class PhoneRevealResource(MethodView):
    @auth(blp, *STAFF_ROLES)
    @blp.arguments(PhoneRevealSchema)
    @blp.response(200, PhoneRevealedSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such case in this office")
    @blp.alt_response(422, schema=ErrorSchema, description="an unknown case type")
    def post(self, data):
        """The phone behind one case, in full, for an officer who must call; written to the audit log"""
        case = data["case"]
        return phones.reveal(current_app.extensions.get(phones.EXTENSION, {}), current_user(), case["type"], case["id"])


def register(app, api) -> None:
    api.register_blueprint(blp)
