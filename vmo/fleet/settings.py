"""Fleet settings (env `VMO_FLEET_*`, `VMO_PLATE_*`): the dataclass defaults are the only defaults."""
from dataclasses import dataclass

from vmo.fleet.models import MAX_BATCH_CEILING
from vmo.settings import setting, text

# Numbers the office keeps back from 50选1 and 自编自选 (for its own vehicles, or a public auction):
# the same digit five times, straight runs, and the new-energy forms of the same. A serial is kept
# back under the office's prefix ("88888" is 渝G88888 in 南川); a whole plate names one office's number.
DEFAULT_RESERVED = tuple(
    [str(d) * 5 for d in range(10)] + ["12345", "54321", "01234", "56789", "98765"]
    + [letter + str(d) * 5 for letter in "DF" for d in range(10)] + [str(d) * 5 + letter for letter in "DF" for d in range(10)])


def _plates(value) -> tuple[str, ...]:
    """A list of numbers: a JSON list, or text separated by commas."""
    items = value if isinstance(value, (list, tuple)) else text(value).split(",")
    plates = []
    for item in items:
        item = "".join(text(item).split()).upper()
        if not item:
            continue
        if len(item) < 5 or len(item) > 10:
            raise ValueError(f"{item!r} is not a plate number or a serial")
        plates.append(item)
    return tuple(plates)


@dataclass(frozen=True)
class FleetSettings:
    # Vehicles per batch. Refused at start outside 1 to the ceiling, rather than quietly capped: an
    # office that set 5000 must learn it is not in force.
    max_batch: int = setting(500, key="FLEET_MAX_BATCH", low=1, high=MAX_BATCH_CEILING)
    # Plates generated when an office's pool runs dry.
    plate_pool_topup: int = setting(200, low=1)
    # 50选1: how many random plates an owner is offered, and how long they stay held for the vehicle
    # (then they go back to the pool without anyone writing to them).
    plate_choice_count: int = setting(50, low=1)
    plate_choice_minutes: int = setting(10, low=1)
    # How many draws of choices one vehicle gets in all (a new draw comes only after the last expired).
    plate_choice_draws: int = setting(3, low=1)
    plate_reserved: tuple = setting(DEFAULT_RESERVED, parse=_plates,
                                    shown="00000 to 99999 (each digit five times), 12345, 54321, 01234, 56789, 98765, "
                                          "and D/F with five same digits before or after")
