"""Driving-test settings (app config `EXAM_*`) and the office-local time helpers every exam module uses."""
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from schedules.exams import rules
from vmo.offices.models import Office


@dataclass(frozen=True)
class ExamSettings:
    """The feature's tunables (app config `EXAM_*`, see schedules.register)."""

    max_changes: int = 2
    # A fixed seed makes demos and cross-checks reproducible; None draws a fresh 256-bit seed per draw.
    draw_seed: str | None = None
    organizer: str | None = None
    # Per-office values of the rules that allow one: {"<office code>": {"cancel_until": "18:00"}}.
    office_rules: Mapping = field(default_factory=dict)

    def rule(self, key: str, office: Office):
        return rules.rule(key, office.code, self.office_rules)


def settings_from(config: Mapping) -> ExamSettings:
    office_rules = config.get("EXAM_OFFICE_RULES") or {}
    if isinstance(office_rules, str):
        office_rules = json.loads(office_rules)
    return ExamSettings(
        max_changes=int(config.get("EXAM_MAX_CHANGES", 2)),
        draw_seed=config.get("EXAM_DRAW_SEED") or None,
        organizer=config.get("EXAM_CALENDAR_ORGANIZER") or None,
        office_rules=office_rules,
    )


def local_date(moment: datetime, office: Office) -> date:
    return moment.astimezone(office.zone).date()


def cancel_deadline(session, settings: ExamSettings) -> datetime:
    """The last moment a candidate may cancel: by default the end of the day before the test, office time.

    Article 45 asks for a cancellation at least a day ahead; the hour is the office's
    (rules `cancel_days_before` and `cancel_until`, "HH:MM", "24:00" meaning the end of that day).
    """
    office = session.office
    days_before = int(settings.rule("cancel_days_before", office))
    hours, minutes = (int(part) for part in str(settings.rule("cancel_until", office)).split(":"))
    day = session.local_date - timedelta(days=days_before)
    return datetime.combine(day, time(0), tzinfo=office.zone) + timedelta(hours=hours, minutes=minutes)
