"""Statements per request: every paginated list costs the same whatever its page size, and a
booking stays under a fixed bound. Counted with SQLAlchemy's before_cursor_execute event."""
import random
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from testkit.factories import bulk_candidates, make_tour
from testkit.statements import count_statements
from tests.helpers_followup import queue_follow_up
from vmo import clock
from vmo.extensions import db
from vmo.uow import unit_of_work

DEMO_PASSWORD = "demo-pass-2026"
# A first-come booking: one read (the token with its user and candidate; the session with its office and
# seats; the learner permit with its passes; the candidate's bookings here, which also show an active
# booking) and one write (the seat's conditional UPDATE returning the seats for the answer, the INSERT,
# the audit row, the confirmation text with its opt-out check): one statement on PostgreSQL (data-modifying
# CTEs), four on SQLite. The answer is built from these before the request's commit.
BOOKING_STATEMENTS = {"postgresql": 2, "sqlite": 5}
# Lists known to query per row, with who is fixing them. The test fails once one of them is constant,
# so that it leaves this table and is held to the rule like the rest.
PER_ROW_PENDING: dict[str, str] = {}


def _world(app, client) -> dict:
    """The demo office, plus at least two rows for every list the demo leaves thinner; officer's headers."""
    from schedules.exams import services as exams
    from vmo import demo
    from vmo.accounts.models import Company, User
    from vmo.accounts.services import create_staff
    from vmo.fleet import services as fleet
    from vmo.followup import services as followup
    from vmo.mailings import services as mailings
    from vmo import settings as app_settings
    from vmo.accounts.services import AuthSettings

    with app.app_context():
        demo.load_demo()
        company = db.session.scalar(select(Company))
        rng = random.Random(7)
        batch = fleet.submit_batch(company, [{"make": "长安", "model": "逸动", "vehicle_type": "passenger_car",
                                              "fuel_type": "petrol", "vin": demo.demo_vin(rng), "color": "白",
                                              "invoice_number": f"0600{i:04d}"} for i in range(3)],
                                   "再购新车3台", company.user, max_vehicles=3)
        officer_ids = list(db.session.scalars(select(User.id).where(User.role == "officer")))
        now = clock.now()
        today = clock.local_today(company.user.office.timezone)
        fleet.request_green_channel(company.user, batch.id, today + timedelta(days=2), "再购新车3台", today, now)
        db.session.commit()
        officer = db.session.get(User, officer_ids[0])
        starts = now + timedelta(days=8)
        session_id = exams.create_session(officer, {
            "subject": 1, "license_class": "C1", "starts_at": starts, "ends_at": starts + timedelta(hours=2),
            "venue": "南川区机动车驾驶人考试中心 1号考场", "capacity": 30, "kind": "regular",
            "allocation": "first_come", "applications_close_at": None}, now).id
        mailings.create(officer, {"recipient": "王德明", "phone": "13900000009", "items": ["行驶证"],
                                  "address": "重庆市南川区大观镇金龙村3组", "tracking_number": "1187654321099"},
                        now, "EMS")  # a second mailing beside the demo's
        db.session.commit()
        # Rows that share nothing: each officer with a supervisor of their own, each case another officer's,
        # so a relation loaded per row costs a statement per row instead of hiding in the identity map.
        second = create_staff(company.user.office, "supervisor-2", DEMO_PASSWORD, "supervisor",
                              app_settings.get(AuthSettings))
        for officer_id in officer_ids[1:]:
            db.session.get(User, officer_id).supervisor_id = second.id
        db.session.commit()
        phones = [f"1390000000{n}" for n in range(3)]
        for n, phone in enumerate(phones):
            queue_follow_up(app, phone, officer_ids[n % len(officer_ids)], 9000 + n, sent_at=now - timedelta(hours=1))
        for n, phone in enumerate(phones):
            followup.record_reply(f"reply-{n}", phone, "2", now, now)
        db.session.commit()  # services flush; the caller commits (vmo.uow)
    make_tour(app, officer_ids, day=now.date() + timedelta(days=9), name="第二次流动车管所")
    headers = {}
    for username in ("admin", "officer"):
        response = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        headers[username] = {"Authorization": f"Bearer {response.get_json()['token']}"}
    for person in bulk_candidates(app, "nanchuan", 3):
        answer = client.post(f"/api/v1/test-sessions/{session_id}/bookings",
                             headers={"Authorization": f"Bearer {person['token']}"})
        assert answer.status_code == 201, answer.get_json()
    headers["session_id"] = session_id
    return headers


