"""HTTP resource: staff read their office's audit log."""
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo.accounts.models import Role
from vmo.audit import services
from vmo.audit.schemas import AuditEntrySchema, AuditQueryArgsSchema
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


def register(app, api) -> None:
    api.register_blueprint(blp)
