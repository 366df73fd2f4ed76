"""Every number of the national driving-test rules in one table, each beside the article it comes from.

Sources: Order 162 of the Ministry of Public Security, 《机动车驾驶证申领和使用规定》 (2021 revision,
in force since 2022-04-01), chapter 3, and the booking order 交管12123 publishes. The docs
(docs/driving-tests.md) print this table; `RULES` is what the code reads. A rule marked
`per_office` may be set differently for one office with the app config `EXAM_OFFICE_RULES`
(`{"<office code>": {"<rule key>": value}}`); the others are national and fixed.
"""
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

# Classes grouped the way articles 43 and 44 name them (GA/T 1213 codes).
LARGE = ("A1", "A2", "A3", "B1", "B2")  # 大型客车、重型牵引挂车、城市公交车、中型客车、大型货车


@dataclass(frozen=True)
class Rule:
    key: str
    value: object
    article: str
    quote: str
    per_office: bool = False


RULES: dict[str, Rule] = {r.key: r for r in (
    Rule("permit_issued_after_subject", 1, "第四十条",
         "科目一考试合格后，车辆管理所应当在一日内核发学习驾驶证明。"),
    Rule("permit_valid_years", 3, "第四十一条",
         "学习驾驶证明的有效期为三年……申请人应当在有效期内完成科目二和科目三考试。"
         "未在有效期内完成考试的，已考试合格的科目成绩作废。"),
    # Subject 2: days after the permit was issued before the first booking.
    Rule("subject2_wait_days", {"large": 20, "C6": 20, "other": 10}, "第四十三条",
         "报考小型汽车、小型自动挡汽车、低速载货汽车、三轮汽车、残疾人专用小型自动挡载客汽车、摩托车等准驾车型的，"
         "在取得学习驾驶证明满十日后预约考试；报考大型客车、重型牵引挂车、城市公交车、中型客车、大型货车、"
         "轻型牵引挂车准驾车型的，在取得学习驾驶证明满二十日后预约考试。"),
    # Subject 3 (road driving).
    Rule("subject3_wait_days", {"large": 40, "C2": 20, "C3": 20, "C4": 20, "C5": 20, "C6": 20, "other": 30},
         "第四十四条",
         "报考低速载货汽车、三轮汽车、小型自动挡汽车、残疾人专用小型自动挡载客汽车、轻型牵引挂车准驾车型的，"
         "在取得学习驾驶证明满二十日后预约考试；报考小型汽车等准驾车型的，满三十日后预约考试；报考大型客车、"
         "重型牵引挂车、城市公交车、中型客车、大型货车准驾车型的，满四十日后预约考试。"),
    Rule("cancel_days_before", 1, "第四十五条",
         "申请人因故不能按照预约时间参加考试的，应当提前一日申请取消预约。", per_office=True),
    Rule("cancel_until", "24:00", "第四十五条",
         "（本所设定）取消预约截至考试前一日的这个时刻（办公时区），24:00 即当日结束。", per_office=True),
    Rule("no_show_is_fail", True, "第四十五条",
         "对申请人未按照预约考试时间参加考试的，判定该次考试不合格。"),
    Rule("retakes_per_sitting", 1, "第四十六条",
         "每个科目考试一次，考试不合格的，可以补考一次。不参加补考或者补考仍不合格的，本次考试终止，"
         "申请人应当重新预约考试，但科目二、科目三考试应当在十日后预约。"),
    Rule("rebook_wait_days", 10, "第四十六条", "科目二、科目三考试应当在十日后预约。"),
    Rule("max_bookings", {2: 5, 3: 5}, "第四十六条",
         "在学习驾驶证明有效期内，科目二和科目三道路驾驶技能考试预约考试的次数分别不得超过五次。"
         "第五次预约考试仍不合格的，已考试合格的其他科目成绩作废。"),
    Rule("pass_marks", {1: 90, 2: 80, "2-large": 90, 3: 90, 4: 90}, "第四十八条",
         "科目一考试满分为100分，成绩达到90分的为合格。科目二考试满分为100分，考试大型客车、重型牵引挂车、"
         "城市公交车、中型客车、大型货车准驾车型的，成绩达到90分的为合格，其他准驾车型的成绩达到80分的为合格。"
         "科目三道路驾驶技能和安全文明驾驶常识考试满分分别为100分，成绩分别达到90分的为合格。"),
    Rule("ballot_order", "latest of: application accepted (first subject 1), last test, last cancel or no-show",
         "交管12123 考试预约排序",
         "首次预约科目一考试的，按照驾驶证申请受理时间排序；非首次预约科目一或者预约其他科目考试的，按照上一次"
         "考试时间排序；考试预约成功的申请人因自身原因取消约考或者缺考的，按照取消预约时间或者缺考时间排序。"
         "同时符合第二、第三种情形的，按照最近一次时间顺序排序。"),
)}


def rule(key: str, office_code: str | None = None, overrides: Mapping | None = None):
    """The value of a rule, with the office's override if the rule allows one."""
    item = RULES[key]
    if item.per_office and overrides and office_code in overrides and key in overrides[office_code]:
        return overrides[office_code][key]
    return item.value


def _by_class(table: dict, license_class: str):
    if license_class in table:
        return table[license_class]
    if license_class in LARGE:
        return table["large"]
    return table["other"]


def wait_days(subject: int, license_class: str) -> int | None:
    """Days after the permit's issue before subject 2 or 3 may be booked (articles 43, 44); None otherwise."""
    if subject == 2:
        return _by_class(RULES["subject2_wait_days"].value, license_class)
    if subject == 3:
        return _by_class(RULES["subject3_wait_days"].value, license_class)
    return None


def pass_mark(subject: int, license_class: str) -> int:
    marks = RULES["pass_marks"].value
    if subject == 2 and license_class in LARGE:
        return marks["2-large"]
    return marks[subject]


def max_bookings(subject: int) -> int | None:
    """Bookings allowed within the permit's validity (subjects 2 and 3), else None (no limit)."""
    return RULES["max_bookings"].value.get(subject)


def rebook_wait() -> timedelta:
    return timedelta(days=RULES["rebook_wait_days"].value)


def permit_expires_on(issued_on: date) -> date:
    """The last day the permit is valid: three years from the day of issue, less a day."""
    years = RULES["permit_valid_years"].value
    try:
        anniversary = issued_on.replace(year=issued_on.year + years)
    except ValueError:  # issued on 29 February
        anniversary = issued_on.replace(year=issued_on.year + years, day=28) + timedelta(days=1)
    return anniversary - timedelta(days=1)
