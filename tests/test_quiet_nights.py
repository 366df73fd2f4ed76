"""Quiet nights: no text between 21:00 and 08:00 office time but one-time codes; the morning's spread."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.helpers_exams import long_token_config, officer, officer_headers  # noqa: F401  (fixtures)
from tests.helpers_exams import book, candidate, create_session, enter_permit, set_now
from vmo.extensions import db
from vmo.notify.quiet import QuietHours

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def app_config(long_token_config):
    return long_token_config


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(SHANGHAI)


def _messages(app, kind):
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        return [(m.status, m.not_before and m.not_before.astimezone(SHANGHAI))
                for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                            .order_by(OutboxMessage.id))]


# ---- the rule ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("moment, quiet", [
    ("2026-11-25T20:59:59+08:00", False),
    ("2026-11-25T21:00:00+08:00", True),
    ("2026-11-25T23:00:00+08:00", True),
    ("2026-11-26T00:00:00+08:00", True),
    ("2026-11-26T07:59:59+08:00", True),
    ("2026-11-26T08:00:00+08:00", False),
    ("2026-11-25T13:00:00Z", True),  # 21:00 in office time, whatever the server's zone
])
def test_the_quiet_hours_are_21_to_8_office_time(moment, quiet):
    assert QuietHours().is_quiet(_local(moment)) is quiet


def test_a_text_in_the_night_waits_for_its_stable_moment_in_the_first_hour_of_the_morning():
    rule = QuietHours()
    at_23 = rule.not_before("exam:result:1", "exam_result", _local("2026-11-25T23:00:00+08:00"), SHANGHAI)
    after_midnight = rule.not_before("exam:result:1", "exam_result", _local("2026-11-26T02:00:00+08:00"), SHANGHAI)
    assert at_23 == after_midnight  # the same key: the same moment, whenever in the night it was queued
    morning = datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI)
    assert morning <= at_23 < morning + timedelta(hours=1)
    assert at_23.tzinfo == timezone.utc
    # The day's texts go at once; a code goes at once in the night.
    assert rule.not_before("exam:result:1", "exam_result", _local("2026-11-25T20:59:00+08:00"), SHANGHAI) is None
    assert rule.not_before("candidate_code:1:ab", "candidate_code", _local("2026-11-25T23:00:00+08:00"),
                           SHANGHAI) is None


def test_a_nights_texts_are_spread_over_the_window_not_sent_in_one_second():
    rule = QuietHours()
    night = _local("2026-11-25T23:00:00+08:00")
    moments = [rule.not_before(f"tour_invite:{n}", "tour_invite", night, SHANGHAI) for n in range(200)]
    morning = datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI)
    assert all(morning <= m < morning + timedelta(minutes=60) for m in moments)
    per_minute = {}
    for m in moments:
        per_minute[m.replace(second=0)] = per_minute.get(m.replace(second=0), 0) + 1
    assert len(per_minute) > 40 and max(per_minute.values()) < 15
    assert all(m == morning for m in (QuietHours(spread_minutes=0).not_before(f"k{n}", "x", night, SHANGHAI)
                                      for n in range(5)))


def test_quiet_hours_that_do_not_cross_midnight_and_none_at_all():
    noon = QuietHours(start=time(12, 0), end=time(14, 0), spread_minutes=0)
    assert noon.is_quiet(_local("2026-11-25T13:00:00+08:00"))
    assert not noon.is_quiet(_local("2026-11-25T23:00:00+08:00"))
    assert noon.not_before("k", "x", _local("2026-11-25T12:30:00+08:00"), SHANGHAI) == datetime(
        2026, 11, 25, 14, 0, tzinfo=SHANGHAI)
    assert not QuietHours(start=time(8, 0), end=time(8, 0)).is_quiet(_local("2026-11-25T23:00:00+08:00"))


# ---- through the outbox -----------------------------------------------------------------------------

def _result_keyed_at_23(app, client, factory, officer_headers):
    session = create_session(client, officer_headers, subject=2)
    cand, headers = candidate(factory, phone="13900000021")
    enter_permit(client, officer_headers, cand["id"], date(2026, 9, 1))
    booking = book(client, session["id"], headers).get_json()
    set_now(app, "2026-11-28T23:00:00+08:00")
    response = client.post(f"/api/v1/test-sessions/{session['id']}/outcomes", headers=officer_headers,
                           json={"results": [{"booking_id": booking["id"], "outcome": "passed", "score": 90}]})
    assert response.status_code == 200, response.get_json()


def test_a_result_keyed_at_23_is_sent_the_next_morning(app, client, runner, factory, officer_headers):
    _result_keyed_at_23(app, client, factory, officer_headers)
    [(status, not_before)] = _messages(app, "exam_result")
    [(_, follow_up_not_before)] = _messages(app, "follow_up")
    morning = datetime(2026, 11, 29, 8, 0, tzinfo=SHANGHAI)
    assert status == "pending" and morning <= not_before < morning + timedelta(hours=1)
    assert morning <= follow_up_not_before < morning + timedelta(hours=1)
    # The worker in the night sends nothing of it (the day's texts queued before 21:00 wait too) ...
    for moment in ("2026-11-28T23:00:00+08:00", "2026-11-29T07:59:59+08:00",
                   (not_before - timedelta(seconds=1)).isoformat()):
        set_now(app, moment)
        assert runner.invoke(args=["sms", "send"]).exit_code == 0
        assert [s for s, _ in _messages(app, "exam_result")] == ["pending"]
    # ... and at its moment in the morning sends it.
    set_now(app, not_before.isoformat())
    assert runner.invoke(args=["sms", "send"]).exit_code == 0
    assert [s for s, _ in _messages(app, "exam_result")] == ["sent"]
    set_now(app, "2026-11-29T09:00:00+08:00")
    assert runner.invoke(args=["sms", "send"]).exit_code == 0
    assert [s for s, _ in _messages(app, "follow_up")] == ["sent"]


def test_the_outbox_list_shows_not_before_to_staff(app, client, factory, officer_headers):
    _result_keyed_at_23(app, client, factory, officer_headers)
    listed = client.get("/api/v1/sms/outbox", headers=officer_headers, query_string={"kind": "exam_result"})
    [message] = listed.get_json()
    assert datetime.fromisoformat(message["not_before"]).utcoffset() == timedelta(hours=8)  # office time
    assert message["not_before"].startswith("2026-11-29T08:")


def test_a_sign_up_code_at_23_goes_at_once(app, client, runner, factory):
    set_now(app, "2026-11-25T23:00:00+08:00")
    factory.candidate(username="night-owl")  # the code it signs up with is read from the outbox
    assert _messages(app, "candidate_code") == [("pending", None)]
    assert "sent 1," in runner.invoke(args=["sms", "send"]).output
    assert [s for s, _ in _messages(app, "candidate_code")] == ["sent"]


def test_a_text_due_in_the_night_from_the_day_waits_for_the_morning_too(app, client, runner, factory):
    from vmo.notify import services as notify
    from vmo.offices.services import get_office

    set_now(app, "2026-11-25T20:50:00+08:00")
    with app.app_context():
        notify.queue(get_office(factory.office).id, "13900000031", "明天见", kind="tour_change", key="evening:1")
        db.session.commit()
    assert _messages(app, "tour_change") == [("pending", None)]
    # The worker was down until 21:10: the day's text is now due in the quiet hours and waits.
    set_now(app, "2026-11-25T21:10:00+08:00")
    result = runner.invoke(args=["sms", "send"])
    assert "sent 0," in result.output and "held for the morning 1" in result.output, result.output
    [(status, not_before)] = _messages(app, "tour_change")
    assert status == "pending" and datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI) <= not_before
    set_now(app, "2026-11-26T09:00:00+08:00")
    assert "sent 1," in runner.invoke(args=["sms", "send"]).output


def test_quiet_hours_are_settings_checked_at_start(app):
    from vmo import settings
    from vmo.notify.settings import SmsSettings

    with pytest.raises(settings.SettingError, match="VMO_SMS_QUIET_FROM"):
        settings.load(SmsSettings, {"SMS_QUIET_FROM": "25:00"})
    loaded = settings.load(SmsSettings, {"SMS_QUIET_FROM": "22:30", "SMS_QUIET_SPREAD_MINUTES": "30"})
    assert loaded.quiet == QuietHours(start=time(22, 30), end=time(8, 0), spread_minutes=30)
