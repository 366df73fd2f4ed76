"""Texts of a candidate's sign-up and of a company's review (bodies only; the outbox signs them)."""
from vmo.notify.texts import template

# The code texted to the phone recorded at acceptance (受理); the account works only once it comes back.
SIGNUP_CODE = template(
    "candidate.signup_code",
    "您申请考试账号的验证码{code}，{minutes}分钟内有效。如非本人操作，请忽略本短信。",
    worst={"code": "000000", "minutes": 15},
)

# A forgotten password: the code goes to the phone recorded when the office accepted the application.
RESET_CODE = template(
    "candidate.reset_code",
    "您找回考试账号密码的验证码{code}，{minutes}分钟内有效。如非本人操作，请忽略本短信。",
    worst={"code": "000000", "minutes": 15},
)

# Someone signed up with an ID number that already has an account: the caller's answer says nothing
# about it (it must not confirm to a stranger that a person is registered); the existing account's
# phone is told instead, and no account opens.
ID_NUMBER_REUSED = template(
    "candidate.id_number_reused",
    "有人用您的身份证号申请考试账号，未予开通，您的账号不受影响。如非本人操作，请致电{phone}。",
    worst={"phone": "023-71400000"},
)

_COMPANY = "重庆市南川区丰昌汽车服务有限公司南川分公司"

# An officer checked the business licence against the credit code: the company may now book.
COMPANY_APPROVED = template(
    "company.approved",
    "{company}：贵单位已通过审核，可预约绿色通道和选择号牌。",
    worst={"company": _COMPANY},
)

# Declined at the counter (or from the papers sent): the reason, and what to bring to try again.
COMPANY_DECLINED = template(
    "company.declined",
    "{company}：贵单位注册未通过审核，原因：{reason}。请携营业执照原件到{place}办理，咨询电话{phone}。",
    worst={"company": _COMPANY, "reason": "营业执照上的统一社会信用代码与注册填写的不一致",
           "place": "重庆市南川区政务服务中心车驾管窗口", "phone": "023-71400000"},
)
