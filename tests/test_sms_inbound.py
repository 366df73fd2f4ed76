"""The SMS gateway's webhook: signatures, one count per message_id, matching replies, opt-out."""
from datetime import datetime, timedelta

import pytest

from tests.conftest import FROZEN_NOW
from tests.helpers_followup import NOW_TS, SECRET, post_inbound, queue_follow_up

NOW = datetime.fromisoformat(FROZEN_NOW)
PHONE = "13800138000"


@pytest.fixture
def app_config():
    return {"SMS_HMAC_SECRET": SECRET}


def _answers(app):
    from sqlalchemy import select

    from vmo.extensions import db
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        return {m.subject_id: (m.answer, m.replied_at is not None)
                for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "follow_up"))}


def _count(app, model):
    from sqlalchemy import func, select

    from vmo.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# ---- signatures --------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["unsigned", "bad_signature", "wrong_secret", "old", "future", "garbage_ts"])
def test_unsigned_badly_signed_or_stale_requests_are_401_and_change_nothing(app, client, factory, case):
    from vmo.followup.models import InboundMessage

    queue_follow_up(app, PHONE, None, 1, office=factory.office, sent_at=NOW - timedelta(hours=1))
    payload = {"message_id": "m1", "from": PHONE, "text": "2"}
    if case == "unsigned":
        response = post_inbound(client, payload, sign=False)
    elif case == "bad_signature":
        response = client.post("/api/v1/sms/inbound", json=payload,
                               headers={"X-Timestamp": str(NOW_TS), "X-Signature": "ab" * 32})
    elif case == "wrong_secret":
        response = post_inbound(client, payload, secret="not-the-secret")
    elif case == "old":
        response = post_inbound(client, payload, timestamp=NOW_TS - 301)
    elif case == "future":
        response = post_inbound(client, payload, timestamp=NOW_TS + 301)
    else:
        response = client.post("/api/v1/sms/inbound", json=payload,
                               headers={"X-Timestamp": "yesterday", "X-Signature": "00"})
    assert response.status_code == 401
    body = response.get_json()
    assert (body["code"], body["status"]) == (401, "Unauthorized")
    assert _count(app, InboundMessage) == 0
    assert _answers(app) == {1: (None, False)}


def test_a_signature_over_a_different_body_is_refused(client, factory):
    import json

    from tests.helpers_followup import signature

    body = json.dumps({"message_id": "m1", "from": PHONE, "text": "1"}).encode()
    tampered = body.replace(b'"1"', b'"2"')
    response = client.post("/api/v1/sms/inbound", data=tampered, content_type="application/json",
                           headers={"X-Timestamp": str(NOW_TS), "X-Signature": signature(body, str(NOW_TS))})
    assert response.status_code == 401


def test_a_fresh_good_signature_is_accepted_within_five_minutes(app, client, factory):
    queue_follow_up(app, PHONE, None, 1, office=factory.office, sent_at=NOW - timedelta(hours=1))
    response = post_inbound(client, {"message_id": "m1", "from": PHONE, "text": "1"}, timestamp=NOW_TS - 299)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"message_id": "m1", "outcome": "satisfied", "duplicate": False,
                                   "reason": None, "follow_up_id": 1, "case": {"type": "fleet_vehicle", "id": 1},
                                   "escalation_id": None}


def test_signed_but_malformed_body_is_422(client, factory):
    response = post_inbound(client, {"message_id": "m1", "text": "1"})
    assert response.status_code == 422
    assert "from" in response.get_json()["errors"]["json"]
    response = post_inbound(client, {"message_id": "m2", "from": "12345", "text": "1"})
    assert response.status_code == 422
    assert "from" in response.get_json()["errors"]["json"]


# ---- counting once -----------------------------------------------------------------------

def test_the_same_message_id_twice_counts_once(app, client, factory):
    from vmo.followup.models import Escalation, InboundMessage

    queue_follow_up(app, PHONE, factory.staff().id, 1, office=factory.office, sent_at=NOW - timedelta(hours=1))
    first = post_inbound(client, {"message_id": "gw-1", "from": PHONE, "text": "2"})
    again = post_inbound(client, {"message_id": "gw-1", "from": PHONE, "text": "2"})
    assert first.status_code == again.status_code == 200
    assert first.get_json()["duplicate"] is False and again.get_json()["duplicate"] is True
    assert {k: v for k, v in again.get_json().items() if k != "duplicate"} == \
        {k: v for k, v in first.get_json().items() if k != "duplicate"}
    assert _count(app, InboundMessage) == 1
    assert _count(app, Escalation) == 1


