"""The officers' mobile endpoint: assignments, bulk exactly-once inspection sync, and photos.

This package keeps the wire protocol: lenient parsing (a bad record is answered `rejected`, in place),
per-record answers, the tablet's clock when sending, and photos. Recording itself (exactly once, the
rules, the registration, the register and the follow-up) is schedules.tours.inspections, the same
function the tours endpoint calls with one record.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mobile_api.models import InspectionPhoto
from mobile_api.settings import MobileSettings
from mobile_api.schemas import Rejected
from mobile_api.storage import PhotoStorage, is_sha256, sha256_hex, sniff_image_type
from schedules.tours import inspections
from schedules.tours.models import (
    RegistrationStatus, StopRegistration, Tour, TourInspection, TourOfficer, TourStatus,
)
from schedules.tours.sync import SyncStatus
from vmo import uow
from vmo.accounts.models import Role, User
from vmo.audit import services as audit
from vmo.dbutil import insert_ignoring_conflicts
from vmo.errors import Forbidden, NotFound, RuleViolation, TooLarge, UnsupportedFormat
from vmo.extensions import db
from vmo.fleet import papers
from vmo.fleet import services as fleet
from vmo.homevisits import services as home_visits
from vmo.motorcycles import services as register_of_motorcycles




# ---- assignments --------------------------------------------------------------------------

def assignments(officer: User, today: date, settings: MobileSettings) -> dict:
    """The officer's tours and home visits from today for `horizon_days` days, with everything needed offline.

    A fixed number of queries whatever the number of tours and visits. Times are given in the office's zone, as the tablet
    shows them; nothing in the answer depends on the time of the request, so its ETag only changes
    when the tours do.
    """
    last = today + timedelta(days=max(settings.horizon_days, 1) - 1)
    tours = list(db.session.scalars(
        select(Tour)
        .join(TourOfficer, TourOfficer.tour_id == Tour.id)
        .where(TourOfficer.user_id == officer.id, Tour.office_id == officer.office_id,
               # Inspections are taken on published tours only (as in schedules.tours), so only those show.
               Tour.status == TourStatus.PUBLISHED, Tour.date >= today, Tour.date <= last)
        .options(selectinload(Tour.stops), selectinload(Tour.officer_links))
        .order_by(Tour.date, Tour.id)
    ))
    stop_ids = [s.id for t in tours for s in t.active_stops]
    registrations = defaultdict(list)
    if stop_ids:
        for reg in db.session.scalars(select(StopRegistration)
                                      .where(StopRegistration.stop_id.in_(stop_ids),
                                             StopRegistration.status != RegistrationStatus.CANCELLED)
                                      .order_by(StopRegistration.id)):
            registrations[reg.stop_id].append(reg)
    zone = officer.office.zone
    register = register_of_motorcycles.on_register(
        officer.office_id, {r.plate for regs in registrations.values() for r in regs})
    return {
        "officer": officer.username,
        "from_": today,
        "to": last,
        "checklist": [dict(item) for item in settings.inspections.checklist],
        "photo_kinds": list(settings.inspections.photo_kinds),
        # The hall's side: green-channel batches booked in the same days, each vehicle with its papers.
        "papers": [{"code": name, "zh": papers.LABELS[name]} for name in papers.PAPER_FIELDS],
        "green_channel": fleet.inspection_checklist(officer.office_id, today, last),
        "required_photo_kinds": list(settings.inspections.required_photo_kinds),
        "tours": [{
            "id": t.id, "name": t.name, "date": t.date, "status": t.status,
            "depot": {"lat": t.depot_lat, "lon": t.depot_lon},
            "officers": sorted(u.username for u in t.officers),
            "stops": [{
                "id": s.id, "position": s.position, "township": s.township, "venue": s.venue,
                "lat": s.lat, "lon": s.lon, "capacity": s.slot.capacity,
                "arrives_at": s.arrives_at.astimezone(zone), "departs_at": s.departs_at.astimezone(zone),
                "registrations": [_assigned_vehicle(r, register.get(r.plate)) for r in registrations[s.id]],
            } for s in t.active_stops],
        } for t in tours],
        # The person's phone is masked: the tablet's call button asks POST /phones/reveal (audited).
        "home_visits": [{"id": v.id, "name": v.name, "phone": mask_phone(v.phone), "address": v.address,
                         "township": v.township, "reason": v.reason, "business": v.business, "date": v.date,
                         "window_from": v.window_from, "window_until": v.window_until, "status": v.status}
                        for v in home_visits.scheduled_for(officer, today, last)],
    }


def mask_phone(phone: str | None) -> str | None:
    """139****1234: enough for the officer to ask "is this your number?", not enough to copy (PIPL)."""
    if not phone or len(phone) < 7:
        return phone and "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def _assigned_vehicle(reg: StopRegistration, registered: dict | None) -> dict:
    """A pre-registered motorcycle as the tablet shows it: with the register's VIN and engine number."""
    return {"id": reg.id, "plate": reg.plate, "owner_name": reg.owner_name, "phone": mask_phone(reg.phone),
            "status": reg.status, "on_register": registered is not None,
            "vin": registered and registered["vin"], "engine_number": registered and registered["engine_number"]}


