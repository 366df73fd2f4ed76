"""HTTP resources for the statistics: JSON (or CSV) for staff, an HTML report for supervisors."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo import clock, hooks, security, settings
from vmo.accounts.models import STAFF_ROLES, Role
from vmo.followup.settings import FollowUpSettings
from vmo.http.auth import auth, current_user
from vmo.schemas_common import ErrorSchema
from vmo.stats import report, services
from vmo.stats.schemas import ReportQueryArgsSchema, StatsQueryArgsSchema, StatsSchema

blp = Blueprint("stats", __name__, url_prefix="/api/v1", description="Service statistics")
STAFF = STAFF_ROLES


def _collect(args) -> dict:
    office = current_user().office
    zone = clock.office_zone(office.timezone)
    period = services.period(args["from_"], args["to"], clock.local_today(office.timezone), zone)
    highlight = settings.get(FollowUpSettings).highlight_after
    providers = hooks.registered(hooks.STATS_PROVIDERS)
    return StatsSchema().dump(services.collect(office, period, clock.now(), highlight, providers))


@blp.route("/stats")
class StatsResource(MethodView):
    @auth(blp, *STAFF)
    @blp.arguments(StatsQueryArgsSchema, location="query")
    @blp.response(200, StatsSchema)
    @blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    @blp.alt_response(422, schema=ErrorSchema, description="`from` after `to`, or more than five years")
    def get(self, args):
        """The office's figures for a period (JSON, or `format=csv`)"""
        data = _collect(args)
        if args["format"] == "csv":
            name = f"vmo-stats-{data['from']}-{data['to']}.csv"
            return current_app.response_class(
                "\ufeff" + report.to_csv(data), content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'})
        # Already dumped: the schema passes the provider sections through as they are.
        return current_app.json.response(data)


@blp.route("/stats/report.html")
class ReportResource(MethodView):
    @auth(blp, Role.SUPERVISOR, Role.ADMIN)
    @blp.arguments(ReportQueryArgsSchema, location="query")
    @blp.doc(responses={200: {"description": "A self-contained page (inline SVG charts, no external assets)",
                                "content": {"text/html": {"schema": {"type": "string"}}}}})
    @blp.alt_response(422, schema=ErrorSchema, description="`from` after `to`, or more than five years")
    def get(self, args):
        """The figures as a page for supervisors, with charts, readable on a tablet"""
        data = _collect(args)
        core = set(StatsSchema().fields) | {"from"}
        html = report.render_html(data, current_user().office.name, core)
        return current_app.response_class(html, content_type="text/html; charset=utf-8")


def register(app, api) -> None:
    api.register_blueprint(blp)
    security.add_hashed_page(app, "/api/v1/stats/report.html", "style")  # the report's own stylesheet
