"""The field officers' endpoint: assignments, offline inspection sync and photos."""


def register(app, api) -> None:
    """Hang this package's blueprints on the Api and install its settings (called by vmo.create_app)."""
    from mobile_api import models, resources, tablet
    from mobile_api.settings import MobileSettings
    from vmo import integrity, settings

    integrity.register(app, models.CONFLICTS)
    settings.install(app, MobileSettings)  # env VMO_MOBILE_*, VMO_PHOTO*: see docs/configuration.md
    for blueprint in resources.BLUEPRINTS:
        api.register_blueprint(blueprint)
    tablet.register(app)  # the officers' web app at /tablet/
