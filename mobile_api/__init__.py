"""The field officers' endpoint: assignments, offline inspection sync and photos."""


def register(app, api) -> None:
    """Hang this package's blueprints on the Api (called by vmo.create_app)."""
    from mobile_api import resources

    for blueprint in resources.BLUEPRINTS:
        api.register_blueprint(blueprint)