# ---- sync ---------------------------------------------------------------------------------

def sync_inspections(officer: User, device_id: str, sent_at: datetime | None, records: list,
                     now: datetime, settings: MobileSettings) -> dict:
    """Take a batch of tablet records; answer each in order. One unit of work: schedules.tours records them."""
    if len(records) > settings.max_records:
        raise RuleViolation(f"at most {settings.max_records} records per sync, got {len(records)}",
                            fields={"records": [f"at most {settings.max_records} records per sync"]})
    # A tablet whose clock was off when it sent: each of its records is kept but flagged.
    skewed = sent_at is not None and abs(sent_at - now) > settings.inspections.clock_skew
    results: list[dict | None] = [None] * len(records)
    parsed = [(index, record) for index, record in enumerate(records) if not isinstance(record, Rejected)]
    for index, record in enumerate(records):
        if isinstance(record, Rejected):
            results[index] = {"client_id": record.client_id, "status": SyncStatus.REJECTED, "errors": record.errors}
    outcomes = inspections.record_inspections(
        officer, [{**record, "client_id": str(record["client_id"])} for _, record in parsed], now,
        settings.inspections, device_id=device_id, device_skewed=skewed)
    foreign = 0
    for (index, record), outcome in zip(parsed, outcomes):
        sent_id = record.get("client_id_as_sent") or str(record["client_id"])
        results[index] = {"client_id": sent_id, "status": outcome.status}
        if outcome.status == SyncStatus.REJECTED:
            results[index]["errors"] = outcome.errors
            foreign += outcome.reason in (inspections.NO_STOP, inspections.NOT_ASSIGNED)
        else:
            results[index]["id"] = outcome.id
        if outcome.status == SyncStatus.CONFLICT:
            results[index]["differences"] = outcome.differences
    if records and foreign == len(records):
        raise Forbidden("you are not assigned to the tour of any stop in this batch")
    counts = defaultdict(int)
    for result in results:
        counts[result["status"]] += 1
    audit.record("mobile.sync", "device", device_id, actor=officer,
                 after={"records": len(records), **counts, "clock_skew": skewed,
                        "created_ids": sorted(o.id for o in outcomes if o.status == SyncStatus.CREATED)})
    uow.flush()
    return {"results": results, "received_at": now, "clock_skew": bool(skewed)}


# ---- inspections and photos ------------------------------------------------------------------

def _may_see(user: User, inspection: TourInspection) -> bool:
    if inspection.office_id != user.office_id:
        return False
    return user.role in (Role.SUPERVISOR, Role.ADMIN) or inspection.officer_id == user.id


def get_inspection(user: User, client_id: str) -> TourInspection:
    """The synced inspection: for the officer who logged it, or a supervisor of the office; else 404."""
    inspection = db.session.scalar(select(TourInspection).where(TourInspection.client_id == client_id.lower()))
    if inspection is None or not _may_see(user, inspection):
        raise NotFound(f"no inspection {client_id}")
    return inspection


def inspection_photos(inspection: TourInspection) -> list[InspectionPhoto]:
    return list(db.session.scalars(select(InspectionPhoto).where(InspectionPhoto.inspection_id == inspection.id)
                                   .order_by(InspectionPhoto.id)))


