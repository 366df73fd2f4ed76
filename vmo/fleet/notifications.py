"""Texts to a fleet company's contact: the appointment and its arrival window, a move, the one follow-up per batch."""
from vmo.greenchannel.notifications import WORST_VISIT
from vmo.notify.texts import FOLLOW_UP_BUDGET, template

APPOINTMENT_BOOKED = template(
    "fleet.appointment_booked",
    "{company}：{count}辆新车已预约{date}绿色通道，请于{arrive_from}至{arrive_until}到{place}查验登记。",
    worst=WORST_VISIT,
)

APPOINTMENT_MOVED = template(
    "fleet.appointment_moved",
    "{company}：{count}辆新车的绿色通道改为{date}，请于{arrive_from}至{arrive_until}到{place}查验登记。",
    worst=WORST_VISIT,
)

# One per batch, when its last vehicle is registered (not one text per car to the same contact): one
# segment, signature included.
BATCH_FOLLOW_UP = template(
    "fleet.batch_follow_up",
    "贵公司{count}辆新车已全部登记，经办民警{badge}。满意请回1，不满意请回2。",
    worst={"count": 500, "badge": "500123"},
    budget=FOLLOW_UP_BUDGET,
)
