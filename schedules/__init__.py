"""Schedules: weekend driving-test sessions, rural inspection tours and their calendar feeds."""


def register(app, api) -> None:
    """Hang this package's blueprints on the Api (called by vmo.create_app)."""
    from schedules import resources

    for blueprint in resources.BLUEPRINTS:
        api.register_blueprint(blueprint)
