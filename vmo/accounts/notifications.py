"""Texts of a candidate's sign-up (bodies only; the outbox signs them)."""
from vmo.notify.texts import template

# The code that proves the phone given at sign-up; the account works only once it comes back.
SIGNUP_CODE = template(
    "candidate.signup_code",
    "您申请考试账号的验证码{code}，{minutes}分钟内有效。如非本人操作，请忽略本短信。",
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
