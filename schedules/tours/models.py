"""Tables for inspection tours, their stops and officers, pre-registrations and inspections done."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vmo import integrity
from vmo.extensions import db
from vmo.types import JSONType, UTCDateTime, utcnow



class TourStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class StopStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    INSPECTED = "inspected"
    CANCELLED = "cancelled"
    # A public registration of a plate already registered on the tour: answered exactly like a first
    # one (so a stranger with the plate learns nothing), but it holds no place and no plate, and the
    # phone of the standing registration is told. Staff lists and reports leave it out.
    DUPLICATE = "duplicate"


class Tour(db.Model):
    """One day's tour from the depot (the office) through township stops and back.

    `sequence` is the iCalendar SEQUENCE of every stop's event: it rises with each change after
    publishing (and on cancelling), so subscribed calendars replace the event in place.
    `changed_at` is when the published content last changed; feeds use it as DTSTAMP and
    LAST-MODIFIED so their bytes (and ETag) stay stable between changes.
    """

    __tablename__ = "tours"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    date: Mapped[date] = mapped_column(Date, index=True)
    depot_lat: Mapped[float] = mapped_column(Float)
    depot_lon: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default=TourStatus.DRAFT, index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    distance_km: Mapped[float | None] = mapped_column(Float)
    route_method: Mapped[str | None] = mapped_column(String(40))
    route_exact: Mapped[bool | None] = mapped_column(Boolean)
    returns_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Every tour answer shows its stops and officers: loaded with the page (one query each), not per row.
    stops = relationship("TourStop", back_populates="tour", order_by="TourStop.position",
                         cascade="all, delete-orphan", lazy="selectin")
    officer_links = relationship("TourOfficer", back_populates="tour", order_by="TourOfficer.id",
                                 cascade="all, delete-orphan", lazy="selectin")
    office = relationship("Office")

    @property
    def officers(self):
        return [link.user for link in self.officer_links]

    @property
    def active_stops(self):
        return [stop for stop in self.stops if stop.status == StopStatus.SCHEDULED]


class TourStop(db.Model):
    """A stop: township, venue, coordinates, time window, and a slot in vmo.booking for its capacity."""

    __tablename__ = "tour_stops"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    tour_id: Mapped[int] = mapped_column(ForeignKey("tours.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    township: Mapped[str] = mapped_column(String(40), index=True)
    venue: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    arrives_at: Mapped[datetime] = mapped_column(UTCDateTime)
    departs_at: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), unique=True)
    # A stop removed after publishing stays, cancelled, so feeds can show STATUS:CANCELLED.
    status: Mapped[str] = mapped_column(String(16), default=StopStatus.SCHEDULED)

    tour = relationship("Tour", back_populates="stops", lazy="joined")  # a stop's answer names its tour
    slot = relationship("Slot", lazy="joined")


class TourOfficer(db.Model):
    __tablename__ = "tour_officers"
    __table_args__ = (UniqueConstraint("tour_id", "user_id", name="tour_officer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tour_id: Mapped[int] = mapped_column(ForeignKey("tours.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    tour = relationship("Tour", back_populates="officer_links")
    user = relationship("User", lazy="joined")


class StopRegistration(db.Model):
    """An owner's pre-registration of one motorcycle at one stop; one per plate per tour."""

    __tablename__ = "tour_registrations"
    # `active_plate` is the plate while the registration stands and NULL once cancelled, so the
    # database itself refuses a second active registration of a plate in one tour (NULLs never collide).
    __table_args__ = (UniqueConstraint("tour_id", "active_plate", name="tour_active_plate"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    tour_id: Mapped[int] = mapped_column(ForeignKey("tours.id"), index=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("tour_stops.id"), index=True)
    plate: Mapped[str] = mapped_column(String(12), index=True)
    active_plate: Mapped[str | None] = mapped_column(String(12))
    owner_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default=RegistrationStatus.REGISTERED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # SHA-256 of the code the owner got (answer and text) to cancel without an account; never stored plain.
    cancel_code_hash: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    stop = relationship("TourStop")


class TourInspection(db.Model):
    """An inspection done at a stop, recorded by an officer (on the API or synced from a tablet).

    `client_id` is the UUID the recording device made, unique, so a record synced again is
    recognised; `recorded_at` is the device's clock, `received_at` the server's, and
    `clock_skew` flags a device time that cannot be right (after receipt, or not on the tour's day).
    """

    __tablename__ = "tour_inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    tour_id: Mapped[int] = mapped_column(ForeignKey("tours.id"), index=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("tour_stops.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    # mobile_api sync: SHA-256 of the record's canonical content, to tell a duplicate from a conflict.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    plate: Mapped[str] = mapped_column(String(12), index=True)
    vin: Mapped[str | None] = mapped_column(String(25))
    engine_number: Mapped[str | None] = mapped_column(String(30))
    # What the officer read against the register: None when either side is missing.
    vin_matches: Mapped[bool | None] = mapped_column(Boolean)
    engine_number_matches: Mapped[bool | None] = mapped_column(Boolean)
    # The owner's name as entered for a walk-in (the register gets it when the plate is not on it).
    owner_name: Mapped[str | None] = mapped_column(String(120))
    # The plate was not on the office's motorcycle register when inspected (it has been added since).
    not_on_register: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The photos the record declared, [{"kind", "sha256"}]; their bytes arrive separately.
    photos: Mapped[list | None] = mapped_column(JSONType, default=list)
    odometer_km: Mapped[int | None] = mapped_column(Integer)
    checklist: Mapped[dict] = mapped_column(JSONType, default=dict)
    result: Mapped[str] = mapped_column(String(8))
    defects: Mapped[list] = mapped_column(JSONType, default=list)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("tour_registrations.id"))
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    clock_skew: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)

    stop = relationship("TourStop")
    officer = relationship("User")


# The 409 each unique constraint above answers when a concurrent request got there first (vmo.integrity).
CONFLICTS: dict[str, integrity.Unique] = {
    "tour_active_plate": integrity.Unique(integrity.RACE),  # no confirmation of another owner's registration
    "tour_officer": integrity.Unique("an officer is named twice on this tour", "officers", "named twice"),
    "uq_tour_stops_slot_id": integrity.Unique(integrity.RACE),
    "uq_tour_inspections_client_id": integrity.Unique("an inspection with this client_id already exists", "client_id",
                                            "already recorded"),
}
