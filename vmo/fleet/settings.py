"""Fleet settings (env `VMO_FLEET_*`, `VMO_PLATE_*`): the dataclass defaults are the only defaults."""
from dataclasses import dataclass

from vmo.fleet.models import MAX_BATCH_CEILING
from vmo.settings import setting


@dataclass(frozen=True)
class FleetSettings:
    # Vehicles per batch. Refused at start outside 1 to the ceiling, rather than quietly capped: an
    # office that set 5000 must learn it is not in force.
    max_batch: int = setting(500, key="FLEET_MAX_BATCH", low=1, high=MAX_BATCH_CEILING)
    # Plates generated when an office's pool runs dry.
    plate_pool_topup: int = setting(200, low=1)
    # 50选1: how many random plates an owner is offered, and how long they stay held for the vehicle.
    plate_choice_count: int = setting(50, low=1)
    plate_choice_minutes: int = setting(10, low=1)