def describe_inspection(user: User, client_id: str) -> dict:
    inspection = get_inspection(user, client_id)
    return {**{c.key: getattr(inspection, c.key) for c in TourInspection.__table__.columns},
            "officer": inspection.officer.username, "declared_photos": inspection.photos or [],
            "photos": inspection_photos(inspection)}


def add_photo(user: User, client_id: str, sha256: str, data: bytes, storage: PhotoStorage, now: datetime,
              settings: MobileSettings, kind: str | None = None) -> tuple[InspectionPhoto, bool]:
    """Attach a JPEG or PNG to an inspection; (photo, created). Sending it again changes nothing.

    Its kind is the one the record declared for this hash, else `kind` (one of PHOTO_KINDS).
    """
    sha256 = sha256.lower()
    if not is_sha256(sha256):
        raise RuleViolation("the photo's address must end with the 64-character hex SHA-256 of its bytes",
                            fields={"sha256": ["not a hex SHA-256"]})
    kinds = settings.inspections.photo_kinds
    if kind is not None and kind not in kinds:
        raise RuleViolation(f"unknown photo kind {kind}; kinds: {'、'.join(kinds)}",
                            fields={"kind": [f"one of {'、'.join(kinds)}"]})
    inspection = get_inspection(user, client_id)
    declared = {p["sha256"].lower(): p["kind"] for p in inspection.photos or []}
    kind = declared.get(sha256, kind)
    if len(data) > settings.photo_max_bytes:
        raise TooLarge(f"a photo may be at most {settings.photo_max_bytes} bytes, this one has {len(data)}",
                              max_bytes=settings.photo_max_bytes)
    content_type = sniff_image_type(data)
    if content_type is None:
        raise UnsupportedFormat("send the bytes of a JPEG or PNG photo (the file's first bytes say it is neither)")
    actual = sha256_hex(data)
    if actual != sha256:
        raise RuleViolation(f"the bytes' SHA-256 is {actual}, not {sha256}; the photo was damaged on the way, "
                            "send it again", fields={"sha256": ["does not match the bytes"]},
                            actual_sha256=actual)
    existing = db.session.scalar(select(InspectionPhoto).where(InspectionPhoto.inspection_id == inspection.id,
                                                               InspectionPhoto.sha256 == sha256))
    if existing is not None:
        storage.put(sha256, data)  # heal a store that lost the bytes; a no-op otherwise
        return existing, False
    count = len(inspection_photos(inspection))
    if count >= settings.photos_per_inspection:
        raise RuleViolation(f"an inspection has at most {settings.photos_per_inspection} photos")
    # Bytes first: a photo row never points at bytes that are not stored (orphan bytes are harmless).
    storage.put(sha256, data)
    created = insert_ignoring_conflicts(InspectionPhoto, [{
        "office_id": inspection.office_id, "inspection_id": inspection.id, "client_id": inspection.client_id,
        "sha256": sha256, "kind": kind, "content_type": content_type, "size": len(data), "uploaded_by_id": user.id,
        "uploaded_at": now}], index_elements=["inspection_id", "sha256"]) == 1
    if created:
        audit.record("mobile.photo", "tour_inspection", inspection.id, actor=user, office_id=inspection.office_id,
                     after={"sha256": sha256, "size": len(data), "content_type": content_type})
    uow.flush()
    photo = db.session.scalar(select(InspectionPhoto).where(InspectionPhoto.inspection_id == inspection.id,
                                                            InspectionPhoto.sha256 == sha256))
    return photo, created


def get_photo(user: User, client_id: str, sha256: str, storage: PhotoStorage) -> tuple[InspectionPhoto, bytes]:
    inspection = get_inspection(user, client_id)
    photo = db.session.scalar(select(InspectionPhoto).where(InspectionPhoto.inspection_id == inspection.id,
                                                            InspectionPhoto.sha256 == sha256.lower()))
    if photo is None:
        raise NotFound(f"no photo {sha256} on inspection {client_id}")
    data = storage.get(photo.sha256)
    if data is None:
        raise NotFound(f"the bytes of photo {sha256} are missing from the photo store; send the photo again")
    return photo, data
