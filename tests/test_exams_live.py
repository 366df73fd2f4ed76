"""Concurrency against a real gunicorn with several workers: no overbooking, cancellations racing bookings."""
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from testkit.factories import bulk_candidates
from testkit.server import live_server
from tests.conftest import FROZEN_NOW
from tests.helpers_exams import SUNDAY, create_session, local
from vmo.extensions import db

pytestmark = pytest.mark.slow
WORKERS = 4


def race(base_url: str, calls: list[tuple[str, str, str, dict | None]]) -> list[tuple[int, dict]]:
    """Fire (method, path, token, json) calls all at once from one thread each; returns (status, body)."""
    start = threading.Barrier(len(calls))

    def one(call):
        method, path, token, body = call
        with requests.Session() as http:
            start.wait(timeout=60)
            response = http.request(method, base_url + path, json=body, timeout=60,
                                    headers={"Authorization": f"Bearer {token}"})
            return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def counts(app, session_id):
    from schedules.exams.models import ExamBooking, ExamSession
    from vmo.booking.models import Slot

    with app.app_context():
        by_status = dict(db.session.execute(
            select(ExamBooking.status, func.count()).where(ExamBooking.session_id == session_id)
            .group_by(ExamBooking.status)).all())
        slot = db.session.scalar(select(Slot).join(ExamSession, ExamSession.slot_id == Slot.id)
                                 .where(ExamSession.id == session_id))
        return by_status, slot.booked, slot.capacity


def server_env():
    return {"VMO_FROZEN_NOW": FROZEN_NOW}


def test_200_candidates_racing_for_30_seats_end_with_exactly_30(app, client, factory, database_url):
    session = create_session(client, factory.headers(factory.staff("officer")), capacity=30)
    people = bulk_candidates(app, factory.office, 200)
    path = f"/api/v1/test-sessions/{session['id']}/bookings"
    with live_server(database_url, workers=WORKERS, env=server_env()) as server:
        results = race(server.url, [("POST", path, p["token"], None) for p in people])
        log = server.log()
    assert Counter(status for status, _ in results) == {201: 30, 409: 170}, log[-3000:]
    assert all(body["status"] == "confirmed" for status, body in results if status == 201)
    assert all(body["seats_left"] == 0 for status, body in results if status == 409)
    by_status, booked, capacity = counts(app, session["id"])
    assert by_status == {"confirmed": 30} and booked == capacity == 30


def test_cancellations_racing_with_bookings_keep_the_count_right(app, client, factory, database_url):
    officer = factory.headers(factory.staff("officer"))
    # Session A: 30 confirmed, 20 waiting. 10 cancel while 20 others try to book and 10 join the list:
    # every freed seat must go to the first waiting candidates, none to the newcomers.
    a = create_session(client, officer, capacity=30)
    # Session B: 30 confirmed, nobody waiting. 15 cancel while 40 others try to book.
    b = create_session(client, officer, capacity=30, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 11))
    people = bulk_candidates(app, factory.office, 200)
    holders_a, waiting_a, plain_a, joiners_a = people[:30], people[30:50], people[50:70], people[70:80]
    holders_b, plain_b = people[80:110], people[110:150]

    def auth(person):
        return {"Authorization": f"Bearer {person['token']}"}

    bookings = {}
    for person in holders_a + waiting_a:
        response = client.post(f"/api/v1/test-sessions/{a['id']}/bookings", json={"waitlist_if_full": True},
                                headers=auth(person))
        bookings[person["candidate_id"]] = response.get_json()
    for person in holders_b:
        bookings[person["candidate_id"]] = client.post(f"/api/v1/test-sessions/{b['id']}/bookings",
                                                       headers=auth(person)).get_json()
    assert [bookings[p["candidate_id"]]["status"] for p in waiting_a] == ["waitlisted"] * 20

    calls = ([("DELETE", f"/api/v1/bookings/{bookings[p['candidate_id']]['id']}", p["token"], None)
              for p in holders_a[:10]]
             + [("POST", f"/api/v1/test-sessions/{a['id']}/bookings", p["token"], None) for p in plain_a]
             + [("POST", f"/api/v1/test-sessions/{a['id']}/bookings", p["token"], {"waitlist_if_full": True})
                for p in joiners_a]
             + [("DELETE", f"/api/v1/bookings/{bookings[p['candidate_id']]['id']}", p["token"], None)
                for p in holders_b[:15]]
             + [("POST", f"/api/v1/test-sessions/{b['id']}/bookings", p["token"], None) for p in plain_b])
    with live_server(database_url, workers=WORKERS, env=server_env()) as server:
        results = race(server.url, calls)
        log = server.log()

    cancels_a, plain_a_res = results[:10], results[10:30]
    joiners_res, cancels_b = results[30:40], results[40:55]
    plain_b_res = results[55:]
    assert [s for s, _ in cancels_a + cancels_b] == [200] * 25, log[-3000:]
    assert Counter(s for s, _ in plain_a_res) == {409: 20}
    assert [(s, body["status"]) for s, body in joiners_res] == [(201, "waitlisted")] * 10
    by_status, booked, _ = counts(app, a["id"])
    assert by_status == {"confirmed": 30, "cancelled": 10, "waitlisted": 20} and booked == 30
    # The first ten on the waiting list, in order, got the seats.
    with app.app_context():
        from schedules.exams.models import ExamBooking

        confirmed = set(db.session.scalars(select(ExamBooking.candidate_id).where(
            ExamBooking.session_id == a["id"], ExamBooking.status == "confirmed")))
    assert {p["candidate_id"] for p in waiting_a[:10]} <= confirmed
    assert not {p["candidate_id"] for p in waiting_a[10:]} & confirmed

    won_b = sum(1 for s, _ in plain_b_res if s == 201)
    assert {s for s, _ in plain_b_res} <= {201, 409} and won_b <= 15
    assert all(body["seats_left"] == 0 for s, body in plain_b_res if s == 409)
    by_status, booked, capacity = counts(app, b["id"])
    assert by_status.get("confirmed", 0) == 30 - 15 + won_b == booked <= capacity
