"""Wires the satisfaction features: outbox, replies and escalations, the priority green channel, statistics."""


def register(app, api) -> None:
    from vmo.followup.resources import register as register_followup
    from vmo.notify.resources import register as register_outbox
    from vmo.priority.resources import register as register_priority
    from vmo.stats.resources import register as register_stats

    app.extensions.setdefault("vmo.stats_providers", [])
    app.extensions.setdefault("vmo.demo_steps", []).append(demo_step)
    register_outbox(app, api)
    register_followup(app, api)
    register_priority(app, api)
    register_stats(app, api)


def demo_step(office) -> list[str]:
    """Tell the demo user where the texts are; adds nothing, so running the demo twice is harmless."""
    from flask import current_app

    from vmo.notify import services as notify

    counts = notify.status_counts(office.id)
    backend = (current_app.config.get("SMS_BACKEND") or "log").lower()
    return [
        f"SMS outbox ({backend} backend): {counts['pending']} pending, {counts['sent']} sent, "
        f"{counts['failed']} failed; send with `vmo sms send`, read at GET /api/v1/sms/outbox (staff)",
        "statistics: GET /api/v1/stats, report page GET /api/v1/stats/report.html (supervisor)",
    ]
