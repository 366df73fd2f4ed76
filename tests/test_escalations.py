"""Escalations: a dissatisfied reply reaches the handling officer and their supervisor (or every
supervisor when none is set); resolving; the overdue flag."""
from datetime import datetime, timedelta

import pytest

from tests.conftest import FROZEN_NOW
from tests.helpers_followup import SECRET, post_inbound, queue_follow_up

NOW = datetime.fromisoformat(FROZEN_NOW)


@pytest.fixture
def app_config():
    return {"SMS_HMAC_SECRET": SECRET, "ESCALATION_HIGHLIGHT_HOURS": 48}


@pytest.fixture
def people(factory):
    s1 = factory.staff("supervisor", "sup-chen")
    s2 = factory.staff("supervisor", "sup-wang")
    o1 = factory.staff("officer", "zhang", badge_number="500123", supervisor_username="sup-chen")
    o2 = factory.staff("officer", "liu", badge_number="500124")  # no supervisor set
    admin = factory.staff("admin", "root")
    return {"s1": s1, "s2": s2, "o1": o1, "o2": o2, "admin": admin}


def _dissatisfied(app, client, factory, officer, case_id, phone):
    now = datetime.fromisoformat(app.config["FROZEN_NOW"])
    queue_follow_up(app, phone, officer.id if officer else None, case_id, office=factory.office,
                    sent_at=now - timedelta(hours=3), body=f"案件{case_id}，经办民警警号X。满意请回复1，不满意请回复2。")
    response = post_inbound(client, {"message_id": f"m{case_id}", "from": phone, "text": "2"},
                            timestamp=int(now.timestamp()))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["escalation_id"]


def _ids(client, factory, user, **query):
    response = client.get("/api/v1/escalations", headers=factory.headers(user), query_string=query)
    assert response.status_code == 200, response.get_json()
    return [e["id"] for e in response.get_json()]


def test_dissatisfied_goes_to_the_officer_and_their_supervisor(app, client, factory, people):
    e1 = _dissatisfied(app, client, factory, people["o1"], 1, "13800138000")
    assert e1 is not None
    assert _ids(client, factory, people["o1"]) == [e1]
    assert _ids(client, factory, people["s1"]) == [e1]
    assert _ids(client, factory, people["admin"]) == [e1]
    assert _ids(client, factory, people["o2"]) == []
    assert _ids(client, factory, people["s2"]) == []  # not their officer

    body = client.get(f"/api/v1/escalations/{e1}", headers=factory.headers(people["s1"])).get_json()
    assert body == {
        "id": e1, "status": "open", "overdue": False, "opened_at": body["opened_at"],
        "case": {"type": "fleet_vehicle", "id": 1},
        "officer": {"username": "zhang", "badge_number": "500123", "display_name": None},
        "supervisor": "sup-chen", "phone": "13800138000", "reply": "2", "reason": None, "comments": [],
        "follow_up_text": "【南川车管所】案件1，经办民警警号X。满意请回复1，不满意请回复2。",
        "resolved_at": None, "resolved_by": None, "note": None, "outcome": None, "callbacks": [],
    }
    assert datetime.fromisoformat(body["opened_at"]) == NOW


def test_without_a_supervisor_every_supervisor_of_the_office_sees_it(app, client, factory, people):
    e2 = _dissatisfied(app, client, factory, people["o2"], 2, "13800138000")
    e3 = _dissatisfied(app, client, factory, None, 3, "13900139000")  # handling officer unknown
    assert _ids(client, factory, people["s1"]) == [e2, e3]
    assert _ids(client, factory, people["s2"]) == [e2, e3]
    assert _ids(client, factory, people["o2"]) == [e2]
    assert _ids(client, factory, people["o1"]) == []
    # Another office's supervisor sees none of it.
    factory.other_office()
    assert _ids(client, factory, factory.staff("supervisor", office="fuling")) == []


def test_satisfied_and_comments_open_no_escalation(app, client, factory, people):
    queue_follow_up(app, "13800138000", people["o1"].id, 1, office=factory.office, sent_at=NOW - timedelta(hours=1))
    for i, text in enumerate(["有点慢", "1"]):
        assert post_inbound(client, {"message_id": f"x{i}", "from": "13800138000", "text": text}).status_code == 200
    assert _ids(client, factory, people["s1"]) == []


