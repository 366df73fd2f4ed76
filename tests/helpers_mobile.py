"""Factories for the mobile endpoint's tests: records, photos, motorcycles (tours in bulk: testkit.factories)."""
import base64
import hashlib
import uuid
import zlib
import struct
from datetime import date, datetime, timezone

from sqlalchemy import func, select

from testkit.factories import SHANGHAI, TODAY, local, make_tour  # noqa: F401  (the tests import them from here)
from vmo.extensions import db

CHECKS = ("lights", "horn", "brake_front", "brake_rear", "tyres", "mirrors", "plate", "frame_number",
          "exhaust_noise")


def add_motorcycle(app, plate, *, phone="13800138001", last_inspected_on=None, registered_on=date(2018, 5, 2),
                   office="nanchuan", vin="LFG1234567", engine_number="162FMJ0012345"):
    from vmo.motorcycles.models import Motorcycle
    from vmo.motorcycles.rules import DueRules
    from vmo.offices.services import get_office

    with app.app_context():
        rules = DueRules()
        db.session.add(Motorcycle(office_id=get_office(office).id, plate=plate, vin=vin, engine_number=engine_number,
                                  owner_name="张三",
                                  phone=phone, township="大观镇", registered_on=registered_on,
                                  last_inspected_on=last_inspected_on,
                                  next_due_on=rules.next_due(registered_on, last_inspected_on),
                                  due_rules=rules.fingerprint))
        db.session.commit()


def plate_of(n: int) -> str:
    return f"渝G{n:05d}"


def record(stop_id, n=1, **overrides) -> dict:
    """One tablet record, valid by default."""
    body = {"client_id": str(uuid.uuid4()), "stop_id": stop_id, "plate": plate_of(n), "vin": "LFG12345AB",
            "odometer_km": 12000 + n, "checklist": {code: "pass" for code in CHECKS}, "result": "pass",
            "defects": [], "recorded_at": local(TODAY, 9, 30).isoformat(), "lat": 29.2, "lon": 107.1}
    body.update(overrides)
    return body


def envelope(records, device_id="tablet-01", sent_at="2026-11-25T10:00:00+08:00") -> dict:
    body = {"device_id": device_id, "records": records}
    if sent_at is not None:
        body["sent_at"] = sent_at
    return body


def inspections(app, **where) -> list:
    from schedules.tours.models import TourInspection

    with app.app_context():
        stmt = select(TourInspection).order_by(TourInspection.id)
        for name, value in where.items():
            stmt = stmt.where(getattr(TourInspection, name) == value)
        rows = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return rows


def count_inspections(app) -> int:
    from schedules.tours.models import TourInspection

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TourInspection))


def follow_ups(app) -> list:
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "follow_up")
                                       .order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def png_bytes(width=2, height=2, seed=0) -> bytes:
    """A small valid PNG (its pixels vary with `seed`, so different seeds give different hashes)."""
    raw = b"".join(b"\x00" + bytes([(seed + x + y) % 256 for x in range(width) for _ in range(3)])
                   for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# A 1x1 JPEG.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////"
    "////////////////////2wBDAf//////////////////////////////////////////////////////////////////////////"
    "////////////wAARCAABAAEDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAP/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAA"
    "AAAAAAAAAAAAAAAAAP/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AKAA/9k=")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)