# ---- matching ----------------------------------------------------------------------------

def test_reply_goes_to_the_latest_open_follow_up_of_that_number(app, client, factory):
    officer = factory.staff()
    queue_follow_up(app, PHONE, officer.id, 1, office=factory.office, sent_at=NOW - timedelta(days=3))
    queue_follow_up(app, PHONE, officer.id, 2, office=factory.office, sent_at=NOW - timedelta(days=1))
    queue_follow_up(app, "13900139000", officer.id, 3, office=factory.office, sent_at=NOW - timedelta(hours=1))
    # Not sent yet: the person cannot be answering it.
    queue_follow_up(app, PHONE, officer.id, 4, office=factory.office)

    r1 = post_inbound(client, {"message_id": "a", "from": PHONE, "text": "１"})  # full-width digit
    assert (r1.get_json()["outcome"], r1.get_json()["case"]) == ("satisfied", {"type": "fleet_vehicle", "id": 2})
    # Case 2 is answered: the next verdict goes to the older open one.
    r2 = post_inbound(client, {"message_id": "b", "from": "+86 138 0013 8000", "text": " 2 "})
    assert (r2.get_json()["outcome"], r2.get_json()["case"]["id"]) == ("dissatisfied", 1)
    assert _answers(app) == {1: ("dissatisfied", True), 2: ("satisfied", True), 3: (None, False), 4: (None, False)}


def test_other_text_is_kept_as_a_comment_and_leaves_the_follow_up_open(app, client, factory):
    from vmo.followup.models import InboundMessage

    queue_follow_up(app, PHONE, None, 1, office=factory.office, sent_at=NOW - timedelta(hours=2))
    comment = post_inbound(client, {"message_id": "c", "from": PHONE, "text": "窗口排队太久了"})
    assert comment.status_code == 200
    assert (comment.get_json()["outcome"], comment.get_json()["follow_up_id"]) == ("comment", 1)
    assert _answers(app) == {1: (None, True)}
    verdict = post_inbound(client, {"message_id": "d", "from": PHONE, "text": "1"})
    assert verdict.get_json()["outcome"] == "satisfied"
    with app.app_context():
        from vmo.extensions import db
        kept = db.session.get(InboundMessage, 1)
        assert (kept.text, kept.outcome) == ("窗口排队太久了", "comment")


def test_a_reply_with_nothing_to_answer_is_unmatched(app, client, factory):
    queue_follow_up(app, PHONE, None, 1, office=factory.office, sent_at=NOW - timedelta(days=45))
    response = post_inbound(client, {"message_id": "e", "from": PHONE, "text": "2"})
    assert response.status_code == 200
    assert response.get_json() == {"message_id": "e", "outcome": "unmatched", "duplicate": False,
                                   "reason": None, "follow_up_id": None, "case": None, "escalation_id": None}
    assert _answers(app) == {1: (None, False)}  # older than FOLLOW_UP_REPLY_DAYS: left alone


def test_td_opts_the_number_out_and_later_messages_are_not_sent(app, client, runner, factory):
    from vmo.extensions import db
    from vmo.notify import services as notify
    from vmo.notify.models import OutboxMessage
    from vmo.offices.services import get_office

    queue_follow_up(app, PHONE, None, 1, office=factory.office, sent_at=NOW - timedelta(hours=2))
    with app.app_context():
        office_id = get_office(factory.office).id
        notify.queue(office_id, PHONE, "waiting reminder", kind="reminder", key="reminder:1")
        db.session.commit()
    response = post_inbound(client, {"message_id": "td", "from": PHONE, "text": "td"})
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "opted_out"
    with app.app_context():
        notify.queue(office_id, PHONE, "tour invitation", kind="invitation", key="invitation:1")
        notify.queue(office_id, "13900139000", "someone else", kind="invitation", key="invitation:2")
        db.session.commit()
    result = runner.invoke(args=["sms", "send"])
    assert "sent 1" in result.output
    with app.app_context():
        from sqlalchemy import select
        statuses = dict(db.session.execute(select(OutboxMessage.key, OutboxMessage.status)).all())
    assert statuses == {"follow_up:fleet_vehicle:1": "sent", "reminder:1": "opted_out",
                        "invitation:1": "opted_out", "invitation:2": "sent"}
    # 退订 works too, and opting out twice is harmless.
    again = post_inbound(client, {"message_id": "td2", "from": PHONE, "text": "退订"})
    assert (again.status_code, again.get_json()["outcome"]) == (200, "opted_out")


