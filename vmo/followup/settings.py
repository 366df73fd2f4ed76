"""Follow-up settings (env `VMO_FOLLOW_UP_*`, `VMO_ESCALATION_*`): the dataclass defaults are the only defaults."""
from dataclasses import dataclass
from datetime import timedelta

from vmo.settings import setting


@dataclass(frozen=True)
class FollowUpSettings:
    # A reply is matched to a follow-up sent at most this many days earlier.
    reply_days: float = setting(30.0, key="FOLLOW_UP_REPLY_DAYS", low=0)
    # Open escalations older than this are flagged `overdue` (also in the statistics).
    escalation_highlight_hours: float = setting(48.0, key="ESCALATION_HIGHLIGHT_HOURS", low=0)
    # The gateway's signed webhook: how far its X-Timestamp may be from the server's clock.
    signature_max_age_seconds: int = setting(300, key="SMS_SIGNATURE_MAX_AGE_SECONDS", low=1)

    @property
    def reply_window(self) -> timedelta:
        return timedelta(days=self.reply_days)

    @property
    def highlight_after(self) -> timedelta:
        return timedelta(hours=self.escalation_highlight_hours)
