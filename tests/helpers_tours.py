"""Factories for the tour and motorcycle-register tests: plain functions with defaults."""
import csv
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

SH = ZoneInfo("Asia/Shanghai")
TOUR_DAY = date(2026, 11, 28)  # the Saturday after the frozen "now" (Wednesday 2026-11-25)
DEPOT = {"lat": 29.1577, "lon": 107.0993}
TOWNSHIPS = {  # township: (venue, lat, lon)
    "大观镇": ("大观镇人民政府前坝子", 29.2558, 107.2047),
    "水江镇": ("水江镇农贸市场停车场", 29.2236, 107.3312),
    "三泉镇": ("三泉镇便民服务中心", 29.1242, 107.1958),
    "南平镇": ("南平镇文化广场", 29.0618, 107.1127),
}
# Every item of the default checklist answered "pass": what a passed inspection must carry.
ALL_PASS = {code: "pass" for code in ("lights", "horn", "brake_front", "brake_rear", "tyres", "mirrors", "plate",
                                      "frame_number", "exhaust_noise")}
MOTORCYCLE_HEADER = ("plate", "vin", "owner_name", "phone", "township", "registered_on", "last_inspected_on")


def at(hour: int, minute: int = 0, day: date = TOUR_DAY) -> str:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH).isoformat()


def stop(township="大观镇", start=(9, 0), minutes=90, capacity=30, day=TOUR_DAY, **overrides) -> dict:
    venue, lat, lon = TOWNSHIPS[township]
    begin = datetime(day.year, day.month, day.day, *start, tzinfo=SH)
    body = {"township": township, "venue": venue, "lat": lat, "lon": lon, "arrives_at": begin.isoformat(),
            "departs_at": (begin + timedelta(minutes=minutes)).isoformat(), "capacity": capacity}
    body.update(overrides)
    return body


def tour_body(officers, stops=None, day=TOUR_DAY, **overrides) -> dict:
    if stops is None:
        stops = [stop("大观镇", (9, 0)), stop("水江镇", (11, 0)), stop("三泉镇", (14, 0)), stop("南平镇", (16, 0))]
    body = {"name": "南川东线下乡检验", "date": day.isoformat(), "depot": DEPOT, "stops": stops,
            "officers": [o if isinstance(o, str) else o.username for o in officers]}
    body.update(overrides)
    return body


def create_tour(client, headers, officers, **kw) -> dict:
    response = client.post("/api/v1/tours", json=tour_body(officers, **kw), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def publish(client, headers, tour_id) -> dict:
    response = client.post(f"/api/v1/tours/{tour_id}/publish", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def write_register(path, rows) -> str:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MOTORCYCLE_HEADER)
        writer.writerows(rows)
    return str(path)


def outbox(app, prefix: str = "") -> list:
    from sqlalchemy import select

    from vmo.extensions import db
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.key.like(prefix + "%"))
                                  .order_by(OutboxMessage.id)).all()
        return [(m.key, m.phone, m.body) for m in rows]


@pytest.fixture
def officer(factory):
    """The tour's officer, with the badge number the follow-up texts name."""
    return factory.staff("officer", badge_number="500123")


@pytest.fixture
def headers(factory, officer):
    return factory.headers(officer)
