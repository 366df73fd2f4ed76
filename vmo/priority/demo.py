"""Demo data of the priority lane: a counter booking for a family member, and a public request whose place
is not held until its phone confirms the code."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from vmo import clock
from vmo import settings as app_settings
from vmo.accounts.models import User
from vmo.extensions import db
from vmo.greenchannel.settings import GreenChannelSettings
from vmo.priority import services
from vmo.priority.models import PriorityBooking, PriorityRequest
from vmo.priority.settings import PrioritySettings


def next_working_day(today):
    day = today + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def demo_step(office) -> list[str]:
    if db.session.scalar(select(PriorityBooking.id).where(PriorityBooking.office_id == office.id)) is not None:
        return ["priority lane: demo bookings already there"]
    today, now = clock.local_today(office.timezone), clock.now()
    day = next_working_day(today)
    config, green = app_settings.get(PrioritySettings), app_settings.get(GreenChannelSettings)
    officer = db.session.scalar(select(User).where(User.username == "officer", User.office_id == office.id))
    hours = (green.green_channel_arrive_from, green.green_channel_arrive_until)
    # A son at the counter books for his father, with his own phone: no code, booked at once.
    father = {"name": "陈德华", "id_number": "500119195203150014", "phone": "13983000060", "reason": "elderly",
              "date": day, "business": "机动车转移登记"}
    entry = services.book_at_counter(office, father, today, now, green.priority_elderly_age, config, officer, hours)
    lines = [f"priority lane {day.isoformat()}: {config.priority_daily_capacity} places (every working day, "
             f"fleet day or not); counter booking {entry.reference} for 陈德华 (elderly) by officer"]
    if db.session.scalar(select(PriorityRequest.id).where(PriorityRequest.office_id == office.id)) is None:
        mother = {"name": "刘秀英", "id_number": "500119195405200024", "phone": "13983000061", "reason": "elderly",
                  "date": day}
        key = current_app.secret_key
        services.request_code(office, mother, today, now, green.priority_elderly_age, config,
                              key.encode() if isinstance(key, str) else key)
        lines.append("priority lane: 刘秀英 asked online (202 code_sent): nothing is held until 13983000061 "
                     "confirms the code (`vmo sms phone 13983000061` shows it) with POST "
                     "/api/v1/green-channel/priority-bookings/confirm")
    return lines
