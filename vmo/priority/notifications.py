"""Texts to a person with a priority booking (bodies only; the outbox signs them)."""
from vmo.notify.texts import template

# 验证码 right before the code: the officers' outbox masks what follows it (vmo.redact).
PRIORITY_CODE = template(
    "priority.code",
    "您预约{date}优先窗口的验证码{code}，{minutes}分钟内有效。如非本人操作，请忽略本短信。",
    worst={"date": "12月31日", "code": "000000", "minutes": 60},
)

PRIORITY_BOOKED = template(
    "priority.booked",
    "{name}您好，您已预约{date}优先窗口，预约号{reference}，请于{arrive_from}至{arrive_until}凭身份证到场。"
    "取消请致电{phone}。",
    worst={"name": "欧阳娜仁高娃", "date": "12月31日", "reference": "PK7M2Q9X", "arrive_from": "12:00",
           "arrive_until": "20:00", "phone": "023-71400000"},
)

# Someone confirmed a booking with an ID number that already holds one: the answer to the caller is a
# plain refusal; the existing booking's own phone is told, so its holder knows someone tried.
PRIORITY_REPEATED = template(
    "priority.repeated",
    "您{date}的优先窗口预约仍有效，预约号{reference}。刚有人用同一身份证号再次预约，未予办理；如非本人操作请致电{phone}。",
    worst={"date": "12月31日", "reference": "PK7M2Q9X", "phone": "023-71400000"},
)
