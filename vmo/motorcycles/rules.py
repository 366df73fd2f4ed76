"""When a motorcycle falls due for its periodic inspection: the one place these rules live.

By default (the regulation for motorcycles) a motorcycle is inspected every 2 years in its first
4 years after registration and every year after that, i.e. on the 2nd, 4th, 5th, 6th, ...
anniversary of its registration. An inspection counts for every due date up to `window_days`
after it (owners may come up to three months early), so the next due date is the first
anniversary on the schedule that lies more than `window_days` after the last inspection.
A motorcycle is "due" from `window_days` before that date and "overdue" after it.
"""
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

CONFIG_KEYS = {
    "early_years": "MOTORCYCLE_EARLY_YEARS",
    "early_interval_years": "MOTORCYCLE_EARLY_INTERVAL_YEARS",
    "later_interval_years": "MOTORCYCLE_LATER_INTERVAL_YEARS",
    "window_days": "MOTORCYCLE_DUE_WINDOW_DAYS",
}
DEFAULTS = {"early_years": 4, "early_interval_years": 2, "later_interval_years": 1, "window_days": 90}


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class DueRules:
    early_years: int = 4
    early_interval_years: int = 2
    later_interval_years: int = 1
    window_days: int = 90

    def __post_init__(self):
        for name in ("early_years", "early_interval_years", "later_interval_years", "window_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number of 0 or more, got {value!r}")
        if self.early_interval_years < 1 or self.later_interval_years < 1:
            raise ValueError("inspection intervals must be at least 1 year")

    @classmethod
    def from_config(cls, config: Mapping) -> "DueRules":
        return cls(**{field: int(config.get(key, DEFAULTS[field])) for field, key in CONFIG_KEYS.items()})

    @property
    def fingerprint(self) -> str:
        """Names these rules; stored with each computed due date to spot rows computed otherwise."""
        return f"{self.early_years}/{self.early_interval_years}/{self.later_interval_years}/{self.window_days}"

    def offsets(self) -> Iterator[int]:
        """Years after registration on which an inspection falls due (endless)."""
        years = self.early_interval_years
        while years <= self.early_years:
            yield years
            years += self.early_interval_years
        years = self.early_years
        while True:
            years += self.later_interval_years
            yield years

    def next_due(self, registered_on: date, last_inspected_on: date | None) -> date:
        """The first due date that the last inspection (if any) does not cover."""
        covered_until = None if last_inspected_on is None else last_inspected_on + timedelta(days=self.window_days)
        for years in self.offsets():
            due = add_years(registered_on, years)
            if covered_until is None or due > covered_until:
                return due
        raise AssertionError("unreachable: offsets() never ends")

    def status(self, next_due_on: date, today: date) -> str:
        """"overdue", "due" (within the window before the date) or "ok"."""
        if next_due_on < today:
            return "overdue"
        if next_due_on <= today + timedelta(days=self.window_days):
            return "due"
        return "ok"

    def due_by(self, day: date) -> date:
        """Motorcycles whose next due date is on or before this are due (or overdue) on `day`."""
        return day + timedelta(days=self.window_days)
