"""Home visits through the API: request, assignment (the person texted), the officer's tablet list, the
audited phone reveal, the outcome by the assigned officer only, the follow-up of a visit done and a
dissatisfied reply reaching that officer and their supervisor; every refusal changes nothing; the
statistics count visits per officer and per month."""
import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import FROZEN_NOW
from tests.helpers_followup import SECRET, post_inbound
from vmo.extensions import db

NOW = datetime.fromisoformat(FROZEN_NOW)  # Wednesday 2026-11-25, 10:00 in Chongqing
TODAY = NOW.date()
PHONE = "13983000021"
REQUEST = {"name": "王德明", "phone": PHONE, "address": "南川区大观镇中江村3组12号", "township": "大观镇",
           "reason": "elderly", "business": "机动车驾驶证期满换证"}
FRIDAY = (TODAY + timedelta(days=2)).isoformat()
ASSIGN = {"date": FRIDAY, "window_from": "14:00", "window_until": "16:00"}


@pytest.fixture
def app_config():
    return {"SMS_HMAC_SECRET": SECRET}


@pytest.fixture
def people(factory):
    return {
        "sup": factory.staff("supervisor", "sup-chen"),
        "sup2": factory.staff("supervisor", "sup-wang"),
        "officer": factory.staff("officer", "zhang", badge_number="500123", supervisor_username="sup-chen"),
        "other": factory.staff("officer", "liu", badge_number="500124", supervisor_username="sup-wang"),
        "admin": factory.staff("admin", "root"),
    }


@pytest.fixture
def heads(factory, people):
    return {name: factory.headers(user) for name, user in people.items()}


