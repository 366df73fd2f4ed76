"""Priority lane settings (env `VMO_PRIORITY_*`): the dataclass defaults are the only defaults."""
from dataclasses import dataclass

from vmo.settings import setting


@dataclass(frozen=True)
class PrioritySettings:
    # Places of the hall's priority lane (孕妇、老人、残疾人) every working day (Monday to Friday) that an
    # officer has not set (PUT /priority/days/{date}); a weekend or holiday has none unless set.
    priority_daily_capacity: int = setting(10, low=0, high=10000)
    # The code texted to a public booking's phone: how long it holds and how many tries it gets.
    priority_code_minutes: int = setting(10, low=1, high=60)
    priority_code_tries: int = setting(5, low=1, high=20)
    # Codes texted to one phone in 24 hours (then 429): a stranger cannot flood a phone with texts.
    priority_codes_per_phone: int = setting(5, low=1, high=100)
