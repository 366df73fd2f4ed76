"""Calendars: a booking as iCalendar, the public sessions feed and a candidate's secret feed, read by vobject."""
from datetime import date, datetime, timedelta, timezone

import icalendar
import pytest
import recurring_ical_events
import vobject

from tests.helpers_exams import SATURDAY, SUNDAY, candidate, create_session, local

SHANGHAI_OFFSET = timedelta(hours=8)


@pytest.fixture
def app_config():
    return {"TOKEN_TTL_HOURS": 24 * 30}


@pytest.fixture
def officer_headers(factory):
    return factory.headers(factory.staff("officer"))


@pytest.fixture
def session(client, officer_headers):
    return create_session(client, officer_headers, subject=1, capacity=5, venue="南川区考试中心 科目一理论考场")


def parse(response):
    """vobject: an independent parser, not the library that wrote the calendar."""
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return vobject.readOne(response.get_data(as_text=True))


def booked(client, factory, session):
    _, headers = candidate(factory)
    response = client.post(f"/api/v1/test-sessions/{session['id']}/bookings", headers=headers)
    assert response.status_code == 201
    return response.get_json(), headers


def test_a_booking_as_an_icalendar_event(client, factory, session):
    booking, headers = booked(client, factory, session)
    response = client.get(f"/api/v1/bookings/{booking['id']}/calendar.ics", headers=headers)
    assert response.status_code == 200
    cal = parse(response)
    assert cal.method.value == "PUBLISH"
    assert cal.vtimezone.tzid.value == "Asia/Shanghai"
    event = cal.vevent
    assert event.uid.value == f"vmo-exam-booking-{booking['id']}@nanchuan.vmo"
    # vobject resolves TZID against the VTIMEZONE and keeps the original name aside.
    assert event.dtstart.params["X-VOBJ-ORIGINAL-TZID"] == ["Asia/Shanghai"]
    assert "DTSTART;TZID=Asia/Shanghai:20261128T090000" in response.get_data(as_text=True)
    assert event.dtstart.value == datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)
    assert event.dtstart.value.utcoffset() == SHANGHAI_OFFSET
    assert event.dtend.value == datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)
    assert event.location.value == "南川区考试中心 科目一理论考场"
    assert event.summary.value == "科目一考试（C1）Driving test subject 1 (C1)"
    assert event.status.value == "CONFIRMED"
    assert "Bring your ID card" in event.description.value
    alarm = event.valarm
    assert alarm.action.value == "DISPLAY"
    # 19:00 the evening before a 09:00 start: 14 hours earlier.
    assert alarm.trigger.value == timedelta(hours=-14)


def test_a_cancelled_booking_says_so(client, factory, session):
    booking, headers = booked(client, factory, session)
    first = client.get(f"/api/v1/bookings/{booking['id']}/calendar.ics", headers=headers)
    client.delete(f"/api/v1/bookings/{booking['id']}", headers=headers)
    response = client.get(f"/api/v1/bookings/{booking['id']}/calendar.ics", headers=headers)
    assert response.status_code == 200
    cal = parse(response)
    assert cal.method.value == "CANCEL"
    assert cal.vevent.status.value == "CANCELLED"
    assert cal.vevent.uid.value == parse(first).vevent.uid.value
    assert int(cal.vevent.sequence.value) > int(parse(first).vevent.sequence.value)
    assert not hasattr(cal.vevent, "valarm")
    assert cal.vevent.summary.value.startswith("已取消 Cancelled")


def test_booking_calendar_etag_and_304(client, factory, session):
    booking, headers = booked(client, factory, session)
    url = f"/api/v1/bookings/{booking['id']}/calendar.ics"
    first = client.get(url, headers=headers)
    etag = first.headers["ETag"]
    assert etag and first.headers["Last-Modified"]
    assert client.get(url, headers=headers).headers["ETag"] == etag  # stable bytes, stable ETag
    cached = client.get(url, headers={**headers, "If-None-Match": etag})
    assert cached.status_code == 304 and cached.get_data() == b""
    client.delete(f"/api/v1/bookings/{booking['id']}", headers=headers)
    changed = client.get(url, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_booking_calendar_needs_the_owner(client, factory, session):
    booking, _ = booked(client, factory, session)
    _, stranger = candidate(factory)
    url = f"/api/v1/bookings/{booking['id']}/calendar.ics"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=stranger).status_code == 404
    assert client.get("/api/v1/bookings/9999/calendar.ics", headers=stranger).status_code == 404


