"""Input bounds, so that one request cannot take a worker's memory or time: lists are bounded before
their items are decoded, error bodies are capped, bodies are read only by endpoints that take one, and
deep nesting is a 400."""
import json

import pytest

from tests.helpers_fleet import company, submit
from tests.helpers_tours import create_tour
from vmo import bounds
from vmo.fleet.models import MAX_BATCH_CEILING


def _json(client, url, text: str, headers=None):
    return client.post(url, data=text, content_type="application/json", headers=headers or {})


def _error(response, code):
    body = response.get_json()
    assert response.status_code == code, body
    assert response.mimetype == "application/json"
    assert body["code"] == code and body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_a_batch_of_100000_empty_vehicles_is_refused_by_its_length_alone(client, factory):
    owner = company(factory)
    response = submit(client, owner.headers, [{}] * 100_000)
    body = _error(response, 422)
    assert body["errors"] == {"json": {"vehicles": [f"a batch has 1 to {MAX_BATCH_CEILING} vehicles"]}}
    assert len(response.get_data()) < 1000  # not 19 MB: no item was decoded, so none is named


def test_tour_stops_and_route_matrices_are_bounded_before_decoding(client, factory):
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    tour = create_tour(client, headers, [officer])
    stops = client.post("/api/v1/tours", headers=headers,
                        json={"name": "x", "date": "2026-11-28", "depot": {"lat": 29, "lon": 107},
                              "stops": [{}] * 100_000, "officers": [officer.username]})
    assert _error(stops, 422)["errors"]["json"]["stops"] == ["Length must be between 1 and 100."]
    route = client.post(f"/api/v1/tours/{tour['id']}/route", headers=headers, json={"matrix": [[]] * 100_000})
    body = _error(route, 422)
    assert body["errors"] == {"json": {"matrix": [f"Longer than maximum length {bounds.MAX_ITEMS}."]}}
    row = client.post(f"/api/v1/tours/{tour['id']}/route", headers=headers, json={"matrix": [[0.0] * 100_000]})
    assert _error(row, 422)["errors"] == {"json": {"matrix": {"0": [
        f"Longer than maximum length {bounds.MAX_ITEMS}."]}}}


def test_error_bodies_list_the_first_problems_and_count_them_all(client, factory):
    owner = company(factory)
    response = submit(client, owner.headers, [{"vin": "X"}] * MAX_BATCH_CEILING)
    body = _error(response, 422)
    vehicles = body["errors"]["json"]["vehicles"]
    listed = sum(len(messages) for item in vehicles.values() for messages in item.values())
    assert listed == bounds.MAX_PROBLEMS
    assert body["error_count"] > bounds.MAX_PROBLEMS
    assert body["message"].endswith(f"(the first {bounds.MAX_PROBLEMS} of {body['error_count']} problems are listed)")


def test_a_body_sent_where_none_is_taken_is_never_read(client, factory):
    # Before the fix the text check walked every body before routing: a NUL in a body sent to a path
    # that does not exist was a 422 (the body was read), and a 15 MB array took seconds.
    for url in ("/api/v1/no-such-thing", "/api/v1/offices"):
        response = client.post(url, json={"name": "a\x00b", "items": list(range(200_000))})
        assert response.status_code in (404, 405), response.get_json()
    assert client.get("/api/v1/offices", json=["\x00"]).status_code == 200


@pytest.mark.parametrize("depth", [990, 5000, 100_000])
def test_deeply_nested_json_is_a_400_everywhere(client, factory, depth):
    text = "[" * depth + "]" * depth
    assert _error(_json(client, "/api/v1/no-such-thing", text), 404)
    for url in ("/api/v1/companies", "/api/v1/candidates", "/api/v1/auth/token"):
        body = _error(_json(client, url, text), 400)
        assert body["message"] == bounds.DEPTH_MESSAGE or body["errors"] == {"json": ["Invalid JSON body."]}


def test_nesting_inside_a_free_form_field_is_bounded(client, factory):
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    deep = {"brakes": "pass"}
    for _ in range(bounds.MAX_DEPTH + 5):
        deep = {"x": deep}
    response = client.post("/api/v1/tours/1/stops/1/inspections", headers=headers,
                           data=json.dumps({"plate": "渝G10001", "result": "pass", "checklist": deep}),
                           content_type="application/json")
    assert _error(response, 400)["message"] == bounds.DEPTH_MESSAGE


@pytest.mark.own_app
def test_deep_json_to_sign_in_with_the_limits_on_is_a_400(app, client):
    from vmo.limits import limiter

    app.config["RATELIMIT_ENABLED"] = limiter.enabled = True  # the per-username limit reads the body first
    text = "[" * 990 + "]" * 990
    assert _error(_json(client, "/api/v1/auth/token", text), 400)["message"] == bounds.DEPTH_MESSAGE
