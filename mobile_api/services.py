"""The officers' mobile endpoint: assignments, bulk exactly-once inspection sync, and photos.

Exactly-once without read-then-write: `tour_inspections.client_id` is unique in the database, and a
batch is written with one INSERT ... ON CONFLICT (client_id) DO NOTHING RETURNING. Rows the insert
returns are this request's; every other record of the batch is already there (from an earlier try,
another thread, or earlier in the same batch) and is classified by one SELECT comparing a canonical
content hash: `duplicate` when equal, `conflict` (with the differing fields) when not. Side effects
(registration done, motorcycle register, follow-up texts) run only for returned rows, in bulk, in
the same transaction, so they happen exactly once too.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from mobile_api.models import InspectionPhoto
from mobile_api.schemas import Rejected
from mobile_api.storage import PhotoStorage, is_sha256, sha256_hex, sniff_image_type
from schedules.tours.models import StopRegistration, Tour, TourInspection, TourOfficer, TourStop
from vmo.accounts.models import User
from vmo.audit import services as audit
from vmo.dbutil import insert_ignoring_conflicts
from vmo.errors import DomainError, Forbidden, NotFound, RuleViolation
from vmo.extensions import db
from vmo.motorcycles.models import Motorcycle
from vmo.motorcycles.rules import DueRules
from vmo.motorcycles.services import refresh_due_dates
from vmo.notify import services as notify
from vmo.offices.models import Office

DEFAULT_CHECKLIST = (
    {"code": "lights", "zh": "灯光", "en": "Lights"},
    {"code": "horn", "zh": "喇叭", "en": "Horn"},
    {"code": "brake_front", "zh": "前制动", "en": "Front brake"},
    {"code": "brake_rear", "zh": "后制动", "en": "Rear brake"},
    {"code": "tyres", "zh": "轮胎", "en": "Tyres"},
    {"code": "mirrors", "zh": "后视镜", "en": "Mirrors"},
    {"code": "plate", "zh": "号牌齐全清晰", "en": "Plate present and legible"},
    {"code": "frame_number", "zh": "车架号相符", "en": "Frame number matches"},
    {"code": "exhaust_noise", "zh": "排气与噪声", "en": "Exhaust and noise"},
)
# Fields compared between two versions of a record; "officer" is who logged it.
CONTENT_FIELDS = ("stop_id", "plate", "vin", "odometer_km", "checklist", "result", "defects", "recorded_at",
                  "lat", "lon", "officer")
OUTCOME_ZH = {"pass": "检验合格", "fail": "检验未通过，请排除故障后复检"}


class PayloadTooLarge(DomainError):
    status = 413


class UnsupportedMediaType(DomainError):
    status = 415


@dataclass(frozen=True)
class MobileSettings:
    """The endpoint's settings, read from the app config by the HTTP layer."""

    checklist: tuple = DEFAULT_CHECKLIST
    horizon_days: int = 7
    max_records: int = 500
    clock_skew: timedelta = timedelta(minutes=10)
    photo_max_bytes: int = 10 * 1024 * 1024
    photos_per_inspection: int = 20
    due_rules: DueRules = field(default_factory=DueRules)

    @classmethod
    def from_config(cls, config) -> "MobileSettings":
        return cls(
            checklist=tuple(config["MOBILE_CHECKLIST"]),
            horizon_days=int(config["MOBILE_ASSIGNMENT_DAYS"]),
            max_records=int(config["MOBILE_SYNC_MAX_RECORDS"]),
            clock_skew=timedelta(minutes=float(config["CLOCK_SKEW_MINUTES"])),
            photo_max_bytes=int(config["PHOTO_MAX_BYTES"]),
            photos_per_inspection=int(config["PHOTOS_PER_INSPECTION"]),
            due_rules=DueRules.from_config(config),
        )

    @property
    def checklist_codes(self) -> frozenset:
        return frozenset(item["code"] for item in self.checklist)


# ---- assignments --------------------------------------------------------------------------

