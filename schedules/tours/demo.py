"""Demo data: a few hundred motorcycles on the register and a published tour of four Nanchuan townships."""
import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from schedules.tours import registrations, services
from schedules.tours.models import Tour
from vmo import clock, validators
from vmo import settings as app_settings
from vmo.accounts.models import Role, User
from vmo.extensions import db
from vmo.motorcycles import services as motorcycles
from vmo.motorcycles.settings import MotorcycleSettings

TOUR_NAME = "流动车管所下乡 · 南川东线摩托车检验"
DEPOT = {"lat": 29.1577, "lon": 107.0993}  # 南川区政务服务中心
STOPS = [  # township, venue, lat, lon
    ("大观镇", "大观镇人民政府前坝子", 29.2558, 107.2047),
    ("水江镇", "水江镇农贸市场停车场", 29.2236, 107.3312),
    ("三泉镇", "三泉镇便民服务中心", 29.1242, 107.1958),
    ("南平镇", "南平镇文化广场", 29.0618, 107.1127),
]
OTHER_TOWNSHIPS = ("东城街道", "鸣玉镇")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗"
GIVEN = "德明国华建平小红秀英志强海燕永福春兰文军玉兰"


def demo_motorcycles(count: int = 400) -> list[dict]:
    rng = random.Random(20261128)
    townships = [s[0] for s in STOPS] + list(OTHER_TOWNSHIPS)
    rows, plates = [], set()
    while len(rows) < count:
        plate = validators.random_plate("渝G", False, rng)
        if plate in plates:
            continue
        plates.add(plate)
        registered = datetime(2008, 1, 1) + timedelta(days=rng.randrange(365 * 18))
        last = registered + timedelta(days=rng.randrange(max(1, (datetime(2026, 10, 1) - registered).days)))
        rows.append({
            "plate": plate, "vin": "", "owner_name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
            "phone": f"139{rng.randrange(10 ** 8):08d}", "township": rng.choice(townships),
            "registered_on": registered.date().isoformat(),
            "last_inspected_on": last.date().isoformat() if rng.random() < 0.7 else "",
            "three_wheeled": "1" if rng.random() < 0.1 else "",
        })
    return rows


def demo_step(office) -> list[str]:
    rules = app_settings.get(MotorcycleSettings).rules
    today, now = clock.local_today(office.timezone), clock.now()
    rows = demo_motorcycles()
    report = motorcycles.import_rows(office, rows, rules=rules, today=today, now=now)
    lines = [f"motorcycle register: {report.rows} demo motorcycles ({report.inserted} new) in "
             f"{len(STOPS) + len(OTHER_TOWNSHIPS)} townships (GET /api/v1/townships)"]
    if db.session.scalar(select(Tour.id).where(Tour.office_id == office.id, Tour.name == TOUR_NAME)) is not None:
        return lines + ["inspection tour already there (GET /api/v1/tours)"]
    officer = db.session.scalar(select(User).where(User.username == "officer", User.office_id == office.id))
    if officer is None:
        return lines + ["no demo officer: tour skipped"]
    day = today + timedelta(days=(5 - today.weekday()) % 7 or 7)  # the next Saturday
    zone = services.zone_of(office)
    stops = []
    for index, (township, venue, lat, lon) in enumerate(STOPS):
        start = datetime.combine(day, time(9 + 2 * index), tzinfo=zone)
        stops.append({"township": township, "venue": venue, "lat": lat, "lon": lon, "arrives_at": start,
                      "departs_at": start + timedelta(minutes=90), "capacity": 40})
    officers = [u for u in ("officer", "officer2")
                if db.session.scalar(select(User.id).where(User.username == u, User.role == Role.OFFICER))]
    settings = app_settings.get(services.TourSettings)
    tour = services.create_tour(officer, {"name": TOUR_NAME, "date": day, "depot": DEPOT, "stops": stops,
                                          "officers": officers}, today, now, settings)
    services.route_tour(officer, tour.id, {}, today, now, settings, rules)
    services.publish_tour(officer, tour.id, today, now, rules)
    # Owners ring up to pre-register motorcycles that may still be inspected: one due for compulsory
    # scrapping (past its age, or three inspection cycles missed) was told to deregister instead.
    scrap_due = motorcycles.scrap_due_plates(office.id, [r["plate"] for r in rows], day, rules)
    registered = 0
    for stop in tour.active_stops:
        owners = [r for r in rows if r["township"] == stop.township
                  and validators.validate_plate(r["plate"]) not in scrap_due][:6]
        for row in owners:
            registrations.register(tour.id, stop.id, {"plate": validators.validate_plate(row["plate"]),
                                                      "owner_name": row["owner_name"], "phone": row["phone"]}, now)
            registered += 1
    told = len(motorcycles.scrap_due_in_townships(office.id, [s[0] for s in STOPS], day, rules))
    return lines + [f"inspection tour {tour.id} on {day.isoformat()} ({tour.distance_km:.1f} km, "
                    f"{len(tour.active_stops)} stops) published with {registered} pre-registrations: "
                    f"GET /api/v1/calendars/townships/大观镇.ics",
                    f"{told} motorcycles in its townships are due for compulsory scrapping: not invited, texted "
                    f"to deregister (status scrap_due on GET /api/v1/motorcycles/<plate>)"]
