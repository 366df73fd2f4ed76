"""Wires the satisfaction features: outbox, replies and escalations, the priority green channel, statistics."""


def register(app, api) -> None:
    from vmo.followup.resources import register as register_followup
    from vmo.notify.resources import register as register_outbox
    from vmo.priority.resources import register as register_priority
    from vmo.stats.resources import register as register_stats

    app.extensions.setdefault("vmo.stats_providers", [])
    register_outbox(app, api)
    register_followup(app, api)
    register_priority(app, api)
    register_stats(app, api)
