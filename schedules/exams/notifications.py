"""The driving-test texts candidates receive, in Chinese (the outbox puts the office's signature first)."""
from vmo.notify.texts import FOLLOW_UP_BUDGET, template

# What every text about one sitting starts with: "11月28日 09:00 科目二（C1）考试，<venue>".
_WORST_SITTING = {"when": "11月28日 09:00", "subject": "科目三", "classes": "C1/C2/C5",
                  "venue": "南川区机动车驾驶人考试中心（大观镇）2号场地"}
_WORST_BOOKED = {**_WORST_SITTING, "booking": 123456}

CONFIRMED = template(
    "exam_confirmed", "您已预约{when} {subject}（{classes}）考试，{venue}，预约号{booking}。"
    "如需取消，请在考试前一日24时前办理。",
    worst=_WORST_BOOKED)
APPLIED = template(
    "exam_applied", "已收到您{when} {subject}（{classes}）考试的预约申请（预约号{booking}），"
    "{close}截止后按排序和摇号确定名单，结果另行通知。",
    worst={**_WORST_BOOKED, "close": "11月26日 20:00"})
WAITLISTED = template(
    "exam_waitlisted", "{when} {subject}（{classes}）考试已满，您在候补名单第{position}位（预约号{booking}），"
    "有空位时自动转为正式预约并通知您。",
    worst={**_WORST_BOOKED, "position": 120})
DRAWN_WON = template(
    "exam_drawn_won", "{when} {subject}（{classes}）考试摇号结果：中签，预约已确认（预约号{booking}），{venue}。",
    worst=_WORST_BOOKED)
DRAWN_LOST = template(
    "exam_drawn_lost", "{when} {subject}（{classes}）考试摇号结果：未中签，您在候补名单第{position}位"
    "（预约号{booking}），有空位时自动转为正式预约。",
    worst={**_WORST_BOOKED, "position": 120})
PROMOTED = template(
    "exam_promoted", "有空位了：您已由候补转为正式预约，{when} {subject}（{classes}）考试，{venue}，预约号{booking}。",
    worst=_WORST_BOOKED)
SESSION_CHANGED = template(
    "exam_session_changed", "您预约的{subject}考试（预约号{booking}）有变更：现为{when}，{venue}。"
    "如不能参加，请在考试前一日24时前取消。",
    worst=_WORST_BOOKED)
SESSION_CANCELLED = template(
    "exam_session_cancelled", "抱歉，{when} {subject}考试因{reason}取消，您的预约（预约号{booking}）已撤销，"
    "不计入预约次数，请重新预约。",
    worst={**_WORST_BOOKED, "reason": "暴雨橙色预警，考场积水无法保障考试安全"})
SCORE = template("exam_score", "（{score}分）", worst={"score": 100})
SCORE_WITH_RETAKE = template("exam_score_retake", "（{score}分，补考{retake}分）", worst={"score": 88, "retake": 100})
RESULT_PASSED = template(
    "exam_result_passed", "{when} {subject}考试合格{score}。{next}",
    worst={**_WORST_SITTING, "score": "（88分，补考100分）", "next": "学习驾驶证明已核发，有效期至2029年11月27日；"
                                                                 "科目二可于12月08日起预约，科目三可于12月28日起预约。"})
RESULT_FAILED = template(
    "exam_result_failed", "{when} {subject}考试不合格{score}。{next}",
    worst={**_WORST_SITTING, "score": "（72分，补考76分）",
           "next": "本科目已用预约4次，剩1次，可于12月08日起重新预约。"})
RESULT_NO_SHOW = template(
    "exam_result_no_show", "{when} {subject}考试您未到场，按规定判定为不合格。{next}",
    worst={**_WORST_SITTING, "next": "本科目已用预约4次，剩1次，可于12月08日起重新预约。"})
# What a result text says next, by case. Every date or "现可预约" in it comes from the same rules a
# booking asks (eligibility.bookable_from), so a text never announces a booking that would be refused.
NEXT_PERMIT = template(
    "exam_next_permit", "学习驾驶证明已核发，有效期至{expires}；{openings}。",
    worst={"expires": "2029年11月27日", "openings": "科目二可于12月08日起预约，科目三可于12月28日起预约"})
OPEN_NOW = template("exam_open_now", "{subject}现可预约", worst={"subject": "科目四"})
OPEN_FROM = template("exam_open_from", "{subject}可于{when}起预约", worst={"subject": "科目三", "when": "12月28日"})
NEXT_OPENINGS = template("exam_next_openings", "{openings}。",
                         worst={"openings": "科目二现可预约，科目三可于12月28日起预约"})
NEXT_NOTHING_OPEN = template("exam_next_nothing_open", "其余科目暂不能预约，请以考试进度为准。", worst={})
NEXT_DONE = template("exam_next_done", "各科目均已合格，请留意领证通知。", worst={})
NEXT_REBOOK = template(
    "exam_next_rebook", "本科目已用预约{used}次，剩{left}次，可于{when}起重新预约。",
    worst={"used": 4, "left": 1, "when": "12月08日"})
NEXT_REBOOK_CLOSED = template(
    "exam_next_rebook_closed", "本科目已用预约{used}次，剩{left}次；学习驾驶证明有效期至{expires}，到期前不能再预约本科目。",
    worst={"used": 4, "left": 1, "expires": "2026年12月01日"})
NEXT_REBOOK_UNLIMITED = template("exam_next_rebook_any", "可重新预约。", worst={})
NEXT_VOID = template(
    "exam_next_void", "本科目5次预约均未合格，本学习驾驶证明下已合格的科目成绩作废，需重新预约科目一。", worst={})
FOLLOW_UP = template(
    "exam_follow_up", "{subject}考试已结束，经办民警警号{badge}。满意请回复1，不满意请回复2。",
    worst={"subject": "科目三", "badge": "50012345"}, budget=FOLLOW_UP_BUDGET)
# The day before (`vmo reminders send`), with how to cancel: online until the cut-off, then only the office.
_CONTACT = "车管所（电话023-71412345）"
REMINDER = template(
    "exam_reminder", "{when} {subject}（{classes}）考试，{venue}，提醒您准时参加（预约号{booking}），"
    "请带身份证提前30分钟到场。{cancel}",
    worst={**_WORST_BOOKED, "cancel": f"如需取消，请于11月27日 24:00前在网上取消预约，逾期请联系{_CONTACT}。"})
REMINDER_CANCEL_ONLINE = template(
    "exam_reminder_cancel_online", "如需取消，请于{deadline}前在网上取消预约，逾期请联系{contact}。",
    worst={"deadline": "11月27日 24:00", "contact": _CONTACT})
REMINDER_CANCEL_OFFICE = template(
    "exam_reminder_cancel_office", "如不能参加，请联系{contact}取消。", worst={"contact": _CONTACT})
