"""Companies are checked before they get anything scarce: sign-up is pending, staff approve or decline,
and a pending company may sign in and submit batches but books, asks for and chooses nothing."""
from datetime import datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.conftest import FROZEN_NOW, make_credit_code
from tests.helpers_fleet import (
    DAY, batch, book, company, get_batch, officer, open_day, pending_company, scheduled_batch, texts_to,
)
from vmo.audit.models import AuditEntry
from vmo.extensions import db

NOW = datetime.fromisoformat(FROZEN_NOW)


def approve(client, staff, company_id, **body):
    return client.post(f"/api/v1/companies/{company_id}/approve", json=body, headers=staff.headers)


def decline(client, staff, company_id, reason="营业执照已注销"):
    return client.post(f"/api/v1/companies/{company_id}/decline", json={"reason": reason}, headers=staff.headers)


def audit_entries(app, action):
    with app.app_context():
        return [(e.actor_username, e.entity_id, e.before, e.after)
                for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                            .order_by(AuditEntry.id))]


# ---- sign-up and the review ------------------------------------------------------------

def test_sign_up_is_pending_and_shows_on_me(client, factory):
    owner = pending_company(factory, name="南川区新锐物流有限公司")
    assert owner.status == "pending"
    me = client.get("/api/v1/me", headers=owner.headers).get_json()["company"]
    assert (me["status"], me["decided_at"], me["decided_by"], me["decline_reason"]) == ("pending", None, None, None)


def test_staff_list_pending_companies_oldest_first(client, factory):
    staff = officer(factory)
    first = pending_company(factory, name="甲公司")
    second = pending_company(factory, name="乙公司")
    company(factory, name="丙公司")  # approved
    listed = client.get("/api/v1/companies?status=pending", headers=staff.headers)
    assert listed.status_code == 200
    assert [(c["id"], c["name"], c["status"]) for c in listed.get_json()] == [
        (first.id, "甲公司", "pending"), (second.id, "乙公司", "pending")]
    everyone = client.get("/api/v1/companies", headers=staff.headers).get_json()
    assert [c["name"] for c in everyone] == ["甲公司", "乙公司", "丙公司"]
    assert client.get("/api/v1/companies?status=maybe", headers=staff.headers).status_code == 422
    assert client.get("/api/v1/companies", headers=first.headers).status_code == 403  # companies are not staff
    one = client.get(f"/api/v1/companies/{first.id}", headers=staff.headers)
    assert one.status_code == 200 and one.get_json()["credit_code"] == first.credit_code


def test_approve_records_who_and_when_texts_the_contact_and_is_audited(app, client, factory):
    staff = officer(factory, badge_number="500123")
    owner = pending_company(factory, name="南川区新锐物流有限公司", contact_phone="13983000007")
    response = approve(client, staff, owner.id, licence_credit_code=owner.credit_code.lower())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["decided_at"], body["decided_by"], body["decline_reason"]) == (
        "approved", "2026-11-25T10:00:00+08:00", "500123", None)
    assert texts_to(app, "13983000007") == ["【南川车管所】南川区新锐物流有限公司：贵单位已通过审核，可预约绿色通道和选择号牌。"]
    assert audit_entries(app, "company.approve") == [(staff.username, str(owner.id), {"status": "pending"}, {
        "status": "approved", "credit_code": owner.credit_code, "licence_checked": True})]
    # Decided once: a second approval (or a decline now) is a 409 and texts nobody again.
    again = approve(client, staff, owner.id)
    assert again.status_code == 409 and again.get_json()["reason"] == "already_approved"
    late = decline(client, staff, owner.id)
    assert late.status_code == 409 and late.get_json()["reason"] == "already_approved"
    assert len(texts_to(app, "13983000007")) == 1


def test_approve_refuses_a_licence_with_another_credit_code(app, client, factory):
    staff = officer(factory)
    owner = pending_company(factory)
    other_code = make_credit_code(factory.rng)
    response = approve(client, staff, owner.id, licence_credit_code=other_code)
    assert response.status_code == 422
    assert response.get_json()["reason"] == "credit_code_mismatch"
    assert other_code in response.get_json()["message"] and owner.credit_code in response.get_json()["message"]
    me = client.get("/api/v1/me", headers=owner.headers).get_json()["company"]
    assert me["status"] == "pending" and audit_entries(app, "company.approve") == []


