"""Texts of the follow-up itself: the answer to a complaint.

Each feature declares its own follow-up (its notifications.py, `budget=FOLLOW_UP_BUDGET`: one
segment, signature included) asking for `1` or `2`; `vmo.followup.replies` understands those and
the words people use instead.
"""
from vmo.notify.texts import FOLLOW_UP_BUDGET, template

# Sent once to a person who answered "dissatisfied": the seed's loop, two people call back
# (由办理人员、分管负责人分别与当事群众沟通解释).
DISSATISFIED_RECEIVED = template(
    "followup.dissatisfied_received",
    "您的意见已收到，经办民警和分管负责人将尽快与您联系。",
    worst={}, budget=FOLLOW_UP_BUDGET)
