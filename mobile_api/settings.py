"""The mobile endpoint's settings (env `VMO_MOBILE_*`, `VMO_PHOTO*`): the dataclass defaults are the only defaults."""
from dataclasses import dataclass, field

from schedules.tours.inspections import InspectionSettings
from vmo.settings import setting


@dataclass(frozen=True)
class MobileSettings:
    """The endpoint's settings (env `VMO_MOBILE_*`, `VMO_PHOTO*`), installed by mobile_api.register."""

    # Days of tours, from today, that an officer's assignments hold.
    horizon_days: int = setting(7, key="MOBILE_ASSIGNMENT_DAYS", low=1)
    max_records: int = setting(500, key="MOBILE_SYNC_MAX_RECORDS", low=1)
    photo_max_bytes: int = setting(10 * 1024 * 1024, key="PHOTO_MAX_BYTES", low=1)
    photos_per_inspection: int = setting(20, key="PHOTOS_PER_INSPECTION", low=0)
    photo_storage: str = setting("directory", key="PHOTO_STORAGE", parse=lambda v: str(v).lower(),
                                 choices=("directory", "database", "memory"))
    photo_dir: str | None = setting(None, key="PHOTO_DIR", shown="<instance folder>/photos")
    # The checklist, the clock allowance and the due rules: schedules.tours reads them, for both paths.
    inspections: InspectionSettings = field(default_factory=InspectionSettings)
