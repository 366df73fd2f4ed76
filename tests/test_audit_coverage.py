"""Every write operation staff can call leaves an audit entry: who, what, which object, which office, when.

The test walks the app's URL map: every non-GET operation must be either in STAFF_WRITES (and is
then called here, as staff where it takes a token, and its entry checked) or in NOT_STAFF with the
reason staff cannot call it. A new write endpoint fails this test until it is classified.
"""
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests import helpers_fleet as fleet
from tests import helpers_mobile as mobile
from tests.conftest import FROZEN_NOW, PASSWORD, make_id_number
from tests.helpers_exams import SATURDAY, candidate, create_session, local
from tests.helpers_followup import SECRET, post_inbound, queue_follow_up
from tests.helpers_world import priority_code, priority_reference
from vmo.audit.models import AuditEntry
from vmo.extensions import db

NOW = datetime.fromisoformat(FROZEN_NOW)

# (method, rule) -> the audit action staff calling it records.
STAFF_WRITES = {
    ("POST", "/api/v1/auth/token"): "auth.login",
    ("POST", "/api/v1/auth/logout"): "auth.logout",
    ("POST", "/api/v1/staff"): "staff.create",
    ("POST", "/api/v1/companies"): "company.signup",
    ("POST", "/api/v1/companies/<int:company_id>/approve"): "company.approve",
    ("POST", "/api/v1/companies/<int:company_id>/decline"): "company.decline",
    ("PATCH", "/api/v1/fleet/vehicles/<string:vin>"): "fleet.papers",
    ("POST", "/api/v1/candidates"): "candidate.signup",
    ("POST", "/api/v1/candidates/verify"): "candidate.verified",
    ("POST", "/api/v1/candidates/password-reset"): "user.password_reset_asked",
    ("POST", "/api/v1/candidates/password-reset/confirm"): "user.password_reset",
    ("POST", "/api/v1/applications"): "application.accept",
    ("PUT", "/api/v1/green-channel/days/<date:date>"): "green_channel.open",
    ("POST", "/api/v1/fleet/vehicles/<string:vin>/inspection"): "fleet.inspect",
    ("POST", "/api/v1/fleet/vehicles/<string:vin>/registration"): "fleet.register",
    ("POST", "/api/v1/green-channel/priority-bookings"): "priority.book",
    ("POST", "/api/v1/green-channel/priority-bookings/confirm"): "priority.book",
    ("PUT", "/api/v1/priority/days/<date:date>"): "priority.day",
    ("DELETE", "/api/v1/fleet/vehicles/<string:vin>/plate"): "fleet.plate_release",
    ("POST", "/api/v1/phones/reveal"): "phone.reveal",
    ("POST", "/api/v1/green-channel/requests/<int:request_id>/grant"): "green_channel.grant",
    ("POST", "/api/v1/green-channel/requests/<int:request_id>/decline"): "green_channel.decline",
    ("POST", "/api/v1/fleet/vehicles/<string:vin>/plate"): "fleet.plate_reserve",
    ("DELETE", "/api/v1/green-channel/priority-bookings/<string:reference>"): "priority.cancel",
    ("POST", "/api/v1/escalations/<int:escalation_id>/callbacks"): "escalation.callback",
    ("POST", "/api/v1/escalations/<int:escalation_id>/resolve"): "escalation.resolve",
    ("POST", "/api/v1/test-sessions"): "test_session.create",
    ("POST", "/api/v1/test-sessions/<int:session_id>/draw"): "test_session.draw",
    ("DELETE", "/api/v1/bookings/<int:booking_id>"): "exam_booking.cancel",
    ("POST", "/api/v1/bookings/<int:booking_id>/outcome"): "exam_booking.outcome",
    ("POST", "/api/v1/test-sessions/<int:session_id>/bookings"): "exam_booking.create",  # at the counter
    ("PATCH", "/api/v1/test-sessions/<int:session_id>"): "test_session.update",
    ("POST", "/api/v1/test-sessions/<int:session_id>/cancel"): "test_session.cancel",
    ("POST", "/api/v1/test-sessions/<int:session_id>/outcomes"): "test_session.outcomes",
    ("PUT", "/api/v1/candidates/<int:candidate_id>/learner-permit"): "learner_permit.enter",
    ("POST", "/api/v1/tours"): "tour.create",
    ("PATCH", "/api/v1/tours/<int:tour_id>"): "tour.update",
    ("POST", "/api/v1/tours/<int:tour_id>/route"): "tour.route",
    ("POST", "/api/v1/tours/<int:tour_id>/publish"): "tour.publish",
    ("POST", "/api/v1/tours/<int:tour_id>/cancel"): "tour.cancel",
    ("POST", "/api/v1/tours/<int:tour_id>/stops/<int:stop_id>/registrations"): "tour.register",
    ("POST", "/api/v1/tours/<int:tour_id>/stops/<int:stop_id>/registrations/<int:registration_id>/cancel"):
        "tour.registration_cancel",
    ("POST", "/api/v1/tours/<int:tour_id>/stops/<int:stop_id>/inspections"): "tour.inspect",
    ("POST", "/api/v1/mobile/inspections/sync"): "mobile.sync",
    ("PUT", "/api/v1/mobile/inspections/<string:client_id>/photos/<string:sha256>"): "mobile.photo",
    ("POST", "/api/v1/mailings"): "mailing.create",
    ("PATCH", "/api/v1/mailings/<int:mailing_id>"): "mailing.close",
    ("POST", "/api/v1/home-visits"): "home_visit.request",
    ("POST", "/api/v1/home-visits/<int:visit_id>/assign"): "home_visit.assign",
    ("POST", "/api/v1/home-visits/<int:visit_id>/outcome"): "home_visit.outcome",
}
# Write operations staff cannot call (403 for every staff role), with who can.
NOT_STAFF = {
    ("POST", "/api/v1/fleet/batches"): "company",
    ("POST", "/api/v1/fleet/batches/<int:batch_id>/appointment"): "company",
    ("DELETE", "/api/v1/fleet/batches/<int:batch_id>/appointment"): "company",
    ("PATCH", "/api/v1/fleet/batches/<int:batch_id>/appointment"): "company",
    ("POST", "/api/v1/fleet/batches/<int:batch_id>/green-channel-request"): "company",
    ("POST", "/api/v1/fleet/batches/<int:batch_id>/mailing"): "company",
    ("POST", "/api/v1/bookings/<int:booking_id>/change"): "candidate",
    ("POST", "/api/v1/me/calendar-secret"): "candidate",
    ("POST", "/api/v1/sms/inbound"): "the SMS gateway (HMAC-signed, no token)",
}


