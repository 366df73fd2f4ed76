"""PostgreSQL row locks on the booking path: joining a waiting list never keeps the slot row it was refused."""
import threading
import time

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from schedules.exams import services
from schedules.exams.models import ExamSession
from tests.helpers_exams import create_session
from vmo import clock
from vmo.extensions import db


@pytest.fixture
def officer_headers(factory):
    return factory.headers(factory.staff("officer"))


def test_a_refused_seat_is_not_held_while_joining_the_waiting_list(app, client, backend, database_url,
                                                                    officer_headers):
    """The soak's deadlock: a booker refused a seat held the slot row (locked for the recheck after a
    concurrent change) while it waited for the session lock that a cancel held, and the cancel waited
    for the slot row. After the fix the refused booker holds no lock on the slot."""
    if backend != "postgresql":
        pytest.skip("row locks: SQLite serialises whole writers and has none")
    session_id = create_session(client, officer_headers, capacity=1)["id"]
    with app.app_context():
        slot_id = db.session.scalar(select(ExamSession.slot_id).where(ExamSession.id == session_id))
    other = create_engine(database_url)
    placed, go_on = {}, threading.Event()

    def booker():
        with app.app_context():
            session = services.get_session(session_id)
            placed["status"] = services._place(session, clock.now(), waitlist_if_full=True)
            placed["at"] = time.monotonic()
            go_on.wait(30)  # keep the transaction open while the main thread looks at the locks
            db.session.rollback()

    with other.connect() as taker:
        taker.execute(text("UPDATE slots SET booked = booked + 1 WHERE id = :id"), {"id": slot_id})
        thread = threading.Thread(target=booker)
        thread.start()
        time.sleep(0.5)  # the booker's UPDATE now waits for our row lock
        taker.commit()   # the last seat is gone: its recheck refuses it, after locking the new row
    deadline = time.monotonic() + 30
    while "status" not in placed and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert placed["status"] == ("waitlisted", 1)
        with other.connect() as probe:
            try:
                probe.execute(text("SELECT id FROM slots WHERE id = :id FOR UPDATE NOWAIT"), {"id": slot_id})
            except OperationalError as exc:  # LockNotAvailable
                pytest.fail(f"the waiting-list booker still holds the slot row: {exc.orig}")
            probe.rollback()
    finally:
        go_on.set()
        thread.join(30)
        other.dispose()


def test_cancelling_a_booking_promoted_meanwhile_cancels_it(app, client, backend, database_url, factory,
                                                             officer_headers):
    """The soak's 409: a candidate cancelled a waitlisted booking while another cancel promoted it; the
    cancel had read 'waitlisted' before waiting for the session lock. It now reads after the lock."""
    if backend != "postgresql":
        pytest.skip("row locks: SQLite serialises whole writers and has none")
    from tests.helpers_exams import candidate

    session_id = create_session(client, officer_headers, capacity=1)["id"]
    _x, x_headers = candidate(factory)
    _y, y_headers = candidate(factory)
    url = f"/api/v1/test-sessions/{session_id}/bookings"
    first = client.post(url, json={}, headers=x_headers).get_json()
    waiting = client.post(url, json={"waitlist_if_full": True}, headers=y_headers).get_json()
    assert (first["status"], waiting["status"]) == ("confirmed", "waitlisted")
    other = create_engine(database_url)
    answers = {}

    def cancel_waiting():
        answers["y"] = app.test_client().delete(f"/api/v1/bookings/{waiting['id']}", headers=y_headers)

    with other.connect() as office:
        # Another cancel in progress: it holds the session and hands x's seat to y.
        office.execute(text("SELECT id FROM test_sessions WHERE id = :id FOR NO KEY UPDATE"), {"id": session_id})
        office.execute(text("UPDATE exam_bookings SET status = 'cancelled', active_key = NULL WHERE id = :id"),
                       {"id": first["id"]})
        office.execute(text("UPDATE exam_bookings SET status = 'confirmed', queue_position = NULL, "
                            "sequence = sequence + 1 WHERE id = :id"), {"id": waiting["id"]})
        thread = threading.Thread(target=cancel_waiting)
        thread.start()
        time.sleep(0.5)  # y's cancel now waits for the session lock
        office.commit()
    thread.join(30)
    other.dispose()
    response = answers["y"]
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"
    with app.app_context():
        slot_id = db.session.scalar(select(ExamSession.slot_id).where(ExamSession.id == session_id))
        from vmo.booking.models import Slot
        assert db.session.get(Slot, slot_id).booked == 0  # y's (formerly x's) seat went back to the pool
