"""Every number of the national driving-test rules in one table, each beside the article it comes from.

Sources: Order 162 of the Ministry of Public Security, 《机动车驾驶证申领和使用规定》 (2021 revision,
in force since 2022-04-01), chapter 3, as amended by Order 172 (公安部令第172号, published
2024-12-21, in force since 2025-01-01), and the booking order 交管12123 publishes. The regulation's own text was not at hand
while this table was checked: the quotes are the wording that several independent pages give alike,
and `sure` says how certain each article number and figure is. Order 172 changed the age limits for
applying (article 14); no figure of the tests' rules here was found changed by it (article 46 is
quoted under Order 172 word for word as in 2021).

Subjects are numbered as this service books them: 1 科目一, 2 科目二, 3 科目三道路驾驶技能,
4 科目三安全文明驾驶常识 ("科目四"), which the regulation counts as part of 科目三.

The docs (docs/driving-tests.md) print `markdown_table()`; `RULES` is what the code reads. A rule
marked `per_office` may be set differently for one office with `VMO_EXAM_OFFICE_RULES`
(`{"<office code>": {"<rule key>": value}}`); the others are national and fixed.
"""
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

# Classes grouped the way the articles name them (GA/T 1213 codes).
LARGE = ("A1", "A2", "A3", "B1", "B2")  # 大型客车、重型牵引挂车、城市公交车、中型客车、大型货车
MOTORCYCLES = ("D", "E", "F")  # 普通三轮摩托车、普通二轮摩托车、轻便摩托车
ALL_SUBJECTS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Rule:
    key: str
    value: object
    article: str
    quote: str
    per_office: bool = False
    says: str = ""  # the value in words, as the docs print it (default: the value itself)
    sure: str = ""  # how certain the article number and the figure are, and why


