"""Green-channel settings (env `VMO_PRIORITY_*`, `VMO_GREEN_CHANNEL_*`): the dataclass defaults are the only defaults."""
import re
from dataclasses import dataclass

from vmo.settings import setting

_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _hh_mm(value) -> str:
    if not isinstance(value, str) or not _HH_MM.match(value):
        raise ValueError("must be a time of day, HH:MM")
    return value


@dataclass(frozen=True)
class GreenChannelSettings:
    # 《中华人民共和国老年人权益保障法》第二条: "本法所称老年人是指六十周岁以上的公民。"
    priority_elderly_age: int = setting(60, low=1, high=150)
    # The arrival window a newly opened day gets when the officer names none (office time, HH:MM).
    green_channel_arrive_from: str = setting("09:00", parse=_hh_mm)
    green_channel_arrive_until: str = setting("17:00", parse=_hh_mm)

    def __post_init__(self):
        if self.green_channel_arrive_from >= self.green_channel_arrive_until:
            raise ValueError("the default arrival window ends before it starts")
