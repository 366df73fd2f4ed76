"""Demo home visits: one waiting for an officer, one scheduled on the demo officer's tablet, one done."""
from datetime import timedelta

from sqlalchemy import select

from vmo import clock, settings
from vmo.accounts.models import User
from vmo.extensions import db
from vmo.homevisits import services
from vmo.homevisits.models import HomeVisit, VisitOutcome
from vmo.homevisits.settings import HomeVisitSettings

# (name, phone, address, township, reason, business)
PEOPLE = [
    ("王德明", "13983000021", "南川区大观镇中江村3组12号", "大观镇", "elderly", "机动车驾驶证期满换证"),
    ("刘秀英", "13983000022", "南川区东城街道金佛大道18号2单元501", "东城街道", "disabled", "机动车驾驶证审验"),
    ("陈海燕", "13983000023", "南川区水江镇龙桥村5组", "水江镇", "ill", "补领机动车行驶证"),
]


def demo_step(office) -> list[str]:
    """Three visits the first time (the demo may run again: then nothing is added)."""
    if db.session.scalar(select(HomeVisit.id).where(HomeVisit.office_id == office.id)) is not None:
        return ["home visits already there (GET /api/v1/home-visits)"]
    officer = db.session.scalar(select(User).where(User.username == "officer", User.office_id == office.id))
    supervisor = db.session.scalar(select(User).where(User.username == "supervisor", User.office_id == office.id))
    if officer is None or supervisor is None:
        return ["no demo officer: home visits skipped"]
    today, now = clock.local_today(office.timezone), clock.now()
    config = settings.get(HomeVisitSettings)
    visits = [services.request_visit(supervisor, dict(zip(("name", "phone", "address", "township", "reason",
                                                           "business"), person), wanted_date=None), today, now)
              for person in PEOPLE]
    tomorrow = today + timedelta(days=1)
    # Scheduled from today, so it is on the officer's tablet (GET /api/v1/mobile/assignments) at once.
    services.assign(supervisor, visits[1].id, {"officer": officer.username, "date": tomorrow,
                                               "window_from": "14:00", "window_until": "16:00"}, today, now, config)
    services.assign(supervisor, visits[2].id, {"officer": officer.username, "date": today,
                                               "window_from": "09:00", "window_until": "11:00"}, today, now, config)
    services.record_outcome(officer, visits[2].id, {"outcome": VisitOutcome.DONE, "note": "已补领，行驶证当场交本人"}, now)
    return [f"home visits: {visits[0].id} waits for an officer (POST /api/v1/home-visits/{visits[0].id}/assign), "
            f"{visits[1].id} is on officer's tablet for {tomorrow.isoformat()} 14:00-16:00 (/tablet/), "
            f"{visits[2].id} was done today and its follow-up is queued"]
