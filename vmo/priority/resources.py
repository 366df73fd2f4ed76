"""HTTP resources for the hall's priority lane: its days, the two-step public booking, the counter booking,
look-up and cancel by reference."""
from flask import current_app, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo import clock, integrity, limits, settings
from vmo.accounts.models import STAFF_ROLES, Role
from vmo.greenchannel import services as greenchannel
from vmo.greenchannel.settings import GreenChannelSettings
from vmo.http.auth import auth, current_user, signed_in_staff
from vmo.http.idempotency import idempotent
from vmo.offices import services as offices
from vmo.offices.settings import default_office_code
from vmo.audit import phones
from vmo.priority import models, services
from vmo.priority.schemas import (
    PriorityBookingCreateSchema, PriorityBookingSchema, PriorityCodeSentSchema, PriorityConfirmSchema,
    PriorityDaySchema, PriorityDaySetSchema, PriorityDaysArgsSchema, PriorityLookupArgsSchema,
    PriorityQueueEntrySchema,
)
from vmo.priority.settings import PrioritySettings
from vmo.schemas_common import ErrorSchema

blp = Blueprint("priority", __name__, url_prefix="/api/v1",
                description="The hall's priority lane for pregnant, elderly (60+) and disabled people")


def _hours() -> tuple[str, str]:
    config = settings.get(GreenChannelSettings)
    return config.green_channel_arrive_from, config.green_channel_arrive_until


def _key() -> bytes:
    return current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else current_app.secret_key


def _answer(entry, shown: bool) -> dict:
    return PriorityBookingSchema().dump(services.view(entry, shown))



@blp.route("/green-channel/priority-bookings")
class PriorityBookingsResource(MethodView):
    @limits.public_bookings(blp)
    @auth(blp, optional=True)
    @idempotent(blp)
    @blp.arguments(PriorityBookingCreateSchema)
    @blp.response(202, PriorityCodeSentSchema)
    @blp.alt_response(201, schema=PriorityBookingSchema, description="staff booked at the counter: the booking")
    @blp.alt_response(409, schema=ErrorSchema, description="`full`: the day's priority places are all booked; "
                                                            "`already_booked` (counter: the ID number holds one)")
    @blp.alt_response(422, schema=ErrorSchema, description="no places that day, bad ID or phone, or the reason "
                                                            "does not fit the ID (under 60, a man's ID)")
    def post(self, data):
        """Ask for a priority place: a code is texted to the phone and nothing is held until it is confirmed.
        Staff signed in book directly at the counter (201, for a walk-in or a family member)."""
        office = offices.get_office(data.pop("office") or default_office_code())
        today, now = clock.local_today(office.timezone), clock.now()
        elderly_age = settings.get(GreenChannelSettings).priority_elderly_age
        staff = signed_in_staff()
        if staff is not None:
            # At the counter: the staff member's own office, whatever the body names.
            office = staff.office
            entry = services.book_at_counter(office, data, clock.local_today(office.timezone), now, elderly_age,
                                             settings.get(PrioritySettings), staff, _hours())
            response = jsonify(_answer(entry, True))
            response.status_code = 201
            return response
        return services.request_code(office, data, today, now, elderly_age, settings.get(PrioritySettings), _key())


@blp.route("/green-channel/priority-bookings/confirm")
class PriorityConfirmResource(MethodView):
    @limits.public_bookings(blp)
    @idempotent(blp)
    @blp.arguments(PriorityConfirmSchema)
    @blp.response(201, PriorityBookingSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="`full` (the places went meanwhile) or `already_booked` "
                                                            "(the ID number or phone holds an active booking)")
    @blp.alt_response(422, schema=ErrorSchema, description="`wrong_code`: wrong, expired or out of tries")
    def post(self, data):
        """Confirm with the code texted to the phone: the place is taken now and the reference texted"""
        entry = services.confirm(data["phone"], data["code"], clock.local_today(), clock.now(),
                                 settings.get(PrioritySettings), _key(), _hours())
        return services.view(entry, True)


@blp.route("/green-channel/priority-bookings/<string:reference>")
class PriorityBookingResource(MethodView):
    @auth(blp, optional=True)
    @limits.reference_lookups(blp)
    @blp.arguments(PriorityLookupArgsSchema, location="query")
    @blp.response(200, PriorityBookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no booking with this reference")
    def get(self, args, reference):
        """A priority booking by its reference; the name and reason only for staff and its phone's holder"""
        staff = signed_in_staff()
        entry = services.get_by_reference(reference, staff)
        return services.view(entry, services.shown_to(entry, args["phone"], staff is not None))

    @auth(blp, optional=True)
    @limits.reference_lookups(blp)
    @blp.response(200, PriorityBookingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no booking with this reference")
    @blp.alt_response(409, schema=ErrorSchema, description="already cancelled")
    def delete(self, reference):
        """Cancel a priority booking by its reference; the place goes back to the day"""
        staff = signed_in_staff()
        return services.view(services.cancel(reference, clock.now(), staff), staff is not None)


@blp.route("/priority/days")
class PriorityDaysResource(MethodView):
    @auth(blp, optional=True)
    @blp.arguments(PriorityDaysArgsSchema, location="query")
    @blp.response(200, PriorityDaySchema(many=True))
    def get(self, args):
        """The priority lane's places day by day (every working day has its own)"""
        user = current_user(optional=True)
        office = (offices.get_office(args["office"]) if args["office"] else
                  user.office if user is not None else offices.get_office(default_office_code()))
        return services.list_days(office.id, args["start"], args["end"],
                                  settings.get(PrioritySettings).priority_daily_capacity)


@blp.route("/priority/days/<date:date>")
class PriorityDayResource(MethodView):
    @auth(blp, Role.OFFICER)
    @blp.arguments(PriorityDaySetSchema)
    @blp.response(200, PriorityDaySchema)
    @blp.alt_response(409, schema=ErrorSchema, description="`below_booked`: fewer places than are booked")
    @blp.alt_response(422, schema=ErrorSchema, description="a day in the past")
    def put(self, data, date):
        """Set a day's priority places (a holiday to 0, a Saturday opened, a busy day raised)"""
        user = current_user()
        daily = settings.get(PrioritySettings).priority_daily_capacity
        services.set_day(user.office, date, data["capacity"], user, clock.local_today(user.office.timezone), daily)
        return services.day_answer(user.office_id, date, daily)


@blp.route("/priority/days/<date:date>/queue")
class PriorityQueueResource(MethodView):
    @auth(blp, *STAFF_ROLES)
    @blp.response(200, PriorityQueueEntrySchema(many=True))
    def get(self, date):
        """The day's priority visitors in serving order (phones masked)"""
        entries = services.queue(current_user().office_id, date)
        for position, entry in enumerate(entries, start=1):
            entry["position"] = position
        return entries


def register(app, api) -> None:
    integrity.register(app, models.CONFLICTS)
    settings.install(app, PrioritySettings)
    # A green-channel day shows the lane's places of its date (the same slot), fleet day or not.
    greenchannel.priority_lane(
        lambda office_id, day: services.lane_slot(office_id, day,
                                                  settings.get(PrioritySettings).priority_daily_capacity))
    phones.provide(app, "priority_booking", services.reveal_phone)
    from vmo import hooks
    from vmo.priority import demo
    hooks.add(app, hooks.DEMO_STEPS, demo.demo_step)
    api.register_blueprint(blp)
