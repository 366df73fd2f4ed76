"""Driving-test settings (app config `EXAM_*`) and the office-local time helpers every exam module uses."""
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from vmo.offices.models import Office


@dataclass(frozen=True)
class ExamSettings:
    """The feature's tunables (app config `EXAM_*`, see schedules.register)."""

    retest_wait_days: int = 10
    max_changes: int = 2
    cancel_cutoff: timedelta = timedelta(hours=24)
    # A fixed seed makes demos and cross-checks reproducible; None draws a fresh 256-bit seed per draw.
    draw_seed: str | None = None
    organizer: str | None = None


def settings_from(config: Mapping) -> ExamSettings:
    return ExamSettings(
        retest_wait_days=int(config.get("EXAM_RETEST_WAIT_DAYS", 10)),
        max_changes=int(config.get("EXAM_MAX_CHANGES", 2)),
        cancel_cutoff=timedelta(hours=float(config.get("EXAM_CANCEL_CUTOFF_HOURS", 24))),
        draw_seed=config.get("EXAM_DRAW_SEED") or None,
        organizer=config.get("EXAM_CALENDAR_ORGANIZER") or None,
    )


def office_zone(office: Office) -> ZoneInfo:
    return office.zone


def local_date(moment: datetime, office: Office) -> date:
    return moment.astimezone(office_zone(office)).date()
