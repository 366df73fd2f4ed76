"""The public lists' page cache (vmo.pagecache): anonymous answers kept a moment, forgotten on writes."""
from datetime import timedelta

from sqlalchemy import update

from testkit.statements import count_statements
from tests.helpers_exams import book, candidate, create_session, exam_officer
from vmo import pagecache
from vmo.extensions import db

OFFICES = "/api/v1/offices"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _engine(app):
    with app.app_context():
        return db.engine


def _seats_left(client, session_id: int, headers=None) -> int:
    listed = client.get("/api/v1/test-sessions", headers=headers or {}).get_json()
    return next(s["seats_left"] for s in listed if s["id"] == session_id)


def test_a_second_anonymous_get_is_served_from_memory_with_the_same_answer(app, client):
    first = client.get(OFFICES)
    with count_statements(_engine(app)) as seen:
        second = client.get(OFFICES)
    assert first.status_code == second.status_code == 200
    assert second.get_data() == first.get_data()
    assert seen == []
    # The per-request headers are the second request's own, not the first's.
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert pagecache.cache_of(app).hits >= 1


def test_a_booking_through_the_api_shows_on_the_public_list_at_once(app, client, factory):
    officer = factory.headers(exam_officer(factory))
    session = create_session(client, officer, capacity=3)
    _, headers = candidate(factory)
    assert _seats_left(client, session["id"]) == 3
    assert _seats_left(client, session["id"]) == 3  # from memory now
    assert book(client, session["id"], headers).status_code == 201
    assert _seats_left(client, session["id"]) == 2


def test_a_write_by_this_process_outside_a_request_is_seen_at_once(app, client, factory):
    """A command or a job in the same process commits: the cache forgets too."""
    officer = factory.headers(exam_officer(factory))
    session = create_session(client, officer, capacity=3)
    assert _seats_left(client, session["id"]) == 3
    from schedules.exams.models import ExamSession
    from vmo.booking.models import Slot
    with app.app_context():
        slot_id = db.session.get(ExamSession, session["id"]).slot_id
        db.session.execute(update(Slot).where(Slot.id == slot_id).values(booked=Slot.booked + 1))
        db.session.commit()
    assert _seats_left(client, session["id"]) == 2


def test_a_rolled_back_write_keeps_the_cache(app, client):
    client.get(OFFICES)
    cache = pagecache.cache_of(app)
    generation = cache.generation
    from vmo.offices.models import Office
    with app.app_context():
        db.session.execute(update(Office).values(name="改了又撤回"))
        db.session.rollback()
    assert cache.generation == generation
    with count_statements(_engine(app)) as seen:
        assert client.get(OFFICES).status_code == 200
    assert seen == []


def test_answers_expire_after_public_cache_seconds(app, client):
    cache = pagecache.cache_of(app)
    cache.clock = clock = Clock()
    client.get(OFFICES)
    clock.now += cache.seconds - 0.01
    with count_statements(_engine(app)) as seen:
        client.get(OFFICES)
    assert seen == []
    clock.now += 0.02
    with count_statements(_engine(app)) as seen:
        client.get(OFFICES)
    assert len(seen) >= 1


def test_signed_in_callers_share_their_offices_answer_after_their_token_is_checked(app, client, factory):
    officer = factory.headers(exam_officer(factory))
    other_office = factory.headers(factory.staff("officer", office=factory.other_office()))
    first = client.get("/api/v1/test-sessions", headers=officer)
    with count_statements(_engine(app)) as seen:
        again = client.get("/api/v1/test-sessions", headers=officer)
    assert again.get_data() == first.get_data()
    assert len(seen) == 1 and "token" in seen[0].lower()  # the token, nothing else
    # Another office's officer asking the same address gets their own office's list, not this one.
    with count_statements(_engine(app)) as seen:
        theirs = client.get("/api/v1/test-sessions", headers=other_office)
    assert theirs.status_code == 200 and len(seen) > 1
    # A bad token is an anonymous caller, as without the cache (the default office's list).
    assert client.get("/api/v1/test-sessions", headers={"Authorization": "Bearer nonsense"}).status_code == 200


def test_errors_are_never_served_from_memory(app, client):
    for _ in range(2):
        with count_statements(_engine(app)) as seen:
            assert client.get("/api/v1/test-sessions?office=nowhere").status_code == 404
        assert len(seen) >= 1


def test_each_query_string_is_its_own_answer_and_memory_is_bounded(app, client, factory):
    exam_officer(factory)  # the office exists
    cache = pagecache.cache_of(app)
    cache.max_entries = 5
    answers = [client.get(f"/api/v1/tour-stops?page_size={n}") for n in range(1, 12)]
    assert {a.status_code for a in answers} == {200}
    assert len(cache) == 5
    with count_statements(_engine(app)) as seen:
        client.get("/api/v1/tour-stops?page_size=11")  # among the five most recent
    assert seen == []
    with count_statements(_engine(app)) as seen:
        client.get("/api/v1/tour-stops?page_size=1")  # pushed out
    assert len(seen) >= 1


def test_a_page_computed_while_a_write_happened_is_not_kept():
    cache = pagecache.PageCache(2, clock=Clock())
    generation = cache.generation
    cache.clear()  # a write commits while the page is being computed
    cache.put(("/x", b"", None), generation, (b"old", 200, []))
    assert cache.get(("/x", b"", None)) is None
    cache.put(("/x", b"", None), cache.generation, (b"new", 200, []))
    assert cache.get(("/x", b"", None)) == (b"new", 200, [])


def test_zero_seconds_turns_the_cache_off(app, client):
    cache = pagecache.cache_of(app)
    cache.seconds = 0
    for _ in range(2):
        with count_statements(_engine(app)) as seen:
            client.get(OFFICES)
        assert len(seen) >= 1
    assert len(cache) == 0


def test_the_frozen_clock_is_part_of_the_key(app, client):
    from tests.helpers_exams import set_now
    from datetime import datetime
    client.get(OFFICES)
    set_now(app, (datetime.fromisoformat(app.config["FROZEN_NOW"]) + timedelta(days=1)).isoformat())
    with count_statements(_engine(app)) as seen:
        client.get(OFFICES)
    assert len(seen) >= 1
