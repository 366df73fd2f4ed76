"""Texts to the recipient of a mailing (bodies only; the outbox signs them)."""
from vmo.notify.texts import SINGLE_SEGMENT_CHARS, template

# One segment, signature included: the carrier and the number are all the person needs to track it.
MAILING_SENT = template(
    "mailings.sent",
    "您的车管所邮件已由{carrier}寄出，运单号{tracking_number}，请留意查收。",
    worst={"carrier": "中国邮政速递物流", "tracking_number": "SF1234567890123456"},
    budget=SINGLE_SEGMENT_CHARS,
)
