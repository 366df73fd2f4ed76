"""Who may act on a tour (schedules/tours/access.py), through every path: inspections, sync, PATCH, route, cancel."""
from tests import helpers_mobile as mobile
from tests.helpers_tours import at, create_tour, outbox, publish, stop


def _setup(client, factory):
    planner = factory.staff("officer", "planner", badge_number="500001")
    assigned = factory.staff("officer", "assigned", badge_number="500002")
    outsider = factory.staff("officer", "outsider", badge_number="500003")
    supervisor = factory.staff("supervisor", "leader")
    # The planner puts only `assigned` on the tour.
    tour = create_tour(client, factory.headers(planner), [assigned], stops=[stop("大观镇", (9, 0))])
    publish(client, factory.headers(planner), tour["id"])
    stop_id = tour["stops"][0]["id"]
    registered = client.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/registrations",
                             json={"plate": "渝G10001", "owner_name": "王德明", "phone": "13900000001"})
    assert registered.status_code == 201
    return planner, assigned, outsider, supervisor, tour, stop_id


def _inspect(client, headers, tour, stop_id, **kw):
    return client.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/inspections", headers=headers,
                       json={"plate": "渝G10001", "result": "fail", "defects": ["后转向灯不亮"],
                             "checklist": {"lights": "fail"}, "recorded_at": at(9, 30), **kw})


def _registration_status(client, headers, tour, stop_id):
    rows = client.get(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/registrations", headers=headers).get_json()
    return rows[0]["status"]


def test_an_officer_not_on_the_tour_cannot_record_its_inspections_on_either_path(app, client, factory):
    planner, assigned, outsider, supervisor, tour, stop_id = _setup(client, factory)
    for user in (outsider, planner):  # the planner did not put himself on the tour
        answer = _inspect(client, factory.headers(user), tour, stop_id)
        assert answer.status_code == 403, answer.get_json()
        assert "not assigned" in answer.get_json()["message"]
        sync = client.post("/api/v1/mobile/inspections/sync", headers=factory.headers(user),
                           json=mobile.envelope([mobile.record(stop_id, plate="渝G10001")]))
        assert sync.status_code == 403, sync.get_json()
    # Supervisors and admins do not record inspections in an officer's name.
    assert _inspect(client, factory.headers(supervisor), tour, stop_id).status_code == 403
    assert _registration_status(client, factory.headers(planner), tour, stop_id) == "registered"
    assert outbox(app, "follow_up:") == []

    ok = _inspect(client, factory.headers(assigned), tour, stop_id)
    assert ok.status_code == 201, ok.get_json()
    assert _registration_status(client, factory.headers(planner), tour, stop_id) == "inspected"
    assert len(outbox(app, "follow_up:")) == 1


def test_who_may_change_route_and_cancel_a_tour(client, factory):
    planner, assigned, outsider, supervisor, tour, _stop_id = _setup(client, factory)
    tour_id = tour["id"]
    calls = [
        ("PATCH", f"/api/v1/tours/{tour_id}", {"name": "南川东线下乡检验（改）"}),
        ("POST", f"/api/v1/tours/{tour_id}/route", {}),
        ("POST", f"/api/v1/tours/{tour_id}/publish", None),
    ]
    for method, path, body in calls:
        refused = client.open(path, method=method, json=body, headers=factory.headers(outsider))
        assert refused.status_code == 403, (path, refused.get_json())
        for user in (planner, assigned, supervisor):
            answer = client.open(path, method=method, json=body, headers=factory.headers(user))
            assert answer.status_code == 200, (path, user.username, answer.get_json())
    refused = client.post(f"/api/v1/tours/{tour_id}/cancel", json={}, headers=factory.headers(outsider))
    assert refused.status_code == 403
    assert client.get(f"/api/v1/tours/{tour_id}", headers=factory.headers(outsider)).get_json()["status"] == \
        "published"
    # Reading stays open to the office's staff.
    assert client.get(f"/api/v1/tours/{tour_id}/report", headers=factory.headers(outsider)).status_code == 200
    cancelled = client.post(f"/api/v1/tours/{tour_id}/cancel", json={}, headers=factory.headers(supervisor))
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
