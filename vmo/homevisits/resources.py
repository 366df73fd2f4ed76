"""HTTP resources of home visits: staff request them, a supervisor or officer assigns them, the assigned
officer records the outcome (from the tablet too, offline first: see mobile_api)."""
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo import clock, hooks, settings
from vmo.accounts.models import STAFF_ROLES, Role
from vmo.audit import phones
from vmo.homevisits import demo, services
from vmo.homevisits.schemas import (
    AssignSchema, HomeVisitStatsSchema, OutcomeSchema, VisitCreatedSchema, VisitQueryArgsSchema,
    VisitRequestSchema, VisitSchema,
)
from vmo.homevisits.settings import HomeVisitSettings
from vmo.http.auth import auth, current_user
from vmo.http.idempotency import idempotent
from vmo.http.paging import SelectPage
from vmo.schemas_common import ErrorSchema

blp = Blueprint("home-visits", __name__, url_prefix="/api/v1",
                description="Home visits (上门办理) for people who cannot come to the hall")


def _today():
    return clock.local_today(current_user().office.timezone)


@blp.route("/home-visits")
class VisitsResource(MethodView):
    @auth(blp, *STAFF_ROLES)
    @blp.arguments(VisitQueryArgsSchema, location="query")
    @blp.response(200, VisitSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """The office's home visits (phones masked), by day; `status` and `date` narrow the list"""
        return services.list_visits(current_user(), args["status"], args["date"])

    @auth(blp, *STAFF_ROLES)
    @idempotent(blp)
    @blp.arguments(VisitRequestSchema)
    @blp.response(201, VisitCreatedSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="a field missing, blank or malformed; a past date")
    def post(self, data):
        """Request a home visit on a person's behalf (staff, by phone or at the counter)"""
        return services.request_visit(current_user(), data, _today(), clock.now())


@blp.route("/home-visits/<int:visit_id>")
class VisitResource(MethodView):
    @auth(blp, *STAFF_ROLES)
    @blp.response(200, VisitSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such visit in your office")
    def get(self, visit_id):
        """One home visit (phone masked)"""
        return services.get_visit(current_user(), visit_id)


@blp.route("/home-visits/<int:visit_id>/assign")
class AssignResource(MethodView):
    @auth(blp, Role.SUPERVISOR, Role.OFFICER)
    @blp.arguments(AssignSchema)
    @blp.response(200, VisitSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such visit in your office")
    @blp.alt_response(409, schema=ErrorSchema, description="the visit is done or cancelled (`reason: ended`)")
    @blp.alt_response(422, schema=ErrorSchema, description="no such officer; a day in the past or too far "
                                                           "ahead; a window outside the visiting hours")
    def post(self, data, visit_id):
        """Give the visit an officer, a day and a window; the person is texted them"""
        return services.assign(current_user(), visit_id, data, _today(), clock.now(),
                               settings.get(HomeVisitSettings))


@blp.route("/home-visits/<int:visit_id>/outcome")
class OutcomeResource(MethodView):
    @auth(blp, Role.OFFICER)  # only an officer is ever assigned a visit
    @blp.arguments(OutcomeSchema)
    @blp.response(200, VisitSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not the assigned officer (`reason: not_assigned`)")
    @blp.alt_response(404, schema=ErrorSchema, description="no such visit in your office")
    @blp.alt_response(409, schema=ErrorSchema, description="the visit already has an outcome (`reason: ended`)")
    def post(self, data, visit_id):
        """The assigned officer ends the visit: done (its follow-up is queued), not_home or cancelled"""
        return services.record_outcome(current_user(), visit_id, data, clock.now())


def register(app, api) -> None:
    """The blueprint, the settings, the phone reveal's case type, the statistics and the demo visits."""
    from vmo.stats.schemas import document_section

    settings.install(app, HomeVisitSettings)  # env VMO_HOME_VISIT_*: see docs/configuration.md
    api.register_blueprint(blp)
    phones.provide(app, services.SUBJECT, services.phone_of)  # the tablet's call button
    hooks.add(app, hooks.STATS_PROVIDERS, home_visits)
    document_section(api, "home_visits", HomeVisitStatsSchema)
    hooks.add(app, hooks.DEMO_STEPS, demo.demo_step)


def home_visits(office_id, start, end) -> dict:
    """Statistics provider: the `home_visits` section and the "home visits done per month" chart."""
    figures = services.figures(office_id, start, end)
    return {"home_visits": figures,
            "charts": [{"id": "home_visits_done_per_month", "title": "上门办理（按月） Home visits done per month",
                        "unit": "", "points": [{"label": m["month"], "value": m["done"]} for m in figures["by_month"]]}]}