def assignments(officer: User, today: date, settings: MobileSettings) -> dict:
    """The officer's tours from today for `horizon_days` days, with everything needed offline.

    Four queries whatever the number of tours. Times are given in the office's zone, as the tablet
    shows them; nothing in the answer depends on the time of the request, so its ETag only changes
    when the tours do.
    """
    last = today + timedelta(days=max(settings.horizon_days, 1) - 1)
    tours = list(db.session.scalars(
        select(Tour)
        .join(TourOfficer, TourOfficer.tour_id == Tour.id)
        .where(TourOfficer.user_id == officer.id, Tour.office_id == officer.office_id,
               # Inspections are taken on published tours only (as in schedules.tours), so only those show.
               Tour.status == "published", Tour.date >= today, Tour.date <= last)
        .options(selectinload(Tour.stops), selectinload(Tour.officer_links))
        .order_by(Tour.date, Tour.id)
    ))
    stop_ids = [s.id for t in tours for s in t.active_stops]
    registrations = defaultdict(list)
    if stop_ids:
        for reg in db.session.scalars(select(StopRegistration)
                                      .where(StopRegistration.stop_id.in_(stop_ids),
                                             StopRegistration.status != "cancelled")
                                      .order_by(StopRegistration.id)):
            registrations[reg.stop_id].append(reg)
    zone = officer.office.zone
    return {
        "officer": officer.username,
        "from_": today,
        "to": last,
        "checklist": [dict(item) for item in settings.checklist],
        "tours": [{
            "id": t.id, "name": t.name, "date": t.date, "status": t.status,
            "depot": {"lat": t.depot_lat, "lon": t.depot_lon},
            "officers": sorted(u.username for u in t.officers),
            "stops": [{
                "id": s.id, "position": s.position, "township": s.township, "venue": s.venue,
                "lat": s.lat, "lon": s.lon, "capacity": s.slot.capacity,
                "arrives_at": s.arrives_at.astimezone(zone), "departs_at": s.departs_at.astimezone(zone),
                "registrations": [{"id": r.id, "plate": r.plate, "owner_name": r.owner_name, "phone": r.phone,
                                   "status": r.status} for r in registrations[s.id]],
            } for s in t.active_stops],
        } for t in tours],
    }


# ---- sync ---------------------------------------------------------------------------------

def _utc_text(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: dict) -> dict:
    """The content of a record that decides duplicate vs conflict, in one spelling for both sides."""
    return {
        "stop_id": int(values["stop_id"]),
        "plate": values["plate"],
        "vin": values.get("vin"),
        "odometer_km": values.get("odometer_km"),
        "checklist": {str(k): v for k, v in sorted((values.get("checklist") or {}).items())},
        "result": values["result"],
        "defects": list(values.get("defects") or []),
        "recorded_at": _utc_text(values["recorded_at"]),
        "lat": None if values.get("lat") is None else float(values["lat"]),
        "lon": None if values.get("lon") is None else float(values["lon"]),
        "officer": int(values["officer_id"]),
    }