def _callback(client, factory, user, escalation_id, reached=True, note="已电话联系，解释了排队原因并致歉"):
    response = client.post(f"/api/v1/escalations/{escalation_id}/callbacks", json={"reached": reached, "note": note},
                           headers=factory.headers(user))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_resolve_by_the_supervisor_with_a_note_and_audit(app, client, factory, people):
    e1 = _dissatisfied(app, client, factory, people["o1"], 1, "13800138000")
    url = f"/api/v1/escalations/{e1}/resolve"
    note = "已电话回访，车主反映排队时间长，已致歉并说明预约时段"
    _callback(client, factory, people["o1"], e1)
    response = client.post(url, json={"note": note}, headers=factory.headers(people["s1"]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["note"], body["overdue"]) == ("resolved", note, False)
    assert body["resolved_by"] == {"username": "sup-chen", "badge_number": None, "display_name": None}
    assert datetime.fromisoformat(body["resolved_at"]) == NOW

    again = client.post(url, json={"note": "again"}, headers=factory.headers(people["s1"]))
    assert again.status_code == 409
    assert again.get_json()["message"] == f"escalation {e1} was already resolved"

    with app.app_context():
        from sqlalchemy import select

        from vmo.audit.models import AuditEntry
        from vmo.extensions import db
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "escalation")
                                     .order_by(AuditEntry.id)).all()
        assert [(e.action, e.actor_username) for e in entries] == [("escalation.open", None),
                                                                   ("escalation.callback", "zhang"),
                                                                   ("escalation.resolve", "sup-chen")]
        assert entries[2].after == {"status": "resolved", "note": note, "outcome": None}
    assert _ids(client, factory, people["s1"], status="open") == []
    assert _ids(client, factory, people["s1"], status="resolved") == [e1]


def test_two_steps_the_officer_calls_back_only_a_supervisor_closes(app, client, factory, people):
    """The seed's loop: the handling officer and the leader in charge both talk to the person; an
    officer cannot close a complaint against himself."""
    e1 = _dissatisfied(app, client, factory, people["o1"], 1, "13800138000")
    url = f"/api/v1/escalations/{e1}/resolve"
    done = {"note": "已与车主沟通，车主表示理解", "outcome": "understood"}
    # Nobody has called yet: not even a supervisor may close it.
    early = client.post(url, json=done, headers=factory.headers(people["s1"]))
    assert early.status_code == 409 and "no call-back" in early.get_json()["message"]

    first = _callback(client, factory, people["o1"], e1, reached=False, note="未接通")
    assert first == {"id": first["id"], "caller": {"username": "zhang", "badge_number": "500123", "display_name": None},
                     "role": "officer", "reached": False, "note": "未接通", "called_at": "2026-11-25T10:00:00+08:00"}
    _callback(client, factory, people["o1"], e1, note="已接通，车主反映排队太久，已致歉")
    _callback(client, factory, people["s1"], e1, note="分管负责人再次回访，说明了预约办理的方式")

    # An officer is refused (403), the handling one too, even now; a supervisor not in charge does not see it (404).
    assert client.post(url, json=done, headers=factory.headers(people["o1"])).status_code == 403
    assert client.post(url, json=done, headers=factory.headers(people["o2"])).status_code == 403
    assert client.post(url, json=done, headers=factory.headers(people["s2"])).status_code == 404
    company = factory.company()
    assert client.post(url, json=done, headers=factory.headers(company["username"])).status_code == 403
    assert client.get("/api/v1/escalations", headers=factory.headers(company["username"])).status_code == 403
    assert client.post(url, json=done).status_code == 401
    # Another officer may not record a call-back on a case that is not theirs.
    other = client.post(f"/api/v1/escalations/{e1}/callbacks", json={"reached": True, "note": "x"},
                        headers=factory.headers(people["o2"]))
    assert other.status_code == 404
    for bad in ({"reached": True, "note": "  "}, {"note": "x"}, {"reached": "maybe", "note": "x"}):
        response = client.post(f"/api/v1/escalations/{e1}/callbacks", json=bad, headers=factory.headers(people["o1"]))
        assert response.status_code == 422, bad
    blank = client.post(url, json={"note": "   "}, headers=factory.headers(people["s1"]))
    assert blank.status_code == 422 and "note" in blank.get_json()["errors"]["json"]
    wrong = client.post(url, json={"note": "x", "outcome": "happy"}, headers=factory.headers(people["s1"]))
    assert wrong.status_code == 422 and "outcome" in wrong.get_json()["errors"]["json"]
    assert client.post("/api/v1/escalations/999/resolve", json=done,
                       headers=factory.headers(people["s1"])).status_code == 404

    closed = client.post(url, json=done, headers=factory.headers(people["s1"]))
    assert closed.status_code == 200, closed.get_json()
    body = closed.get_json()
    assert (body["status"], body["outcome"], body["resolved_by"]["username"]) == ("resolved", "understood", "sup-chen")
    assert [(c["caller"]["username"], c["role"], c["reached"]) for c in body["callbacks"]] == [
        ("zhang", "officer", False), ("zhang", "officer", True), ("sup-chen", "supervisor", True)]
    late = client.post(f"/api/v1/escalations/{e1}/callbacks", json={"reached": True, "note": "x"},
                       headers=factory.headers(people["o1"]))
    assert late.status_code == 409
    # The handling officer still sees how it ended.
    mine = client.get(f"/api/v1/escalations/{e1}", headers=factory.headers(people["o1"])).get_json()
    assert (mine["status"], len(mine["callbacks"])) == ("resolved", 3)


