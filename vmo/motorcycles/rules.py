"""When a motorcycle falls due for its periodic on-site inspection: the one place these rules live.

The default is the national rule since 1 October 2022: 公安部、国家市场监督管理总局、生态环境部
《关于深化机动车检验制度改革优化车检服务工作的意见》 extended the inspection exemption so that a
motorcycle within 10 years of registration is inspected on site in its 6th and 10th year only (in
the other even years the owner only applies for the inspection mark, 免检申领检验标志, without taking
the motorcycle to an inspection), and every year after 10 years, as 《道路交通安全法实施条例》
Article 16 (4) has it for motorcycles over 4 years. The Article's own schedule (every 2 years in
the first 4 years, yearly after that) is `MOTORCYCLE_INSPECTION_YEARS=2,4`.

So: inspections fall due on the listed anniversaries of registration (`years`, default 6 and 10),
then every `later_interval_years` after the last of them. An inspection counts for every due date up
to `window_days` after it (owners may come up to three months early), so the next due date is the
first anniversary on the schedule that lies more than `window_days` after the last inspection.
A motorcycle is "due" from `window_days` before that date and "overdue" after it. Offices change
the rules by settings; stored due dates are recomputed when they do.
"""
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from vmo.settings import setting

NATIONAL_YEARS = (6, 10)  # on-site inspections within the first 10 years (2022 reform)


def _years(value) -> tuple[int, ...]:
    """"6,10" (a setting) or a sequence of whole years."""
    if isinstance(value, str):
        value = [part for part in value.replace("，", ",").split(",") if part.strip()]
    return tuple(int(part) for part in value)


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class DueRules:
    """The due rules (env `VMO_MOTORCYCLE_*`); a settings dataclass (vmo.settings) that tours and tablets share."""

    years: tuple[int, ...] = setting(NATIONAL_YEARS, key="MOTORCYCLE_INSPECTION_YEARS", parse=_years)
    later_interval_years: int = setting(1, key="MOTORCYCLE_LATER_INTERVAL_YEARS")
    window_days: int = setting(90, key="MOTORCYCLE_DUE_WINDOW_DAYS")

    def __post_init__(self):
        object.__setattr__(self, "years", _years(self.years))
        for name in ("later_interval_years", "window_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number of 0 or more, got {value!r}")
        if self.later_interval_years < 1:
            raise ValueError("the inspection interval must be at least 1 year")
        if not self.years or any(y < 1 for y in self.years) or list(self.years) != sorted(set(self.years)):
            raise ValueError(f"inspection years must be rising whole years of 1 or more, got {self.years!r}")

    @property
    def fingerprint(self) -> str:
        """Names these rules; stored with each computed due date to spot rows computed otherwise."""
        return f"{','.join(map(str, self.years))}/{self.later_interval_years}/{self.window_days}"

    def offsets(self) -> Iterator[int]:
        """Years after registration on which an inspection falls due (endless)."""
        yield from self.years
        years = self.years[-1]
        while True:
            years += self.later_interval_years
            yield years

    def next_due(self, registered_on: date | None, last_inspected_on: date | None) -> date | None:
        """The first due date that the last inspection (if any) does not cover; None without a registration date."""
        if registered_on is None:
            return None
        covered_until = None if last_inspected_on is None else last_inspected_on + timedelta(days=self.window_days)
        for years in self.offsets():
            due = add_years(registered_on, years)
            if covered_until is None or due > covered_until:
                return due
        raise AssertionError("unreachable: offsets() never ends")

    def status(self, next_due_on: date | None, today: date) -> str:
        """"overdue", "due" (within the window before the date), "ok", or "unknown" without a due date."""
        if next_due_on is None:
            return "unknown"
        if next_due_on < today:
            return "overdue"
        if next_due_on <= today + timedelta(days=self.window_days):
            return "due"
        return "ok"

    def due_by(self, day: date) -> date:
        """Motorcycles whose next due date is on or before this are due (or overdue) on `day`."""
        return day + timedelta(days=self.window_days)
