"""Fleet settings (app config `PLATE_*`): the dataclass defaults are the only defaults of these keys."""
from collections.abc import Mapping
from dataclasses import dataclass

from vmo.greenchannel.settings import load


@dataclass(frozen=True)
class FleetSettings:
    # 50选1: how many random plates an owner is offered, and how long they stay held for the vehicle.
    plate_choice_count: int = 50
    plate_choice_minutes: int = 10


def settings(config: Mapping | None = None) -> FleetSettings:
    return load(FleetSettings, config)
