"""The extension points features fill at start, created in one place: demo steps, statistics
providers and SMS reply handlers (vmo calls them; the packages that add them may be ones vmo never imports)."""
from flask import current_app

DEMO_STEPS = "vmo.demo_steps"  # step(office) -> list of lines, run by `vmo demo` after vmo's own data
STATS_PROVIDERS = "vmo.stats_providers"  # provider(office_id, start, end) -> dict merged into GET /stats
# handler(phone, text, now) -> bool, tried on each inbound text before the follow-up matching, e.g.
# schedules' `取消 <code>` (vmo.followup).
SMS_REPLY_HANDLERS = "vmo.sms_reply_handlers"
ALL = (DEMO_STEPS, STATS_PROVIDERS, SMS_REPLY_HANDLERS)


def init_app(app) -> None:
    for key in ALL:
        app.extensions[key] = []


def add(app, key: str, *functions) -> None:
    """Add to one of the lists in ALL (create_app made them before any feature registers)."""
    app.extensions[key].extend(functions)


def registered(key: str) -> list:
    return current_app.extensions[key]
