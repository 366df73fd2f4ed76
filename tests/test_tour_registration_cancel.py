"""Owners cancel their own pre-registration with the code they were given; the place goes back to the stop."""
import pytest

from tests.helpers_followup import SECRET, post_inbound
from tests.helpers_tours import create_tour, outbox, publish, stop

BODY = {"plate": "渝G30001", "owner_name": "王德明", "phone": "13983001234"}


@pytest.fixture
def world(client, factory):
    officer = factory.staff("officer")
    headers = factory.headers(officer)
    tour = create_tour(client, headers, [officer], stops=[stop("大观镇", (9, 0), capacity=1)])
    publish(client, headers, tour["id"])
    base = f"/api/v1/tours/{tour['id']}/stops/{tour['stops'][0]['id']}/registrations"
    return tour, base, headers


def _register(client, base, **body):
    response = client.post(base, json={**BODY, **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_owner_cancels_with_the_code_and_the_place_is_free_again(app, client, world):
    tour, base, headers = world
    reg = _register(client, base)
    code = reg["cancel_code"]
    assert len(code) == 8 and code.isalnum() and code.isupper()
    texts = [body for _key, _phone, body in outbox(app, "tour_registration:")]
    # The text says how to cancel without an app: reply to the same number.
    assert len(texts) == 1 and f"回复“取消 {code}”到本号码" in texts[0]
    assert client.post(base, json={**BODY, "plate": "渝G30002"}).status_code == 409  # one place, taken

    cancelled = client.post(f"{base}/{reg['id']}/cancel", json={"code": code.lower()})
    assert cancelled.status_code == 200, cancelled.get_json()
    body = cancelled.get_json()
    assert body["status"] == "cancelled" and body["id"] == reg["id"] and "cancel_code" not in body
    [text] = [body for _key, _phone, body in outbox(app, "tour_registration_cancel:")]
    assert text.endswith("已取消11月28日大观镇人民政府前坝子摩托车渝G30001的检验预约。")
    # The place is free for the next owner, and the same plate may register again.
    assert client.post(base, json={**BODY, "plate": "渝G30002"}).status_code == 201
    stops = client.get(f"/api/v1/tours/{tour['id']}", headers=headers).get_json()["stops"]
    assert (stops[0]["registered"], stops[0]["available"]) == (1, 0)


def test_a_wrong_code_is_answered_as_if_there_were_no_such_registration(client, world):
    _tour, base, _headers = world
    reg = _register(client, base)
    wrong = client.post(f"{base}/{reg['id']}/cancel", json={"code": "AAAAAAAA"})
    missing = client.post(f"{base}/999999/cancel", json={"code": reg["cancel_code"]})
    no_code = client.post(f"{base}/{reg['id']}/cancel", json={})
    for response in (wrong, missing, no_code):
        assert response.status_code == 404
    assert wrong.get_json()["message"] == no_code.get_json()["message"]
    # Nothing changed: the place is still taken.
    assert client.post(base, json={**BODY, "plate": "渝G30002"}).status_code == 409


def test_staff_of_the_office_cancel_without_a_code_and_are_named_in_the_audit(app, client, factory, world):
    from sqlalchemy import select

    from vmo.audit.models import AuditEntry
    from vmo.extensions import db

    _tour, base, headers = world
    reg = _register(client, base)
    response = client.post(f"{base}/{reg['id']}/cancel", json={}, headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tour.registration_cancel"))
        assert entry.actor_id is not None and entry.after == {"status": "cancelled", "by": "office"}
    other_office = factory.staff("officer", office=factory.other_office())
    again = _register(client, base, plate="渝G30003")
    assert client.post(f"{base}/{again['id']}/cancel", json={},
                       headers=factory.headers(other_office)).status_code == 404


def test_cancelled_twice_inspected_or_too_late_is_409(app, client, world):
    _tour, base, _headers = world
    reg = _register(client, base)
    url = f"{base}/{reg['id']}/cancel"
    assert client.post(url, json={"code": reg["cancel_code"]}).status_code == 200
    twice = client.post(url, json={"code": reg["cancel_code"]})
    assert twice.status_code == 409 and twice.get_json()["message"] == f"registration {reg['id']} is already cancelled"
    late = _register(client, base, plate="渝G30004")
    app.config["FROZEN_NOW"] = "2026-11-28T09:00:00+08:00"
    response = client.post(f"{base}/{late['id']}/cancel", json={"code": late["cancel_code"]})
    assert response.status_code == 409
    assert response.get_json()["message"] == "the stop has begun; a registration can be cancelled only before it"



@pytest.mark.parametrize("app_config", [{"SMS_HMAC_SECRET": SECRET}])
def test_replying_cancel_and_the_code_to_the_same_number_cancels(app, client, world, app_config):
    tour, base, headers = world
    reg = _register(client, base)
    # From another number, the code does nothing: it goes on as an ordinary reply.
    stranger = post_inbound(client, {"message_id": "m0", "from": "13900000009", "text": f"取消 {reg['cancel_code']}"})
    assert stranger.status_code == 200, stranger.get_json()
    assert client.post(base, json={**BODY, "plate": "渝G30002"}).status_code == 409  # still taken
    # From the owner's phone, full-width space and lower case forgiven: cancelled, the place freed.
    answer = post_inbound(client, {"message_id": "m1", "from": BODY["phone"],
                                   "text": f"取消\u3000{reg['cancel_code'].lower()}"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["outcome"] == "handled"
    rows = client.get(base, headers=headers).get_json()
    assert [(r["id"], r["status"]) for r in rows] == [(reg["id"], "cancelled")]
    assert len(outbox(app, "tour_registration_cancel:")) == 1
    assert client.post(base, json={**BODY, "plate": "渝G30002"}).status_code == 201
