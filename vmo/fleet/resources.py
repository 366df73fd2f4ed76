"""HTTP resources for fleet batches, appointments, inspections and plates."""
from flask.views import MethodView
from flask_smorest import Blueprint

from vmo import clock, hooks, integrity, settings
from vmo.accounts import services as accounts
from vmo.audit import phones
from vmo.fleet import models, services
from vmo.fleet.schemas import (
    AppointmentCreateSchema, AppointmentMoveSchema, AppointmentSchema, BatchCreateSchema, BatchQueryArgsSchema,
    BatchSchema, DeclineSchema, GrantSchema, GreenChannelRequestCreateSchema, GreenChannelRequestQueryArgsSchema,
    GreenChannelRequestSchema, InspectionCreateSchema, InspectionSchema, PlateChoicesSchema, PlateReservationSchema,
    PlateReleaseSchema, PlateReserveSchema, RegistrationErrorSchema, VehiclePapersSchema, VehicleSchema,
)
from vmo.accounts.models import STAFF_ROLES, Role
from vmo.fleet.settings import FleetSettings
from vmo.http.auth import auth, current_user
from vmo.http.idempotency import idempotent
from vmo.http.paging import SelectPage
from vmo.schemas_common import ErrorSchema

blp = Blueprint("fleet", __name__, url_prefix="/api/v1", description="Fleet pre-registration and the green channel")
STAFF = STAFF_ROLES


