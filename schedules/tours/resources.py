"""HTTP resources for inspection tours, their stops, registrations, inspections, reports and feeds."""
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from schedules import ical
from schedules.tours import feeds, registrations, reports, services
from schedules.tours.inspections import InspectionSettings
from schedules.tours.schemas import (
    RegistrationConflictErrorSchema,
    PublicTourStopQueryArgsSchema, PublicTourStopSchema, StopRegistrationCancelSchema, StopRegistrationCreateSchema,
    StopRegistrationCreatedSchema, StopRegistrationSchema,
    TourCancelSchema, TourCreateSchema, TourInspectionCreateSchema, TourInspectionSchema, TourQueryArgsSchema,
    TourReportQueryArgsSchema, TourReportSchema, TourRouteRequestSchema, TourSchema, TourSeasonQueryArgsSchema,
    TourSeasonReportSchema, TownshipFeedQueryArgsSchema, TourUpdateSchema,
)
from vmo import clock, limits, settings
from vmo.accounts.models import STAFF_ROLES, Role
from vmo.http.auth import auth, current_user, signed_in_staff
from vmo.http.caching import etag_response, public_page
from vmo.http.idempotency import idempotent
from vmo.http.paging import SelectPage
from vmo.motorcycles.rules import DueRules
from vmo.motorcycles.settings import MotorcycleSettings
from vmo.offices import services as offices
from vmo.schemas_common import ErrorSchema
from vmo.offices.settings import default_office_code

blp = Blueprint("tours", __name__, url_prefix="/api/v1",
                description="Rural motorcycle-inspection tours: plan, route, publish, pre-register, report")
STAFF = STAFF_ROLES


def _settings() -> services.TourSettings:
    return settings.get(services.TourSettings)


def _rules() -> DueRules:
    return settings.get(MotorcycleSettings).rules


def _today():
    return clock.local_today(current_user().office.timezone)


def _office(code: str | None):
    return offices.get_office(code or default_office_code())


