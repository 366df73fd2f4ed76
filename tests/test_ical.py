"""Tests for schedules.ical, checked with independent parsers (vobject, recurring_ical_events)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import vobject

from schedules.ical import (
    CONTENT_TYPE,
    EVENING_BEFORE,
    EventSpec,
    build_calendar,
    etag_for,
    evening_before,
)

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
STAMP = datetime(2025, 3, 1, 2, 0, tzinfo=timezone.utc)
SUMMARY = "科目二考试 Subject 2 test · 南川区"
LOCATION = "重庆市南川区东城街道 考场 Nanchuan test ground"


def booking(**overrides: object) -> EventSpec:
    fields: dict[str, object] = {
        "uid": "booking-1001@vmo.example",
        "start": datetime(2025, 3, 8, 9, 0, tzinfo=SH),
        "end": datetime(2025, 3, 8, 11, 30, tzinfo=SH),
        "summary": SUMMARY,
        "description": "请携带身份证。\nBring your ID card; arrive 30 min early, please.",
        "location": LOCATION,
        "sequence": 0,
        "last_modified": datetime(2025, 2, 28, 12, 0, tzinfo=timezone.utc),
        "geo": (29.158, 107.099),
        "url": "https://vmo.example/bookings/1001",
        "alarm": EVENING_BEFORE,
    }
    fields.update(overrides)
    return EventSpec(**fields)  # type: ignore[arg-type]


def build(events: list[EventSpec], **kwargs: object) -> bytes:
    options: dict[str, object] = {"tz": TZ, "name": "南川区车管所 考试预约", "dtstamp": STAMP}
    options.update(kwargs)
    return build_calendar(events, **options)  # type: ignore[arg-type]


def parse_vobject(body: bytes) -> vobject.base.Component:
    return vobject.readOne(body.decode("utf-8"))


def parse_ical(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


def rie_events(body: bytes) -> list[icalendar.Event]:
    return list(recurring_ical_events.of(parse_ical(body)).all())


def rie_alarm_times(body: bytes) -> list[datetime]:
    query = recurring_ical_events.of(parse_ical(body), components=["VALARM"])
    occurrences = query.between(datetime(2000, 1, 1, tzinfo=SH), datetime(2040, 1, 1, tzinfo=SH))
    return [occ.subcomponents[0]["TRIGGER"].dt for occ in occurrences]


def unfold(body: bytes) -> str:
    return body.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")


# --- a booking as one event ----------------------------------------------------------

def test_booking_round_trips_through_vobject() -> None:
    spec = booking()
    cal = parse_vobject(build([spec]))
    ev = cal.vevent
    assert ev.uid.value == spec.uid
    assert ev.summary.value == SUMMARY
    assert ev.location.value == LOCATION
    assert ev.description.value == spec.description
    assert ev.dtstart.value == spec.start
    assert ev.dtend.value == spec.end
    # vobject builds this tzinfo from our VTIMEZONE, so the offset checks its rules.
    pick_tzid = vobject.icalendar.TimezoneComponent.pickTzid
    assert pick_tzid(ev.dtstart.value.tzinfo) == TZ
    assert pick_tzid(ev.dtend.value.tzinfo) == TZ
    assert ev.dtstart.value.utcoffset() == timedelta(hours=8)
    assert ev.dtstamp.value == STAMP
    assert ev.sequence.value == "0"
    assert ev.status.value == "CONFIRMED"
    assert ev.geo.value == "29.158;107.099"
    assert ev.url.value == spec.url
    assert ev.last_modified.value == spec.last_modified


def test_booking_round_trips_through_recurring_ical_events() -> None:
    spec = booking()
    [ev] = rie_events(build([spec]))
    start = ev["DTSTART"].dt
    assert isinstance(start.tzinfo, ZoneInfo) and start.tzinfo.key == TZ
    assert start == spec.start
    assert ev["DTEND"].dt == spec.end
    assert str(ev["UID"]) == spec.uid
    assert str(ev["SUMMARY"]) == SUMMARY
    assert str(ev["LOCATION"]) == LOCATION


def test_calendar_headers_and_vtimezone() -> None:
    body = build([booking()])
    cal = parse_vobject(body)
    assert cal.version.value == "2.0"
    assert cal.calscale.value == "GREGORIAN"
    assert cal.method.value == "PUBLISH"
    assert cal.prodid.value == "-//vmo//vehicle management office//ZH"
    assert cal.x_wr_calname.value == "南川区车管所 考试预约"
    assert cal.x_wr_timezone.value == TZ
    assert cal.vtimezone.tzid.value == TZ
    # The VTIMEZONE must come before the events that reference it.
    text = body.decode("utf-8")
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")


def test_vtimezone_offsets_describe_shanghai() -> None:
    [vtz] = parse_ical(build([booking()])).walk("VTIMEZONE")
    assert vtz["TZID"] == TZ
    for rule in vtz.walk("STANDARD") + vtz.walk("DAYLIGHT"):
        assert rule["TZOFFSETTO"].td == timedelta(hours=8)


def test_start_given_in_utc_is_written_in_office_zone() -> None:
    start_utc = datetime(2025, 3, 8, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai
    spec = booking(start=start_utc, end=start_utc + timedelta(hours=2))
    body = build([spec])
    assert "DTSTART;TZID=Asia/Shanghai:20250308T090000" in unfold(body)
    assert parse_vobject(body).vevent.dtstart.value == start_utc
    assert rie_events(body)[0]["DTSTART"].dt == start_utc


def test_microseconds_are_truncated_consistently() -> None:
    start = datetime(2025, 3, 8, 9, 0, 0, 999_999, tzinfo=SH)
    body = build([booking(start=start, end=start + timedelta(hours=1))])
    assert parse_vobject(body).vevent.dtstart.value == start.replace(microsecond=0)


def test_text_escapes_round_trip() -> None:
    text = "地址：东城街道，1号; back\\slash, comma\n第二行"
    body = build([booking(description=text, location=text)])
    ev = parse_vobject(body).vevent
    assert ev.description.value == text
    assert ev.location.value == text
    assert str(rie_events(body)[0]["DESCRIPTION"]) == text


def test_optional_properties_are_omitted_when_empty() -> None:
    spec = EventSpec(
        uid="u1", start=datetime(2025, 3, 8, 9, tzinfo=SH), end=datetime(2025, 3, 8, 10, tzinfo=SH),
        summary="科目一 Subject 1",
    )
    text = unfold(build([spec]))
    absent = ("LOCATION", "DESCRIPTION", "GEO", "URL", "LAST-MODIFIED", "BEGIN:VALARM", "ORGANIZER")
    for prop in absent:
        assert prop not in text


# --- the reminder the evening before --------------------------------------------------

@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (datetime(2025, 3, 8, 9, 0, tzinfo=SH), datetime(2025, 3, 7, 19, 0, tzinfo=SH)),
        (datetime(2025, 3, 1, 0, 30, tzinfo=SH), datetime(2025, 2, 28, 19, 0, tzinfo=SH)),
        # Later than 19:00: the offset is more than a day.
        (datetime(2025, 3, 8, 20, 15, tzinfo=SH), datetime(2025, 3, 7, 19, 0, tzinfo=SH)),
        # 23:30 UTC on the 7th is already the 8th in Shanghai.
        (datetime(2025, 3, 7, 23, 30, tzinfo=timezone.utc), datetime(2025, 3, 7, 19, 0, tzinfo=SH)),
    ],
)
def test_evening_before_alarm_resolves_to_1900_local(start: datetime, expected: datetime) -> None:
    body = build([booking(start=start, end=start + timedelta(hours=1))])
    ev = parse_vobject(body).vevent
    assert ev.valarm.action.value == "DISPLAY"
    assert SUMMARY in ev.valarm.description.value
    trigger = ev.valarm.trigger.value
    assert isinstance(trigger, timedelta) and trigger < timedelta(0)
    fires = (ev.dtstart.value + trigger).astimezone(SH)
    assert fires == expected
    day_before = start.astimezone(SH).date() - timedelta(days=1)
    assert (fires.hour, fires.minute, fires.date()) == (19, 0, day_before)
    assert rie_alarm_times(body) == [expected]


def test_relative_alarm() -> None:
    start = datetime(2025, 3, 8, 9, 0, tzinfo=SH)
    body = build([booking(start=start, alarm=-timedelta(hours=2))])
    assert "TRIGGER:-PT2H" in unfold(body)
    assert parse_vobject(body).vevent.valarm.trigger.value == -timedelta(hours=2)
    assert rie_alarm_times(body) == [datetime(2025, 3, 8, 7, 0, tzinfo=SH)]


def test_no_alarm_when_not_requested() -> None:
    body = build([booking(alarm=None)])
    assert "VALARM" not in body.decode("utf-8")
    assert rie_alarm_times(body) == []


def test_evening_before_helper() -> None:
    new_year = evening_before(datetime(2025, 1, 1, 8, tzinfo=SH), TZ)
    assert new_year == datetime(2024, 12, 31, 19, tzinfo=SH)
    at_eight = evening_before(datetime(2025, 3, 8, 9, tzinfo=SH), TZ, hour=20)
    assert at_eight == datetime(2025, 3, 7, 20, tzinfo=SH)
    result = evening_before(datetime(2025, 3, 8, 1, tzinfo=timezone.utc), TZ)
    assert result.tzinfo == SH and result.timetz() == time(19, tzinfo=SH)
    with pytest.raises(ValueError):
        evening_before(datetime(2025, 3, 8, 9), TZ)
    with pytest.raises(ValueError):
        evening_before(datetime(2025, 3, 8, 9, tzinfo=SH), TZ, hour=24)
    with pytest.raises(ValueError):
        evening_before(datetime(2025, 3, 8, 9, tzinfo=SH), "Mars/Olympus_Mons")


# --- cancellation and edits -------------------------------------------------------------

def test_cancelled_booking_says_so() -> None:
    spec = booking(status="CANCELLED", sequence=1, organizer="mailto:exam@vmo.example")
    body = build([spec], method="CANCEL")
    cal = parse_vobject(body)
    assert cal.method.value == "CANCEL"
    assert cal.vevent.status.value == "CANCELLED"
    assert cal.vevent.sequence.value == "1"
    assert cal.vevent.organizer.value == "mailto:exam@vmo.example"
    # No reminder for a test that will not happen.
    assert "VALARM" not in body.decode("utf-8")
    [ev] = rie_events(body)
    assert ev["STATUS"] == "CANCELLED"
    assert parse_ical(body)["METHOD"] == "CANCEL"


def test_cancel_method_requires_cancelled_events() -> None:
    with pytest.raises(ValueError, match="CANCEL"):
        build([booking()], method="CANCEL")


def test_feed_can_carry_a_cancelled_session() -> None:
    cancelled = booking(uid="s2", status="CANCELLED", sequence=3)
    body = build([booking(uid="s1"), cancelled])
    statuses = {str(ev["UID"]): str(ev["STATUS"]) for ev in rie_events(body)}
    assert statuses == {"s1": "CONFIRMED", "s2": "CANCELLED"}
    assert parse_vobject(body).method.value == "PUBLISH"


def test_edit_keeps_uid_and_raises_sequence() -> None:
    before = build([booking()])
    moved = booking(
        start=datetime(2025, 3, 9, 14, tzinfo=SH), end=datetime(2025, 3, 9, 16, tzinfo=SH),
        sequence=1, last_modified=datetime(2025, 3, 2, 8, tzinfo=timezone.utc),
    )
    after = build([moved])
    old_ev, new_ev = parse_vobject(before).vevent, parse_vobject(after).vevent
    assert old_ev.uid.value == new_ev.uid.value
    assert int(new_ev.sequence.value) > int(old_ev.sequence.value)
    assert new_ev.dtstart.value == datetime(2025, 3, 9, 14, tzinfo=SH)
    assert etag_for(before) != etag_for(after)
    # The reminder follows the move.
    assert rie_alarm_times(after) == [datetime(2025, 3, 8, 19, tzinfo=SH)]


# --- determinism, ETag and encoding -------------------------------------------------------

def test_same_input_and_dtstamp_give_identical_bytes() -> None:
    events = [booking(uid=f"s{i}", start=datetime(2025, 3, 8 + i, 9, tzinfo=SH),
                      end=datetime(2025, 3, 8 + i, 10, tzinfo=SH)) for i in range(4)]
    first = build(events)
    assert build(list(events)) == first
    assert build(list(reversed(events))) == first
    assert etag_for(first) == etag_for(build(events))


def test_default_dtstamp_is_now_in_utc() -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    body = build_calendar([booking()], tz=TZ, name="x")
    after = datetime.now(timezone.utc)
    stamp = parse_vobject(body).vevent.dtstamp.value
    assert stamp.utcoffset() == timedelta(0)
    assert before <= stamp <= after
    assert re.search(r"\r\nDTSTAMP:\d{8}T\d{6}Z\r\n", body.decode("utf-8"))


def test_etag_is_strong_and_quoted() -> None:
    tag = etag_for(b"BEGIN:VCALENDAR")
    assert re.fullmatch(r'"[0-9a-f]{32}"', tag)
    assert etag_for(b"BEGIN:VCALENDAR") == tag
    assert etag_for(b"BEGIN:VCALENDAR ") != tag


def test_long_chinese_lines_fold_without_breaking_utf8() -> None:
    long_summary = (SUMMARY + "，请提前三十分钟到达考场并携带身份证原件") * 4
    long_description = "考试须知：" + "请遵守考场纪律，服从考官指挥。" * 12
    body = build([booking(summary=long_summary, description=long_description)])
    raw_lines = body.split(b"\r\n")
    assert len(raw_lines) > 20
    for raw in raw_lines:
        assert len(raw) <= 75
        raw.decode("utf-8")  # a fold inside a multi-byte character would fail here
    assert f"SUMMARY:{long_summary}" in unfold(body)
    ev = parse_vobject(body).vevent
    assert ev.summary.value == long_summary
    assert ev.description.value == long_description
    assert str(rie_events(body)[0]["SUMMARY"]) == long_summary


def test_content_type() -> None:
    assert CONTENT_TYPE == "text/calendar; charset=utf-8"


# --- feeds ----------------------------------------------------------------------------

def test_empty_feed_is_a_valid_calendar() -> None:
    body = build([], name="南川区 巡回考试点 Township tour stops")
    cal = parse_vobject(body)
    assert cal.version.value == "2.0"
    assert cal.vtimezone.tzid.value == TZ
    assert not hasattr(cal, "vevent")
    assert rie_events(body) == []
    assert parse_ical(body)["X-WR-CALNAME"] == "南川区 巡回考试点 Township tour stops"


def test_township_feed_with_several_stops() -> None:
    stops = [
        booking(uid=f"tour-{i}@vmo.example", summary=f"流动车管所 Mobile office · 第{i}站",
                location=f"{name}村委会", geo=(29.1 + i / 100, 107.1),
                start=datetime(2025, 4, 1 + i, 9, tzinfo=SH),
                end=datetime(2025, 4, 1 + i, 12, tzinfo=SH))
        for i, name in enumerate(["大观", "木凉", "兴隆"], start=1)
    ]
    body = build(stops, refresh_interval=timedelta(hours=6))
    text = unfold(body)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT6H" in text
    assert "X-PUBLISHED-TTL:PT6H" in text
    window = recurring_ical_events.of(parse_ical(body)).between(date(2025, 4, 2), date(2025, 4, 4))
    assert {str(ev["LOCATION"]) for ev in window} == {"大观村委会", "木凉村委会"}
    uids = [ev.uid.value for ev in parse_vobject(body).vevent_list]
    assert uids == [s.uid for s in stops]


def test_events_outside_default_vtimezone_window() -> None:
    start = datetime(2045, 6, 1, 9, tzinfo=SH)
    body = build([booking(start=start, end=start + timedelta(hours=1))])
    assert parse_vobject(body).vevent.dtstart.value == start
    assert rie_events(body)[0]["DTSTART"].dt == start


# --- validation -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "overrides",
    [
        {"uid": ""},
        {"start": datetime(2025, 3, 8, 9)},
        {"end": datetime(2025, 3, 8, 9, tzinfo=SH)},
        {"status": "DONE"},
        {"sequence": -1},
        {"sequence": True},
        {"geo": (91.0, 0.0)},
        {"geo": ("north", 0.0)},
        {"alarm": timedelta(hours=1)},
        {"alarm": "morning_of"},
        {"last_modified": datetime(2025, 3, 1)},
    ],
)
def test_bad_event_spec_rejected(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        booking(**overrides)


def test_bad_calendar_arguments_rejected() -> None:
    with pytest.raises(ValueError):
        build([booking()], tz="Not/A_Zone")
    with pytest.raises(ValueError):
        build([booking()], method="REQUEST")
    with pytest.raises(ValueError, match="uid"):
        build([booking(), booking()])
    with pytest.raises(ValueError):
        build([booking()], dtstamp=datetime(2025, 3, 1))
    with pytest.raises(ValueError):
        build([booking()], refresh_interval=timedelta(0))


@pytest.mark.parametrize("name", ["王\nX-EVIL:1", "王\r\nX-EVIL:1", "王\rX-EVIL:1", "a;b,c\\d", "\x0b:\t"])
def test_every_text_property_is_escaped(name: str) -> None:
    """Text from callers cannot break out of its property: a calendar name (X-WR-CALNAME) with a line
    break was once a 500 or a new property."""
    start = datetime(2026, 11, 28, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    spec = EventSpec(uid=f"u-{name}", start=start, end=start + timedelta(hours=1), summary=name,
                     description=name, location=name, url=f"https://vmo.example/{name}")
    body = build_calendar([spec], tz="Asia/Shanghai", name=name, dtstamp=start)
    lines = body.split(b"\r\n")
    assert not any(line.startswith(b"X-EVIL") for line in lines)
    assert b"\r" not in body.replace(b"\r\n", b"")
    parsed = icalendar.Calendar.from_ical(body)
    shown = name.replace("\r\n", "\n").replace("\r", "\n")
    assert b"X-WR-CALNAME:" + icalendar.vText(name).to_ical() in body.replace(b"\r\n ", b"")
    assert str(parsed.walk("VEVENT")[0]["SUMMARY"]) == shown


def test_a_candidate_named_with_a_line_break_gets_a_working_feed(client, factory) -> None:
    candidate = factory.candidate(name="王\nX-EVIL:1")
    headers = factory.headers(candidate["username"])
    link = client.post("/api/v1/me/calendar-secret", headers=headers).get_json()
    feed = client.get(f"/api/v1/calendars/candidates/{link['secret']}.ics")
    assert feed.status_code == 200 and feed.content_type == CONTENT_TYPE
    assert not any(line.startswith(b"X-EVIL") for line in feed.get_data().split(b"\r\n"))
