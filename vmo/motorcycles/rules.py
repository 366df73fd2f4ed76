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

A motorcycle past its compulsory scrapping date is "scrap_due" instead: it is not inspected any
more, but deregistered (注销登记). 《机动车强制报废标准规定》(商务部、发展改革委、公安部、环境保护部令
2012年第12号, in force 1 May 2013):

    第四条 已注册机动车有下列情形之一的应当强制报废，其所有人应当将机动车交售给报废机动车回收拆解
    企业，……并将报废机动车登记证书、号牌、行驶证交公安机关交通管理部门注销：
    （一）达到本规定第五条规定使用年限的；……
    （四）在检验有效期届满后连续3个机动车检验周期内未取得机动车检验合格标志的。
    第五条 各类机动车使用年限分别如下：……（十一）正三轮摩托车使用12年，其他摩托车使用13年。
    对小、微型出租客运汽车（纯电动汽车除外）和摩托车，省、自治区、直辖市人民政府有关部门可结合本地
    实际情况，制定严于上述使用年限的规定，但……正三轮摩托车不得低于10年，其他摩托车不得低于11年。

How sure: the article texts above were read from several public copies that agree word for word
(the State Council gazette was not at hand); fairly sure. Two readings are this code's: a year of
use counts from the registration date, so the 12th (13th) anniversary is the first day scrap_due;
and "three inspection cycles after the validity ended" are the next three cycles of the schedule
above after the first unmet due date, so the motorcycle is scrap_due on the third due date after
it (the end of the third cycle missed): with yearly inspections, three years after the mark ran out.
The in-between years of the 2022 reform (the mark only applied for, no inspection on site) are not
on the register, so their cycles are not counted: an office that wants them counted sets the
schedule to `2,4` (every two years).
"""
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from vmo.motorcycles.models import MotorcycleStatus
from vmo.settings import setting

NATIONAL_YEARS = (6, 10)  # on-site inspections within the first 10 years (2022 reform)
# 《机动车强制报废标准规定》 art. 4 (4): three inspection cycles in a row without the inspection mark.
MISSED_CYCLES = 3
SCRAP_AGE = "age"
SCRAP_MISSED_INSPECTIONS = "missed_inspections"


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
    # Years of use before compulsory scrapping (art. 5 (11)); a province may set fewer, not below 10 / 11.
    scrap_years_three_wheeled: int = setting(12, key="MOTORCYCLE_SCRAP_YEARS_THREE_WHEELED", low=10, high=12)
    scrap_years: int = setting(13, key="MOTORCYCLE_SCRAP_YEARS", low=11, high=13)

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
        return (f"{','.join(map(str, self.years))}/{self.later_interval_years}/{self.window_days}"
                f"/{self.scrap_years_three_wheeled},{self.scrap_years}")

    def offsets(self) -> Iterator[int]:
        """Years after registration on which an inspection falls due (endless)."""
        yield from self.years
        years = self.years[-1]
        while True:
            years += self.later_interval_years
            yield years

    def _unmet(self, registered_on: date, last_inspected_on: date | None) -> Iterator[date]:
        """The due dates the last inspection (if any) does not cover, in order (endless)."""
        covered_until = None if last_inspected_on is None else last_inspected_on + timedelta(days=self.window_days)
        for years in self.offsets():
            due = add_years(registered_on, years)
            if covered_until is None or due > covered_until:
                yield due

    def next_due(self, registered_on: date | None, last_inspected_on: date | None) -> date | None:
        """The first due date that the last inspection (if any) does not cover; None without a registration date."""
        if registered_on is None:
            return None
        return next(self._unmet(registered_on, last_inspected_on))

    def scrap(self, registered_on: date | None, last_inspected_on: date | None,
              three_wheeled: bool = False) -> tuple[date | None, str | None]:
        """(the first day the motorcycle is due for compulsory scrapping, why), or (None, None) without a
        registration date: its age (art. 5) or three cycles missed after the first unmet due date (art. 4 (4))."""
        if registered_on is None:
            return None, None
        by_age = add_years(registered_on, self.scrap_years_three_wheeled if three_wheeled else self.scrap_years)
        unmet = self._unmet(registered_on, last_inspected_on)
        by_missed = [next(unmet) for _ in range(MISSED_CYCLES + 1)][-1]
        if by_missed < by_age:
            return by_missed, SCRAP_MISSED_INSPECTIONS
        return by_age, SCRAP_AGE

    def status(self, next_due_on: date | None, today: date, scrap_on: date | None = None) -> str:
        """"scrap_due" (on or after its scrapping date), "overdue", "due" (within the window before the
        date), "ok", or "unknown" without a due date."""
        if scrap_on is not None and scrap_on <= today:
            return MotorcycleStatus.SCRAP_DUE
        if next_due_on is None:
            return MotorcycleStatus.UNKNOWN
        if next_due_on < today:
            return MotorcycleStatus.OVERDUE
        if next_due_on <= today + timedelta(days=self.window_days):
            return MotorcycleStatus.DUE
        return MotorcycleStatus.OK

    def due_by(self, day: date) -> date:
        """Motorcycles whose next due date is on or before this are due (or overdue) on `day`."""
        return day + timedelta(days=self.window_days)