RULES: dict[str, Rule] = {r.key: r for r in (
    Rule("subjects", {"C6": (2, 4), "other": ALL_SUBJECTS},
         "考试科目条（第三章第一节）",
         "已持有大型客车、城市公交车、中型客车、大型货车、小型汽车、小型自动挡汽车准驾车型驾驶证申请增加轻型牵引挂车"
         "准驾车型的，应当考试科目二和科目三安全文明驾驶常识。已持有轻便摩托车准驾车型驾驶证申请增加普通三轮摩托车、"
         "普通二轮摩托车准驾车型的……应当考试科目二和科目三。",
         says="C6 (轻型牵引挂车, only ever added to a car or larger licence): subjects 2 and 4, no subject 1 and no "
              "road test; every other class: 1, 2, 3 and 4 (an added C1, D or E also skips subject 1: the office "
              "enters its permit)",
         sure="wording: high (three pages alike, one a 2022 announcement of the C6 test: 科目二 and "
              "科目三安全文明驾驶常识); article number: not found"),
    Rule("subject_order", {4: (2, 3)},
         "第四十二条",
         "申请人科目一考试合格后，可以预约科目二或者科目三道路驾驶技能考试。……科目二、科目三道路驾驶技能考试均合格后，"
         "申请人可以当日参加科目三安全文明驾驶常识考试。",
         says="subject 4 after subjects 2 and 3 of the class's path are passed; subjects 2 and 3 in either order",
         sure="wording: high (quoted alike by several pages); number: low (one page quotes it just before art. 41 "
              "and 43 without its number)"),
    Rule("permit_issued_after_subject", 1,
         "第四十一条",
         "初次申请机动车驾驶证或者申请增加准驾车型的，科目一考试合格后，车辆管理所应当在一日内核发学习驾驶证明。",
         says="the learner permit (学习驾驶证明) is issued the day subject 1 is "
              "passed here",
         sure="wording: high; number: medium (one page)"),
    Rule("permit_valid_years", 3,
         "第三十八条",
         "学习驾驶证明的有效期为三年，但有效期截止日期不得超过申请年龄条件上限。申请人应当在有效期内完成科目二和"
         "科目三考试。未在有效期内完成考试的，已考试合格的科目成绩作废。",
         says="3 years (`permit_expires_on` is its last valid day); an expired permit voids "
              "the subjects passed under it",
         sure="wording: high; number: medium (two pages give 38 with art. 39 after it, one gives 41); the "
              "age-limit cap is not modelled here"),
    # Subject 2: days after the permit was issued before the first booking.
    Rule("subject2_wait_days", {**dict.fromkeys(("C1", "C2", "C3", "C4", "C5", "M", "N", "P"), 10),
                                **dict.fromkeys(LARGE + ("C6",), 20), **dict.fromkeys(MOTORCYCLES, 0)},
         "第四十三条",
         "（一）报考小型汽车、小型自动挡汽车、低速载货汽车、三轮汽车、残疾人专用小型自动挡载客汽车、轮式专用机械车、"
         "无轨电车、有轨电车准驾车型的，在取得学习驾驶证明满十日后预约考试；（二）报考大型客车、重型牵引挂车、"
         "城市公交车、中型客车、大型货车、轻型牵引挂车准驾车型的，在取得学习驾驶证明满二十日后预约考试。",
         says="10 days (C1, C2, C3, C4, C5, M, N, P); 20 days (A1, A2, A3, B1, B2, C6); none for D, E, F",
         sure="high for the listed classes (four pages quote the 2021 text alike, one dated at its publication); "
              "medium for motorcycles: neither list of the 2021 text names them (the 2016 text had them in its "
              "10-day list), so nothing makes them wait"),
    # Subject 3 (road driving); None: the class does not sit it.
    Rule("subject3_wait_days", {**dict.fromkeys(("C2", "C3", "C4", "C5"), 20),
                                **dict.fromkeys(("C1", "M", "N", "P"), 30),
                                **dict.fromkeys(("A3", "B2"), 40), **dict.fromkeys(("A1", "A2", "B1"), 30),
                                **dict.fromkeys(MOTORCYCLES, 0), "C6": None},
         "第四十四条",
         "（一）报考小型自动挡汽车、残疾人专用小型自动挡载客汽车、低速载货汽车、三轮汽车准驾车型的，在取得学习驾驶证明"
         "满二十日后预约考试；（二）报考小型汽车、轮式专用机械车、无轨电车、有轨电车准驾车型的，满三十日后预约考试；"
         "（三）报考大型客车、重型牵引挂车、城市公交车、中型客车、大型货车准驾车型的，满四十日后预约考试。属于已经持有"
         "汽车类驾驶证，申请增加准驾车型的，在取得学习驾驶证明满三十日后预约考试。",
         says="20 days (C2, C3, C4, C5); 30 days (C1, M, N, P, and A1, A2, B1, which are only ever added to a held "
              "car licence); 40 days (A3, B2); none for D, E, F; C6 has no road test",
         sure="high for the lists (four pages alike); medium for motorcycles (not named, as for art. 43). Not "
              "modelled: A3 or B2 added to a held car licence waits 30 days, not 40 (the permit does not record the "
              "licence held)"),
    Rule("cancel_days_before", 1,
         "第四十六条",
         "申请人因故不能按照预约时间参加考试的，应当提前一日申请取消预约。",
         per_office=True,
         says="a candidate cancels (and books) until the day before the test",
         sure="high (four pages, one citing the 2024 amendment)"),
    Rule("cancel_until", "24:00",
         "第四十六条",
         "（本所设定）取消预约截至考试前一日的这个时刻（办公时区），24:00 即当日结束。",
         per_office=True,
         says="that day's hour, office time (24:00: its end); after it 422 `cutoff`, for "
              "cancelling, changing and a candidate's booking alike (the counter may still book)",
         sure="the office's own setting under art. 46"),
    Rule("no_show_is_fail", True,
         "第四十六条",
         "对申请人未按照预约考试时间参加考试的，判定该次考试不合格。",
         says="a missed test is a failed sitting, with the same consequences",
         sure="high (as above)"),
    Rule("retakes_per_sitting", 1,
         "第四十七条",
         "每个科目考试一次，考试不合格的，可以补考一次。不参加补考或者补考仍不合格的，本次考试终止，"
         "申请人应当重新预约考试，但科目二、科目三考试应当在十日后预约。",
         says="one same-day retake (补考); failing it or not taking it ends the sitting",
         sure="wording: high; number: medium-high (two pages, 2022 and 2025)"),
    Rule("rebook_wait_days", 10,
         "第四十七条",
         "科目二、科目三考试应当在十日后预约。科目三安全文明驾驶常识考试不合格的，已通过的道路驾驶技能考试成绩有效。",
         says="after a failed sitting of subject 2 or 3, the next booking 10 days later "
              "(the exam day + 10); subject 4 is not made to wait",
         sure="as above; whether the ten days also hold for 安全文明驾驶常识 is read both ways by the pages found"),
    Rule("max_bookings", {2: 5, 3: 5},
         "第四十七条",
         "在学习驾驶证明有效期内，科目二和科目三道路驾驶技能考试预约考试的次数分别不得超过五次。"
         "第五次预约考试仍不合格的，已考试合格的其他科目成绩作废。",
         says="at most 5 bookings each of subjects 2 and 3 within the permit; the 5th "
              "fail voids the other subjects passed under it",
         sure="as above"),
    Rule("pass_marks", {1: 90, 2: 80, "2-strict": 90, 3: 90, 4: 90},
         "合格标准条（第三章第一节）",
         "科目一考试满分为100分，成绩达到90分的为合格。科目二考试满分为100分，考试大型客车、重型牵引挂车、"
         "城市公交车、中型客车、大型货车、轻型牵引挂车准驾车型的，成绩达到90分的为合格，其他准驾车型的成绩达到"
         "80分的为合格。科目三道路驾驶技能和安全文明驾驶常识考试满分分别为100分，成绩分别达到90分的为合格。",
         says="subject 1: 90; subject 2: 80 (A1, A2, A3, B1, B2 and C6: 90); subject 3: 90; subject 4: 90 (of 100)",
         sure="high for the marks of the five large classes and the others; medium-low for C6's 90 (one page on "
              "the C6 test); article number: not found"),
    Rule("ballot_order", "latest of: application accepted (first subject 1, to the second), last test, "
                         "last cancel or no-show",
         "交管12123 考试预约排序",
         "首次预约科目一考试的，按照驾驶证申请受理时间排序；非首次预约科目一或者预约其他科目考试的，按照上一次"
         "考试时间排序；考试预约成功的申请人因自身原因取消约考或者缺考的，按照取消预约时间或者缺考时间排序。"
         "同时符合第二、第三种情形的，按照最近一次时间顺序排序。",
         says="the latest of: application accepted (受理, first subject 1, to the second), last test, last "
              "cancellation or no-show; the seeded draw breaks ties within one second",
         sure="high (12123's published rules, quoted alike by several pages)"),
)}