# ---- words, reasons, handlers ------------------------------------------------------------

@pytest.mark.parametrize("text, outcome, reason", [
    ("1", "satisfied", None), ("１", "satisfied", None), ("满意", "satisfied", None),
    ("非常满意", "satisfied", None), ("好", "satisfied", None), (" 满 意 ", "satisfied", None),
    ("满意，办得快", "satisfied", "办得快"),
    ("2", "dissatisfied", None), ("２", "dissatisfied", None), ("不满意", "dissatisfied", None),
    ("很不满意", "dissatisfied", None), ("差", "dissatisfied", None),
    ("不满意，排队太久", "dissatisfied", "排队太久"), ("2 窗口人太少", "dissatisfied", "窗口人太少"),
    ("２，等了两个小时", "dissatisfied", "等了两个小时"), ("不太满意。停车难", "dissatisfied", "停车难"),
    ("12", "comment", None), ("1号窗口的民警很耐心", "comment", None), ("有点慢", "comment", None),
])
def test_replies_in_words_with_their_reason(app, client, factory, text, outcome, reason):
    queue_follow_up(app, PHONE, factory.staff().id, 1, office=factory.office, sent_at=NOW - timedelta(hours=1))
    response = post_inbound(client, {"message_id": "w", "from": PHONE, "text": text})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["outcome"], body["reason"], body["follow_up_id"]) == (outcome, reason, 1)
    assert (body["escalation_id"] is not None) == (outcome == "dissatisfied")


def test_a_complaint_is_acknowledged_once_in_chinese(app, client, factory):
    from tests.helpers_tours import outbox

    queue_follow_up(app, PHONE, factory.staff().id, 1, office=factory.office, sent_at=NOW - timedelta(hours=1))
    post_inbound(client, {"message_id": "k1", "from": PHONE, "text": "不满意，排队太久"})
    post_inbound(client, {"message_id": "k2", "from": PHONE, "text": "2"})  # nothing open any more: a comment
    assert [(m[1], m[2]) for m in outbox(app, "follow_up_ack:")] == [(PHONE, "【南川车管所】您的意见已收到，经办民警和分管负责人将尽快与您联系。")]


def test_reply_handlers_see_the_text_first_and_once(app, client, factory):
    from vmo.followup.models import InboundMessage

    seen = []

    def cancel_code(phone, text, now):
        seen.append((phone, text, now.isoformat()))
        return text.startswith("取消")

    app.extensions["vmo.sms_reply_handlers"].append(cancel_code)
    queue_follow_up(app, PHONE, None, 1, office=factory.office, sent_at=NOW - timedelta(hours=1))
    taken = post_inbound(client, {"message_id": "h1", "from": PHONE, "text": "取消 K7Q2P9"})
    again = post_inbound(client, {"message_id": "h1", "from": PHONE, "text": "取消 K7Q2P9"})
    assert taken.get_json() == {"message_id": "h1", "outcome": "handled", "duplicate": False, "reason": None,
                                "follow_up_id": None, "case": None, "escalation_id": None}
    assert again.get_json()["duplicate"] is True
    assert seen == [(PHONE, "取消 K7Q2P9", seen[0][2])] and datetime.fromisoformat(seen[0][2]) == NOW
    assert _answers(app) == {1: (None, False)}  # the follow-up is left for the verdict
    verdict = post_inbound(client, {"message_id": "h2", "from": PHONE, "text": "1"})
    assert (verdict.get_json()["outcome"], len(seen)) == ("satisfied", 2)
    assert _count(app, InboundMessage) == 2