@pytest.fixture
def app_config():
    return {"SMS_HMAC_SECRET": SECRET, "TOKEN_TTL_HOURS": 24 * 30}


def write_operations(app) -> set:
    ops = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}:
            ops.add((method, rule.rule))
    return ops


def test_every_write_operation_is_classified(app):
    ops = write_operations(app)
    assert not set(STAFF_WRITES) & set(NOT_STAFF)
    assert ops - set(STAFF_WRITES) - set(NOT_STAFF) == set(), "classify the new write endpoint(s) above"
    assert set(STAFF_WRITES) | set(NOT_STAFF) <= ops, "an endpoint listed here no longer exists"


class Audit:
    """Reads the entries written since the last look."""

    def __init__(self, app):
        self.app, self.seen = app, 0
        self.checked: set = set()

    def new(self) -> list:
        with self.app.app_context():
            rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.id > self.seen)
                                           .order_by(AuditEntry.id)))
            db.session.expunge_all()
        if rows:
            self.seen = rows[-1].id
        return rows

    def expect(self, op, response, *codes, actor=None, office_id=None, now=NOW):
        assert response.status_code in (codes or (200, 201)), (op, response.status_code, response.get_data(True))
        action = STAFF_WRITES[op]
        entries = [e for e in self.new() if e.action == action]
        assert len(entries) == 1, (op, action, [e.action for e in entries])
        entry = entries[0]
        if actor is not None:
            assert (entry.actor_id, entry.actor_username) == (actor.id, actor.username), op
        assert entry.office_id == office_id, op
        assert entry.at == now, op  # vmo.clock (FROZEN_NOW), not the machine's clock
        assert entry.entity and entry.entity_id, op
        self.checked.add(op)
        return entry


