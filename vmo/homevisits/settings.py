"""Home visit settings (env `VMO_HOME_VISIT_*`): the dataclass defaults are the only defaults."""
from dataclasses import dataclass
from datetime import time

from vmo.settings import setting


@dataclass(frozen=True)
class HomeVisitSettings:
    # A visit is given a day at most this many days ahead (a person waiting at home is not told "in a year").
    max_days_ahead: int = setting(60, key="HOME_VISIT_MAX_DAYS_AHEAD", low=1, high=366)
    # The window the person is texted must lie within these office hours: nobody is visited, or
    # kept waiting at home, at night.
    hours_from: time = setting(time(8, 0), key="HOME_VISIT_HOURS_FROM")
    hours_until: time = setting(time(18, 0), key="HOME_VISIT_HOURS_UNTIL")
    # The longest window: the person stays at home for all of it.
    max_window_hours: float = setting(4.0, key="HOME_VISIT_MAX_WINDOW_HOURS", low=0.5, high=12)

    def __post_init__(self):
        if self.hours_from >= self.hours_until:
            raise ValueError("the visiting hours must start before they end")
