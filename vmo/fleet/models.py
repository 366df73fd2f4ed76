"""Tables for fleet batches, their vehicles, inspections, appointments and the plate pool."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vmo import integrity
from vmo.extensions import db
from vmo.greenchannel.models import GreenChannelDay
from vmo.plates.rules import NEW_ENERGY_FUELS
from vmo.types import JSONType, UTCDateTime, utcnow


class VehicleStatus(StrEnum):
    SUBMITTED = "submitted"
    SCHEDULED = "scheduled"
    INSPECTED = "inspected"
    FAILED_INSPECTION = "failed_inspection"
    REGISTERED = "registered"


class BatchStatus(StrEnum):
    SUBMITTED = "submitted"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class RequestStatus(StrEnum):
    """A green-channel request's answer."""

    REQUESTED = "requested"
    GRANTED = "granted"
    DECLINED = "declined"


# The most vehicles a batch may ever hold: the API schema's limit. `FLEET_MAX_BATCH` chooses an
# office's limit up to this (16 MiB of request body holds this many vehicles with room to spare).
MAX_BATCH_CEILING = 2000
VEHICLE_TYPES = ("passenger_car", "suv", "mpv", "van", "pickup", "light_truck", "heavy_truck", "bus",
                 "trailer", "special")
FUEL_TYPES = ("petrol", "diesel", "gas", "hybrid", "plug_in_hybrid", "electric", "fuel_cell")


class FleetBatch(db.Model):
    __tablename__ = "fleet_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.SUBMITTED, index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    company = relationship("Company", lazy="joined")  # every batch answer names its company
    # Every batch answer lists its vehicles: loaded for all batches on a page at once.
    vehicles = relationship("FleetVehicle", back_populates="batch", order_by="FleetVehicle.position",
                            lazy="selectin")
    appointments = relationship("FleetAppointment", back_populates="batch", order_by="FleetAppointment.id")

    @property
    def appointment(self):
        """The active appointment, if any."""
        return next((a for a in self.appointments if a.status == AppointmentStatus.BOOKED), None)


class FleetVehicle(db.Model):
    __tablename__ = "fleet_vehicles"
    # One VIN once per office: a vehicle registered elsewhere (or a VIN another office knows) does not
    # block a batch here; each office answers only for its own register.
    __table_args__ = (UniqueConstraint("office_id", "vin", name="office_vin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("fleet_batches.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    vin: Mapped[str] = mapped_column(String(17), index=True)
    make: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(80))
    vehicle_type: Mapped[str] = mapped_column(String(24))
    fuel_type: Mapped[str] = mapped_column(String(24))
    color: Mapped[str | None] = mapped_column(String(40))
    invoice_number: Mapped[str | None] = mapped_column(String(64))
    # The papers registration needs (vmo.fleet.papers): given in the batch or filled in later.
    certificate_number: Mapped[str | None] = mapped_column(String(20))  # 合格证
    purchase_tax_number: Mapped[str | None] = mapped_column(String(30))  # 车辆购置税完税证明
    insurance_policy: Mapped[str | None] = mapped_column(String(40))  # 交强险
    use_character: Mapped[str | None] = mapped_column(String(16))  # 使用性质 (GA 24.3)
    status: Mapped[str] = mapped_column(String(20), default=VehicleStatus.SUBMITTED, index=True)
    plate: Mapped[str | None] = mapped_column(String(12), unique=True)
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Draws of plate choices made for the vehicle (50选1), counted by a conditional UPDATE.
    plate_draws: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    batch = relationship("FleetBatch", back_populates="vehicles")
    # A batch answer shows each vehicle's inspections: loaded for all its vehicles at once, not per vehicle.
    inspections = relationship("FleetInspection", back_populates="vehicle", order_by="FleetInspection.id",
                               lazy="selectin")

    @property
    def new_energy(self) -> bool:
        return self.fuel_type in NEW_ENERGY_FUELS

    @property
    def last_inspection(self):
        return self.inspections[-1] if self.inspections else None


class FleetInspection(db.Model):
    __tablename__ = "fleet_inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("fleet_vehicles.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    result: Mapped[str] = mapped_column(String(8))
    defects: Mapped[list] = mapped_column(JSONType, default=list)
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    vehicle = relationship("FleetVehicle", back_populates="inspections")
    officer = relationship("User")


class FleetAppointment(db.Model):
    __tablename__ = "fleet_appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("fleet_batches.id"), index=True)
    # Equal to batch_id while booked, NULL once cancelled: a unique column that lets the
    # database itself refuse a second active appointment (NULLs never collide).
    active_batch_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("green_channel_days.id"), index=True)
    units: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=AppointmentStatus.BOOKED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    batch = relationship("FleetBatch", back_populates="appointments")
    day = relationship(GreenChannelDay)


class GreenChannelRequest(db.Model):
    """A company asks the office to open the green channel for one of its batches (the seed story's phone call)."""

    __tablename__ = "green_channel_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("fleet_batches.id"), index=True)
    # Equal to batch_id while the request waits for an answer, NULL once decided: the database
    # refuses a second open request for one batch (NULLs never collide).
    open_batch_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    wanted_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.REQUESTED, index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the office granted (the date and the arrival window), or why it declined.
    granted_date: Mapped[date | None] = mapped_column(Date)
    arrive_from: Mapped[str | None] = mapped_column(String(5))
    arrive_until: Mapped[str | None] = mapped_column(String(5))
    reason: Mapped[str | None] = mapped_column(Text)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("fleet_appointments.id"))

    # The requests list shows each request's batch and appointment: joined into the page's query.
    batch = relationship("FleetBatch", lazy="joined")
    appointment = relationship("FleetAppointment", lazy="joined")


class PlatePool(db.Model):
    """Plates the office may issue; a plate is handed out once and never returns to the pool.

    A free plate may be held (offered among a vehicle's 50 choices until `held_until`), then
    reserved (the owner chose it), then issued (`vehicle_id`, at registration). A hold past its
    time is free again without anyone writing to it.
    """

    __tablename__ = "plate_pool"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    plate: Mapped[str] = mapped_column(String(12), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # a vmo.plates.rules.PlateKind
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("fleet_vehicles.id"), unique=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    held_for_id: Mapped[int | None] = mapped_column(ForeignKey("fleet_vehicles.id"), index=True)
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # One reservation per vehicle: choosing another plate releases the first in the same transaction.
    reserved_for_id: Mapped[int | None] = mapped_column(ForeignKey("fleet_vehicles.id"), unique=True)
    reserved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "pool" (drawn by the office) or "composed" (自编自选, added when an owner reserved it).
    origin: Mapped[str] = mapped_column(String(10), default="pool", server_default="pool")


# The 409 each unique constraint above answers when a concurrent request got there first (vmo.integrity).
CONFLICTS: dict[str, integrity.Unique] = {
    "office_vin": integrity.Unique("a vehicle with this VIN is already registered in this office", "vehicles"),
    "uq_fleet_vehicles_plate": integrity.Unique("this plate is taken", "plate", "taken"),
    "uq_plate_pool_plate": integrity.Unique("this plate is taken", "plate", "taken"),
    "uq_plate_pool_vehicle_id": integrity.Unique("this vehicle already has a plate reserved", "plate", "already reserved"),
    "uq_fleet_appointments_active_batch_id": integrity.Unique("this batch already has an appointment"),
    "uq_plate_pool_reserved_for_id": integrity.Unique(integrity.RACE),  # one vehicle reserving twice at once
    "uq_green_channel_requests_open_batch_id": integrity.Unique("this batch already has a green-channel request waiting"),
}
