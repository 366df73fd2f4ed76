"""Driving-test bookings are made, changed and cancelled only by the candidate's own account (national rules):
the candidate comes from the token, never from the request, and another's booking answers 404."""
import pytest

from tests.helpers_exams import candidate, create_session


@pytest.fixture
def officer_headers(factory):
    return factory.headers(factory.staff("officer"))


@pytest.fixture
def sessions(client, officer_headers):
    return (create_session(client, officer_headers, capacity=5),
            create_session(client, officer_headers, capacity=5, starts_at="2026-11-29T09:00:00+08:00",
                           ends_at="2026-11-29T11:00:00+08:00"))


def bookings_of(client, headers) -> list:
    response = client.get("/api/v1/bookings", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_a_candidate_cannot_see_cancel_or_change_anothers_booking(client, factory, sessions):
    first, second = sessions
    _alice, alice = candidate(factory)
    _bob, bob = candidate(factory)
    booked = client.post(f"/api/v1/test-sessions/{first['id']}/bookings", headers=alice)
    assert booked.status_code == 201
    booking = booked.get_json()

    for method, path, body in (
            ("GET", f"/api/v1/bookings/{booking['id']}", None),
            ("GET", f"/api/v1/bookings/{booking['id']}/calendar.ics", None),
            ("DELETE", f"/api/v1/bookings/{booking['id']}", None),
            ("POST", f"/api/v1/bookings/{booking['id']}/change", {"session_id": second["id"]})):
        response = client.open(path, method=method, json=body, headers=bob)
        assert response.status_code == 404, (method, path)
        # Exactly the answer for a booking that does not exist at all.
        missing = client.open(path.replace(f"/bookings/{booking['id']}", "/bookings/987654"), method=method,
                              json=body, headers=bob)
        assert {k: v for k, v in response.get_json().items() if k != "request_id"} == \
            {k: v for k, v in missing.get_json().items() if k != "request_id"} | {
                "message": missing.get_json()["message"].replace("987654", str(booking["id"]))}
    assert bookings_of(client, alice) == [booking]  # untouched
    assert bookings_of(client, bob) == []


def test_the_candidate_is_taken_from_the_token_never_from_the_request(client, factory, sessions):
    first, second = sessions
    alice_profile, alice = candidate(factory)
    bob_profile, bob = candidate(factory)
    # A candidate naming another candidate is refused (only staff book for someone, at the counter).
    response = client.post(f"/api/v1/test-sessions/{first['id']}/bookings", headers=bob,
                           json={"candidate_id": alice_profile["id"]})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"candidate_id": ["only staff book for another candidate"]}}
    assert bookings_of(client, alice) == [] and bookings_of(client, bob) == []
    # A query string naming her is ignored: the booking is Bob's own.
    own = client.post(f"/api/v1/test-sessions/{first['id']}/bookings?candidate_id={alice_profile['id']}",
                      headers=bob)
    assert own.status_code == 201 and own.get_json()["candidate_id"] == bob_profile["id"]
    assert bookings_of(client, alice) == []
    # Nor can a change move a booking to someone else.
    changed = client.post(f"/api/v1/bookings/{own.get_json()['id']}/change", headers=bob,
                          json={"session_id": second["id"], "candidate_id": alice_profile["id"]})
    assert changed.status_code == 422
    assert bookings_of(client, bob)[0]["session_id"] == first["id"]


def test_nobody_else_books_for_a_candidate(client, factory, sessions, officer_headers):
    first, _second = sessions
    company = factory.company()
    response = client.post(f"/api/v1/test-sessions/{first['id']}/bookings", headers=factory.headers(company["username"]))
    assert response.status_code == 403
    # Staff book only for a named candidate of their office (at the counter, tests/test_exams_testday.py).
    for headers in (officer_headers, factory.headers(factory.staff("admin")),
                    factory.headers(factory.staff("supervisor"))):
        response = client.post(f"/api/v1/test-sessions/{first['id']}/bookings", headers=headers)
        assert response.status_code == 422
    assert client.post(f"/api/v1/test-sessions/{first['id']}/bookings").status_code == 401
    assert bookings_of(client, officer_headers) == []
