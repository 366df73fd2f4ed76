"""Mailing (邮寄服务): staff record and close mailings, a company asks for its batch's plates and papers."""
import logging

import pytest

from tests.helpers_fleet import batch, company, completed_batch, officer, texts_to
from vmo.http.logs import RedactingFormatter

ADDRESS = "重庆市南川区东城街道金佛大道38号"
BODY = {"recipient": "李建国", "phone": "13983000002", "address": ADDRESS, "items": ["号牌", "行驶证"],
        "tracking_number": "1187654321098"}
SENT_TEXT = "【南川车管所】您的车管所邮件已由EMS寄出，运单号1187654321098，请留意查收。"


def _post(client, staff, **overrides):
    return client.post("/api/v1/mailings", json={**BODY, **overrides}, headers=staff.headers)


def _list(client, staff, **query):
    response = client.get("/api/v1/mailings", headers=staff.headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _patch(client, staff, mailing_id, **body):
    return client.patch(f"/api/v1/mailings/{mailing_id}", json=body, headers=staff.headers)


def test_a_mailing_is_recorded_texted_in_one_segment_and_delivered(app, client, factory):
    staff = officer(factory)
    response = _post(client, staff)
    assert response.status_code == 201, response.get_json()
    mailing = response.get_json()
    assert mailing == {
        "id": mailing["id"], "case": None, "recipient": "李建国", "phone": "139****0002", "address": ADDRESS,
        "items": ["号牌", "行驶证"], "carrier": "EMS", "tracking_number": "1187654321098", "status": "sent",
        "created_at": "2026-11-25T10:00:00+08:00", "sent_at": "2026-11-25T10:00:00+08:00", "closed_at": None}
    assert texts_to(app, "13983000002") == [SENT_TEXT]
    assert len(SENT_TEXT) <= 70  # one segment, signature included
    assert _list(client, staff) == [mailing] and _list(client, staff, status="delivered") == []
    delivered = _patch(client, staff, mailing["id"], status="delivered")
    assert delivered.status_code == 200, delivered.get_json()
    assert (delivered.get_json()["status"], delivered.get_json()["closed_at"]) == (
        "delivered", "2026-11-25T10:00:00+08:00")
    again = _patch(client, staff, mailing["id"], status="returned")
    assert again.status_code == 409 and again.get_json()["reason"] == "not_sent"
    assert [m["status"] for m in _list(client, staff, status="delivered")] == ["delivered"]


def test_another_carrier_and_a_returned_mailing(app, client, factory):
    staff = officer(factory)
    mailing = _post(client, staff, carrier="顺丰速运", tracking_number="sf1234567890").get_json()
    assert (mailing["carrier"], mailing["tracking_number"]) == ("顺丰速运", "SF1234567890")
    assert texts_to(app, "13983000002") == ["【南川车管所】您的车管所邮件已由顺丰速运寄出，运单号SF1234567890，请留意查收。"]
    assert _patch(client, staff, mailing["id"], status="returned").get_json()["status"] == "returned"


@pytest.mark.parametrize("address, missing", [
    ("重庆市南川区", ["the street and number are missing (e.g. 某某路12号, 某某镇某某村3组)"]),
    ("南川区东城街道金佛大道38号", ["the province is missing (省, 自治区, or a city such as 重庆市)",
                                  "the city is missing (市, 自治州, 地区 or 盟)"]),
    ("四川省成都市人民南路四段12号", ["the district or county is missing (区, 县 or 旗)"]),
    ("四川省武侯区人民南路12号", ["the city is missing (市, 自治州, 地区 or 盟)"]),
])
def test_an_address_missing_a_part_is_refused_saying_which_and_nothing_is_written(
        app, client, factory, address, missing):
    staff = officer(factory)
    response = _post(client, staff, address=address)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"address": ["; ".join(missing)]}}
    assert _list(client, staff) == [] and texts_to(app, "13983000002") == []


@pytest.mark.parametrize("address", ["四川省成都市武侯区人民南路四段12号", "广西壮族自治区南宁市青秀区民族大道100号",
                                     "四川省阿坝藏族羌族自治州汶川县威州镇1号", "重庆市石柱土家族自治县南宾街道 1 号"])
