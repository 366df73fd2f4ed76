"""Texts of the inspection tours, as owners receive them (the outbox puts the office's signature in front).

Dates are local (`12月05日`), times `09:00-10:30`, places said once (`place_name`). The worst values
are the longest realistic: an eight-character plate, a four-character township (街道), a long venue.
"""
from vmo.notify.texts import FOLLOW_UP_BUDGET, template

_PLATE = "渝G·D12345"
_PLACE = "东城街道金佛山大道社区服务中心停车场"
_WINDOW = {"date": "12月05日", "start": "09:00", "end": "10:30"}
_AT_STOP = {"date": "12月05日", "place": _PLACE, "plate": _PLATE}

REGISTERED = template(
    "tour.registered",
    "已预约{date} {start}-{end} {place}摩托车检验，号牌{plate}。请带行驶证和身份证。"
    "不能来请回复“取消 {code}”到本号码，把名额留给他人。",
    worst={**_WINDOW, **_AT_STOP, "code": "K7P2QX9M"})

# Someone registered a plate already registered on the tour: the answer to them is a first one's, and
# the standing registration's phone is told (its owner may not have been the one).
REGISTERED_AGAIN = template(
    "tour.registered_again",
    "您的摩托车{plate}已预约{date}流动车管所检验，刚有人用同一号牌再次预约，未占名额；如非本人操作请致电车管所。",
    worst={"date": "12月05日", "plate": _PLATE})

REGISTRATION_CANCELLED = template(
    "tour.registration_cancelled",
    "已取消{date}{place}摩托车{plate}的检验预约。",
    worst=_AT_STOP)

CHANGED = template(
    "tour.changed",
    "您预约的{date}流动车管所摩托车检验（{plate}）有变更：{place}，{start}-{end}。",
    worst={**_WINDOW, **_AT_STOP})

STOP_CANCELLED = template(
    "tour.stop_cancelled",
    "很抱歉，{date}流动车管所{place}站点已取消，您为{plate}的预约作废，请改约同日其他站点。",
    worst=_AT_STOP)

TOUR_CANCELLED = template(
    "tour.cancelled",
    "很抱歉，{date}流动车管所{place}检验已取消{reason}，您为{plate}的预约作废，请留意下次安排。",
    worst={**_AT_STOP, "reason": "（暴雨红色预警，山路塌方）"})

INVITE = template(
    "tour.invite",
    "{date}流动车管所到{township}（{where}）。您的摩托车{plate}已到检验期，可就近检验，免跑城区。",
    worst={"date": "12月05日", "township": "东城街道", "plate": _PLATE,
           "where": f"{_PLACE} 09:00-10:30；东城街道办事处 14:00-15:30"})

# The day before (`vmo reminders send`); the cancel code is only in the registration's text (it is kept hashed).
REMINDER = template(
    "tour.reminder",
    "提醒：{date} {start}-{end}流动车管所在{place}检验摩托车，您的{plate}已预约，请带行驶证和身份证。"
    "不能来请回复“取消 取消码”（见预约短信），或联系{contact}。",
    worst={**_WINDOW, **_AT_STOP, "contact": "车管所（电话023-71412345）"})

# The follow-up: one segment, signature included.
FOLLOW_UP = template(
    "tour.follow_up",
    "您的摩托车{plate}已在{township}流动车管所{outcome}，民警警号{badge}。满意回1，不满意回2",
    worst={"plate": _PLATE, "township": "东城街道", "outcome": "检验未通过", "badge": "500123"},
    budget=FOLLOW_UP_BUDGET)
OUTCOME = {"pass": "检验合格", "fail": "检验未通过"}

# After a failed inspection: what failed, and where and when the owner can come again.
FAILED = template(
    "tour.failed",
    "您的摩托车{plate}检验未通过：{failed}。修好后可再来检验：{next}。",
    worst={"plate": _PLATE, "failed": "前制动、后制动、灯光等4项，后转向灯不亮",
           "next": f"12月12日09:00-10:30{_PLACE}；12月19日14:00-15:30东城街道办事处"})
NEXT_NONE = "下次流动车管所到{township}时（会提前短信通知），或到车管所检验"
