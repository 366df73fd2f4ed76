"""Demo sessions for `vmo demo`: a first-come and a ballot session next weekend (idempotent)."""
from datetime import datetime, time, timedelta

from sqlalchemy import select

from schedules.exams import services
from schedules.exams.models import ExamSession
from vmo import clock
from vmo.accounts.models import User
from vmo.extensions import db

VENUE = "南川区机动车驾驶人考试中心（大观镇）"


def demo_step(office) -> list[str]:
    officer = db.session.scalar(select(User).where(User.office_id == office.id, User.role == "officer")
                                .order_by(User.id))
    if officer is None:
        return ["test sessions: no officer in the office, skipped"]
    zone = office.zone
    today = clock.local_today(office.timezone)
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    sunday = saturday + timedelta(days=1)
    wanted = [
        (saturday, time(9), 2, "first_come", "regular", 20, None),
        (sunday, time(9), 3, "ballot", "extra", 10, saturday - timedelta(days=2)),
    ]
    lines = []
    for day, start, subject, allocation, kind, capacity, close_day in wanted:
        starts = datetime.combine(day, start, tzinfo=zone)
        existing = db.session.scalar(select(ExamSession).where(
            ExamSession.office_id == office.id, ExamSession.starts_at == starts, ExamSession.venue == VENUE))
        if existing is None:
            close = datetime.combine(close_day, time(20), tzinfo=zone) if close_day else None
            if close is not None and close <= clock.now():
                close = None
                allocation = "first_come"
            existing = services.create_session(officer, {
                "subject": subject, "license_class": "C1", "starts_at": starts,
                "ends_at": starts + timedelta(hours=3), "venue": VENUE, "capacity": capacity, "kind": kind,
                "allocation": allocation, "applications_close_at": close}, clock.now())
        lines.append(f"test session {existing.id}: subject {existing.subject} C1 {day.isoformat()} "
                     f"({existing.allocation}, {existing.slot.capacity} seats)")
    return lines
