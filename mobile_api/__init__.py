"""The field officers' endpoint: assignments, offline inspection sync and photos."""


def register(app, api) -> None:
    """Hang this package's blueprints on the Api (called by vmo.create_app)."""
    from mobile_api import resources, tablet

    # Settings (env VMO_MOBILE_*, VMO_PHOTO_*): see docs/mobile.md.
    app.config.setdefault("MOBILE_ASSIGNMENT_DAYS", 7)
    app.config.setdefault("MOBILE_SYNC_MAX_RECORDS", 500)
    app.config.setdefault("PHOTO_MAX_BYTES", 10 * 1024 * 1024)
    app.config.setdefault("PHOTOS_PER_INSPECTION", 20)
    app.config.setdefault("PHOTO_STORAGE", "directory")
    app.config.setdefault("PHOTO_DIR", None)  # None: <instance folder>/photos

    for blueprint in resources.BLUEPRINTS:
        api.register_blueprint(blueprint)
    tablet.register(app)  # the officers' web app at /tablet/
