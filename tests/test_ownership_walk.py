"""The ownership walk: every operation in the OpenAPI document, with each role's token and another owner's ids.

An object that belongs to someone else (another office's tour, another company's batch, another
candidate's booking, another officer's inspection) is 404, exactly as if it did not exist; a role
that may not call an operation is 403; no token is 401. The operations come from the served
OpenAPI document, so a new endpoint fails this test until it is listed in ACCESS below.
"""
import json
import re

import pytest

from tests.helpers_world import (
    ACCESS, MARKER, PUBLIC, ROLES, bodies, build_side, build_world, path_values, world_config,
)

# Path parameters that name no owned object, or name one through a capability by design: a 2xx with
# another owner's value is right for these. Every other path parameter names an owned object.
NOT_OWNED = {
    "date": "a calendar day; each office has its own green-channel day for it",
    "township": "public calendar feed of published stops, by design open to everyone",
    "reference": "the priority booking's reference is its ticket: whoever holds it may look it up or cancel",
    "secret": "the candidate's secret calendar address is itself the credential",
}
# Public operations whose path ids are world-readable by design (sessions and tour stops are published).
PUBLIC_BY_ID = {
    ("GET", "/api/v1/test-sessions/{session_id}"): "published sessions are public, as the list is",
    ("GET", "/api/v1/test-sessions/{session_id}/draw"): "a ballot's outcome and seed are public for audit",
    ("POST", "/api/v1/tours/{tour_id}/stops/{stop_id}/registrations"):
        "anyone may pre-register at a published stop of any office",
}
# Operations whose answer may name side b's things (carry MARKER) to side a, and why.
MAY_SHOW_OTHERS = {
    ("GET", "/api/v1/test-sessions"): "sessions of every office are public (filter `office`)",
    ("GET", "/api/v1/calendars/test-sessions.ics"): "public feed of every office's sessions",
    ("GET", "/api/v1/tour-stops"): "published stops of every office are public",
    ("GET", "/api/v1/green-channel/priority-bookings/{reference}"): NOT_OWNED["reference"],
    ("DELETE", "/api/v1/green-channel/priority-bookings/{reference}"): NOT_OWNED["reference"],
    ("GET", "/api/v1/calendars/candidates/{secret}.ics"): NOT_OWNED["secret"],
    **PUBLIC_BY_ID,
}
# Operations the own-ids check leaves to their own tests, and why.
SKIP_OWN = {
    ("POST", "/api/v1/auth/logout"): "would revoke the token the other calls use",
    ("POST", "/api/v1/auth/token"): "takes a password, not a token (tests/test_auth.py)",
    ("POST", "/api/v1/candidates/verify"): "takes a password and a texted code, not a token "
                                           "(tests/test_candidate_signup.py)",
    ("POST", "/api/v1/sms/inbound"): "signed by the gateway, not a token (tests/test_sms_inbound.py)",
    ("GET", "/api/v1/test-sessions/{session_id}/draw"): "the world's sessions are first-come: nothing drawn (404)",
}


def operations(client) -> list[tuple[str, str, dict]]:
    spec = client.get("/api/v1/openapi.json").get_json()
    return [(method.upper(), path, op) for path, item in spec["paths"].items()
            for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")]


def fill(path: str, values: dict) -> str:
    return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), path)


def call(client, method, url, headers, body, op):
    kwargs = {"headers": dict(headers)}
    if "requestBody" in op:
        content = op["requestBody"]["content"]
        if "application/json" in content:
            kwargs["json"] = body if body is not None else {}
        else:  # photos: raw bytes
            kwargs["data"], kwargs["content_type"] = body or b"", "image/png"
    return client.open(url, method=method, **kwargs)


@pytest.fixture
def app_config(tmp_path):
    return {**world_config(), "PHOTO_DIR": str(tmp_path / "photos")}


@pytest.fixture
def world(app, client, factory):
    return build_world(app, client, factory)


