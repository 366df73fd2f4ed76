"""Recording inspections done at tour stops: the one path for the tours API (a list of one) and the tablets' sync.

Bulk first and exactly once without read-then-write: `tour_inspections.client_id` is unique in the
database, and a batch is written with one INSERT ... ON CONFLICT (client_id) DO NOTHING RETURNING.
Rows the insert returns are this call's; every other record is already there (from an earlier try,
another thread, or earlier in the same batch) and is classified by one SELECT comparing a canonical
content hash: `duplicate` when equal, `conflict` (with the differing fields) when not. The side
effects (registration inspected, the motorcycle register, the follow-up text) run only for the
returned rows, in bulk, in the caller's transaction, so they too happen exactly once.

The caller commits (and writes its audit entry): the tours endpoint answers one record with an
HTTP status, the mobile sync answers each record of a batch.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from schedules.tours import access
from schedules.tours import notifications as texts
from schedules.tours.models import (
    RegistrationStatus, StopRegistration, StopStatus, Tour, TourInspection, TourOfficer, TourStatus, TourStop,
)
from schedules.tours.services import place_name
from schedules.tours.sync import SyncStatus
from vmo.accounts.models import User
from vmo.hooks import Case
from vmo.extensions import db
from vmo.motorcycles import services as register_of_motorcycles
from vmo.motorcycles.rules import DueRules
from vmo.notify import services as notify
from vmo.offices.models import Office
from vmo.settings import setting

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
CONTENT_FIELDS = ("stop_id", "plate", "vin", "engine_number", "odometer_km", "checklist", "result", "defects", "recorded_at",
                  "lat", "lon", "officer")
_ROW_FIELDS = ("stop_id", "plate", "vin", "engine_number", "odometer_km", "checklist", "result", "defects", "recorded_at", "lat",
               "lon", "officer_id")
# What each photo shows, as the office's inspection photos are filed (set PHOTO_KINDS to change).
DEFAULT_PHOTO_KINDS = ("左前45度", "右后45度", "车架号", "号牌", "发动机号", "故障部位")

# Why a record was refused, for callers that answer with a status: a stop that is not there for this
# officer (or not assigned), a tour or stop that takes no inspections, a record against the rules.
NO_STOP, NOT_ASSIGNED, NOT_OPEN, AGAINST_RULES = "no_stop", "not_assigned", "not_open", "against_rules"


def _names(value) -> tuple:
    """A list setting: a sequence, or one string separated by commas (as the environment gives it)."""
    if isinstance(value, str):
        value = value.replace("，", ",").split(",")
    return tuple(item.strip() for item in value if item and item.strip())


def _checklist(value) -> tuple:
    """A JSON list of {"code", "zh", "en"} (or its text, as the environment gives it)."""
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, (list, tuple)) or not value or not all(
            isinstance(item, dict) and isinstance(item.get("code"), str) and item["code"] for item in value):
        raise ValueError('must be a list of {"code", "zh", "en"}')
    return tuple(dict(item) for item in value)


@dataclass(frozen=True)
class InspectionSettings:
    """What recording an inspection depends on (one reading for both paths), installed by schedules.register."""

    # The tablets show it; both inspection paths check records against it.
    checklist: tuple = setting(DEFAULT_CHECKLIST, key="MOBILE_CHECKLIST", parse=_checklist,
                               shown=f"the {len(DEFAULT_CHECKLIST)} items of docs/mobile.md")
    # How far a device's clock may be off the server's before its records are flagged (tours, tablets).
    clock_skew_minutes: float = setting(10.0, key="CLOCK_SKEW_MINUTES", low=0)
    due_rules: DueRules = field(default_factory=DueRules)
    photo_kinds: tuple = setting(DEFAULT_PHOTO_KINDS, key="PHOTO_KINDS", parse=_names)
    # Kinds a record must declare (photos: [{"kind", "sha256"}]) before it may be a pass; none by default.
    required_photo_kinds: tuple = setting((), key="PHOTO_REQUIRED_KINDS", parse=_names)

    def __post_init__(self):
        unknown = sorted(set(self.required_photo_kinds) - set(self.photo_kinds))
        if unknown:
            raise ValueError(f"PHOTO_REQUIRED_KINDS names kinds not in PHOTO_KINDS: {', '.join(unknown)}")

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(minutes=self.clock_skew_minutes)

    @property
    def checklist_codes(self) -> frozenset:
        return frozenset(item["code"] for item in self.checklist)


@dataclass
class Outcome:
    """What became of one record: `differences` for a conflict, `errors` and `reason` when rejected."""

    status: SyncStatus
    id: int | None = None
    errors: dict | None = None
    reason: str | None = None
    differences: list[str] = field(default_factory=list)


# ---- content identity ---------------------------------------------------------------------

def _utc_text(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: dict) -> dict:
    """The content of a record that decides duplicate vs conflict, in one spelling for both sides."""
    return {
        "stop_id": int(values["stop_id"]),
        "plate": values["plate"],
        "vin": values.get("vin"),
        "engine_number": values.get("engine_number"),
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


def _differences(incoming: dict, stored: dict) -> list[str]:
    a, b = canonical(incoming), canonical(stored)
    return [name for name in CONTENT_FIELDS if a[name] != b[name]]


def _row_values(row) -> dict:
    return {name: getattr(row, name) for name in _ROW_FIELDS}


# ---- the rules of one record --------------------------------------------------------------

def _rule_errors(record: dict, settings: InspectionSettings) -> dict:
    """Field errors of a record against the checklist, the result and the photos (empty when it may go in).

    A pass needs every checklist item answered `pass` or `n/a`, no failed item, and the photo kinds
    the office requires; a fail may stop at the first failed item.
    """
    codes = settings.checklist_codes
    checklist = record.get("checklist") or {}
    errors: dict = {}
    unknown = sorted(set(checklist) - codes)
    if unknown:
        errors["checklist"] = {code: [f"unknown checklist item; known: {', '.join(sorted(codes))}"]
                               for code in unknown}
    kinds = [photo.get("kind") for photo in record.get("photos") or []]
    wrong = sorted({kind for kind in kinds if kind not in settings.photo_kinds})
    if wrong:
        errors["photos"] = [f"unknown photo kind {', '.join(wrong)}; kinds: {'、'.join(settings.photo_kinds)}"]
    if errors or record["result"] != "pass":
        return errors
    failed = sorted(code for code, value in checklist.items() if value == "fail")
    if failed:
        return {"result": [f"a passed inspection cannot have failed items ({', '.join(failed)})"]}
    unanswered = [item["code"] for item in settings.checklist if item["code"] not in checklist]
    if unanswered:
        return {"checklist": {code: ["not answered: a pass needs every item answered pass or n/a"]
                              for code in unanswered}}
    missing = [kind for kind in settings.required_photo_kinds if kind not in kinds]
    if missing:
        return {"photos": [f"a pass needs photos of: {'、'.join(missing)}"]}
    return {}


def _matches(entered: str | None, registered: str | None) -> bool | None:
    """Whether what the officer read matches the register (None when either is missing)."""
    if not entered or not registered:
        return None
    return entered.strip().upper() == registered.strip().upper()


# ---- recording ----------------------------------------------------------------------------

def _stops(officer: User, stop_ids: list[int]) -> dict[int, dict]:
    """Every stop named in the batch with its tour and whether the officer is assigned: one query."""
    stops = {}
    if not stop_ids:
        return stops
    for stop_id, tour_id, office_id, stop_status, township, tour_status, tour_date, assigned in db.session.execute(
        select(TourStop.id, TourStop.tour_id, TourStop.office_id, TourStop.status, TourStop.township, Tour.status,
               Tour.date, TourOfficer.id)
        .join(Tour, Tour.id == TourStop.tour_id)
        .outerjoin(TourOfficer, and_(TourOfficer.tour_id == Tour.id, TourOfficer.user_id == officer.id))
        .where(TourStop.id.in_(stop_ids))
    ).all():
        stops[stop_id] = {"tour_id": tour_id, "office_id": office_id, "stop_status": stop_status,
                          "township": township, "tour_status": tour_status, "date": tour_date, "assigned": assigned is not None}
    return stops


def _refusal(officer: User, stop: dict | None) -> tuple[str, dict] | None:
    """Why this officer may not record at this stop, or None."""
    if stop is None or stop["office_id"] != officer.office_id:
        return NO_STOP, {"stop_id": ["no such stop"]}
    if not access.may_inspect(officer, stop["assigned"]):
        return NOT_ASSIGNED, {"stop_id": ["you are not assigned to this stop's tour"]}
    if stop["tour_status"] != TourStatus.PUBLISHED or stop["stop_status"] != StopStatus.SCHEDULED:
        cancelled = stop["tour_status"] == TourStatus.CANCELLED or stop["stop_status"] == StopStatus.CANCELLED
        why = "was cancelled" if cancelled else "is not published"
        return NOT_OPEN, {"stop_id": [f"this stop's tour or the stop itself {why}"]}
    return None


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


def record_inspections(officer: User, records: list[dict], now: datetime, settings: InspectionSettings, *,
                       device_id: str | None = None, device_skewed: bool = False) -> list[Outcome]:
    """Record inspections done at tour stops; one outcome per record, in order. Does not commit.

    Each record: `client_id` (str), `stop_id`, `plate`, `result`, and optionally `vin`, `odometer_km`,
    `checklist`, `defects`, `recorded_at` (default: now), `lat`, `lon`, `phone` (a walk-in's), `note`.
    Only an officer assigned to the stop's tour records, and only on a published tour's scheduled stop.
    A device time that cannot be right (ahead of ours by more than the allowance, off the tour's day,
    or a device whose clock was off when sending: `device_skewed`) is kept but flagged.
    """
    outcomes: list[Outcome | None] = [None] * len(records)
    stops = _stops(officer, sorted({r["stop_id"] for r in records}))
    accepted: list[tuple[int, dict]] = []
    for index, record in enumerate(records):
        refusal = _refusal(officer, stops.get(record["stop_id"]))
        if refusal is None:
            errors = _rule_errors(record, settings)
            refusal = (AGAINST_RULES, errors) if errors else None
        if refusal is not None:
            outcomes[index] = Outcome(SyncStatus.REJECTED, reason=refusal[0], errors=refusal[1])
        else:
            accepted.append((index, record))

    registrations = _registrations({(stops[r["stop_id"]]["tour_id"], r["plate"]) for _, r in accepted})
    register = register_of_motorcycles.on_register(officer.office_id, {r["plate"] for _, r in accepted})
    zone = officer.office.zone
    rows_by_client: dict[str, dict] = {}
    values_of: dict[int, dict] = {}
    for index, record in accepted:
        stop = stops[record["stop_id"]]
        recorded_at = record.get("recorded_at") or now
        reg = registrations.get((stop["tour_id"], record["plate"]))
        known = register.get(record["plate"])
        values = {
            "office_id": officer.office_id, "tour_id": stop["tour_id"], "stop_id": record["stop_id"],
            "client_id": str(record["client_id"]), "device_id": device_id, "plate": record["plate"],
            "vin": record.get("vin"), "engine_number": record.get("engine_number"),
            "vin_matches": _matches(record.get("vin"), known and known["vin"]),
            "engine_number_matches": _matches(record.get("engine_number"), known and known["engine_number"]),
            "owner_name": record.get("owner_name"), "not_on_register": known is None,
            "photos": [{"kind": p["kind"], "sha256": p["sha256"]} for p in record.get("photos") or []],
            "odometer_km": record.get("odometer_km"),
            "checklist": dict(record.get("checklist") or {}), "result": record["result"],
            "defects": list(record.get("defects") or []), "officer_id": officer.id,
            "lat": record.get("lat"), "lon": record.get("lon"), "recorded_at": recorded_at, "received_at": now,
            # Kept but flagged: a device clock off when sending, a record "from the future", or one
            # recorded on another day than the tour's.
            "clock_skew": (device_skewed or recorded_at - now > settings.clock_skew
                           or recorded_at.astimezone(zone).date() != stop["date"]),
            "registration_id": reg[0] if reg else None, "walk_in": reg is None, "note": record.get("note"),
        }
        values["content_hash"] = content_hash(values)
        values_of[index] = values
        rows_by_client.setdefault(values["client_id"], values)  # of repeated client_ids, the first is the one

    # Sorted by client_id, so two transactions inserting overlapping batches lock rows in the same order
    # (PostgreSQL would otherwise deadlock on a batch and its reverse sent at once).
    inserted = _insert_returning([rows_by_client[c] for c in sorted(rows_by_client)])
    _classify(officer, accepted, values_of, rows_by_client, inserted, outcomes)

    created = [rows_by_client[c] | {"id": i} for c, i in sorted(inserted.items())]
    if created:
        walk_in_phones = {values_of[i]["client_id"]: r["phone"] for i, r in accepted if r.get("phone")}
        _add_to_register(officer, created, stops, settings, walk_in_phones, now)
        _side_effects(officer, created, {s: stops[s]["date"] for s in stops}, settings, walk_in_phones)
    return outcomes


def _add_to_register(officer: User, created: list[dict], stops: dict, settings: InspectionSettings,
                     walk_in_phones: dict[str, str], now: datetime) -> None:
    """Motorcycles inspected but not on the register go on it, flagged, with what the officer entered."""
    rows = {}
    for row in created:
        if row["not_on_register"]:
            rows.setdefault(row["plate"], {
                "plate": row["plate"], "vin": row["vin"], "engine_number": row["engine_number"],
                "owner_name": row["owner_name"], "phone": walk_in_phones.get(row["client_id"]),
                "township": stops[row["stop_id"]]["township"]})
    if rows:
        register_of_motorcycles.add_walk_ins(officer.office_id, list(rows.values()), settings.due_rules, now)


def _registrations(keys: set[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, str]]:
    """(tour id, plate) -> (registration id, phone) of the standing pre-registrations: one query."""
    if not keys:
        return {}
    tour_ids = sorted({t for t, _ in keys})
    plates = sorted({p for _, p in keys})
    return {(tour_id, plate): (reg_id, phone) for reg_id, tour_id, plate, phone in db.session.execute(
        select(StopRegistration.id, StopRegistration.tour_id, StopRegistration.active_plate, StopRegistration.phone)
        .where(StopRegistration.tour_id.in_(tour_ids), StopRegistration.active_plate.in_(plates))).all()}


def _classify(officer: User, accepted, values_of, rows_by_client, inserted, outcomes) -> None:
    """Answer each accepted record: created (once per client_id), duplicate or conflict."""
    existing = {}
    others = sorted({values_of[i]["client_id"] for i, _ in accepted} - set(inserted))
    if others:
        # Only what a duplicate needs; the whole row is read just for the (rare) conflicts below.
        for row in db.session.execute(select(TourInspection.id, TourInspection.client_id, TourInspection.office_id,
                                             TourInspection.content_hash)
                                      .where(TourInspection.client_id.in_(others))).all():
            existing[row.client_id] = row
    answered_created = set()
    for index, _record in accepted:
        values = values_of[index]
        client_id = values["client_id"]
        if client_id in inserted and client_id not in answered_created and rows_by_client[client_id] is values:
            answered_created.add(client_id)
            outcomes[index] = Outcome(SyncStatus.CREATED, id=inserted[client_id])
            continue
        row = existing.get(client_id)
        if row is None:  # inserted earlier in this very batch
            first = rows_by_client[client_id]
            diff = [] if first["content_hash"] == values["content_hash"] else _differences(values, first)
            row_id = inserted[client_id]
        elif row.content_hash == values["content_hash"]:
            diff, row_id = [], row.id
        else:
            # A row without a hash was recorded before hashes were kept: compare field by field.
            diff, row_id = _differences(values, _row_values(db.session.get(TourInspection, row.id))), row.id
        if not diff:
            outcomes[index] = Outcome(SyncStatus.DUPLICATE, id=row_id)
        elif row is not None and row.office_id != officer.office_id:
            # Someone else's record under this client_id: say nothing about it.
            outcomes[index] = Outcome(SyncStatus.REJECTED, reason=AGAINST_RULES,
                                      errors={"client_id": ["this client_id is already used"]})
        else:
            outcomes[index] = Outcome(SyncStatus.CONFLICT, id=row_id, differences=diff)


def _side_effects(officer: User, created: list[dict], tour_dates: dict[int, date], settings: InspectionSettings,
                  walk_in_phones: dict[str, str]) -> None:
    """Registrations inspected, the register's last inspection date, one follow-up per inspection: in bulk."""
    registration_ids = sorted({row["registration_id"] for row in created if row["registration_id"]})
    if registration_ids:
        db.session.execute(update(StopRegistration)
                           .where(StopRegistration.id.in_(registration_ids), StopRegistration.status == RegistrationStatus.REGISTERED)
                           .values(status=RegistrationStatus.INSPECTED).execution_options(synchronize_session=False))
    # A pass counts on the tour's day: the inspection was done at the stop, whatever a device's clock said.
    passes = [(row["plate"], tour_dates[row["stop_id"]]) for row in created if row["result"] == "pass"]
    register_of_motorcycles.record_passes(officer.office_id, passes, settings.due_rules)
    _queue_follow_ups(officer, created, walk_in_phones, settings)


def _failed_items(row: dict, labels: dict[str, str]) -> str:
    """What failed, for the owner: the checklist items in Chinese (three at most) and the first defect noted."""
    failed = [labels.get(code, code) for code, value in row["checklist"].items() if value == "fail"]
    words = "、".join(failed[:3]) + (f"等{len(failed)}项" if len(failed) > 3 else "")
    defect = (row["defects"] or [""])[0][:20]
    return "，".join(part for part in (words, defect) if part) or "见检验记录"


def _next_stops(office_id: int, townships: set[str], after: datetime) -> dict[str, str]:
    """Township -> where and when a failed motorcycle can be inspected again: its next two published stops."""
    zone = db.session.get(Office, office_id).zone
    found: dict[str, list[str]] = defaultdict(list)
    for township, venue, arrives, departs in db.session.execute(
        select(TourStop.township, TourStop.venue, TourStop.arrives_at, TourStop.departs_at)
        .join(Tour, Tour.id == TourStop.tour_id)
        .where(Tour.office_id == office_id, Tour.status == TourStatus.PUBLISHED, TourStop.status == StopStatus.SCHEDULED,
               TourStop.township.in_(sorted(townships)), TourStop.arrives_at > after)
        .order_by(TourStop.arrives_at, TourStop.id)).all():
        if len(found[township]) < 2:
            found[township].append(f"{arrives.astimezone(zone):%m月%d日%H:%M}-{departs.astimezone(zone):%H:%M}"
                                   f"{place_name(township, venue)}")
    return {t: "；".join(found[t]) if found[t] else texts.NEXT_NONE.format(township=t) for t in townships}


def _queue_follow_ups(officer: User, created: list[dict], walk_in_phones: dict[str, str],
                      settings: InspectionSettings) -> None:
    office = db.session.get(Office, officer.office_id)
    register_phones = register_of_motorcycles.phones(office.id, {row["plate"] for row in created})
    reg_phones = {}
    registration_ids = [row["registration_id"] for row in created if row["registration_id"]]
    if registration_ids:
        reg_phones = dict(db.session.execute(select(StopRegistration.id, StopRegistration.phone)
                                             .where(StopRegistration.id.in_(registration_ids))).all())
    townships = dict(db.session.execute(select(TourStop.id, TourStop.township)
                                        .where(TourStop.id.in_({row["stop_id"] for row in created}))).all())
    failed_in = {townships.get(row["stop_id"], "") for row in created if row["result"] == "fail"}
    again = _next_stops(office.id, failed_in, created[0]["received_at"]) if failed_in else {}
    labels = {item["code"]: item["zh"] for item in settings.checklist}
    messages = []
    for row in created:
        phone = (reg_phones.get(row["registration_id"]) or walk_in_phones.get(row["client_id"])
                 or register_phones.get(row["plate"]))
        if not phone:
            continue  # nobody to ask: a walk-in whose plate is not on the register with a phone
        township = townships.get(row["stop_id"], "")
        common = {"office_id": office.id, "phone": phone, "subject_type": "tour_inspection", "subject_id": row["id"],
                  "officer_id": officer.id, "created_at": row["received_at"]}
        if row["result"] == "fail":
            # First what failed and when to come again, then the one-segment follow-up.
            messages.append({**common, "kind": "tour_failed", "key": f"tour_failed:{row['id']}",
                             "body": texts.FAILED.render(plate=row["plate"], failed=_failed_items(row, labels),
                                                         next=again[township])})
        messages.append({**common, "kind": "follow_up", "key": f"follow_up:tour_inspection:{row['id']}",
                         "body": texts.FOLLOW_UP.render(plate=row["plate"], township=township,
                                                        outcome=texts.OUTCOME[row["result"]],
                                                        badge=officer.badge_number or officer.id)})
    # Keys are unique: even a replayed side effect could not queue a second text.
    notify.queue_many(messages)


def inspection_case(inspection_id: int) -> Case | None:
    """A tour inspection as other features see it (vmo.hooks.CASES): finished once it passed (its
    inspection mark and papers may then be posted to the owner)."""
    inspection = db.session.get(TourInspection, inspection_id)
    if inspection is None:
        return None
    return Case("tour_inspection", inspection.id, inspection.office_id, inspection.result == "pass",
                label=f"流动检验{inspection.plate}")
