"""A session's examiners: set by its office's staff, and the ones a sitting's follow-up and its
escalations go to (not whoever keyed the results)."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.helpers_exams import long_token_config, officer, officer_headers  # noqa: F401  (fixtures)
from tests.helpers_exams import SATURDAY, book, candidate, create_session, local, set_now
from tests.helpers_followup import SECRET, post_inbound
from vmo.extensions import db


@pytest.fixture
def app_config(long_token_config):
    return {**long_token_config, "SMS_HMAC_SECRET": SECRET}


@pytest.fixture
def crew(factory):
    """An examiner with a supervisor, another examiner, and the clerk who keys the results."""
    factory.staff("supervisor", "sup-chen")
    return {"examiner": factory.staff("officer", "kaoguan-li", badge_number="500201", supervisor_username="sup-chen"),
            "second": factory.staff("officer", "kaoguan-he", badge_number="500202"),
            "clerk": factory.staff("officer", "luru-zhao", badge_number="500299")}


def patch(client, headers, session_id, **body):
    return client.patch(f"/api/v1/test-sessions/{session_id}", json=body, headers=headers)


def test_staff_name_the_examiners_in_order(app, client, factory, officer_headers, crew):
    from vmo.audit.models import AuditEntry

    session = create_session(client, officer_headers)
    ids = [crew["examiner"].id, crew["second"].id]
    response = patch(client, officer_headers, session["id"], examiners=ids)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["examiners"] == ids
    assert "examiners" not in client.get(f"/api/v1/test-sessions/{session['id']}").get_json()  # public answer
    # A new order replaces the list (the same users in other places).
    again = patch(client, officer_headers, session["id"], examiners=list(reversed(ids)))
    assert again.status_code == 200 and again.get_json()["examiners"] == list(reversed(ids))
    assert patch(client, officer_headers, session["id"], examiners=[]).get_json()["examiners"] == []
    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "test_session.update")
                                          .order_by(AuditEntry.id)))
    assert [e.after["examiners"] for e in entries] == [ids, list(reversed(ids)), []]


def test_examiners_must_be_active_staff_of_the_office_each_once(app, client, factory, officer_headers, crew):
    session = create_session(client, officer_headers)
    cand, _ = candidate(factory)
    factory.other_office()
    stranger = factory.staff("officer", office="fuling")
    retired = factory.staff("officer", "tuixiu-wu")
    with app.app_context():
        from vmo.accounts.models import User
        db.session.execute(update(User).where(User.id == retired.id).values(active=False))
        db.session.commit()
        cand_user = db.session.scalar(select(User.id).where(User.username == cand["username"]))
    for bad, message in [([stranger.id], f"not active staff of this office: {stranger.id}"),
                         ([cand_user], f"not active staff of this office: {cand_user}"),
                         ([retired.id], f"not active staff of this office: {retired.id}"),
                         ([999999], "not active staff of this office: 999999"),
                         ([crew["examiner"].id, crew["examiner"].id], "an examiner is listed twice")]:
        response = patch(client, officer_headers, session["id"], examiners=bad)
        assert response.status_code == 422, (bad, response.get_json())
        assert response.get_json()["errors"]["json"]["examiners"] == [message]
    assert patch(client, officer_headers, session["id"], examiners=[0]).status_code == 422
    assert patch(client, officer_headers, session["id"], examiners=[crew["examiner"].id]).get_json()["examiners"] == [
        crew["examiner"].id]  # nothing the refusals sent was kept
    assert patch(client, factory.headers(cand["username"]), session["id"], examiners=[]).status_code == 403


def test_examiners_may_be_named_after_the_start_but_not_once_cancelled(app, client, officer_headers, crew):
    session = create_session(client, officer_headers)
    set_now(app, "2026-11-28T10:00:00+08:00")
    response = patch(client, officer_headers, session["id"], examiners=[crew["examiner"].id])
    assert response.status_code == 200, response.get_json()
    moved = patch(client, officer_headers, session["id"], examiners=[], venue="别处")
    assert moved.status_code == 422 and moved.get_json()["reason"] == "session_started"
    set_now(app, "2026-11-26T10:00:00+08:00")
    other = create_session(client, officer_headers)
    assert client.post(f"/api/v1/test-sessions/{other['id']}/cancel", json={"reason": "暴雨"},
                       headers=officer_headers).status_code == 200
    assert patch(client, officer_headers, other["id"], examiners=[crew["examiner"].id]).status_code == 409


def _sat_and_keyed(app, client, factory, officer_headers, crew, examiners, phone):
    session = create_session(client, officer_headers, subject=1)
    if examiners is not None:
        assert patch(client, officer_headers, session["id"], examiners=examiners).status_code == 200
    _, headers = candidate(factory, phone=phone)
    mine = book(client, session["id"], headers).get_json()
    set_now(app, "2026-11-28T12:00:00+08:00")
    keyed = client.post(f"/api/v1/test-sessions/{session['id']}/outcomes", headers=factory.headers(crew["clerk"]),
                        json={"results": [{"booking_id": mine["id"], "outcome": "passed", "score": 95}]})
    assert keyed.status_code == 200, keyed.get_json()
    return mine["id"]


def _follow_up(app, booking_id):
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        return db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "follow_up",
                                                             OutboxMessage.subject_id == booking_id))


def _reply_dissatisfied(app, client, booking_id, phone) -> int:
    from vmo.notify.models import OutboxMessage

    now = datetime.fromisoformat("2026-11-28T12:00:00+08:00")
    with app.app_context():  # the gateway sent it an hour ago
        db.session.execute(update(OutboxMessage).where(OutboxMessage.kind == "follow_up",
                                                       OutboxMessage.subject_id == booking_id)
                           .values(status="sent", sent_at=now - timedelta(hours=1), attempts=1))
        db.session.commit()
    response = post_inbound(client, {"message_id": f"exam-{booking_id}", "from": phone, "text": "2 考官态度差"},
                            timestamp=int(now.timestamp()))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["escalation_id"]


def _escalations(client, factory, user) -> list[int]:
    response = client.get("/api/v1/escalations", headers=factory.headers(user))
    assert response.status_code == 200, response.get_json()
    return [e["id"] for e in response.get_json()]


def test_a_dissatisfied_reply_reaches_the_examiner_and_their_supervisor(app, client, factory, officer_headers, crew):
    booking_id = _sat_and_keyed(app, client, factory, officer_headers, crew,
                                [crew["examiner"].id, crew["second"].id], "13900000011")
    follow_up = _follow_up(app, booking_id)
    assert follow_up.officer_id == crew["examiner"].id
    assert "警号500201" in follow_up.body and "500299" not in follow_up.body
    escalation = _reply_dissatisfied(app, client, booking_id, "13900000011")
    assert escalation is not None
    assert _escalations(client, factory, crew["examiner"]) == [escalation]
    assert _escalations(client, factory, "sup-chen") == [escalation]
    assert _escalations(client, factory, crew["clerk"]) == []  # keying the results is not examining
    assert _escalations(client, factory, crew["second"]) == []
    body = client.get(f"/api/v1/escalations/{escalation}", headers=factory.headers("sup-chen")).get_json()
    assert body["officer"]["username"] == "kaoguan-li" and body["supervisor"] == "sup-chen"
    assert body["case"] == {"type": "exam_booking", "id": booking_id}


def test_without_examiners_the_follow_up_names_who_keyed_the_results(app, client, factory, officer_headers, crew):
    booking_id = _sat_and_keyed(app, client, factory, officer_headers, crew, None, "13900000012")
    follow_up = _follow_up(app, booking_id)
    assert follow_up.officer_id == crew["clerk"].id and "警号500299" in follow_up.body
    escalation = _reply_dissatisfied(app, client, booking_id, "13900000012")
    assert _escalations(client, factory, crew["clerk"]) == [escalation]
    assert _escalations(client, factory, crew["examiner"]) == []
