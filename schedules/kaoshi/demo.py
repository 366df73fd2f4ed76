"""A demo candidate for `vmo demo`, and a subject 1 session that candidate can book, so /kaoshi/ can be
tried at once (idempotent)."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from schedules.exams import services as exams
from schedules.exams.demo import VENUE, accept_application
from schedules.exams.models import ExamSession
from vmo import clock, validators
from vmo.accounts import services as accounts
from vmo.accounts.models import Role, User
from vmo.demo import DEMO_PASSWORD
from vmo.extensions import db
from vmo import settings as app_settings
from vmo.accounts.services import AuthSettings

USERNAME = "wangfang"


def demo_id_number() -> str:
    first17 = "50011919980512002"
    return first17 + validators.resident_id_check_char(first17)


def _subject_one_session(office) -> str:
    """Saturday 16:00, subject 1 (theory), first come: what a new candidate books first."""
    officer = db.session.scalar(select(User).where(User.office_id == office.id, User.role == Role.OFFICER)
                                .order_by(User.id))
    if officer is None:
        return "subject 1 session: no officer in the office, skipped"
    today = clock.local_today(office.timezone)
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    starts = datetime.combine(saturday, time(16), tzinfo=ZoneInfo(office.timezone))
    session = db.session.scalar(select(ExamSession).where(
        ExamSession.office_id == office.id, ExamSession.starts_at == starts, ExamSession.venue == VENUE,
        ExamSession.subject == 1))
    if session is None:
        session = exams.create_session(officer, {
            "subject": 1, "license_class": "C1", "starts_at": starts, "ends_at": starts + timedelta(hours=1),
            "venue": VENUE, "capacity": 40, "kind": "regular", "allocation": "first_come",
            "applications_close_at": None}, clock.now())
    return f"test session {session.id}: subject 1 C1 {saturday.isoformat()} 16:00 (first_come, 40 seats)"


def demo_step(office) -> list[str]:
    if db.session.scalar(select(User.id).where(User.username == USERNAME)) is None:
        today = clock.local_today(office.timezone)
        accept_application(office, demo_id_number(), "王芳", "13983000002",
                           clock.now().replace(microsecond=0) - timedelta(days=3), today)
        accounts.register_candidate(office, {
            "name": "王芳", "id_number": demo_id_number(), "phone": "13983000002", "license_class": "C1",
            "username": USERNAME, "password": DEMO_PASSWORD,
        }, app_settings.get(AuthSettings), clock.local_today(office.timezone))
    return [_subject_one_session(office),
            f"candidate {USERNAME} / {DEMO_PASSWORD}: the candidates' web app at /kaoshi/ "
            f"(companies: /qiye/ as fengchang)"]
