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