def content_hash(values: dict) -> str:
    text = json.dumps(canonical(values), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _differences(incoming: dict, row) -> list[str]:
    a = canonical(incoming)
    b = canonical({name: getattr(row, name) for name in ("stop_id", "plate", "vin", "odometer_km", "checklist",
                                                          "result", "defects", "recorded_at", "lat", "lon",
                                                          "officer_id")})
    return [name for name in CONTENT_FIELDS if a[name] != b[name]]


def _insert_returning(rows: list[dict]) -> dict[str, int]:
    """INSERT ... ON CONFLICT (client_id) DO NOTHING RETURNING: client_id -> id of the rows that went in."""
    if not rows:
        return {}
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = TourInspection.__table__
    stmt = (insert(table).on_conflict_do_nothing(index_elements=["client_id"])
            .returning(table.c.client_id, table.c.id))
    # executemany of one cached statement: SQLAlchemy's "insertmanyvalues" sends it as multi-row
    # INSERTs (a few hundred rows each) with RETURNING, without compiling a new statement per batch.
    result = db.session.connection().execute(stmt, rows)
    return {client_id: id_ for client_id, id_ in result.all()}


def sync_inspections(officer: User, device_id: str, sent_at: datetime | None, records: list,
                     now: datetime, settings: MobileSettings) -> dict:
    """Take a batch of tablet records; answer each in order. One unit of work, a few bulk statements."""
    if len(records) > settings.max_records:
        raise RuleViolation(f"at most {settings.max_records} records per sync, got {len(records)}",
                            errors={"json": {"records": [f"at most {settings.max_records} records per sync"]}})
    skewed = sent_at is not None and abs(sent_at - now) > settings.clock_skew
    results: list[dict | None] = [None] * len(records)
    candidates: list[tuple[int, dict]] = []
    codes = settings.checklist_codes
    for index, record in enumerate(records):
        if isinstance(record, Rejected):
            results[index] = {"client_id": record.client_id, "status": "rejected", "errors": record.errors}
            continue
        unknown = sorted(set(record["checklist"]) - codes)
        if unknown:
            results[index] = _rejected(record, {"checklist": {
                code: [f"unknown checklist item; known: {', '.join(sorted(codes))}"] for code in unknown}})
            continue
        candidates.append((index, record))

    # Who may log where: one query for every stop named in the batch.
    stops = {}
    stop_ids = sorted({r["stop_id"] for _, r in candidates})
    if stop_ids:
        for stop_id, tour_id, office_id, stop_status, tour_status, tour_date, assigned in db.session.execute(
            select(TourStop.id, TourStop.tour_id, TourStop.office_id, TourStop.status, Tour.status, Tour.date,
                   TourOfficer.id)
            .join(Tour, Tour.id == TourStop.tour_id)
            .outerjoin(TourOfficer, and_(TourOfficer.tour_id == Tour.id, TourOfficer.user_id == officer.id))
            .where(TourStop.id.in_(stop_ids))
        ).all():
            stops[stop_id] = {"tour_id": tour_id, "office_id": office_id, "stop_status": stop_status,
                              "tour_status": tour_status, "date": tour_date, "assigned": assigned is not None}
    accepted: list[tuple[int, dict]] = []
    foreign = 0
    for index, record in candidates:
        stop = stops.get(record["stop_id"])
        if stop is None or stop["office_id"] != officer.office_id:
            foreign += 1
            results[index] = _rejected(record, {"stop_id": ["no such stop"]})
        elif not stop["assigned"]:
            foreign += 1
            results[index] = _rejected(record, {"stop_id": ["you are not assigned to this stop's tour"]})
        elif stop["tour_status"] != "published" or stop["stop_status"] != "scheduled":
            why = "was cancelled" if "cancelled" in (stop["tour_status"], stop["stop_status"]) else "is not published"
            results[index] = _rejected(record, {"stop_id": [f"this stop's tour or the stop itself {why}"]})
        else:
            accepted.append((index, record))
    if records and foreign == len(records):
        raise Forbidden("you are not assigned to the tour of any stop in this batch")

    # Pre-registrations of the plates in the batch: one query.
    registrations = {}
    tour_ids = sorted({stops[r["stop_id"]]["tour_id"] for _, r in accepted})
    plates = sorted({r["plate"] for _, r in accepted})
    if accepted:
        for reg_id, tour_id, plate, phone in db.session.execute(
            select(StopRegistration.id, StopRegistration.tour_id, StopRegistration.active_plate,
                   StopRegistration.phone)
            .where(StopRegistration.tour_id.in_(tour_ids), StopRegistration.active_plate.in_(plates))
        ).all():
            registrations[(tour_id, plate)] = (reg_id, phone)

    zone = officer.office.zone
    rows_by_client: dict[str, dict] = {}
    for index, record in accepted:
        client_id = str(record["client_id"])
        stop = stops[record["stop_id"]]
        values = {
            "office_id": officer.office_id, "tour_id": stop["tour_id"], "stop_id": record["stop_id"],
            "client_id": client_id, "device_id": device_id, "plate": record["plate"], "vin": record["vin"],
            "odometer_km": record["odometer_km"], "checklist": dict(record["checklist"]),
            "result": record["result"], "defects": list(record["defects"]), "officer_id": officer.id,
            "lat": record["lat"], "lon": record["lon"], "recorded_at": record["recorded_at"],
            "received_at": now,
            # Kept but flagged (as schedules.tours does): a tablet clock off by more than the tolerance when
            # sending, a record "from the future", or one recorded on another day than the tour's.
            "clock_skew": (skewed or record["recorded_at"] - now > settings.clock_skew
                           or record["recorded_at"].astimezone(zone).date() != stop["date"]),
        }
        reg = registrations.get((stop["tour_id"], record["plate"]))
        values["registration_id"] = reg[0] if reg else None
        values["walk_in"] = reg is None
        values["content_hash"] = content_hash(values)
        record["_values"] = values
        rows_by_client.setdefault(client_id, values)  # the first of repeated client_ids in a batch is the one

    # Sorted by client_id, so two transactions inserting overlapping batches lock rows in the same order
    # (PostgreSQL would otherwise deadlock on a batch and its reverse sent at once).
    inserted = _insert_returning([rows_by_client[c] for c in sorted(rows_by_client)])

    existing = {}
    others = sorted({str(r["client_id"]) for _, r in accepted} - set(inserted))
    if others:
        # Only what a duplicate needs; the whole row is read just for the (rare) conflicts below.
        for row in db.session.execute(select(TourInspection.id, TourInspection.client_id, TourInspection.office_id,
                                             TourInspection.content_hash)
                                      .where(TourInspection.client_id.in_(others))).all():
            existing[row.client_id] = row
    answered_created = set()
    for index, record in accepted:
        client_id = str(record["client_id"])
        values = record["_values"]
        sent_id = record.get("client_id_as_sent") or client_id
        if client_id in inserted and client_id not in answered_created and rows_by_client[client_id] is values:
            answered_created.add(client_id)
            results[index] = {"client_id": sent_id, "status": "created", "id": inserted[client_id]}
            continue
        row = existing.get(client_id)
        if row is None:  # inserted earlier in this very batch
            first = rows_by_client[client_id]
            same = first["content_hash"] == values["content_hash"]
            diff = [] if same else _differences(values, _Row(first))
            row_id = inserted[client_id]
        else:
            full = None if row.content_hash == values["content_hash"] else db.session.get(TourInspection, row.id)
            # A row without a hash was recorded another way (the tours API): compare field by field.
            same = full is None or (row.content_hash is None and not _differences(values, full))
            diff = [] if same else _differences(values, full)
            row_id = row.id
        if same:
            results[index] = {"client_id": sent_id, "status": "duplicate", "id": row_id}
        elif row is not None and row.office_id != officer.office_id:
            # Someone else's record under this client_id: say nothing about it.
            results[index] = _rejected(record, {"client_id": ["this client_id is already used"]})
        else:
            results[index] = {"client_id": sent_id, "status": "conflict", "id": row_id,
                              "differences": diff or ["content"]}

    created = [rows_by_client[c] | {"id": i} for c, i in sorted(inserted.items())]
    if created:
        _side_effects(officer, created, settings)
    counts = defaultdict(int)
    for result in results:
        counts[result["status"]] += 1
    audit.record("mobile.sync", "device", device_id, actor=officer,
                 after={"records": len(records), **counts, "clock_skew": skewed,
                        "created_ids": sorted(inserted.values())})
    db.session.commit()
    return {"results": results, "received_at": now, "clock_skew": bool(skewed)}


class _Row:
    def __init__(self, values: dict):
        self.__dict__.update(values)


def _rejected(record: dict, errors: dict) -> dict:
    return {"client_id": record.get("client_id_as_sent") or str(record["client_id"]), "status": "rejected",
            "errors": errors}


def _side_effects(officer: User, created: list[dict], settings: MobileSettings) -> None:
    """Registrations done, the register's last inspection date, one follow-up per inspection: in bulk."""
    office = db.session.get(Office, officer.office_id)
    registration_ids = sorted({row["registration_id"] for row in created if row["registration_id"]})
    if registration_ids:
        db.session.execute(update(StopRegistration)
                           .where(StopRegistration.id.in_(registration_ids), StopRegistration.status == "registered")
                           .values(status="inspected").execution_options(synchronize_session=False))

    tours = dict(db.session.execute(select(Tour.id, Tour.date)
                                    .where(Tour.id.in_({row["tour_id"] for row in created}))).all())
    passed_by_day = defaultdict(set)
    for row in created:
        if row["result"] == "pass":
            # The tour's day, not the tablet's clock, which may be wrong.
            passed_by_day[tours[row["tour_id"]]].add(row["plate"])
    for day, plates in sorted(passed_by_day.items()):
        db.session.execute(
            update(Motorcycle)
            .where(Motorcycle.office_id == office.id, Motorcycle.plate.in_(sorted(plates)),
                   or_(Motorcycle.last_inspected_on.is_(None), Motorcycle.last_inspected_on < day))
            # An empty due_rules marks the due date stale; refresh_due_dates recomputes just those rows.
            .values(last_inspected_on=day, due_rules="").execution_options(synchronize_session=False))
    if passed_by_day:
        refresh_due_dates(settings.due_rules, office.id)

    _queue_follow_ups(office, officer, created)


def _queue_follow_ups(office: Office, officer: User, created: list[dict]) -> None:
    plates = sorted({row["plate"] for row in created})
    register_phones = dict(db.session.execute(
        select(Motorcycle.plate, Motorcycle.phone).where(Motorcycle.plate.in_(plates),
                                                         Motorcycle.office_id == office.id)).all())
    reg_phones = {}
    registration_ids = [row["registration_id"] for row in created if row["registration_id"]]
    if registration_ids:
        reg_phones = dict(db.session.execute(select(StopRegistration.id, StopRegistration.phone)
                                             .where(StopRegistration.id.in_(registration_ids))).all())
    townships = dict(db.session.execute(select(TourStop.id, TourStop.township)
                                        .where(TourStop.id.in_({row["stop_id"] for row in created}))).all())
    messages = []
    for row in created:
        phone = reg_phones.get(row["registration_id"]) or register_phones.get(row["plate"])
        if not phone:
            continue  # nobody to ask: a walk-in whose plate is not on the register with a phone
        messages.append({
            "office_id": office.id, "phone": phone, "kind": "follow_up",
            "key": f"follow_up:tour_inspection:{row['id']}",
            # The same words as schedules.tours.registrations.add_inspection, for the same case.
            "body": (f"【{office.name}】您的摩托车{row['plate']}已在{townships.get(row['stop_id'], '')}流动车管所"
                     f"{OUTCOME_ZH[row['result']]}，检验民警警号{officer.badge_number or officer.id}。"
                     "满意请回复1，不满意请回复2。"),
            "subject_type": "tour_inspection",
            "subject_id": row["id"], "officer_id": officer.id, "created_at": row["received_at"],
        })
    # Keys are unique: even a replayed side effect could not queue a second text.
    notify.queue_many(messages)


# ---- inspections and photos ------------------------------------------------------------------

def _may_see(user: User, inspection: TourInspection) -> bool:
    if inspection.office_id != user.office_id:
        return False
    return user.role in ("supervisor", "admin") or inspection.officer_id == user.id


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
            "officer": inspection.officer.username, "photos": inspection_photos(inspection)}