STRICT_SUBJECT_2 = LARGE + ("C6",)  # classes whose subject 2 needs 90


def rule(key: str, office_code: str | None = None, overrides: Mapping | None = None):
    """The value of a rule, with the office's override if the rule allows one."""
    item = RULES[key]
    if item.per_office and overrides and office_code in overrides and key in overrides[office_code]:
        return overrides[office_code][key]
    return item.value


def subjects_for(license_class: str) -> tuple[int, ...]:
    """The subjects a class sits, in this service's numbering."""
    table = RULES["subjects"].value
    return table.get(license_class, table["other"])


def needed_before(subject: int, license_class: str) -> tuple[int, ...]:
    """The subjects of the class's path that must be passed before `subject` can be booked."""
    path = subjects_for(license_class)
    return tuple(n for n in RULES["subject_order"].value.get(subject, ()) if n in path)


def wait_days(subject: int, license_class: str) -> int | None:
    """Days after the permit's issue before subject 2 or 3 may be booked (articles 43, 44); None otherwise."""
    if subject == 2:
        return RULES["subject2_wait_days"].value[license_class]
    if subject == 3:
        return RULES["subject3_wait_days"].value[license_class]
    return None


def pass_mark(subject: int, license_class: str) -> int:
    marks = RULES["pass_marks"].value
    if subject == 2 and license_class in STRICT_SUBJECT_2:
        return marks["2-strict"]
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


def markdown_table() -> str:
    """The table docs/driving-tests.md prints (a test keeps the two the same)."""
    lines = ["| rule | value | source (Order 162 unless said) | how sure |", "|---|---|---|---|"]
    for item in RULES.values():
        office = " (*per office*)" if item.per_office else ""
        says = item.says or str(item.value)
        lines.append(f"| `{item.key}`{office} | {says} | {item.article}: 「{item.quote}」 | {item.sure} |")
    return "\n".join(lines)