def test_complete_addresses_of_every_shape_are_taken(client, factory, address):
    response = _post(client, officer(factory), address=address)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["address"] == address.replace(" ", "")


@pytest.mark.parametrize("overrides, field", [
    ({"tracking_number": "12-34"}, "tracking_number"), ({"items": []}, "items"), ({"phone": "12345"}, "phone"),
    ({"carrier": "一二三四五六七八九十一"}, "carrier"), ({"recipient": ""}, "recipient"),
])
def test_bad_fields_are_refused(client, factory, overrides, field):
    response = _post(client, officer(factory), **overrides)
    assert response.status_code == 422 and list(response.get_json()["errors"]["json"]) == [field]


def test_only_staff_record_and_list_mailings(client, factory):
    owner = company(factory)
    assert client.post("/api/v1/mailings", json=BODY).status_code == 401
    assert client.post("/api/v1/mailings", json=BODY, headers=owner.headers).status_code == 403
    assert client.get("/api/v1/mailings", headers=owner.headers).status_code == 403
    mailing = _post(client, officer(factory)).get_json()
    stranger = officer(factory, office=factory.other_office())
    assert _list(client, stranger) == []
    assert _patch(client, stranger, mailing["id"], status="delivered").status_code == 404


def test_a_patch_says_what_it_changes(client, factory):
    staff = officer(factory)
    mailing = _post(client, staff).get_json()
    assert _patch(client, staff, mailing["id"]).status_code == 422
    both = _patch(client, staff, mailing["id"], status="delivered", tracking_number="1187654321099")
    assert both.status_code == 422 and list(both.get_json()["errors"]["json"]) == ["tracking_number"]
    no_number = _patch(client, staff, mailing["id"], status="sent")
    assert no_number.status_code == 422 and list(no_number.get_json()["errors"]["json"]) == ["tracking_number"]
    assert _patch(client, staff, mailing["id"], status="lost").status_code == 422
    posted_again = _patch(client, staff, mailing["id"], status="sent", tracking_number="1187654321099")
    assert posted_again.status_code == 409 and posted_again.get_json()["reason"] == "not_requested"


def test_the_full_number_for_the_waybill_is_revealed_to_staff_of_the_office_and_audited(app, client, factory):
    staff = officer(factory)
    mailing = _post(client, staff).get_json()
    revealed = client.post("/api/v1/phones/reveal", json={"case": {"type": "mailing", "id": mailing["id"]}},
                           headers=staff.headers)
    assert revealed.status_code == 200, revealed.get_json()
    assert revealed.get_json() == {"case": {"type": "mailing", "id": str(mailing["id"])}, "phone": "13983000002"}
    entries = client.get("/api/v1/audit?entity=mailing", headers=staff.headers).get_json()
    assert [e["action"] for e in entries].count("phone.reveal") == 1
    other = officer(factory, office=factory.other_office())
    assert client.post("/api/v1/phones/reveal", json={"case": {"type": "mailing", "id": mailing["id"]}},
                       headers=other.headers).status_code == 404


# ---- cases: a finished fleet batch ------------------------------------------------------------------

def test_a_finished_batch_is_mailed_once_at_a_time(app, client, factory):
    owner, staff = company(factory), officer(factory)
    unfinished = batch(client, factory, owner, 1)
    refused = _post(client, staff, case={"type": "fleet_batch", "id": unfinished["id"]})
    assert refused.status_code == 409 and refused.get_json()["reason"] == "not_finished"
    done = completed_batch(client, factory, owner, staff)
    first = _post(client, staff, case={"type": "fleet_batch", "id": done["id"]})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["case"] == {"type": "fleet_batch", "id": done["id"]}
    second = _post(client, staff, case={"type": "fleet_batch", "id": done["id"]})
    assert second.status_code == 409 and second.get_json()["reason"] == "mailing_under_way"
    _patch(client, staff, first.get_json()["id"], status="returned")
    assert _post(client, staff, case={"type": "fleet_batch", "id": done["id"]}).status_code == 201  # sent again


