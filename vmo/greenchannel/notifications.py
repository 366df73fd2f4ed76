"""Texts about the green channel itself: a company's request granted or declined (bodies only; the outbox signs them)."""
from vmo.notify.texts import template

_COMPANY = "重庆市南川区丰昌汽车服务有限公司南川分公司"
# The longest realistic values of a visit text: a long company name, a 500-car batch, the office's address.
WORST_VISIT = {"company": _COMPANY, "count": 500, "date": "12月31日", "arrive_from": "12:00", "arrive_until": "20:00",
               "place": "重庆市南川区政务服务中心车驾管窗口"}

REQUEST_GRANTED = template(
    "green_channel.request_granted",
    "{company}：绿色通道已为您开通，{count}辆新车请于{date}{arrive_from}至{arrive_until}到{place}查验登记。",
    worst=WORST_VISIT,
)

REQUEST_DECLINED = template(
    "green_channel.request_declined",
    "{company}：您申请{date}开通绿色通道未能安排，原因：{reason}。可另选日期预约，咨询电话{phone}。",
    worst={"company": _COMPANY, "date": "12月31日", "reason": "当日查验场地检修，请改约下周工作日", "phone": "023-71400000"},
)


def month_day(day) -> str:
    """A date as people write it in a text: 12月1日."""
    return f"{day.month}月{day.day}日"
