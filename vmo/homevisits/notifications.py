"""Texts to the person a home visit is for: the day and window, and the follow-up once it is done."""
from vmo.notify.texts import FOLLOW_UP_BUDGET, template

# Sent when the visit is given an officer and a window (office time).
VISIT_SCHEDULED = template(
    "home_visit.scheduled",
    "{name}您好，车管所民警{badge}将于{date}{window_from}至{window_until}上门为您办理{business}，请备好证件在家等候。"
    "如需改期请致电{phone}。",
    worst={"name": "欧阳娜仁高娃", "badge": "500123", "date": "12月31日", "window_from": "14:00",
           "window_until": "18:00", "business": "机动车驾驶证期满换证", "phone": "023-71400000"},
)

# The satisfaction follow-up of a visit done, as every finished case gets one (vmo.followup): one segment.
VISIT_FOLLOW_UP = template(
    "home_visit.follow_up",
    "民警{badge}已上门为您办结业务。满意请回1，不满意请回2。",
    worst={"badge": "500123"},
    budget=FOLLOW_UP_BUDGET,
)