def test_decline_texts_the_reason_and_the_company_sees_it(app, client, factory):
    staff = officer(factory)
    owner = pending_company(factory, name="南川区新锐物流有限公司", contact_phone="13983000008")
    response = decline(client, staff, owner.id, reason="营业执照已注销")
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["decline_reason"]) == ("declined", "营业执照已注销")
    [text] = texts_to(app, "13983000008")
    assert text == ("【南川车管所】南川区新锐物流有限公司：贵单位注册未通过审核，原因：营业执照已注销。"
                    "请携营业执照原件到南川区车管所办理，咨询电话本所窗口。")
    assert audit_entries(app, "company.decline") == [
        (staff.username, str(owner.id), {"status": "pending"}, {"status": "declined", "reason": "营业执照已注销"})]
    me = client.get("/api/v1/me", headers=owner.headers).get_json()["company"]
    assert (me["status"], me["decline_reason"]) == ("declined", "营业执照已注销")
    # A declined company stays refused, and says why.
    data = batch(client, factory, owner, 1)
    refused = book(client, owner, data["id"])
    assert refused.status_code == 403 and refused.get_json()["reason"] == "company_not_approved"
    assert "营业执照已注销" in refused.get_json()["message"]
    # Declined once; it may still be approved when it brings the right licence (the code is unique: no new sign-up).
    assert decline(client, staff, owner.id).get_json()["reason"] == "already_declined"
    unchecked = approve(client, staff, owner.id)  # a second look needs the licence in hand
    assert unchecked.status_code == 422 and unchecked.get_json()["reason"] == "licence_required"
    approved = approve(client, staff, owner.id, licence_credit_code=owner.credit_code)
    assert approved.status_code == 200
    assert (approved.get_json()["status"], approved.get_json()["decline_reason"]) == ("approved", None)
    open_day(client, staff)
    assert book(client, owner, data["id"]).status_code == 201


def test_decline_needs_a_reason(client, factory):
    staff = officer(factory)
    owner = pending_company(factory)
    for body in ({}, {"reason": ""}, {"reason": "长" * 201}):
        response = client.post(f"/api/v1/companies/{owner.id}/decline", json=body, headers=staff.headers)
        assert response.status_code == 422, body
    assert client.get("/api/v1/me", headers=owner.headers).get_json()["company"]["status"] == "pending"


def test_only_officers_and_supervisors_of_the_office_decide(client, factory):
    owner = pending_company(factory)
    assert approve(client, owner, owner.id).status_code == 403  # a company approving itself
    admin_headers = factory.headers(factory.staff("admin"))  # admins keep accounts; the counter decides
    assert client.post(f"/api/v1/companies/{owner.id}/approve", json={}, headers=admin_headers).status_code == 403
    elsewhere = officer(factory, office=factory.other_office())
    assert approve(client, elsewhere, owner.id).status_code == 404
    assert client.get(f"/api/v1/companies/{owner.id}", headers=elsewhere.headers).status_code == 404
    assert client.get("/api/v1/companies?status=pending", headers=elsewhere.headers).get_json() == []
    supervisor = SimpleNamespace(headers=factory.headers(factory.staff("supervisor")))
    assert approve(client, supervisor, owner.id).status_code == 200


# ---- what a pending company may and may not do -----------------------------------------

