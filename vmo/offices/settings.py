"""The default office and office time (env `VMO_DEFAULT_OFFICE*`, `VMO_TIMEZONE`): the dataclass defaults
are the only defaults. Installed by the app factory, since every feature uses them."""
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vmo import settings
from vmo.clock import DEFAULT_TIMEZONE
from vmo.settings import setting, text


def _zone_name(value) -> str:
    name = text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be a time zone name, e.g. Asia/Shanghai") from None
    return name


@dataclass(frozen=True)
class OfficeSettings:
    # The office `vmo init-db` creates on a fresh database; sign-ups, `vmo users create` and the public
    # lists use it when no office is named.
    code: str = setting("nanchuan", key="DEFAULT_OFFICE", parse=text)
    name: str = setting("重庆市南川区公安局交通巡逻警察支队车辆管理所", key="DEFAULT_OFFICE_NAME", parse=text)
    plate_prefix: str = setting("渝G", key="DEFAULT_OFFICE_PLATE_PREFIX", parse=text)
    region_code: str | None = setting("500119", key="DEFAULT_OFFICE_REGION_CODE", parse=text)
    # The zone that decides days and weekends, and that every time in an answer is written in.
    timezone: str = setting(DEFAULT_TIMEZONE, key="TIMEZONE", parse=_zone_name)


def default_office_code() -> str:
    """The code of the office used when a request or command names none (`VMO_DEFAULT_OFFICE`)."""
    return settings.get(OfficeSettings).code