def test_each_staff_write_records_who_what_which_office_and_when(app, client, factory):
    factory.office  # noqa: B018
    with app.app_context():
        from vmo.offices.services import get_office
        office_id = get_office(factory.office).id
    audit = Audit(app)

    def expect(op, response, *codes, actor=None, **kw):
        return audit.expect(op, response, *codes, actor=actor, office_id=office_id, **kw)

    admin = factory.staff("admin")
    supervisor = factory.staff("supervisor")
    officer = factory.staff("officer", badge_number="500123", supervisor_username=supervisor.username)
    audit.new()

    # Accounts: sign-in and sign-out of staff, staff creation, public sign-ups.
    signed_in = client.post("/api/v1/auth/token", json={"username": officer.username, "password": PASSWORD})
    entry = expect(("POST", "/api/v1/auth/token"), signed_in, actor=officer)
    assert signed_in.get_json()["token"] not in json.dumps(entry.after)
    off = {"Authorization": "Bearer " + signed_in.get_json()["token"]}
    adm, sup = factory.headers(admin), factory.headers(supervisor)
    throwaway = factory.headers(officer)
    audit.new()
    expect(("POST", "/api/v1/auth/logout"), client.post("/api/v1/auth/logout", headers=throwaway), 204, actor=officer)
    expect(("POST", "/api/v1/staff"), client.post("/api/v1/staff", headers=adm, json={
        "username": "new-officer", "password": PASSWORD, "role": "officer"}), actor=admin)
    expect(("POST", "/api/v1/companies"), client.post("/api/v1/companies", json={
        "name": "南川区丰昌汽车服务有限公司", "credit_code": fleet_credit_code(factory), "contact_name": "李明",
        "contact_phone": "13800138000", "username": "co-audit", "password": PASSWORD}, headers=off))
    approved = factory.company(approved=False)
    expect(("POST", "/api/v1/companies/<int:company_id>/approve"),
           client.post(f"/api/v1/companies/{approved['id']}/approve", json={}, headers=off), actor=officer)
    declined = factory.company(approved=False)
    expect(("POST", "/api/v1/companies/<int:company_id>/decline"),
           client.post(f"/api/v1/companies/{declined['id']}/decline", json={"reason": "营业执照已注销"}, headers=sup),
           actor=supervisor)
    number = make_id_number(factory.rng)
    expect(("POST", "/api/v1/applications"), client.post("/api/v1/applications", headers=off, json={
        "id_number": number, "name": "王芳", "phone": "13900139000", "license_class": "C1",
        "medical_on": "2026-11-20"}), actor=officer)
    expect(("POST", "/api/v1/candidates"), client.post("/api/v1/candidates", json={
        "name": "王芳", "id_number": number, "phone": "13900139000", "license_class": "C1",
        "username": "cand-audit", "password": PASSWORD}, headers=off))
    expect(("POST", "/api/v1/candidates/verify"), client.post("/api/v1/candidates/verify", json={
        "username": "cand-audit", "password": PASSWORD, "code": factory.texted_code("cand-audit")}, headers=off))
    expect(("POST", "/api/v1/candidates/password-reset"),
           client.post("/api/v1/candidates/password-reset", json={"id_number": number}, headers=off), 202)
    with app.app_context():
        from vmo.notify.models import OutboxMessage
        text = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.kind == "candidate_reset_code"))
    code = text.split("验证码")[1][:6]
    expect(("POST", "/api/v1/candidates/password-reset/confirm"), client.post(
        "/api/v1/candidates/password-reset/confirm", json={"id_number": number, "code": code,
                                                           "password": "a-new-password-2026"}, headers=off))

    # Fleet and the green channel.
    owner = fleet.company(factory)
    body = fleet.batch(client, factory, owner, 1)
    vin = body["vehicles"][0]["vin"]
    audit.new()
    staff_ns = type("Staff", (), {"headers": off})
    expect(("PUT", "/api/v1/green-channel/days/<date:date>"),
           client.put(f"/api/v1/green-channel/days/{fleet.DAY}", json={"capacity": 30}, headers=off), actor=officer)
    assert fleet.book(client, owner, body["id"]).status_code == 201
    audit.new()
    expect(("POST", "/api/v1/fleet/vehicles/<string:vin>/plate"),
           client.post(f"/api/v1/fleet/vehicles/{vin}/plate", json={"plate": "渝G5A2B9"}, headers=off), actor=officer)
    expect(("DELETE", "/api/v1/fleet/vehicles/<string:vin>/plate"),
           client.delete(f"/api/v1/fleet/vehicles/{vin}/plate", headers=off), actor=officer)
    expect(("POST", "/api/v1/fleet/vehicles/<string:vin>/plate"),
           client.post(f"/api/v1/fleet/vehicles/{vin}/plate", json={"plate": "渝G5A2B8"}, headers=off), actor=officer)
    expect(("PATCH", "/api/v1/fleet/vehicles/<string:vin>"),
           client.patch(f"/api/v1/fleet/vehicles/{vin}", json={"use_character": "租赁"}, headers=off), actor=officer)
    expect(("POST", "/api/v1/fleet/vehicles/<string:vin>/inspection"), fleet.inspect(client, staff_ns, vin),
           actor=officer)
    expect(("POST", "/api/v1/fleet/vehicles/<string:vin>/registration"), fleet.register(client, staff_ns, vin),
           actor=officer)
    mailed = client.post("/api/v1/mailings", headers=off, json={
        "case": {"type": "fleet_batch", "id": body["id"]}, "recipient": "李明", "phone": "13800138000",
        "address": "重庆市南川区东城街道金佛大道38号", "items": ["号牌", "行驶证"], "tracking_number": "1187654321098"})
    expect(("POST", "/api/v1/mailings"), mailed, actor=officer)
    expect(("PATCH", "/api/v1/mailings/<int:mailing_id>"),
           client.patch(f"/api/v1/mailings/{mailed.get_json()['id']}", json={"status": "delivered"}, headers=off),
           actor=officer)
    priority_body = {"name": "张桂英", "id_number": make_id_number(factory.rng), "phone": "13983000002",
                     "reason": "disabled", "date": fleet.DAY}
    priority = client.post("/api/v1/green-channel/priority-bookings", headers=off, json=priority_body)
    expect(("POST", "/api/v1/green-channel/priority-bookings"), priority, actor=officer)  # at the counter
    reference = priority_reference(app, priority_body["id_number"])
    expect(("POST", "/api/v1/phones/reveal"), client.post("/api/v1/phones/reveal", headers=off, json={
        "case": {"type": "priority_booking", "id": priority.get_json()["id"]}}), actor=officer)
    expect(("DELETE", "/api/v1/green-channel/priority-bookings/<string:reference>"),
           client.delete(f"/api/v1/green-channel/priority-bookings/{reference}", headers=off), actor=officer)
    expect(("PUT", "/api/v1/priority/days/<date:date>"),
           client.put("/api/v1/priority/days/2026-11-30", json={"capacity": 4}, headers=off), actor=officer)
    # A public booking confirmed by its phone: the audit names no one (the person has no account).
    public_body = {**priority_body, "id_number": make_id_number(factory.rng), "phone": "13983000004"}
    assert client.post("/api/v1/green-channel/priority-bookings", json=public_body).status_code == 202
    audit.new()
    expect(("POST", "/api/v1/green-channel/priority-bookings/confirm"),
           client.post("/api/v1/green-channel/priority-bookings/confirm", json={
               "phone": "13983000004", "code": priority_code(app, "13983000004")}))

    for op, answer in (("grant", {"date": fleet.DAY, "arrive_from": "12:00", "arrive_until": "20:00"}),
                       ("decline", {"reason": "当日查验场地检修"})):
        asked = fleet.batch(client, factory, owner, 1)
        request = client.post(f"/api/v1/fleet/batches/{asked['id']}/green-channel-request",
                              json={"wanted_date": fleet.DAY}, headers=owner.headers).get_json()
        audit.new()
        expect(("POST", f"/api/v1/green-channel/requests/<int:request_id>/{op}"),
               client.post(f"/api/v1/green-channel/requests/{request['id']}/{op}", json=answer, headers=off),
               actor=officer)

    # Follow-up: a dissatisfied reply, resolved by the supervisor.
    queue_follow_up(app, "13800138000", officer.id, 9999, office=factory.office, sent_at=NOW - timedelta(hours=3))
    escalation = post_inbound(client, {"message_id": "m1", "from": "13800138000", "text": "2"}).get_json()
    audit.new()
    expect(("POST", "/api/v1/escalations/<int:escalation_id>/callbacks"),
           client.post(f"/api/v1/escalations/{escalation['escalation_id']}/callbacks", headers=off,
                       json={"reached": True, "note": "已电话回访"}), actor=officer)
    expect(("POST", "/api/v1/escalations/<int:escalation_id>/resolve"),
           client.post(f"/api/v1/escalations/{escalation['escalation_id']}/resolve", headers=sup,
                       json={"note": "已电话回访，问题已解决"}), actor=supervisor)

    # Tours, registrations and inspections at a stop.
    tour = create_tour_op(client, off, officer, expect)
    stop_id = tour["stops"][0]["id"]
    expect(("PATCH", "/api/v1/tours/<int:tour_id>"),
           client.patch(f"/api/v1/tours/{tour['id']}", json={"name": "大观镇流动车管所（改）"}, headers=off), actor=officer)
    expect(("POST", "/api/v1/tours/<int:tour_id>/route"),
           client.post(f"/api/v1/tours/{tour['id']}/route", json={}, headers=off), actor=officer)
    expect(("POST", "/api/v1/tours/<int:tour_id>/publish"), publish_raw(client, off, tour["id"]), actor=officer)
    registered = client.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/registrations", headers=off,
                             json={"plate": "渝G12345", "owner_name": "张三", "phone": "13800138000"})
    expect(("POST", "/api/v1/tours/<int:tour_id>/stops/<int:stop_id>/registrations"), registered, actor=officer)
    expect(("POST", "/api/v1/tours/<int:tour_id>/stops/<int:stop_id>/registrations/<int:registration_id>/cancel"),
           client.post(f"/api/v1/tours/{tour['id']}/stops/{stop_id}/registrations/{registered.get_json()['id']}/cancel",
                       headers=off, json={}), actor=officer)

    # The mobile endpoint: one entry per sync call with the counts, not one per record.
    today_tour = mobile.make_tour(app, [officer.id])
    records = [mobile.record(today_tour.stop_ids[0], n) for n in range(1, 4)]
    synced = client.post("/api/v1/mobile/inspections/sync", json=mobile.envelope(records), headers=off)
    entry = expect(("POST", "/api/v1/mobile/inspections/sync"), synced, actor=officer)
    assert entry.after["records"] == 3 and entry.after["created"] == 3
    photo = mobile.png_bytes()
    expect(("PUT", "/api/v1/mobile/inspections/<string:client_id>/photos/<string:sha256>"),
           client.put(f"/api/v1/mobile/inspections/{records[0]['client_id']}/photos/{mobile.sha(photo)}",
                      data=photo, headers={**off, "Content-Type": "image/png"}), actor=officer)
    walk_in = {"client_id": "6f1c2b9e-2c1f-4c55-9a55-2f8f1a0c0d11", "plate": "渝G54321", "result": "pass",
               "checklist": {code: "pass" for code in mobile.CHECKS}, "defects": [],
               "recorded_at": mobile.local(mobile.TODAY, 9, 45).isoformat()}
    expect(("POST", "/api/v1/tours/<int:tour_id>/stops/<int:stop_id>/inspections"),
           client.post(f"/api/v1/tours/{today_tour.id}/stops/{today_tour.stop_ids[0]}/inspections",
                       json=walk_in, headers=off), actor=officer)
    expect(("POST", "/api/v1/tours/<int:tour_id>/cancel"),
           client.post(f"/api/v1/tours/{tour['id']}/cancel", json={"reason": "暴雨预警"}, headers=off), actor=officer)

    # Home visits: requested, assigned by the supervisor, the outcome by the officer.
    visit = client.post("/api/v1/home-visits", headers=off, json={
        "name": "王德明", "phone": "13983000021", "address": "南川区大观镇中江村3组12号", "township": "大观镇",
        "reason": "elderly", "business": "机动车驾驶证期满换证"})
    expect(("POST", "/api/v1/home-visits"), visit, 201, actor=officer)
    visit_path = f"/api/v1/home-visits/{visit.get_json()['id']}"
    expect(("POST", "/api/v1/home-visits/<int:visit_id>/assign"),
           client.post(f"{visit_path}/assign", headers=sup, json={
               "officer": officer.username, "date": NOW.date().isoformat(), "window_from": "14:00",
               "window_until": "16:00"}), actor=supervisor)
    expect(("POST", "/api/v1/home-visits/<int:visit_id>/outcome"),
           client.post(f"{visit_path}/outcome", headers=off, json={"outcome": "done"}), actor=officer)

    # Weekend tests: sessions, a staff cancellation, the draw and an outcome (the clock moves on).
    session = create_session_op(client, off, officer, expect)
    ballot = create_session(client, off, allocation="ballot", applications_close_at=local(SATURDAY, 8),
                            starts_at=local(SATURDAY, 13), ends_at=local(SATURDAY, 15), subject=2)
    _cand, cand = candidate(factory)
    booking = client.post(f"/api/v1/test-sessions/{session['id']}/bookings", headers=cand).get_json()
    _other, other = candidate(factory)
    second = client.post(f"/api/v1/test-sessions/{session['id']}/bookings", headers=other).get_json()
    audit.new()
    expect(("DELETE", "/api/v1/bookings/<int:booking_id>"),
           client.delete(f"/api/v1/bookings/{second['id']}", headers=off), actor=officer)
    later = datetime.fromisoformat(local(SATURDAY, 10))
    app.config["FROZEN_NOW"] = later.isoformat()
    expect(("POST", "/api/v1/test-sessions/<int:session_id>/draw"),
           client.post(f"/api/v1/test-sessions/{ballot['id']}/draw", headers=off), actor=officer, now=later)
    expect(("POST", "/api/v1/bookings/<int:booking_id>/outcome"),
           client.post(f"/api/v1/bookings/{booking['id']}/outcome", json={"outcome": "passed"}, headers=off),
           actor=officer, now=later)
    # A test day: the whole session's results, a counter booking, a change, a cancellation, a permit.
    expect(("POST", "/api/v1/test-sessions/<int:session_id>/outcomes"),
           client.post(f"/api/v1/test-sessions/{session['id']}/outcomes", headers=off,
                       json={"results": [{"booking_id": booking["id"], "outcome": "passed"}]}),
           actor=officer, now=later)
    sunday = create_session(client, off, starts_at=local(SATURDAY + timedelta(days=1), 9),
                            ends_at=local(SATURDAY + timedelta(days=1), 11))
    walk_up, _ = candidate(factory)
    audit.new()
    expect(("POST", "/api/v1/test-sessions/<int:session_id>/bookings"),
           client.post(f"/api/v1/test-sessions/{sunday['id']}/bookings", json={"candidate_id": walk_up["id"]},
                       headers=off), actor=officer, now=later)
    expect(("PATCH", "/api/v1/test-sessions/<int:session_id>"),
           client.patch(f"/api/v1/test-sessions/{sunday['id']}", json={"venue": "2号考场"}, headers=off),
           actor=officer, now=later)
    expect(("POST", "/api/v1/test-sessions/<int:session_id>/cancel"),
           client.post(f"/api/v1/test-sessions/{sunday['id']}/cancel", json={"reason": "暴雨预警"}, headers=off),
           actor=officer, now=later)
    expect(("PUT", "/api/v1/candidates/<int:candidate_id>/learner-permit"),
           client.put(f"/api/v1/candidates/{walk_up['id']}/learner-permit", headers=off,
                      json={"license_class": "C1", "issued_on": "2026-10-01"}), actor=officer, now=later)

    assert audit.checked == set(STAFF_WRITES), set(STAFF_WRITES) - audit.checked