def _request(client, headers, **overrides):
    response = client.post("/api/v1/home-visits", json={**REQUEST, **overrides}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _assign(client, headers, visit_id, officer="zhang", **overrides):
    response = client.post(f"/api/v1/home-visits/{visit_id}/assign", json={**ASSIGN, "officer": officer, **overrides},
                           headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _texts(app, phone=PHONE, kind=None) -> list:
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        stmt = select(OutboxMessage).where(OutboxMessage.phone == phone).order_by(OutboxMessage.id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        rows = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return rows


def _audit(app, action) -> list:
    from vmo.audit.models import AuditEntry

    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        db.session.expunge_all()
        return rows


def _state(app) -> tuple:
    """Everything a refusal must leave as it was: the visits, the outbox and the audit log."""
    from vmo.audit.models import AuditEntry
    from vmo.homevisits.models import HomeVisit
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        visits = [tuple(getattr(v, c.key) for c in HomeVisit.__table__.columns)
                  for v in db.session.scalars(select(HomeVisit).order_by(HomeVisit.id))]
        texts = db.session.scalar(select(func.count(OutboxMessage.id)))
        # Sign-ins are audited too; the refusals below sign nobody in.
        audited = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action != "auth.login"))
        return visits, texts, audited


def _escalations(client, headers) -> list:
    response = client.get("/api/v1/escalations", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_home_visit_from_request_to_follow_up_and_a_complaint_reaching_the_officer(app, client, runner, heads,
                                                                                     people):
    # Staff request it on the person's behalf.
    response = client.post("/api/v1/home-visits", json={**REQUEST, "wanted_date": FRIDAY}, headers=heads["other"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"id": response.get_json()["id"], "status": "requested"}
    visit_id = response.get_json()["id"]
    listed = client.get("/api/v1/home-visits?status=requested", headers=heads["sup"]).get_json()
    assert [(v["id"], v["phone"], v["officer"], v["wanted_date"]) for v in listed] == [
        (visit_id, "139****0021", None, FRIDAY)]

    # The supervisor sends the officer on Friday, 14:00-16:00: the person is texted the day and window.
    body = _assign(client, heads["sup"], visit_id)
    assert (body["status"], body["officer"], body["date"], body["window_from"], body["window_until"]) == (
        "scheduled", "zhang", FRIDAY, "14:00", "16:00")
    [text] = _texts(app, kind="home_visit")
    assert text.body == ("【南川车管所】王德明您好，车管所民警500123将于11月27日14:00至16:00上门为您办理机动车驾驶证期满换证，"
                         "请备好证件在家等候。如需改期请致电本所窗口。")
    assert text.officer_id == people["officer"].id and text.subject_type == "home_visit"
    assert [v["id"] for v in client.get(f"/api/v1/home-visits?date={FRIDAY}", headers=heads["officer"]).get_json()] \
        == [visit_id]
    assert client.get(f"/api/v1/home-visits?date={TODAY}", headers=heads["officer"]).get_json() == []

    # It is on the officer's tablet (masked phone), and on no one else's.
    mine = client.get("/api/v1/mobile/assignments", headers=heads["officer"]).get_json()
    assert mine["home_visits"] == [{
        "id": visit_id, "name": "王德明", "phone": "139****0021", "address": "南川区大观镇中江村3组12号",
        "township": "大观镇", "reason": "elderly", "business": "机动车驾驶证期满换证", "date": FRIDAY,
        "window_from": "14:00", "window_until": "16:00", "status": "scheduled"}]
    assert client.get("/api/v1/mobile/assignments", headers=heads["other"]).get_json()["home_visits"] == []

    # The call button: the number in full for the assigned officer, written to the audit log (masked there).
    case = {"case": {"type": "home_visit", "id": visit_id}}
    revealed = client.post("/api/v1/phones/reveal", json=case, headers=heads["officer"])
    assert revealed.status_code == 200, revealed.get_json()
    assert revealed.get_json() == {"case": {"type": "home_visit", "id": str(visit_id)}, "phone": PHONE}
    [entry] = _audit(app, "phone.reveal")
    assert (entry.actor_username, entry.entity, entry.entity_id, entry.after) == (
        "zhang", "home_visit", str(visit_id), {"phone": "139****0021"})

    # Only the assigned officer records the outcome.
    refused = client.post(f"/api/v1/home-visits/{visit_id}/outcome", json={"outcome": "done"}, headers=heads["other"])
    assert refused.status_code == 403 and refused.get_json()["reason"] == "not_assigned"
    client_id = str(uuid.uuid4())
    done = client.post(f"/api/v1/home-visits/{visit_id}/outcome", headers=heads["officer"],
                       json={"outcome": "done", "note": "新证已交本人", "client_id": client_id})
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["status"], done.get_json()["outcome"], done.get_json()["note"]) == (
        "done", "done", "新证已交本人")
    # The tablet sending it again (its answer was lost) changes nothing; another outcome is refused.
    again = client.post(f"/api/v1/home-visits/{visit_id}/outcome", headers=heads["officer"],
                        json={"outcome": "done", "note": "新证已交本人", "client_id": client_id})
    assert again.status_code == 200 and again.get_json() == done.get_json()
    late = client.post(f"/api/v1/home-visits/{visit_id}/outcome", headers=heads["officer"],
                       json={"outcome": "not_home", "client_id": str(uuid.uuid4())})
    assert late.status_code == 409 and late.get_json()["reason"] == "ended"
    assert len(_audit(app, "home_visit.outcome")) == 1
    assert client.get("/api/v1/mobile/assignments", headers=heads["officer"]).get_json()["home_visits"] == []

    # Done is a finished case: one follow-up, naming the officer, sent by the outbox worker.
    [follow_up] = _texts(app, kind="follow_up")
    assert follow_up.body == "【南川车管所】民警500123已上门为您办结业务。满意请回1，不满意请回2。"
    assert (follow_up.officer_id, follow_up.subject_type, follow_up.subject_id, follow_up.segments) == (
        people["officer"].id, "home_visit", visit_id, 1)
    assert runner.invoke(args=["sms", "send"]).exit_code == 0
    assert _texts(app, kind="follow_up")[0].status == "sent"

    # A dissatisfied reply opens an escalation for the officer and their supervisor, no one else.
    reply = post_inbound(client, {"message_id": "hv-1", "from": PHONE, "text": "2 等了一下午"})
    assert reply.status_code == 200, reply.get_json()
    escalation_id = reply.get_json()["escalation_id"]
    for who in ("officer", "sup", "admin"):
        found = _escalations(client, heads[who])
        assert [(e["id"], e["case"], e["officer"]["username"]) for e in found] == [
            (escalation_id, {"type": "home_visit", "id": visit_id}, "zhang")], who
    for who in ("other", "sup2"):
        assert _escalations(client, heads[who]) == [], who
    by_service = client.get("/api/v1/stats", headers=heads["sup"]).get_json()["per_service"]
    assert by_service["home_visits"]["cases"] == 1 and by_service["home_visits"]["escalations"] == 1


def test_not_home_can_be_tried_again_and_a_cancelled_visit_is_over(app, client, heads):
    visit_id = _request(client, heads["sup"])
    _assign(client, heads["sup"], visit_id)
    assert client.post(f"/api/v1/home-visits/{visit_id}/outcome", json={"outcome": "not_home", "note": "家中无人"},
                       headers=heads["officer"]).get_json()["status"] == "not_home"
    assert _texts(app, kind="follow_up") == []  # nothing was done: no follow-up
    # Another day, another officer: a new text; the same assignment again sends nothing new.
    body = _assign(client, heads["officer"], visit_id, officer="liu", date=(TODAY + timedelta(days=5)).isoformat())
    assert (body["status"], body["officer"], body["outcome"], body["note"]) == ("scheduled", "liu", None, None)
    _assign(client, heads["officer"], visit_id, officer="liu", date=(TODAY + timedelta(days=5)).isoformat())
    assert ["11月27日" in t.body for t in _texts(app, kind="home_visit")] == [True, False]
    # The first officer no longer has it; the second cancels it (the person phoned); then it is over.
    refused = client.post(f"/api/v1/home-visits/{visit_id}/outcome", json={"outcome": "done"}, headers=heads["officer"])
    assert refused.status_code == 403
    cancelled = client.post(f"/api/v1/home-visits/{visit_id}/outcome", json={"outcome": "cancelled"},
                            headers=heads["other"])
    assert cancelled.get_json()["status"] == "cancelled"
    again = client.post(f"/api/v1/home-visits/{visit_id}/assign", json={**ASSIGN, "officer": "zhang"},
                        headers=heads["sup"])
    assert again.status_code == 409 and again.get_json()["reason"] == "ended"
    assert _texts(app, kind="follow_up") == []


# ---- refusals: each a clear 4xx that changes nothing -----------------------------------------

BAD_REQUESTS = [
    ({"name": None}, "name"), ({"name": "   "}, "name"), ({"phone": "12345"}, "phone"), ({"phone": None}, "phone"),
    ({"address": "家"}, "address"), ({"address": "    "}, "address"), ({"township": ""}, "township"),
    ({"reason": "lazy"}, "reason"), ({"business": "x" * 201}, "business"), ({"business": " "}, "business"),
    ({"wanted_date": (TODAY - timedelta(days=1)).isoformat()}, "wanted_date"),
    ({"wanted_date": "2026-13-01"}, "wanted_date"), ({"wanted_date": "1899-12-31"}, "wanted_date"),
    ({"extra": 1}, "extra"),
]


@pytest.mark.parametrize("change,field", BAD_REQUESTS)
def test_a_bad_request_is_refused_naming_the_field(app, client, heads, change, field):
    body = {**REQUEST, **change}
    body = {k: v for k, v in body.items() if v is not None}
    before = _state(app)
    response = client.post("/api/v1/home-visits", json=body, headers=heads["sup"])
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"], response.get_json()
    assert _state(app) == before


def test_the_wanted_date_may_be_today(client, heads):
    assert _request(client, heads["sup"], wanted_date=TODAY.isoformat())


BAD_ASSIGNMENTS = [
    ({"date": (TODAY - timedelta(days=1)).isoformat()}, "date"),
    ({"date": (TODAY + timedelta(days=61)).isoformat()}, "date"),  # 60 days ahead at most
    ({"date": "tomorrow"}, "date"),
    ({"window_from": "16:00", "window_until": "14:00"}, "window_until"),
    ({"window_from": "14:00", "window_until": "14:00"}, "window_until"),
    ({"window_from": "07:59", "window_until": "10:00"}, "window_from"),  # visiting hours 08:00-18:00
    ({"window_from": "16:00", "window_until": "18:01"}, "window_until"),
    ({"window_from": "08:00", "window_until": "12:01"}, "window_until"),  # four hours at most
    ({"window_from": "25:00"}, "window_from"), ({"window_until": "4pm"}, "window_until"),
    ({"officer": "nobody"}, "officer"), ({"officer": "sup-chen"}, "officer"),  # a supervisor is no field officer
    ({"officer": None}, "officer"),
]


@pytest.mark.parametrize("change,field", BAD_ASSIGNMENTS)
def test_a_bad_assignment_is_refused_naming_the_field(app, client, heads, change, field):
    visit_id = _request(client, heads["sup"])
    body = {k: v for k, v in {**ASSIGN, "officer": "zhang", **change}.items() if v is not None}
    before = _state(app)
    response = client.post(f"/api/v1/home-visits/{visit_id}/assign", json=body, headers=heads["sup"])
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"], response.get_json()
    assert _state(app) == before


def test_assignment_boundaries_are_accepted(client, heads):
    """The edges of the rules above: today, 60 days ahead, 08:00-12:00 (four hours), until 18:00."""
    for change in ({"date": TODAY.isoformat(), "window_from": "08:00", "window_until": "12:00"},
                   {"date": (TODAY + timedelta(days=60)).isoformat(), "window_from": "14:00", "window_until": "18:00"}):
        visit_id = _request(client, heads["sup"])
        assert _assign(client, heads["sup"], visit_id, **change)["status"] == "scheduled"


def test_who_may_assign_and_which_visits(app, client, factory, heads):
    visit_id = _request(client, heads["sup"])
    other_office = factory.staff("supervisor", "fuling-sup", office=factory.other_office())
    body = {**ASSIGN, "officer": "zhang"}
    before = _state(app)
    cases = [(heads["admin"], visit_id, 403), (factory.headers(other_office), visit_id, 404),
             (heads["sup"], visit_id + 1, 404), (heads["sup"], 2**31, 404), ({}, visit_id, 401)]
    for headers, target, status in cases:
        response = client.post(f"/api/v1/home-visits/{target}/assign", json=body, headers=headers)
        assert response.status_code == status, (target, response.get_json())
    assert client.get(f"/api/v1/home-visits/{visit_id}", headers=factory.headers(other_office)).status_code == 404
    assert client.get("/api/v1/home-visits", headers=factory.headers(other_office)).get_json() == []
    assert _state(app) == before


BAD_OUTCOMES = [
    ({"outcome": "maybe"}, "outcome"), ({}, "outcome"), ({"outcome": "done", "note": "x" * 501}, "note"),
    ({"outcome": "done", "client_id": "not-a-uuid"}, "client_id"),
    ({"outcome": "done", "recorded_at": "2026-11-25 10:00"}, "recorded_at"),
]


@pytest.mark.parametrize("body,field", BAD_OUTCOMES)
def test_a_bad_outcome_is_refused_naming_the_field(app, client, heads, body, field):
    visit_id = _request(client, heads["sup"])
    _assign(client, heads["sup"], visit_id)
    before = _state(app)
    response = client.post(f"/api/v1/home-visits/{visit_id}/outcome", json=body, headers=heads["officer"])
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"], response.get_json()
    assert _state(app) == before


def test_only_the_assigned_officer_records_the_outcome(app, client, factory, heads):
    waiting = _request(client, heads["sup"])
    visit_id = _request(client, heads["sup"])
    _assign(client, heads["sup"], visit_id)
    stranger = factory.headers(factory.staff("officer", "fuling-officer", office=factory.other_office()))
    before = _state(app)
    response = client.post(f"/api/v1/home-visits/{visit_id}/outcome", json={"outcome": "done"}, headers=heads["other"])
    assert (response.status_code, response.get_json()["reason"]) == (403, "not_assigned")
    for who in ("sup", "admin"):  # never assigned a visit: refused by role
        response = client.post(f"/api/v1/home-visits/{visit_id}/outcome", json={"outcome": "done"}, headers=heads[who])
        assert response.status_code == 403, who
    # A visit nobody was sent on yet has no officer to record anything.
    response = client.post(f"/api/v1/home-visits/{waiting}/outcome", json={"outcome": "done"},
                           headers=heads["officer"])
    assert response.status_code == 403
    response = client.post(f"/api/v1/home-visits/{visit_id}/outcome", json={"outcome": "done"}, headers=stranger)
    assert response.status_code == 404
    assert _state(app) == before
    assert client.post(f"/api/v1/home-visits/{visit_id}/outcome", json={"outcome": "done"},
                       headers=heads["officer"]).status_code == 200


def test_bad_list_queries_and_reveals(app, client, factory, heads):
    visit_id = _request(client, heads["sup"])
    for query in ("status=lost", "date=2026-02-30", "page_size=0"):
        assert client.get(f"/api/v1/home-visits?{query}", headers=heads["sup"]).status_code == 422, query
    assert client.get("/api/v1/home-visits").status_code == 401
    _assign(client, heads["sup"], visit_id)
    stranger = factory.headers(factory.staff("supervisor", "fuling-sup", office=factory.other_office()))
    before = _state(app)
    reveals = [
        (heads["sup"], {"case": {"type": "parcel", "id": visit_id}}, 422),
        (heads["sup"], {"case": {"type": "home_visit"}}, 422),
        (heads["sup"], {"case": {"type": "home_visit", "id": 0}}, 404),
        (heads["sup"], {"case": {"type": "home_visit", "id": "渝G12345"}}, 404),
        (heads["sup"], {"case": {"type": "home_visit", "id": "9" * 30}}, 404),
        (heads["sup"], {"case": {"type": "home_visit", "id": visit_id + 1}}, 404),
        (stranger, {"case": {"type": "home_visit", "id": visit_id}}, 404),
        ({}, {"case": {"type": "home_visit", "id": visit_id}}, 401),
    ]
    for headers, body, status in reveals:
        response = client.post("/api/v1/phones/reveal", json=body, headers=headers)
        assert response.status_code == status, (body, response.get_json())
    assert _state(app) == before
    # Staff of the office may call the person; the audit log says who did.
    assert client.post("/api/v1/phones/reveal", json={"case": {"type": "home_visit", "id": visit_id}},
                       headers=heads["sup"]).get_json()["phone"] == PHONE
    assert [e.actor_username for e in _audit(app, "phone.reveal")] == ["sup-chen"]


# ---- statistics ----------------------------------------------------------------------------

def _visit_on(app, office_code, officer_id, day: date, status: str, requested_on: date):
    from vmo.homevisits.models import HomeVisit
    from vmo.offices.services import get_office

    with app.app_context():
        db.session.add(HomeVisit(office_id=get_office(office_code).id, name="张三", phone=PHONE, address="南川区某街1号",
                                 township="东城街道", reason="ill", business="补证", status=status, requested_on=requested_on,
                                 requested_at=NOW, officer_id=officer_id, date=day,
                                 window_from="09:00" if day else None, window_until="11:00" if day else None))
        db.session.commit()


def test_the_statistics_count_visits_per_officer_and_per_month(app, client, factory, people, heads):
    october, november = date(2026, 10, 20), date(2026, 11, 3)
    zhang, liu = people["officer"].id, people["other"].id
    for day, officer, status in [(october, zhang, "done"), (october, zhang, "not_home"), (november, zhang, "done"),
                                 (november, liu, "cancelled"), (TODAY + timedelta(days=1), liu, "scheduled"),
                                 (date(2026, 9, 30), zhang, "done")]:  # before the period
        _visit_on(app, factory.office, officer, day, status, requested_on=day - timedelta(days=3))
    _visit_on(app, factory.office, None, None, "requested", requested_on=TODAY)
    other = factory.staff("officer", "fuling-officer", office=factory.other_office())
    _visit_on(app, factory.other_office(), other.id, november, "done", requested_on=november)  # another office

    stats = client.get("/api/v1/stats?from=2026-10-01&to=2026-11-30", headers=heads["sup"]).get_json()
    figures = stats["home_visits"]
    assert {k: figures[k] for k in ("requested", "scheduled", "done", "not_home", "cancelled")} == {
        "requested": 6, "scheduled": 1, "done": 2, "not_home": 1, "cancelled": 1}
    assert [(o["username"], o["scheduled"], o["done"], o["not_home"], o["cancelled"]) for o in figures["per_officer"]] \
        == [("liu", 1, 0, 0, 1), ("zhang", 0, 2, 1, 0)]
    assert figures["by_month"] == [
        {"month": "2026-10", "requested": 4, "done": 1, "not_home": 1, "cancelled": 0},
        {"month": "2026-11", "requested": 2, "done": 1, "not_home": 0, "cancelled": 1}]
    assert stats["unavailable"] == []
    chart = next(c for c in stats["charts"] if c["id"] == "home_visits_done_per_month")
    assert chart["points"] == [{"label": "2026-10", "value": 1}, {"label": "2026-11", "value": 1}]
    # The boundary days: a period of exactly 2026-10-20 counts that day's two visits.
    one_day = client.get("/api/v1/stats?from=2026-10-20&to=2026-10-20", headers=heads["sup"]).get_json()["home_visits"]
    assert (one_day["done"], one_day["not_home"], one_day["by_month"][0]["month"]) == (1, 1, "2026-10")
    # The CSV and the supervisors' page carry them too.
    csv = client.get("/api/v1/stats?from=2026-10-01&to=2026-11-30&format=csv", headers=heads["sup"])
    assert "home_visits,done,2" in csv.get_data(as_text=True).splitlines()
    page = client.get("/api/v1/stats/report.html?from=2026-10-01&to=2026-11-30", headers=heads["sup"])
    assert "上门办理（按月）" in page.get_data(as_text=True)