@blp.route("/fleet/batches")
class BatchesResource(MethodView):
    @auth(blp, Role.COMPANY, *STAFF)
    @blp.arguments(BatchQueryArgsSchema, location="query")
    @blp.response(200, BatchSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Batches: a company sees its own, staff their office's"""
        return services.list_batches(current_user(), args["status"])

    @auth(blp, Role.COMPANY)
    @idempotent(blp)
    @blp.arguments(BatchCreateSchema(office_id=lambda: current_user().office_id))
    @blp.response(201, BatchSchema)
    def post(self, data):
        """Submit a fleet batch (all vehicles or none)"""
        user = current_user()
        return services.submit_batch(accounts.company_of(user), data["vehicles"], data["note"], user,
                                     settings.get(FleetSettings).max_batch)


@blp.route("/fleet/batches/<int:batch_id>")
class BatchResource(MethodView):
    @auth(blp, Role.COMPANY, *STAFF)
    @blp.response(200, BatchSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such batch, or not yours")
    def get(self, batch_id):
        """One batch with every vehicle's status, plate and plate choice"""
        return services.batch_with_plates(current_user(), batch_id, clock.now())


@blp.route("/fleet/batches/<int:batch_id>/appointment")
class AppointmentResource(MethodView):
    @auth(blp, Role.COMPANY, *STAFF)
    @blp.response(200, AppointmentSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such batch or no appointment")
    def get(self, batch_id):
        """The batch's green-channel appointment"""
        return services.get_appointment(current_user(), batch_id)

    @auth(blp, Role.COMPANY)
    @idempotent(blp)
    @blp.arguments(AppointmentCreateSchema)
    @blp.response(201, AppointmentSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such batch, or not yours")
    @blp.alt_response(409, schema=ErrorSchema, description="not enough places left, or already booked")
    @blp.alt_response(403, schema=ErrorSchema, description="role not allowed, or the company is not approved yet "
                                                            "(`reason`: `company_not_approved`)")
    def post(self, data, batch_id):
        """Book a green-channel day for the whole batch"""
        return services.book_appointment(current_user(), batch_id, data["date"], clock.local_today(), clock.now())

    @auth(blp, Role.COMPANY)
    @blp.arguments(AppointmentMoveSchema)
    @blp.response(200, AppointmentSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such batch or no appointment")
    @blp.alt_response(409, schema=ErrorSchema, description="the new day is full (the old appointment stays), "
                                                            "or inspection has already started")
    @blp.alt_response(422, schema=ErrorSchema, description="the day is in the past or not open")
    def patch(self, data, batch_id):
        """Move the whole batch to another day (the new places are taken before the old are freed)"""
        user = current_user()
        return services.move_appointment(user, batch_id, data["date"], clock.local_today(user.office.timezone),
                                         clock.now())

    @auth(blp, Role.COMPANY)
    @blp.response(200, AppointmentSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such batch or no appointment")
    @blp.alt_response(409, schema=ErrorSchema, description="inspection has already started")
    def delete(self, batch_id):
        """Cancel the batch's appointment and free its places"""
        return services.cancel_appointment(current_user(), batch_id, clock.now())


@blp.route("/fleet/batches/<int:batch_id>/green-channel-request")
class GreenChannelRequestResource(MethodView):
    @auth(blp, Role.COMPANY)
    @idempotent(blp)
    @blp.arguments(GreenChannelRequestCreateSchema)
    @blp.response(201, GreenChannelRequestSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such batch, or not yours")
    @blp.alt_response(409, schema=ErrorSchema, description="already booked, or a request is waiting")
    @blp.alt_response(403, schema=ErrorSchema, description="role not allowed, or the company is not approved yet "
                                                            "(`reason`: `company_not_approved`)")
    def post(self, data, batch_id):
        """Ask the office to open the green channel for this batch"""
        user = current_user()
        return services.request_green_channel(user, batch_id, data["wanted_date"], data["note"],
                                              clock.local_today(user.office.timezone), clock.now())


@blp.route("/green-channel/requests")
class GreenChannelRequestsResource(MethodView):
    @auth(blp, Role.COMPANY, *STAFF)
    @blp.arguments(GreenChannelRequestQueryArgsSchema, location="query")
    @blp.response(200, GreenChannelRequestSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, args):
        """Green-channel requests: open ones first (staff see the office's, a company its own)"""
        return services.list_requests(current_user(), args["status"])


@blp.route("/green-channel/requests/<int:request_id>/grant")
class GrantResource(MethodView):
    @auth(blp, Role.OFFICER)
    @blp.arguments(GrantSchema)
    @blp.response(200, GreenChannelRequestSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such request in this office")
    @blp.alt_response(409, schema=ErrorSchema, description="already decided, or the batch was booked meanwhile")
    def post(self, data, request_id):
        """Grant a request: open or raise the day as needed and book the whole batch"""
        user = current_user()
        return services.grant_request(user, request_id, data["date"], (data["arrive_from"], data["arrive_until"]),
                                      clock.local_today(user.office.timezone), clock.now())


@blp.route("/green-channel/requests/<int:request_id>/decline")
class DeclineResource(MethodView):
    @auth(blp, Role.OFFICER)
    @blp.arguments(DeclineSchema)
    @blp.response(200, GreenChannelRequestSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such request in this office")
    @blp.alt_response(409, schema=ErrorSchema, description="already decided")
    def post(self, data, request_id):
        """Decline a request with a reason (the company is told by text)"""
        return services.decline_request(current_user(), request_id, data["reason"], clock.now())


@blp.route("/fleet/vehicles/<string:vin>/plate-choices")
class PlateChoicesResource(MethodView):
    @auth(blp, Role.COMPANY, *STAFF)
    @blp.response(200, PlateChoicesSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such vehicle, or not yours")
    @blp.alt_response(409, schema=ErrorSchema, description="`not_scheduled` (the batch has no green-channel "
                                                            "appointment), `draws_exhausted`, `plate_final` (a plate "
                                                            "is reserved), or already registered")
    @blp.alt_response(403, schema=ErrorSchema, description="role not allowed, or the owner company is not approved yet "
                                                            "(`reason`: `company_not_approved`)")
    def get(self, vin):
        """50 random free plates held for this vehicle until `expires_at` (50选1; 3 draws per vehicle)"""
        return services.plate_choices(current_user(), vin, clock.now(), settings.get(FleetSettings))


@blp.route("/fleet/vehicles/<string:vin>/plate")
class PlateResource(MethodView):
    @auth(blp, Role.COMPANY, *STAFF)
    @blp.arguments(PlateReserveSchema)
    @blp.response(200, PlateReservationSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such vehicle, or not yours")
    @blp.alt_response(409, schema=ErrorSchema, description="`taken` (held anywhere in the office), `plate_final` "
                                                            "(another plate is reserved), `not_scheduled`, or the "
                                                            "vehicle is registered")
    @blp.alt_response(422, schema=ErrorSchema, description="a self-composed number against the rules (each named), "
                                                            "or `reserved` (a number the office keeps back)")
    @blp.alt_response(403, schema=ErrorSchema, description="role not allowed, or the owner company is not approved yet "
                                                            "(`reason`: `company_not_approved`)")
    def post(self, data, vin):
        """Reserve one of the choices, or a self-composed number (自编自选) that is free; it is final"""
        return services.reserve_plate(current_user(), vin, data["plate"], clock.now(), settings.get(FleetSettings))

    @auth(blp, Role.OFFICER)
    @blp.response(200, PlateReleaseSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such vehicle in this office, or no plate reserved")
    @blp.alt_response(409, schema=ErrorSchema, description="the vehicle is registered: its plate is issued")
    def delete(self, vin):
        """Release the vehicle's reserved plate (an officer, audited); the plate is free again"""
        return services.release_plate(current_user(), vin, clock.now())


@blp.route("/fleet/vehicles/<string:vin>")
class VehicleResource(MethodView):
    @auth(blp, Role.COMPANY, *STAFF)
    @blp.response(200, VehicleSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such vehicle, or not yours")
    def get(self, vin):
        """One vehicle's status, papers, plate and plate choice"""
        return services.vehicle_with_plate(current_user(), vin, clock.now())

    @auth(blp, Role.COMPANY, Role.OFFICER)
    @blp.arguments(VehiclePapersSchema)
    @blp.response(200, VehicleSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such vehicle, or not yours")
    @blp.alt_response(409, schema=ErrorSchema, description="already registered (`reason`: `registered`)")
    def patch(self, data, vin):
        """Fill in or correct the vehicle's papers (合格证, 完税证明, 交强险, 使用性质) before registration"""
        return services.update_papers(current_user(), vin, data)


@blp.route("/fleet/vehicles/<string:vin>/inspection")
class InspectionResource(MethodView):
    @auth(blp, Role.OFFICER)
    @idempotent(blp)
    @blp.arguments(InspectionCreateSchema)
    @blp.response(201, InspectionSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such vehicle in this office")
    @blp.alt_response(409, schema=ErrorSchema, description="the vehicle is not waiting for inspection")
    def post(self, data, vin):
        """Record a vehicle's inspection (a failed vehicle may be inspected again)"""
        return services.inspect_vehicle(current_user(), vin, data["result"], data["defects"], clock.now())


@blp.route("/fleet/vehicles/<string:vin>/registration")
class RegistrationResource(MethodView):
    @auth(blp, Role.OFFICER)
    @idempotent(blp)
    @blp.response(201, VehicleSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="no such vehicle in this office")
    @blp.alt_response(409, schema=RegistrationErrorSchema,
                      description="not inspected and passed, already registered, or papers missing "
                                  "(`reason`: `documents_missing`, `missing`: the fields)")
    def post(self, vin):
        """Register a passed vehicle and issue its plate from the office's pool"""
        config = settings.get(FleetSettings)
        return services.register_vehicle(current_user(), vin, clock.now(), config.plate_pool_topup,
                                         config.plate_reserved)


def register(app, api) -> None:
    phones.provide(app, "fleet_batch", services.contact_phone)  # the day's queue masks the contact's phone
    integrity.register(app, models.CONFLICTS)
    settings.install(app, FleetSettings)
    api.register_blueprint(blp)
    hooks.add_case(app, "fleet_batch", services.batch_case)  # e.g. its plates and papers posted (vmo.mailings)
