"""Mailing settings (env `VMO_MAILING_*`): the carrier used when none is named."""
from dataclasses import dataclass

from vmo.settings import setting, text


@dataclass(frozen=True)
class MailingSettings:
    # The office's contract carrier (EMS: China Post's express service, which every township reaches).
    default_carrier: str = setting("EMS", key="MAILING_DEFAULT_CARRIER", parse=text)

    def __post_init__(self):
        if not 1 <= len(self.default_carrier) <= 10:
            raise ValueError("the carrier's name must be 1 to 10 characters")