def test_pending_company_signs_in_and_submits_but_books_nothing_scarce(app, client, factory):
    """The review's attack: a company nobody checked, invented vehicles (valid check digits), then every
    scarce thing the office gives out. Each is refused with one reason and nothing is held."""
    staff = officer(factory)
    owner = pending_company(factory, name="来历不明汽车服务有限公司")
    data = batch(client, factory, owner, 30)  # submitting is allowed: the office sees what it intends
    assert data["status"] == "submitted" and data["vehicle_count"] == 30
    open_day(client, staff, capacity=30)
    vin = data["vehicles"][0]["vin"]
    refusals = {
        "book": book(client, owner, data["id"]),
        "request": client.post(f"/api/v1/fleet/batches/{data['id']}/green-channel-request",
                               json={"wanted_date": DAY}, headers=owner.headers),
        "plate choices": client.get(f"/api/v1/fleet/vehicles/{vin}/plate-choices", headers=owner.headers),
        "reserve": client.post(f"/api/v1/fleet/vehicles/{vin}/plate", json={"plate": "渝G88888"},
                               headers=owner.headers),
        # An officer acting for it is refused too: the rule is about the company, not who types.
        "officer's plate choices": client.get(f"/api/v1/fleet/vehicles/{vin}/plate-choices", headers=staff.headers),
        "officer's reservation": client.post(f"/api/v1/fleet/vehicles/{vin}/plate", json={"plate": "渝G66666"},
                                             headers=staff.headers),
    }
    for name, response in refusals.items():
        assert response.status_code == 403, (name, response.get_json())
        assert response.get_json()["reason"] == "company_not_approved", name
        assert "waiting for the office to check its business licence" in response.get_json()["message"], name
    # Nothing was held: the day is still empty, no request waits, no plate is held or reserved.
    day = client.get(f"/api/v1/green-channel/days/{DAY}").get_json()
    assert (day["booked"], day["available"]) == (0, 30)
    assert client.get("/api/v1/green-channel/requests", headers=staff.headers).get_json() == []
    from vmo.fleet.models import PlatePool

    with app.app_context():
        assert db.session.scalar(select(PlatePool.id).where(
            (PlatePool.held_for_id.is_not(None)) | (PlatePool.reserved_for_id.is_not(None)))) is None
    assert get_batch(client, owner, data["id"])["status"] == "submitted"


def test_approval_opens_the_scarce_actions(client, factory):
    staff = officer(factory)
    owner = pending_company(factory)
    data = batch(client, factory, owner, 2)
    open_day(client, staff)
    assert book(client, owner, data["id"]).status_code == 403
    assert approve(client, staff, owner.id, licence_credit_code=owner.credit_code).status_code == 200
    assert book(client, owner, data["id"]).status_code == 201
    vin = data["vehicles"][0]["vin"]
    assert client.get(f"/api/v1/fleet/vehicles/{vin}/plate-choices", headers=owner.headers).status_code == 200


@pytest.mark.parametrize("action", ["move", "grant"])
def test_the_check_guards_moves_and_grants_too(app, client, factory, action):
    """A company whose approval is withdrawn in the database (say, a licence revoked) moves no appointment,
    and no request of it is granted: the check is in every path that takes places."""
    staff = officer(factory)
    owner = company(factory)
    data = scheduled_batch(client, factory, owner, staff) if action == "move" else batch(client, factory, owner, 1)
    if action == "grant":
        requested = client.post(f"/api/v1/fleet/batches/{data['id']}/green-channel-request",
                                json={"wanted_date": DAY}, headers=owner.headers)
        assert requested.status_code == 201
    from vmo.accounts.models import Company

    with app.app_context():
        db.session.get(Company, owner.id).status = "pending"
        db.session.commit()
    if action == "move":
        response = client.patch(f"/api/v1/fleet/batches/{data['id']}/appointment", json={"date": "2026-11-30"},
                                headers=owner.headers)
    else:
        response = client.post(f"/api/v1/green-channel/requests/{requested.get_json()['id']}/grant",
                               json={"date": DAY, "arrive_from": "12:00", "arrive_until": "20:00"},
                               headers=staff.headers)
    assert response.status_code == 403 and response.get_json()["reason"] == "company_not_approved"


def test_two_officers_deciding_at_once_decide_once(app, client, factory):
    """An approval and a decline racing: one conditional UPDATE decides; the other is a 409, one text goes out."""
    from tests.test_fleet_race import _together

    first, second = officer(factory), officer(factory)
    for n in range(4):
        owner = pending_company(factory, contact_phone=f"1398300010{n}")
        approved, declined = _together(
            lambda: approve(app.test_client(), first, owner.id),
            lambda: decline(app.test_client(), second, owner.id))
        # The approval either decides first, or meets the decision (409) or the decline it did not see (422).
        codes = sorted((approved.status_code, declined.status_code))
        assert codes in ([200, 409], [200, 422]), (approved.get_json(), declined.get_json())
        winner = approved if approved.status_code == 200 else declined
        status = client.get(f"/api/v1/companies/{owner.id}", headers=first.headers).get_json()["status"]
        assert status == winner.get_json()["status"]
        assert len(texts_to(app, f"1398300010{n}")) == 1