def test_an_admin_closes_too_and_the_reason_is_shown(app, client, factory, people):
    queue_follow_up(app, "13800138000", people["o1"].id, 5, office=factory.office, sent_at=NOW - timedelta(hours=3))
    reply = post_inbound(client, {"message_id": "r5", "from": "13800138000", "text": "很不满意！排队两个小时"})
    e5 = reply.get_json()["escalation_id"]
    post_inbound(client, {"message_id": "r6", "from": "13800138000", "text": "窗口只开了一个"})
    listed = client.get("/api/v1/escalations", headers=factory.headers(people["s1"])).get_json()
    assert [(e["id"], e["reply"], e["reason"], e["comments"]) for e in listed] == [
        (e5, "很不满意！排队两个小时", "排队两个小时", ["窗口只开了一个"])]
    _callback(client, factory, people["admin"], e5)
    closed = client.post(f"/api/v1/escalations/{e5}/resolve", json={"note": "已解释"}, headers=factory.headers(people["admin"]))
    assert (closed.status_code, closed.get_json()["outcome"]) == (200, None)


def test_open_escalations_older_than_the_limit_are_overdue(app, client, factory, people):
    e1 = _dissatisfied(app, client, factory, people["o1"], 1, "13800138000")
    app.config["FROZEN_NOW"] = (NOW + timedelta(hours=47, minutes=59)).isoformat()
    e2 = _dissatisfied(app, client, factory, people["o1"], 2, "13900139000")
    headers = factory.headers(people["s1"])
    listed = client.get("/api/v1/escalations", headers=headers).get_json()
    assert [(e["id"], e["overdue"]) for e in listed] == [(e1, False), (e2, False)]

    app.config["FROZEN_NOW"] = (NOW + timedelta(hours=48)).isoformat()
    listed = client.get("/api/v1/escalations", headers=factory.headers(people["s1"])).get_json()
    assert [(e["id"], e["overdue"]) for e in listed] == [(e1, True), (e2, False)]
    assert _ids(client, factory, people["s1"], overdue="true") == [e1]
    assert _ids(client, factory, people["s1"], overdue="false") == [e2]
    # Resolved ones are never overdue.
    _callback(client, factory, people["o1"], e1)
    closed = client.post(f"/api/v1/escalations/{e1}/resolve", json={"note": "done"},
                         headers=factory.headers(people["s1"]))
    assert closed.status_code == 200
    listed = client.get("/api/v1/escalations", headers=factory.headers(people["s1"])).get_json()
    assert [(e["id"], e["status"], e["overdue"]) for e in listed] == [(e2, "open", False), (e1, "resolved", False)]


def test_supervisor_is_set_by_the_cli(app, runner, factory):
    factory.office  # noqa: B018
    result = runner.invoke(args=["users", "create", "--role", "supervisor", "--username", "boss",
                                 "--password", "long-enough-pw", "--office", "nanchuan"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "create", "--role", "officer", "--username", "cop", "--badge", "500130",
                                 "--password", "long-enough-pw", "--office", "nanchuan", "--supervisor", "boss"])
    assert result.exit_code == 0, result.output
    bad = runner.invoke(args=["users", "create", "--role", "officer", "--username", "cop2",
                              "--password", "long-enough-pw", "--office", "nanchuan", "--supervisor", "cop"])
    assert bad.exit_code != 0 and "is not a supervisor" in bad.output
    with app.app_context():
        from sqlalchemy import select

        from vmo.accounts.models import User
        from vmo.extensions import db
        cop = db.session.scalar(select(User).where(User.username == "cop"))
        assert (cop.supervisor.username, cop.badge_number) == ("boss", "500130")
