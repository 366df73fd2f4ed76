"""Texts to a person with a priority booking (bodies only; the outbox signs them)."""
from vmo.notify.texts import template

PRIORITY_BOOKED = template(
    "priority.booked",
    "{name}您好，您已预约{date}绿色通道优先办理，预约号{reference}，请于{arrive_from}至{arrive_until}凭身份证到场。"
    "取消请致电{phone}。",
    worst={"name": "欧阳娜仁高娃", "date": "12月31日", "reference": "PK7M2Q9X", "arrive_from": "12:00",
           "arrive_until": "20:00", "phone": "023-71400000"},
)

# Someone booked again with an ID number that already holds a booking that day: the answer to the
# caller says nothing about it (a stranger could learn who is coming); the booking's own phone is told instead.
PRIORITY_REPEATED = template(
    "priority.repeated",
    "您{date}的绿色通道优先预约仍有效，预约号{reference}。刚有人用同一身份证号再次预约，未予办理；如非本人操作请致电{phone}。",
    worst={"date": "12月31日", "reference": "PK7M2Q9X", "phone": "023-71400000"},
)