def test_a_case_must_be_known_and_in_the_office(client, factory):
    staff = officer(factory)
    unknown = _post(client, staff, case={"type": "parcel", "id": 1})
    assert unknown.status_code == 422 and unknown.get_json()["reason"] == "case_type"
    assert unknown.get_json()["errors"] == {"json": {"case": {"type": ["one of fleet_batch, tour_inspection"]}}}
    assert _post(client, staff, case={"type": "fleet_batch", "id": 999}).status_code == 404
    assert _post(client, staff, case={"type": "tour_inspection", "id": 999}).status_code == 404
    other = officer(factory, office=factory.other_office())
    done = completed_batch(client, factory, company(factory), staff)
    assert _post(client, other, case={"type": "fleet_batch", "id": done["id"]}).status_code == 404


# ---- a company asks for its batch's plates and papers ---------------------------------------------

def test_a_company_asks_for_its_batch_by_post_and_the_office_posts_it(app, client, factory):
    owner, staff = company(factory), officer(factory)
    own = batch(client, factory, owner, 1)
    url = f"/api/v1/fleet/batches/{own['id']}/mailing"
    assert client.get(url, headers=owner.headers).status_code == 404  # nothing asked yet
    body = {"recipient": "张经理", "phone": "13883000001", "address": ADDRESS}
    response = client.post(url, json=body, headers=owner.headers)
    assert response.status_code == 201, response.get_json()
    requested = response.get_json()
    assert requested == {
        "id": requested["id"], "case": {"type": "fleet_batch", "id": own["id"]}, "recipient": "张经理",
        "phone": "138****0001", "address": ADDRESS, "items": ["号牌", "行驶证", "机动车登记证书"], "carrier": None,
        "tracking_number": None, "status": "requested", "created_at": "2026-11-25T10:00:00+08:00", "sent_at": None,
        "closed_at": None}
    assert texts_to(app, "13883000001") == []  # nothing is posted yet
    again = client.post(url, json=body, headers=owner.headers)
    assert again.status_code == 409 and again.get_json()["reason"] == "mailing_under_way"
    assert [m["status"] for m in _list(client, staff, status="requested")] == ["requested"]
    # A requested mailing is not delivered before it is posted.
    assert _patch(client, staff, requested["id"], status="delivered").get_json()["reason"] == "not_sent"
    posted = _patch(client, staff, requested["id"], status="sent", tracking_number="1187654321098")
    assert posted.status_code == 200, posted.get_json()
    assert (posted.get_json()["status"], posted.get_json()["carrier"]) == ("sent", "EMS")
    assert texts_to(app, "13883000001") == [SENT_TEXT]
    seen = client.get(url, headers=owner.headers).get_json()
    assert (seen["status"], seen["tracking_number"]) == ("sent", "1187654321098")
    assert client.get(url, headers=staff.headers).status_code == 200


def test_only_the_owner_company_asks_for_a_batch(client, factory):
    owner, other, staff = company(factory), company(factory), officer(factory)
    own = batch(client, factory, owner, 1)
    url = f"/api/v1/fleet/batches/{own['id']}/mailing"
    body = {"recipient": "张经理", "phone": "13883000001", "address": ADDRESS}
    assert client.post(url, json=body, headers=other.headers).status_code == 404
    assert client.get(url, headers=other.headers).status_code == 404
    assert client.post(url, json=body, headers=staff.headers).status_code == 403
    assert client.post("/api/v1/fleet/batches/999/mailing", json=body, headers=owner.headers).status_code == 404
    bad = client.post(url, json={**body, "address": "成都市武侯区"}, headers=owner.headers)
    assert bad.status_code == 422 and list(bad.get_json()["errors"]["json"]) == ["address"]


# ---- kept out of logs --------------------------------------------------------------------------------

def test_addresses_are_kept_out_of_the_logs(app):
    formatter = RedactingFormatter("%(message)s")

    def formatted(message, *args):
        return formatter.format(logging.LogRecord("vmo", logging.INFO, __file__, 1, message, args, None))

    assert formatted("mailing to %s", ADDRESS) == "mailing to 重庆市南川区****"
    assert formatted("{'address': '四川省成都市武侯区人民南路四段12号3栋'}") == "{'address': '四川省成都市武侯区****'}"
    # The office's own name is no address: it stays readable.
    assert formatted("office 重庆市南川区公安局交通巡逻警察支队车辆管理所") == "office 重庆市南川区公安局交通巡逻警察支队车辆管理所"