def test_every_operation_is_listed(client):
    """A new endpoint must say who may call it (or why it is public) before the walk below accepts it."""
    found = {(method, path) for method, path, _op in operations(client)}
    assert sorted(found - set(ACCESS)) == [], "new operations: add them to ACCESS (and bodies())"
    assert sorted(set(ACCESS) - found) == [], "operations listed here that the document no longer has"
    # An operation open to everyone says why (Public("...")), so opening one is a decision, not a slip.
    assert [key for key, allowed in ACCESS.items() if allowed == PUBLIC and not getattr(allowed, "why", "")] == []


def test_documented_security_matches_the_roles(client):
    """An operation open to everyone must not claim bearer-only security, and the reverse."""
    for method, path, op in operations(client):
        public = ACCESS[(method, path)] == PUBLIC
        security = op.get("security")
        bearer_only = security == [{"bearerAuth": []}]
        assert public != bearer_only, (method, path, security)
        if not public and set(ACCESS[(method, path)]) != set(ROLES):
            assert "403" in op["responses"], (method, path)
        if not public:
            assert "401" in op["responses"], (method, path)


@pytest.mark.slow
def test_walk_every_operation_with_another_owners_ids(app, client, factory, world):
    """Side a's roles call every operation with side b's ids: 401/403/404, never another owner's data."""
    a, b = world.a, world.b
    other = path_values(b)
    sent = bodies(world, b)
    # Office b's registration id, without its owner's cancel code (the code alone is the credential).
    sent[("POST", "/api/v1/tours/{tour_id}/stops/{stop_id}/registrations/{registration_id}/cancel")] = {"code": "NOTTHEIRS"}
    failures = []
    ops = sorted(operations(client), key=lambda o: o[:2] == ("POST", "/api/v1/auth/logout"))  # logout last
    for method, path, op in ops:
        allowed = ACCESS[(method, path)]
        params = re.findall(r"{(\w+)}", path)
        owned = [p for p in params if p not in NOT_OWNED] and (method, path) not in PUBLIC_BY_ID
        body = sent.get((method, path), b.photo if method == "PUT" and "photos" in path else None)
        url = fill(path, other)
        if allowed != PUBLIC:
            anonymous = call(client, method, url, {}, body, op)
            if anonymous.status_code != 401:
                failures.append(f"{method} {path} without a token: {anonymous.status_code} (401 expected)")
        for role in ROLES:
            response = call(client, method, url, a.headers[role], body, op)
            code, text = response.status_code, response.get_data(as_text=True)
            where = f"{method} {url} as {role} of office a"
            if code >= 500:
                failures.append(f"{where}: {code} {text[:200]}")
            elif allowed != PUBLIC and role not in allowed:
                if code != 403:
                    failures.append(f"{where}: {code} (403 expected, role not allowed)")
            elif owned:
                if code != 404:
                    failures.append(f"{where}: {code} (404 expected, office b's object) {text[:160]}")
            elif 200 <= code < 300 and MARKER in text and (method, path) not in MAY_SHOW_OTHERS:
                failures.append(f"{where}: {code} shows office b's data: {text[:200]}")
    assert failures == [], "\n".join(failures)


@pytest.mark.slow
def test_the_same_calls_with_own_ids_are_allowed(app, client, factory, world):
    """The walk's bodies and ids are good: with side a's own ids, allowed roles get past 401/403/404."""
    a = world.a
    own = path_values(a)
    sent = bodies(world, a)
    failures = []
    for method, path, op in operations(client):
        allowed = ACCESS[(method, path)]
        if (method, path) in SKIP_OWN:
            continue
        roles = ROLES if allowed == PUBLIC else allowed
        body = sent.get((method, path), a.photo if method == "PUT" and "photos" in path else None)
        for role in roles:
            response = call(client, method, fill(path, own), a.headers[role], body, op)
            if response.status_code in (401, 403, 404) or response.status_code >= 500:
                failures.append(f"{method} {fill(path, own)} as {role}: {response.status_code} "
                                f"{json.dumps(response.get_json(silent=True), ensure_ascii=False)[:200]}")
    assert failures == [], "\n".join(failures)