def test_public_feed_of_upcoming_sessions(app, client, officer_headers, session):
    sunday = create_session(client, officer_headers, subject=2, starts_at=local(SUNDAY, 14), ends_at=local(SUNDAY, 17),
                            allocation="ballot", applications_close_at=local(date(2026, 11, 27), 12), kind="extra")
    response = client.get("/api/v1/calendars/test-sessions.ics")
    assert response.status_code == 200
    cal = parse(response)
    assert [e.uid.value for e in cal.vevent_list] == [f"vmo-test-session-{session['id']}@nanchuan.vmo",
                                                      f"vmo-test-session-{sunday['id']}@nanchuan.vmo"]
    assert cal.vevent_list[1].summary.value == "科目二考试（C1）Driving test subject 2 (C1)"
    assert "加考 Extra session · 摇号 Ballot" in cal.vevent_list[1].description.value
    # recurring_ical_events, a second independent reader: what happens on Sunday?
    parsed = icalendar.Calendar.from_ical(response.get_data())
    on_sunday = recurring_ical_events.of(parsed).between(date(2026, 11, 29), date(2026, 11, 30))
    assert [str(e["UID"]) for e in on_sunday] == [f"vmo-test-session-{sunday['id']}@nanchuan.vmo"]
    # Once a session has ended it leaves the feed, and the feed's validators change.
    etag = response.headers["ETag"]
    assert client.get("/api/v1/calendars/test-sessions.ics", headers={"If-None-Match": etag}).status_code == 304
    app.config["FROZEN_NOW"] = "2026-11-28T12:00:00+08:00"
    later = client.get("/api/v1/calendars/test-sessions.ics", headers={"If-None-Match": etag})
    assert later.status_code == 200 and [e.uid.value for e in parse(later).vevent_list] == [
        f"vmo-test-session-{sunday['id']}@nanchuan.vmo"]
    assert later.headers["Last-Modified"] == "Sat, 28 Nov 2026 03:00:00 GMT"


def test_public_feed_answers_if_modified_since_and_needs_no_token(client, officer_headers, session):
    first = client.get("/api/v1/calendars/test-sessions.ics")
    since = first.headers["Last-Modified"]
    assert client.get("/api/v1/calendars/test-sessions.ics",
                      headers={"If-Modified-Since": since}).status_code == 304
    create_session(client, officer_headers, starts_at=local(SUNDAY, 9), ends_at=local(SUNDAY, 10))
    # Sessions created "now" (frozen) share the Last-Modified second, so the ETag is what tells them apart.
    fresh = client.get("/api/v1/calendars/test-sessions.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 200 and len(parse(fresh).vevent_list) == 2


def test_feed_of_an_empty_or_unknown_office(client, factory):
    factory.other_office()
    empty = client.get("/api/v1/calendars/test-sessions.ics?office=fuling")
    assert empty.status_code == 200
    assert parse(empty).vtimezone.tzid.value == "Asia/Shanghai"
    assert not hasattr(parse(empty), "vevent")
    assert client.get("/api/v1/calendars/test-sessions.ics?office=nowhere").status_code == 404


def test_personal_feed_at_a_secret_address(client, factory, session, officer_headers):
    booking, headers = booked(client, factory, session)
    other_session = create_session(client, officer_headers, subject=2, starts_at=local(SUNDAY, 9),
                                   ends_at=local(SUNDAY, 11))
    made = client.post("/api/v1/me/calendar-secret", headers=headers)
    assert made.status_code == 201
    link = made.get_json()
    assert link["url"] == f"http://localhost/api/v1/calendars/candidates/{link['secret']}.ics"
    path = f"/api/v1/calendars/candidates/{link['secret']}.ics"
    feed = client.get(path)  # no bearer token: phone calendars cannot send one
    assert feed.status_code == 200
    events = parse(feed).vevent_list
    assert [e.uid.value for e in events] == [f"vmo-exam-booking-{booking['id']}@nanchuan.vmo"]
    assert other_session["id"] not in [booking["session_id"]]
    etag, modified = feed.headers["ETag"], feed.headers["Last-Modified"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304

    client.delete(f"/api/v1/bookings/{booking['id']}", headers=headers)
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert parse(changed).vevent.status.value == "CANCELLED"

    rotated = client.post("/api/v1/me/calendar-secret", headers=headers).get_json()
    assert rotated["secret"] != link["secret"]
    assert client.get(path).status_code == 404
    assert client.get(f"/api/v1/calendars/candidates/{rotated['secret']}.ics").status_code == 200


def test_calendar_secret_is_for_candidates(client, factory, officer_headers):
    assert client.post("/api/v1/me/calendar-secret").status_code == 401
    assert client.post("/api/v1/me/calendar-secret", headers=officer_headers).status_code == 403
    assert client.get("/api/v1/calendars/candidates/not-a-real-secret.ics").status_code == 404


def test_a_waitlisted_booking_is_tentative_without_a_reminder(client, factory, officer_headers):
    tiny = create_session(client, officer_headers, capacity=1, starts_at=local(SATURDAY, 14),
                          ends_at=local(SATURDAY, 15))
    booked(client, factory, tiny)
    _, headers = candidate(factory)
    waiting = client.post(f"/api/v1/test-sessions/{tiny['id']}/bookings", json={"waitlist_if_full": True},
                          headers=headers).get_json()
    event = parse(client.get(f"/api/v1/bookings/{waiting['id']}/calendar.ics", headers=headers)).vevent
    assert event.status.value == "TENTATIVE" and event.summary.value.startswith("候补 Waitlisted")
    assert not hasattr(event, "valarm")
