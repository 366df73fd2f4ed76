"""HTTP resources for the motorcycle register: township due counts and single look-ups."""
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo.audit import phones

from vmo import clock, integrity, settings
from vmo.accounts.models import STAFF_ROLES
from vmo.http.auth import auth, current_user
from vmo.motorcycles import models, services
from vmo.motorcycles.rules import DueRules
from vmo.motorcycles.schemas import MotorcycleSchema, TownshipSchema
from vmo.motorcycles.settings import MotorcycleSettings
from vmo.schemas_common import ErrorSchema

blp = Blueprint("motorcycles", __name__, url_prefix="/api/v1",
                description="The motorcycle register and who is due for inspection")
STAFF = STAFF_ROLES


def due_rules() -> DueRules:
    return settings.get(MotorcycleSettings).rules


@blp.route("/townships")
class TownshipsResource(MethodView):
    @auth(blp, *STAFF)
    @blp.response(200, TownshipSchema(many=True))
    def get(self):
        """Townships with how many motorcycles are due or overdue for inspection"""
        user = current_user()
        return services.township_counts(user.office_id, due_rules(), clock.local_today(user.office.timezone))


@blp.route("/motorcycles/<string:plate>")
class MotorcycleResource(MethodView):
    @auth(blp, *STAFF)
    @blp.response(200, MotorcycleSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="not on this office's register")
    def get(self, plate):
        """One motorcycle on the register, with its next due date"""
        user = current_user()
        return services.describe(user.office_id, plate, due_rules(), clock.local_today(user.office.timezone))


def register(app, api) -> None:
    integrity.register(app, models.CONFLICTS)
    settings.install(app, MotorcycleSettings)
    phones.provide(app, "motorcycle", services.reveal_phone)  # the register's answers mask phones
    api.register_blueprint(blp)
    from vmo.motorcycles.cli import motorcycles
    app.cli.add_command(motorcycles)
