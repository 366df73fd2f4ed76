"""HTTP resources for green-channel days (open, resize, list) and the day's serving queue."""
from datetime import date

from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.routing import BaseConverter, ValidationError

from vmo import clock, integrity, settings
from vmo.accounts.models import STAFF_ROLES, Role
from vmo.greenchannel import models, services
from vmo.greenchannel.schemas import DayQueryArgsSchema, DayQueueSchema, DaySchema, DayUpdateSchema
from vmo.greenchannel.settings import GreenChannelSettings
from vmo.http.auth import auth, current_user
from vmo.http.paging import SelectPage
from vmo.offices import services as offices
from vmo.schemas_common import ErrorSchema
from vmo.offices.settings import default_office_code

blp = Blueprint("green_channel", __name__, url_prefix="/api/v1",
                description="Green-channel days, their capacity and the day's serving order")
STAFF = STAFF_ROLES


class DateConverter(BaseConverter):
    """`YYYY-MM-DD` in a path; anything else is a 404 from the router, not a 500."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError() from None

    def to_url(self, value):
        return value.isoformat()


@blp.route("/green-channel/days")
class DaysResource(MethodView):
    @auth(blp, optional=True)
    @blp.arguments(DayQueryArgsSchema, location="query")
    @blp.response(200, DaySchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Green-channel days with capacity, booked and available places"""
        user = current_user(optional=True)
        if args["office"]:
            office_id = offices.get_office(args["office"]).id
        elif user is not None:
            office_id = user.office_id
        else:
            office_id = offices.get_office(default_office_code()).id
        return services.list_days(office_id, args["from_"], args["to"])


@blp.route("/green-channel/days/<date:date>")
class DayResource(MethodView):
    @auth(blp, optional=True)
    @blp.response(200, DaySchema)
    @blp.alt_response(404, schema=ErrorSchema, description="the day is not open")
    def get(self, date):
        """One green-channel day"""
        user = current_user(optional=True)
        office = user.office if user is not None else offices.get_office(default_office_code())
        return services.get_day(office.id, date)

    @auth(blp, Role.OFFICER)
    @blp.arguments(DayUpdateSchema)
    @blp.response(200, DaySchema)
    @blp.alt_response(201, schema=DaySchema, description="the day was opened")
    @blp.alt_response(409, schema=ErrorSchema, description="capacity below what is already booked")
    def put(self, data, date):
        """Open a green-channel day or change it: capacity, priority places, arrival window"""
        user = current_user()
        green_day, created = services.set_day(user.office, date, data, user, clock.local_today(user.office.timezone),
                                              settings.get(GreenChannelSettings))
        return green_day, 201 if created else 200


@blp.route("/green-channel/days/<date:date>/queue")
class DayQueueResource(MethodView):
    @auth(blp, *STAFF)
    @blp.response(200, DayQueueSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="the day is not open")
    def get(self, date):
        """The day's serving order: priority bookings first, then fleet batches"""
        return services.day_queue(current_user().office_id, date)


def register(app, api) -> None:
    integrity.register(app, models.CONFLICTS)
    app.url_map.converters["date"] = DateConverter
    api.register_converter(DateConverter, lambda _converter: {"type": "string", "format": "date"})
    settings.install(app, GreenChannelSettings)
    api.register_blueprint(blp)
