"""What became of one synced inspection record; no imports, so the tablet client reads the same values."""
from enum import StrEnum


class SyncStatus(StrEnum):
    """created, duplicate, conflict (with `differences`) or rejected (with `errors`)."""

    CREATED = "created"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"