# ---- acceptance (受理): who may apply for which class ---------------------------------------------
#
# Checked when the office accepts an application (schedules.exams.applications), before anything
# scarce is handed out. Ages are full years (周岁) on the acceptance date, office time, from the birth
# date in the ID number. "N周岁以上" and "N周岁以下" include N (民法典 art. 1259: 「……所称的“以上”、
# “以下”……包括本数」): 18 is reached on the 18th birthday, and "63周岁以下" lets a person of 63 full
# years apply until the day before their 64th birthday. A 29 February birthday is reached on 1 March in
# other years (vmo.validators.age_on). How sure: the figures, high; the two boundary readings, medium
# (the text does not say how a birthday counts; we follow the Civil Code's reading of 以上/以下).


@dataclass(frozen=True)
class AgeLimit:
    classes: tuple[str, ...]
    low: int
    high: int | None  # None: no upper limit
    quote: str


@dataclass(frozen=True)
class AgeLimits:
    """One text of article 14 (一), in force from `in_force` (an acceptance on or after that day uses it)."""

    in_force: date
    source: str
    sureness: str
    limits: tuple[AgeLimit, ...]

    def of(self, license_class: str) -> AgeLimit | None:
        return next((limit for limit in self.limits if license_class in limit.classes), None)


AGE_LIMITS: tuple[AgeLimits, ...] = (
    AgeLimits(
        date(2022, 4, 1), "公安部令第162号（2021年修订）第十四条第一项",
        "high for the figures (the 2024 amendment's text restates this wording with 60 raised to 63); "
        "medium for the exact wording, quoted from secondary copies",
        (
            AgeLimit(("C1", "C2", "C5", "F"), 18, None,
                     "申请小型汽车、小型自动挡汽车、残疾人专用小型自动挡载客汽车、轻便摩托车准驾车型的，在18周岁以上"),
            AgeLimit(("C3", "C4", "D", "E", "M"), 18, 60,
                     "申请低速载货汽车、三轮汽车、普通三轮摩托车、普通二轮摩托车或者轮式专用机械车准驾车型的，"
                     "在18周岁以上，60周岁以下"),
            AgeLimit(("A3", "B1", "B2", "C6", "N", "P"), 20, 60,
                     "申请城市公交车、中型客车、大型货车、轻型牵引挂车、无轨电车或者有轨电车准驾车型的，"
                     "在20周岁以上，60周岁以下"),
            AgeLimit(("A1", "A2"), 22, 60, "申请大型客车、重型牵引挂车准驾车型的，在22周岁以上，60周岁以下"),
        )),
    AgeLimits(
        date(2025, 1, 1), "公安部令第172号《公安部关于修改〈机动车驾驶证申领和使用规定〉的决定》第一项"
                          "（2024年12月21日公布，2025年1月1日起施行），改写第十四条第一项",
        "high: quoted from the decision's published text (the Guangxi government's law database copy); "
        "the draft of 2024-11-04 had C6 at 20-63, the decision as published puts it at 20-70",
        (
            AgeLimit(("C1", "C2", "C5", "F"), 18, None,
                     "申请小型汽车、小型自动挡汽车、残疾人专用小型自动挡载客汽车、轻便摩托车准驾车型的，在18周岁以上"),
            AgeLimit(("D", "E"), 18, 70, "申请普通三轮摩托车、普通二轮摩托车准驾车型的，在18周岁以上，70周岁以下"),
            AgeLimit(("C6",), 20, 70, "申请轻型牵引挂车准驾车型的，在20周岁以上，70周岁以下"),
            AgeLimit(("C3", "C4", "M"), 18, 63,
                     "申请低速载货汽车、三轮汽车、轮式专用机械车准驾车型的，在18周岁以上，63周岁以下"),
            AgeLimit(("A3", "B1", "B2", "N", "P"), 20, 63,
                     "申请城市公交车、中型客车、大型货车、无轨电车或者有轨电车准驾车型的，在20周岁以上，63周岁以下"),
            AgeLimit(("A1", "A2"), 22, 63, "申请大型客车、重型牵引挂车准驾车型的，在22周岁以上，63周岁以下"),
        )),
)
# Not modelled: full-time vocational students (接受全日制驾驶职业教育的学生) applying for A1 or A2 from 19
# (2021: to 60; since 2025: to 63). This service accepts first applications only, and A1/A2 are not
# among them (INITIAL_CLASSES); such a student is served at the counter outside it.