def add_photo(user: User, client_id: str, sha256: str, data: bytes, storage: PhotoStorage, now: datetime,
              settings: MobileSettings) -> tuple[InspectionPhoto, bool]:
    """Attach a JPEG or PNG to an inspection; (photo, created). Sending it again changes nothing."""
    sha256 = sha256.lower()
    if not is_sha256(sha256):
        raise RuleViolation("the photo's address must end with the 64-character hex SHA-256 of its bytes",
                            errors={"path": {"sha256": ["not a hex SHA-256"]}})
    inspection = get_inspection(user, client_id)
    if len(data) > settings.photo_max_bytes:
        raise PayloadTooLarge(f"a photo may be at most {settings.photo_max_bytes} bytes, this one has {len(data)}",
                              max_bytes=settings.photo_max_bytes)
    content_type = sniff_image_type(data)
    if content_type is None:
        raise UnsupportedMediaType("send the bytes of a JPEG or PNG photo (the file's first bytes say it is neither)")
    actual = sha256_hex(data)
    if actual != sha256:
        raise RuleViolation(f"the bytes' SHA-256 is {actual}, not {sha256}; the photo was damaged on the way, "
                            "send it again", errors={"path": {"sha256": ["does not match the bytes"]}},
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
        "sha256": sha256, "content_type": content_type, "size": len(data), "uploaded_by_id": user.id,
        "uploaded_at": now}], index_elements=["inspection_id", "sha256"]) == 1
    if created:
        audit.record("mobile.photo", "tour_inspection", inspection.id, actor=user, office_id=inspection.office_id,
                     after={"sha256": sha256, "size": len(data), "content_type": content_type})
    db.session.commit()
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