@pytest.mark.slow
def test_another_owners_ids_inside_a_body_are_refused(client, world):
    """Ids in a body are checked like ids in the path: side a cannot reach side b's things through them."""
    from tests import helpers_mobile as mobile
    from tests import helpers_tours as tours

    a, b = world.a, world.b
    cases = [
        ("POST", f"/api/v1/bookings/{a.booking_id}/change", "candidate", {"session_id": b.session_id}),
        ("POST", "/api/v1/staff", "admin", {"username": "walk-x", "password": "walk-pass-123", "role": "officer",
                                            "supervisor": b.supervisor.username}),
        ("POST", "/api/v1/tours", "officer", tours.tour_body([b.officer.username])),
        ("POST", "/api/v1/mobile/inspections/sync", "officer", mobile.envelope([mobile.record(b.today_stop_id, 8)])),
        ("POST", "/api/v1/phones/reveal", "supervisor", {"case": {"type": "home_visit", "id": b.visit_id}}),
        ("POST", f"/api/v1/home-visits/{a.visit_id}/assign", "supervisor", {**a.assign_body, "officer": b.officer.username}),
    ]
    for method, url, role, body in cases:
        response = client.open(url, method=method, json=body, headers=a.headers[role])
        answer = response.get_json()
        if response.status_code == 200 and "results" in answer:  # sync answers per record
            assert [r["status"] for r in answer["results"]] == ["rejected"], (url, answer)
        else:
            assert response.status_code in (403, 404, 422), (url, response.status_code, answer)
        assert MARKER not in response.get_data(as_text=True), (url, answer)


# Path parameters that name something one person owns inside an office, and the roles for which
# another person's id must be 404 even in the same office (staff otherwise see their whole office).
PERSONAL = {"batch_id": ("company",), "vin": ("company",), "booking_id": ("candidate",),
            "escalation_id": ("officer",), "client_id": ("officer",)}


@pytest.mark.slow
def test_walk_with_another_owner_in_the_same_office(app, client, factory, world):
    """Another company's batch, another candidate's booking, another officer's escalation or synced
    inspection: 404 (or 403 for a role never allowed), even inside one office."""
    a = world.a
    c = build_side(app, client, factory, "c", 3)  # more people and things in office a
    other = path_values(c)
    sent = bodies(world, a)
    failures, checked = [], set()
    for method, path, op in operations(client):
        allowed = ACCESS[(method, path)]
        params = re.findall(r"{(\w+)}", path)
        for role in ("company", "candidate", "officer"):
            if allowed == PUBLIC or role not in allowed or not any(role in PERSONAL.get(p, ()) for p in params):
                continue
            body = sent.get((method, path), c.photo if method == "PUT" and "photos" in path else None)
            response = call(client, method, fill(path, other), a.headers[role], body, op)
            checked.add((method, path, role))
            if response.status_code != 404:
                failures.append(f"{method} {fill(path, other)} as {role}: {response.status_code} (404 expected) "
                                f"{response.get_data(as_text=True)[:160]}")
    assert failures == [], "\n".join(failures)
    assert len(checked) == 21, sorted(checked)  # a new personal operation must be walked too
    # Lists too: an officer's assignments hold only the tours they are on; a company's batches, its own.
    assignments = client.get("/api/v1/mobile/assignments", headers=a.headers["officer"]).get_json()
    tours_seen = {tour["id"] for tour in assignments["tours"]}
    assert a.today_tour_id in tours_seen and c.today_tour_id not in tours_seen
    batches = client.get("/api/v1/fleet/batches", headers=a.headers["company"]).get_json()
    assert {batch["id"] for batch in batches} == {a.batch_id, a.waiting_batch_id}
    bookings = client.get("/api/v1/bookings", headers=a.headers["candidate"]).get_json()
    assert {booking["id"] for booking in bookings} == {a.booking_id}
    escalations = client.get("/api/v1/escalations", headers=a.headers["officer"]).get_json()
    assert {escalation["id"] for escalation in escalations} == {a.escalation_id}
