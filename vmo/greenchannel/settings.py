"""Green-channel settings (app config `PRIORITY_*`, `GREEN_CHANNEL_*`): the dataclass defaults are the only defaults."""
from collections.abc import Mapping
from dataclasses import dataclass, fields

from flask import current_app


@dataclass(frozen=True)
class GreenChannelSettings:
    # Share of a day's fleet capacity kept, on top of it, for pregnant, elderly and disabled people
    # (rounded up, at least one place on an open day; 0 turns the priority share off).
    priority_share: float = 0.1
    # 《中华人民共和国老年人权益保障法》第二条: "本法所称老年人是指六十周岁以上的公民。"
    priority_elderly_age: int = 60
    # The arrival window a newly opened day gets when the officer names none (office time, HH:MM).
    green_channel_arrive_from: str = "09:00"
    green_channel_arrive_until: str = "17:00"


def load(cls, config: Mapping | None = None):
    """A settings dataclass from `config` (default: the current app's): each field's key is its name upper-cased."""
    if config is None:
        try:
            config = current_app.config
        except RuntimeError:  # outside an app (scripts): the defaults
            config = {}
    return cls(**{f.name: type(f.default)(config[f.name.upper()])
                  for f in fields(cls) if config.get(f.name.upper()) is not None})


def settings(config: Mapping | None = None) -> GreenChannelSettings:
    return load(GreenChannelSettings, config)
