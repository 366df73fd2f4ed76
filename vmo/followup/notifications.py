"""Texts of the follow-up itself: how every follow-up asks for the verdict, and the answer to a complaint.

A feature's follow-up template (its own notifications.py) ends with `REPLY_HINT`, so every person
is asked the same way and every answer below is understood by `vmo.followup.replies`. Follow-ups
must fit one SMS segment, signature included: `budget=FOLLOW_UP_BUDGET`.
"""
from vmo.notify.texts import FOLLOW_UP_BUDGET, template

# The words the reply parser knows best; "不满意请说明原因" invites the reason kept on the escalation.
REPLY_HINT = "满意回1，不满意回2并说明原因"

# Sent once to a person who answered "dissatisfied": the seed's loop, two people call back
# (由办理人员、分管负责人分别与当事群众沟通解释).
DISSATISFIED_RECEIVED = template(
    "followup.dissatisfied_received",
    "您的意见已收到，经办民警和分管负责人将尽快与您联系。",
    worst={}, budget=FOLLOW_UP_BUDGET)