def fleet_credit_code(factory) -> str:
    from tests.conftest import make_credit_code

    return make_credit_code(factory.rng)


def create_tour_op(client, headers, officer, expect) -> dict:
    from tests.helpers_tours import tour_body

    response = client.post("/api/v1/tours", json=tour_body([officer.username]), headers=headers)
    expect(("POST", "/api/v1/tours"), response, actor=officer)
    return response.get_json()


def publish_raw(client, headers, tour_id):
    return client.post(f"/api/v1/tours/{tour_id}/publish", headers=headers)


def create_session_op(client, headers, officer, expect) -> dict:
    from tests.helpers_exams import session_body

    response = client.post("/api/v1/test-sessions", json=session_body(capacity=5), headers=headers)
    expect(("POST", "/api/v1/test-sessions"), response, actor=officer)
    return response.get_json()


def test_staff_cannot_call_the_operations_kept_for_others(app, client, factory):
    """The NOT_STAFF list is true: every staff role is refused there (so no unaudited staff write hides in it)."""
    office_staff = [factory.staff(role) for role in ("admin", "supervisor", "officer")]
    for user in office_staff:
        headers = factory.headers(user)
        for method, rule in NOT_STAFF:
            if rule == "/api/v1/sms/inbound":
                continue  # no token involved: refused without the gateway's signature
            path = rule.replace("<int:batch_id>", "1").replace("<int:session_id>", "1").replace("<int:booking_id>", "1")
            response = client.open(path, method=method, headers=headers, json={})
            assert response.status_code == 403, (user.role, method, rule, response.status_code)
    assert post_inbound(client, {"message_id": "x", "from": "13800138000", "text": "1"}, sign=False).status_code == 401