# Article 15: the classes a first licence (初次申领) may be for; the others (A1 大型客车, A2 重型牵引挂车,
# B1 中型客车, C6 轻型牵引挂车) only as a class added to a licence held (增驾), which this service does not
# accept. The 2024 amendment (Order 172) left article 15 as it was. How sure: high.
INITIAL_CLASSES = ("A3", "B2", "C1", "C2", "C3", "C4", "C5", "D", "E", "F", "M", "N", "P")
INITIAL_CLASSES_QUOTE = ("初次申领机动车驾驶证的，可以申请准驾车型为城市公交车、大型货车、小型汽车、小型自动挡汽车、"
                         "低速载货汽车、三轮汽车、残疾人专用小型自动挡载客汽车、普通三轮摩托车、普通二轮摩托车、"
                         "轻便摩托车、轮式专用机械车、无轨电车、有轨电车的机动车驾驶证。")

# The medical certificate (身体条件证明) is valid six months from the day it was issued: an application
# is accepted on any day up to and including the same day of the sixth month after it (民法典 arts.
# 201-202: the issue day does not count, the period ends on the corresponding day of the last month, or
# that month's last day when it has none). Source: Order 162 article 85 (third paragraph):
# 「身体条件证明自出具之日起六个月内有效。」 How sure: the six months, high (the same sentence has stood
# since the 2012 text); the article number, medium (quoted from secondary copies of the 2021 text).
MEDICAL_VALID_MONTHS = 6
MEDICAL_ARTICLE = "第八十五条"
MEDICAL_QUOTE = "身体条件证明自出具之日起六个月内有效。"


def age_limits(on: date) -> AgeLimits:
    """The text of article 14 (一) in force on `on` (the 2021 text for any earlier day too)."""
    current = AGE_LIMITS[0]
    for text in AGE_LIMITS:
        if on >= text.in_force:
            current = text
    return current


def medical_valid_until(issued_on: date) -> date:
    """The last day a medical certificate issued on `issued_on` is valid."""
    month = issued_on.month - 1 + MEDICAL_VALID_MONTHS
    year, month = issued_on.year + month // 12, month % 12 + 1
    last_day = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(issued_on.day, last_day))


# The acceptance rules in the one table the docs print (the figures themselves are above).
RULES.update({r.key: r for r in (
    Rule("age_limits", {text.in_force.isoformat(): {c: (limit.low, limit.high) for limit in text.limits
                                                     for c in limit.classes} for text in AGE_LIMITS},
         "第十四条第一项（公安部令第172号改写）", "；".join(limit.quote for limit in AGE_LIMITS[-1].limits),
         says="full years on the acceptance day (18 on the 18th birthday; \"63周岁以下\" until the day before the "
              "64th): accepted on or after 2025-01-01 (Order 172): C1, C2, C5, F 18+; D, E 18-70; C6 20-70; "
              "C3, C4, M 18-63; A3, B1, B2, N, P 20-63; A1, A2 22-63. Accepted before (the 2021 text): C1, C2, C5, "
              "F 18+; C3, C4, D, E, M 18-60; A3, B1, B2, C6, N, P 20-60; A1, A2 22-60. Refused: `age`",
         sure="figures: high (Order 172's text from a government law database; the 2021 text from the same "
              "wording with 60); the birthday readings: medium (民法典 art. 1259: 以上/以下 include the number)"),
    Rule("initial_classes", INITIAL_CLASSES, "第十五条", INITIAL_CLASSES_QUOTE,
         says="a first licence (初次申领): A3, B2, C1, C2, C3, C4, C5, D, E, F, M, N, P; A1, A2, B1 and C6 only "
              "added to a licence held (增驾), which this service does not accept. Refused: `class_not_initial`",
         sure="high (several pages alike, before and after Order 172, which left article 15 as it was)"),
    Rule("medical_valid_months", MEDICAL_VALID_MONTHS, MEDICAL_ARTICLE, MEDICAL_QUOTE,
         says="the medical certificate (身体条件证明) is valid 6 months: issued 05-25, accepted until 11-25 "
              "(民法典 arts. 201-202). Refused: `medical_expired`",
         sure="six months: high (the same sentence since the 2012 text); article number: medium (secondary "
              "copies of the 2021 text)"),
)})