def _list_operations(client) -> list[str]:
    """Every GET in the OpenAPI document that takes page and page_size."""
    spec = client.get("/api/v1/openapi.json").get_json()
    return [path for path, operations in spec["paths"].items()
            if "get" in operations
            and {"page", "page_size"} <= {p["name"] for p in operations["get"].get("parameters", [])}]


def _fill(path: str, app) -> str:
    """The path with its parameters pointing at rows that exist (the first tour and its first stop)."""
    from schedules.tours.models import TourStop

    with app.app_context():
        stop = db.session.scalars(select(TourStop).order_by(TourStop.id)).first()
    return path.replace("{tour_id}", str(stop.tour_id)).replace("{stop_id}", str(stop.id))


def test_every_list_costs_the_same_statements_for_a_page_of_1_and_of_100(app, client):
    headers = _world(app, client)
    with app.app_context():
        engine = db.engine
    operations = _list_operations(client)
    assert len(operations) >= 11  # the document lists them all; a list that loses its pagination shows here
    costs = {}
    for path in operations:
        url = _fill(path, app)
        seen = {}
        for size in (1, 100):
            with count_statements(engine) as statements:
                response = client.get(f"{url}?page_size={size}", headers=headers["admin"])
            assert response.status_code == 200, (path, response.get_json())
            seen[size] = (len(statements), len(response.get_json()))
        assert seen[100][1] >= 2, f"{path}: the page of 100 shows {seen[100][1]} row(s), too few to compare"
        costs[path] = (seen[1][0], seen[100][0])
    growing = {path for path, (one, hundred) in costs.items() if one != hundred}
    assert growing - set(PER_ROW_PENDING) == set(), costs
    assert set(PER_ROW_PENDING) - growing == set(), f"constant now, remove from PER_ROW_PENDING: {costs}"


def test_a_booking_runs_a_pinned_number_of_statements(app, client, backend):
    headers = _world(app, client)
    with app.app_context():
        engine = db.engine
    person = bulk_candidates(app, "nanchuan", 1)[0]
    client.get("/api/v1/offices", headers=headers["officer"])
    with count_statements(engine) as statements:
        response = client.post(f"/api/v1/test-sessions/{headers['session_id']}/bookings",
                               headers={"Authorization": f"Bearer {person['token']}"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "confirmed"
    assert len(statements) == BOOKING_STATEMENTS[backend], "\n".join(statements)


@pytest.mark.parametrize("size", [0, 101])
def test_a_page_size_outside_1_to_100_is_refused(client, size):
    response = client.get(f"/api/v1/tour-stops?page_size={size}")
    assert response.status_code == 422


def test_a_full_session_answers_at_once_without_the_eligibility_reads(app, client):
    """The click race: once the seats are gone, a booking costs its one read, nothing more."""
    from schedules.exams.models import ExamSession
    from vmo.booking.models import Slot
    headers = _world(app, client)
    with app.app_context():
        engine = db.engine
        slot_id = db.session.get(ExamSession, headers["session_id"]).slot_id
        db.session.execute(update(Slot).where(Slot.id == slot_id).values(booked=Slot.capacity))
        db.session.commit()
    person = bulk_candidates(app, "nanchuan", 1)[0]
    with count_statements(engine) as statements:
        response = client.post(f"/api/v1/test-sessions/{headers['session_id']}/bookings",
                               headers={"Authorization": f"Bearer {person['token']}"})
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["seats_left"] == 0
    assert len(statements) == 1, "\n".join(statements)


def test_the_offices_list_costs_the_same_for_one_office_and_for_four(app, client, factory):
    """/offices is not paginated (every office, a handful): still no query per office. The page cache
    is emptied before each count, so the database answers."""
    from vmo import pagecache
    from vmo.offices.services import ensure_office

    headers = factory.headers(factory.staff("officer"))
    with app.app_context():
        engine = db.engine
    costs = []
    for extra in ((), ("wulong", "xiushan", "youyang")):
        with app.app_context(), unit_of_work():
            for n, code in enumerate(extra):
                ensure_office(code, f"{code}车管所", f"渝{'HJK'[n]}", address="县城", phone="023-70000000")
        pagecache.cache_of(app).clear()
        with count_statements(engine) as statements:
            response = client.get("/api/v1/offices", headers=headers)
        assert response.status_code == 200
        costs.append((len(statements), len(response.get_json())))
    assert costs[1][1] == costs[0][1] + 3, costs
    assert costs[0][0] == costs[1][0], costs
