"""Driving-test settings (env `VMO_EXAM_*`) and the office-local time helpers every exam module uses."""
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from schedules.exams import draw
from schedules.exams import rules
from vmo.offices.models import Office
from vmo.settings import setting


def _office_rules(value) -> Mapping:
    """{"<office code>": {"<rule>": value}}, as a mapping or its JSON text (the environment's)."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else {}
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
        raise ValueError('must be {"<office code>": {"<rule>": value}}')
    for overrides in value.values():
        unknown = sorted(set(overrides) - set(rules.RULES))
        if unknown:  # stop the app here, not at the first booking
            raise ValueError(f"no rule named {', '.join(unknown)}")
    return value


def _seed(value) -> str | None:
    """64 lowercase hex characters, checked at start rather than at the first draw; empty: none."""
    return draw.check_seed(value) if value != "" else None


@dataclass(frozen=True)
class ExamSettings:
    """The feature's tunables (installed by schedules.register)."""

    # Times a candidate may move a booking to another session.
    max_changes: int = setting(2, key="EXAM_MAX_CHANGES", low=0)
    # A fixed seed makes demos and cross-checks reproducible; None draws a fresh 256-bit seed per draw.
    draw_seed: str | None = setting(None, key="EXAM_DRAW_SEED", parse=_seed)
    # ORGANIZER of the calendar feeds (an address, e.g. "mailto:kaoshi@example.gov.cn"); none by default.
    organizer: str | None = setting(None, key="EXAM_CALENDAR_ORGANIZER")
    # Per-office values of the rules that allow one: {"<office code>": {"cancel_until": "18:00"}}.
    office_rules: Mapping = setting({}, key="EXAM_OFFICE_RULES", parse=_office_rules)

    def rule(self, key: str, office: Office):
        return rules.rule(key, office.code, self.office_rules)


def local_date(moment: datetime, office: Office) -> date:
    return moment.astimezone(office.zone).date()


def cancel_deadline(session, settings: ExamSettings) -> datetime:
    """The last moment a candidate may cancel: by default the end of the day before the test, office time.

    Article 46 asks for a cancellation at least a day ahead; the hour is the office's
    (rules `cancel_days_before` and `cancel_until`, "HH:MM", "24:00" meaning the end of that day).
    """
    office = session.office
    days_before = int(settings.rule("cancel_days_before", office))
    hours, minutes = (int(part) for part in str(settings.rule("cancel_until", office)).split(":"))
    day = session.local_date - timedelta(days=days_before)
    return datetime.combine(day, time(0), tzinfo=office.zone) + timedelta(hours=hours, minutes=minutes)
