"""Public iCalendar feeds of published tour stops, one per township."""
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import exists, select

from schedules import ical
from schedules.tours.models import StopStatus, Tour, TourStatus, TourStop
from schedules.tours.services import place_name
from vmo.errors import NotFound
from vmo.extensions import db
from vmo.motorcycles.models import Motorcycle
from vmo.offices.models import Office

# DTSTAMP of a feed with no events yet: any fixed instant keeps its bytes (and ETag) stable.
_EMPTY_STAMP = datetime(2026, 1, 1, tzinfo=timezone.utc)
# Past stops stay in the feed this long, so calendars do not lose last week's visit at once.
KEEP_PAST = timedelta(days=60)


# What a farmer reads in his calendar: Chinese, in words, no addresses of the API.
SUMMARY = "流动车管所摩托车检验：{place}"
DESCRIPTION = ("{office}民警到{place}现场为摩托车办理检验，请带行驶证和身份证。{how}"
               "不预约也可以直接来，预约的先检。")
CANCELLED = "这次流动车管所{place}的检验已取消，请留意下次安排。"
HOW_TO_REGISTER = "预约请拨打{phone}，报号牌和姓名；预约后如不能来，回复预约短信“取消 取消码”即可。"
HOW_WITHOUT_PHONE = "预约请到{office}或拨打车管所电话；预约后如不能来，回复预约短信“取消 取消码”即可。"


def stop_uid(stop: TourStop, office: Office) -> str:
    return f"tour-stop-{stop.id}@{office.code}.vmo"


def township_feed(office: Office, township: str, today: date) -> tuple[bytes, datetime | None]:
    """The feed's bytes and when its content last changed (for Last-Modified)."""
    stops = list(db.session.scalars(
        select(TourStop).join(Tour, Tour.id == TourStop.tour_id)
        .where(Tour.office_id == office.id, TourStop.township == township, Tour.published_at.is_not(None),
               Tour.date >= today - KEEP_PAST)
        .order_by(TourStop.arrives_at, TourStop.id)))
    if not stops and not _known_township(office.id, township):
        raise NotFound(f"no township {township!r} in this office's area")
    events = []
    for stop in stops:
        tour = stop.tour
        cancelled = tour.status == TourStatus.CANCELLED or stop.status == StopStatus.CANCELLED
        place = place_name(stop.township, stop.venue)
        events.append(ical.EventSpec(
            uid=stop_uid(stop, office), start=stop.arrives_at, end=stop.departs_at,
            summary=("（已取消）" if cancelled else "") + SUMMARY.format(place=place),
            description=(CANCELLED if cancelled else DESCRIPTION).format(
                office=office.name, place=place, how=HOW_TO_REGISTER.format(phone=office.phone)
                if office.phone else HOW_WITHOUT_PHONE.format(office=office.name)),
            location=place, status="CANCELLED" if cancelled else "CONFIRMED",
            sequence=tour.sequence, last_modified=tour.changed_at, geo=(stop.lat, stop.lon),
            alarm=ical.EVENING_BEFORE,
        ))
    changed = max((stop.tour.changed_at for stop in stops), default=None)
    body = ical.build_calendar(events, tz=office.timezone, name=f"{office.name} · {township}流动车管所",
                               dtstamp=changed or _EMPTY_STAMP, refresh_interval=timedelta(hours=6))
    return body, changed


def _known_township(office_id: int, township: str) -> bool:
    return db.session.scalar(select(
        exists().where(Motorcycle.office_id == office_id, Motorcycle.township == township)
        | exists().where(TourStop.office_id == office_id, TourStop.township == township)))


def public_stops(office: Office, township: str | None, today: date):
    """Upcoming stops of published tours (for owners choosing where to register)."""
    stmt = (select(TourStop).join(Tour, Tour.id == TourStop.tour_id)
            .where(Tour.office_id == office.id, Tour.status == TourStatus.PUBLISHED, TourStop.status == StopStatus.SCHEDULED,
                   Tour.date >= today))
    if township:
        stmt = stmt.where(TourStop.township == township)
    return stmt.order_by(TourStop.arrives_at, TourStop.id)
