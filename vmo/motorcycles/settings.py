"""Motorcycle register settings (env `VMO_MOTORCYCLE_*`): the due rules and the import's chunk size."""
from dataclasses import dataclass, field

from vmo.motorcycles.rules import DueRules
from vmo.settings import setting


@dataclass(frozen=True)
class MotorcycleSettings:
    rules: DueRules = field(default_factory=DueRules)
    # Rows written per transaction by `vmo motorcycles import` (a register has tens of thousands).
    import_chunk: int = setting(1000, key="MOTORCYCLE_IMPORT_CHUNK", low=1)
