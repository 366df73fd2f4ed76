"""A demo candidate for `vmo demo`, so /kaoshi/ can be tried at once (idempotent)."""
from sqlalchemy import select

from vmo import clock, validators
from vmo.accounts import services as accounts
from vmo.accounts.models import User
from vmo.demo import DEMO_PASSWORD
from vmo.extensions import db
from vmo.http import settings

USERNAME = "wangfang"


def demo_id_number() -> str:
    first17 = "50011919980512002"
    return first17 + validators.resident_id_check_char(first17)


def demo_step(office) -> list[str]:
    if db.session.scalar(select(User.id).where(User.username == USERNAME)) is None:
        accounts.register_candidate(office, {
            "name": "王芳", "id_number": demo_id_number(), "phone": "13983000002", "license_class": "C1",
            "username": USERNAME, "password": DEMO_PASSWORD,
        }, settings(), clock.local_today(office.timezone))
    return [f"candidate {USERNAME} / {DEMO_PASSWORD} (web app: /kaoshi/; companies: /qiye/ as fengchang)"]
