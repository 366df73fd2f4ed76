"""Factories for the driving-test tests and the click-race benchmark: sessions, candidates in bulk, history."""
import hashlib
import json
import secrets
import uuid
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from vmo.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# FROZEN_NOW in conftest is Wednesday 2026-11-25 10:00 in Chongqing.
SATURDAY = date(2026, 11, 28)
SUNDAY = date(2026, 11, 29)
MONDAY = date(2026, 11, 30)


def local(day: date, hour: int = 9, minute: int = 0) -> str:
    """An ISO 8601 instant at `hour`:`minute` on `day` in Chongqing."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).isoformat()


def total(response) -> int:
    """The list total from the pagination header."""
    return json.loads(response.headers["X-Pagination"])["total"]


def session_body(**overrides) -> dict:
    body = {"subject": 1, "license_class": "C1", "starts_at": local(SATURDAY, 9), "ends_at": local(SATURDAY, 11),
            "venue": "南川区机动车驾驶人考试中心 1号考场", "capacity": 30, "kind": "regular",
            "allocation": "first_come"}
    body.update(overrides)
    return body


def create_session(client, officer_headers, **overrides) -> dict:
    response = client.post("/api/v1/test-sessions", json=session_body(**overrides), headers=officer_headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def candidate(factory, license_class="C1", **fields) -> tuple[dict, dict]:
    """A signed-up candidate (through the API) and its auth headers."""
    created = factory.candidate(license_class=license_class, **fields)
    return created, factory.headers(created["username"])


def _office_id(code: str) -> int:
    from vmo.offices.models import Office

    return db.session.scalar(select(Office.id).where(Office.code == code))


def bulk_candidates(app, office_code: str, count: int, license_class: str = "C1",
                    created_at: datetime | None = None) -> list[dict]:
    """`count` candidates with bearer tokens, inserted directly (no 200 slow password hashes).

    Returns [{"candidate_id", "user_id", "token"}]; the tokens work against any server on the
    same database until 2099.
    """
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
        rows, tokens = [], []
        for i in range(count):
            user_id = user_ids[f"bulk-{tag}-{i}"]
            id_number = f"{tag}{i:010d}"[-18:].rjust(18, "0")
            rows.append({"office_id": office_id, "user_id": user_id, "name": f"考生{i}", "id_number": id_number,
                         "birth_date": date(1998, 3, 1), "sex": "F", "phone": f"139{i:08d}",
                         "license_class": license_class, "created_at": created_at})
            token = secrets.token_urlsafe(24)
            tokens.append({"user_id": user_id, "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                           "created_at": created_at, "expires_at": datetime(2099, 1, 1, tzinfo=timezone.utc),
                           "_token": token})
        db.session.execute(insert(Candidate), rows)
        db.session.execute(insert(Token), [{k: v for k, v in t.items() if k != "_token"} for t in tokens])
        ids = dict(db.session.execute(select(Candidate.user_id, Candidate.id)
                                      .where(Candidate.user_id.in_(list(user_ids.values())))).all())
        db.session.commit()
    return [{"candidate_id": ids[t["user_id"]], "user_id": t["user_id"], "token": t["_token"]} for t in tokens]


def history(app, candidate_id: int, subject: int, outcome: str, day: date, license_class: str = "C1") -> int:
    """Put a past exam (with its outcome) into a candidate's record; returns the booking id."""
    from schedules.exams.models import ExamBooking, ExamSession
    from vmo.accounts.models import Candidate
    from vmo.booking.models import Slot

    with app.app_context():
        cand = db.session.get(Candidate, candidate_id)
        start = datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI)
        slot = Slot(office_id=cand.office_id, kind="test_seat", capacity=10, booked=1)
        db.session.add(slot)
        db.session.flush()
        session = ExamSession(office_id=cand.office_id, subject=subject, license_class=license_class,
                              starts_at=start, ends_at=start + timedelta(hours=2), local_date=day,
                              is_weekend=day.weekday() >= 5, venue="旧考场", kind="regular",
                              allocation="first_come", slot_id=slot.id, created_at=start - timedelta(days=20),
                              updated_at=start - timedelta(days=20))
        db.session.add(session)
        db.session.flush()
        row = ExamBooking(office_id=cand.office_id, session_id=session.id, candidate_id=candidate_id,
                          subject=subject, status="confirmed", outcome=outcome, outcome_at=start + timedelta(hours=2),
                          changes=0, sequence=0, created_at=start - timedelta(days=10), updated_at=start)
        db.session.add(row)
        db.session.commit()
        return row.id


def set_candidate_created(app, candidate_id: int, when: datetime) -> None:
    from vmo.accounts.models import Candidate

    with app.app_context():
        db.session.get(Candidate, candidate_id).created_at = when
        db.session.commit()
