"""HTTP resources for the priority green channel: public booking and cancellation."""
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo import clock, integrity, limits, settings
from vmo.greenchannel.settings import GreenChannelSettings
from vmo.http.auth import auth, current_user, signed_in_staff
from vmo.http.idempotency import idempotent
from vmo.offices import services as offices
from vmo.priority import models, services
from vmo.priority.schemas import PriorityBookingCreateSchema, PriorityBookingReceiptSchema, PriorityBookingSchema
from vmo.schemas_common import ErrorSchema
from vmo.offices.settings import default_office_code

blp = Blueprint("priority", __name__, url_prefix="/api/v1",
                description="Priority green channel for pregnant, elderly (60+) and disabled people")


@blp.route("/green-channel/priority-bookings")
class PriorityBookingsResource(MethodView):
    @limits.public_bookings(blp)
    @auth(blp, optional=True)
    @idempotent(blp)
    @blp.arguments(PriorityBookingCreateSchema)
    @blp.response(201, PriorityBookingReceiptSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="the day's priority places are all booked")
    @blp.alt_response(422, schema=ErrorSchema, description="day not open, bad ID or phone, or the reason "
                                                            "does not fit the ID (under 60, a man's ID)")
    def post(self, data):
        """Book a priority green-channel place (public; the reference comes by text to the phone given)"""
        office = offices.get_office(data.pop("office") or default_office_code())
        return services.book(office, data, clock.local_today(office.timezone), clock.now(),
                             settings.get(GreenChannelSettings).priority_elderly_age, actor=signed_in_staff())


@blp.route("/green-channel/priority-bookings/<string:reference>")
class PriorityBookingResource(MethodView):
    @blp.response(200, PriorityBookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no booking with this reference")
    def get(self, reference):
        """A priority booking, by the reference given when it was made"""
        return services.get_by_reference(reference)

    @auth(blp, optional=True)
    @blp.response(200, PriorityBookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no booking with this reference")
    @blp.alt_response(409, schema=ErrorSchema, description="already cancelled")
    def delete(self, reference):
        """Cancel a priority booking by its reference; the place goes back to the priority share"""
        return services.cancel(reference, clock.now(), signed_in_staff())


def register(app, api) -> None:
    integrity.register(app, models.CONFLICTS)
    api.register_blueprint(blp)