@blp.route("/tours")
class ToursResource(MethodView):
    @auth(blp, *STAFF)
    @blp.arguments(TourQueryArgsSchema, location="query")
    @blp.response(200, TourSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Tours of your office, newest date first"""
        return services.list_tours(current_user(), args["status"], args["from_"], args["to"])

    @auth(blp, *STAFF)
    @idempotent(blp)
    @blp.arguments(TourCreateSchema)
    @blp.response(201, TourSchema)
    def post(self, data):
        """Plan a tour: date, depot, stops with time windows and capacity, officers (a draft)"""
        return services.create_tour(current_user(), data, _today(), clock.now(), _settings())


@blp.route("/tours/report")
class SeasonReportResource(MethodView):
    @auth(blp, *STAFF)
    @blp.arguments(TourSeasonQueryArgsSchema, location="query")
    @blp.response(200, TourSeasonReportSchema)
    def get(self, args):
        """Season report: tours held, stops, vehicles inspected and pass rate between two dates"""
        return reports.season_report(current_user(), args["from_"], args["to"])


@blp.route("/tours/<int:tour_id>")
class TourResource(MethodView):
    @auth(blp, *STAFF)
    @blp.response(200, TourSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such tour in your office")
    def get(self, tour_id):
        """One tour with its stops in driving order"""
        return services.get_tour(current_user(), tour_id)

    @auth(blp, *STAFF)
    @blp.arguments(TourUpdateSchema)
    @blp.response(200, TourSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of its officers, its planner or a supervisor")
    @blp.alt_response(404, schema=ErrorSchema, description="no such tour in your office")
    @blp.alt_response(409, schema=ErrorSchema, description="cancelled, or capacity below registrations")
    def patch(self, data, tour_id):
        """Change a tour; once published, SEQUENCE rises and those registered get a text"""
        return services.update_tour(current_user(), tour_id, data, _today(), clock.now(), _settings(), _rules())


@blp.route("/tours/<int:tour_id>/route")
class RouteResource(MethodView):
    @auth(blp, *STAFF)
    @blp.arguments(TourRouteRequestSchema)
    @blp.response(200, TourSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of its officers, its planner or a supervisor")
    @blp.alt_response(404, schema=ErrorSchema, description="no such tour in your office")
    @blp.alt_response(409, schema=ErrorSchema, description="the tour is cancelled")
    def post(self, data, tour_id):
        """Order the stops for the shortest round trip from the depot; recompute arrival times"""
        return services.route_tour(current_user(), tour_id, data, _today(), clock.now(), _settings(), _rules())


@blp.route("/tours/<int:tour_id>/publish")
class PublishResource(MethodView):
    @auth(blp, *STAFF)
    @blp.response(200, TourSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of its officers, its planner or a supervisor")
    @blp.alt_response(404, schema=ErrorSchema, description="no such tour in your office")
    @blp.alt_response(409, schema=ErrorSchema, description="the tour is cancelled")
    def post(self, tour_id):
        """Publish: stops appear in the township feeds and owners of due motorcycles get a text (once)"""
        return services.publish_tour(current_user(), tour_id, _today(), clock.now(), _rules())


@blp.route("/tours/<int:tour_id>/cancel")
class CancelResource(MethodView):
    @auth(blp, *STAFF)
    @blp.arguments(TourCancelSchema)
    @blp.response(200, TourSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="not one of its officers, its planner or a supervisor")
    @blp.alt_response(404, schema=ErrorSchema, description="no such tour in your office")
    @blp.alt_response(409, schema=ErrorSchema, description="already cancelled")
    def post(self, data, tour_id):
        """Cancel a tour: its events become STATUS:CANCELLED and those registered get a text"""
        return services.cancel_tour(current_user(), tour_id, data["reason"], clock.now())


@blp.route("/tours/<int:tour_id>/report")
class TourReportResource(MethodView):
    @auth(blp, *STAFF)
    @blp.arguments(TourReportQueryArgsSchema, location="query")
    @blp.response(200, TourReportSchema)
    @blp.doc(responses={"200": {"content": {"application/json": {"schema": TourReportSchema},
                                            "text/csv": {"schema": {"type": "string"}}}}})
    @blp.alt_response(404, schema=ErrorSchema, description="no such tour in your office")
    def get(self, args, tour_id):
        """Per stop: registered, inspected, passed, failed, walk-ins (JSON, or CSV with ?format=csv)"""
        report = reports.tour_report(current_user(), tour_id, clock.now(), _rules())
        if args["format"] == "csv":
            return current_app.response_class(
                reports.tour_report_csv(report), content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="tour-{tour_id}-report.csv"'})
        return report


@blp.route("/tours/<int:tour_id>/stops/<int:stop_id>/registrations")
class RegistrationsResource(MethodView):
    @auth(blp, *STAFF)
    @blp.response(200, StopRegistrationSchema(many=True))
    @blp.paginate(SelectPage)
    @blp.alt_response(404, schema=ErrorSchema, description="no such tour or stop in your office")
    def get(self, tour_id, stop_id):
        """Pre-registrations at a stop"""
        return registrations.list_registrations(current_user(), tour_id, stop_id)

    @limits.public_bookings(blp)
    @auth(blp, optional=True)
    @idempotent(blp)
    @blp.arguments(StopRegistrationCreateSchema)
    @blp.response(201, StopRegistrationCreatedSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such published tour or stop")
    @blp.alt_response(409, schema=RegistrationConflictErrorSchema,
                      description="stop full, plate already registered on this tour, "
                                                            "tour cancelled, or registration closed")
    def post(self, data, tour_id, stop_id):
        """Pre-register a motorcycle at a stop (anyone; no sign-in)"""
        return registrations.register(tour_id, stop_id, data, clock.now(), actor=signed_in_staff())


@blp.route("/tours/<int:tour_id>/stops/<int:stop_id>/registrations/<int:registration_id>/cancel")
class RegistrationCancelResource(MethodView):
    @limits.public_bookings(blp)
    @auth(blp, optional=True)
    @blp.arguments(StopRegistrationCancelSchema)
    @blp.response(200, StopRegistrationSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such registration at this stop, or not its cancel code")
    @blp.alt_response(409, schema=ErrorSchema, description="already cancelled or inspected, or the stop has begun")
    def post(self, data, tour_id, stop_id, registration_id):
        """Cancel a pre-registration: the owner with its cancel code, or staff of the office; the place is freed"""
        return registrations.cancel_registration(tour_id, stop_id, registration_id, data["code"], clock.now(),
                                                 actor=signed_in_staff())


@blp.route("/tours/<int:tour_id>/stops/<int:stop_id>/inspections")
class InspectionsResource(MethodView):
    @auth(blp, Role.OFFICER)
    @idempotent(blp)
    @blp.arguments(TourInspectionCreateSchema)
    @blp.response(201, TourInspectionSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="you are not assigned to this tour")
    @blp.alt_response(404, schema=ErrorSchema, description="no such tour or stop in your office")
    @blp.alt_response(409, schema=ErrorSchema, description="tour not published, or client_id already used")
    @blp.alt_response(422, schema=ErrorSchema, description="the record is against the checklist rules")
    def post(self, data, tour_id, stop_id):
        """Record an inspection done at a stop (pre-registered or walk-in)"""
        return registrations.record_inspection(current_user(), tour_id, stop_id, data, clock.now(),
                                               settings.get(InspectionSettings))


@blp.route("/tour-stops")
class PublicStopsResource(MethodView):
    @public_page
    @blp.arguments(PublicTourStopQueryArgsSchema, location="query")
    @blp.response(200, PublicTourStopSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Upcoming stops of published tours, to choose where to pre-register (public)"""
        office = _office(args["office"])
        return feeds.public_stops(office, args["township"], clock.local_today(office.timezone))


@blp.route("/calendars/townships/<string:township>.ics")
class TownshipFeedResource(MethodView):
    @blp.arguments(TownshipFeedQueryArgsSchema, location="query")
    @blp.response(200, description="An iCalendar feed (text/calendar)")
    @blp.doc(responses={"200": {"content": {"text/calendar": {"schema": {"type": "string"}}}}})
    @blp.alt_response(304, description="not modified since the ETag you sent")
    @blp.alt_response(404, schema=ErrorSchema, description="no such township")
    def get(self, args, township):
        """Public feed of the published tour stops in a township (ETag, 304)"""
        office = _office(args["office"])
        body, changed = feeds.township_feed(office, township, clock.local_today(office.timezone))
        return etag_response(body, ical.CONTENT_TYPE, last_modified=changed)

