"""Bulk factories for tests and benchmarks: rows inserted directly, no API round trip, no password hashing."""
import hashlib
import secrets
import uuid
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from vmo.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# FROZEN_NOW in conftest is Wednesday 2026-11-25 10:00 in Chongqing; tours happen that day (tests/conftest.py).
TODAY = date(2026, 11, 25)


def _office_id(code: str) -> int:
    from vmo.offices.models import Office

    return db.session.scalar(select(Office.id).where(Office.code == code))


def bulk_candidates(app, office_code: str, count: int, license_class: str = "C1",
                    created_at: datetime | None = None) -> list[dict]:
    """`count` candidates with bearer tokens and accepted applications (受理) for the class, inserted
    directly (no 200 slow password hashes).

    Returns [{"candidate_id", "user_id", "token"}]; the tokens work against any server on the
    same database until 2099.
    """
    from schedules.exams.models import Application
    from vmo.accounts.models import Candidate, Token, User

    tag = uuid.uuid4().hex[:8]
    created_at = created_at or datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
    with app.app_context():
        office_id = _office_id(office_code)
        # Any string works as a hash for accounts that never sign in with a password.
        users = [{"office_id": office_id, "username": f"bulk-{tag}-{i}", "password_hash": "!bulk", "role": "candidate",
                  "display_name": f"考生{i}", "active": True, "created_at": created_at}
                 for i in range(count)]
        db.session.execute(insert(User), users)
        user_ids = dict(db.session.execute(select(User.username, User.id)
                                           .where(User.username.like(f"bulk-{tag}-%"))).all())
        rows, tokens, accepted = [], [], []
        for i in range(count):
            user_id = user_ids[f"bulk-{tag}-{i}"]
            id_number = f"{tag}{i:010d}"[-18:].rjust(18, "0")
            rows.append({"office_id": office_id, "user_id": user_id, "name": f"考生{i}", "id_number": id_number,
                         "birth_date": date(1998, 3, 1), "sex": "F", "phone": f"139{i:08d}",
                         "license_class": license_class, "created_at": created_at})
            accepted.append({"office_id": office_id, "id_number": id_number, "name": f"考生{i}", "phone": f"139{i:08d}",
                             "license_class": license_class, "birth_date": date(1998, 3, 1),
                             "medical_on": created_at.date(), "accepted_at": created_at, "source": "import",
                             "created_at": created_at})
            token = secrets.token_urlsafe(24)
            tokens.append({"user_id": user_id, "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                           "created_at": created_at, "expires_at": datetime(2099, 1, 1, tzinfo=timezone.utc),
                           "_token": token})
        db.session.execute(insert(Candidate), rows)
        db.session.execute(insert(Application), accepted)
        db.session.execute(insert(Token), [{k: v for k, v in t.items() if k != "_token"} for t in tokens])
        ids = dict(db.session.execute(select(Candidate.user_id, Candidate.id)
                                      .where(Candidate.user_id.in_(list(user_ids.values())))).all())
        db.session.commit()
    return [{"candidate_id": ids[t["user_id"]], "user_id": t["user_id"], "token": t["_token"]} for t in tokens]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def make_tour(app, officers, *, day=TODAY, stops=2, status="published", name="大观镇、兴隆镇流动车管所",
              office="nanchuan", registrations=None) -> SimpleNamespace:
    """A tour with `stops` stops, the given officers (ids) assigned, written directly to the tables
    (the tours package's own API is tested there); registrations: {stop index: [(plate, owner, phone)]}."""
    from schedules.tours.models import StopRegistration, Tour, TourOfficer, TourStop
    from vmo.accounts.models import User
    from vmo.booking import services as booking
    from vmo.offices.services import get_office

    with app.app_context():
        office_row = get_office(office)
        creator = officers[0] if officers else db.session.scalar(select(User.id).limit(1))
        tour = Tour(office_id=office_row.id, name=name, date=day, depot_lat=29.158, depot_lon=107.099,
                    status=status, created_by_id=creator,
                    published_at=local(day, 0) - timedelta(days=3) if status != "draft" else None)
        db.session.add(tour)
        db.session.flush()
        stop_rows = []
        for i in range(stops):
            slot = booking.create_slot(office_row.id, "tour_stop", 50)
            db.session.flush()
            stop = TourStop(office_id=office_row.id, tour_id=tour.id, position=i, township=["大观镇", "兴隆镇",
                            "木凉镇", "河图镇"][i % 4], venue=f"镇政府广场 {i + 1}", lat=29.2 + i / 100,
                            lon=107.1 + i / 100, arrives_at=local(day, 9 + 2 * i), departs_at=local(day, 10 + 2 * i),
                            slot_id=slot.id, status="scheduled")
            db.session.add(stop)
            stop_rows.append(stop)
        for user_id in officers:
            db.session.add(TourOfficer(tour_id=tour.id, user_id=user_id))
        db.session.flush()
        reg_ids = {}
        for index, entries in (registrations or {}).items():
            for plate, owner, phone in entries:
                reg = StopRegistration(office_id=office_row.id, tour_id=tour.id, stop_id=stop_rows[index].id,
                                       plate=plate, active_plate=plate, owner_name=owner, phone=phone,
                                       status="registered")
                db.session.add(reg)
                db.session.flush()
                reg_ids[plate] = reg.id
        db.session.commit()
        return SimpleNamespace(id=tour.id, stop_ids=[s.id for s in stop_rows], registration_ids=reg_ids)
