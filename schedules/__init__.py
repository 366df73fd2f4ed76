"""Schedules: weekend driving-test sessions, rural inspection tours and their calendar feeds."""


def register(app, api) -> None:
    """Hang this package's blueprints on the Api (called by vmo.create_app)."""
    from schedules import resources

    for blueprint in resources.BLUEPRINTS:
        api.register_blueprint(blueprint)

    # Rural inspection tours: settings (env VMO_TOUR_*) and the demo tour.
    from schedules.tours.resources import init_app as init_tours
    init_tours(app)

    # Weekend driving tests: settings (env VMO_EXAM_*), `vmo draw`, and demo sessions.
    from schedules.exams import cli as exams_cli, demo as exams_demo
    app.config.setdefault("EXAM_MAX_CHANGES", 2)
    # Per-office values of the rules that may differ ({"<office code>": {"cancel_until": "18:00"}}).
    app.config.setdefault("EXAM_OFFICE_RULES", {})
    app.config.setdefault("EXAM_DRAW_SEED", None)
    app.config.setdefault("EXAM_CALENDAR_ORGANIZER", None)
    exams_cli.init_app(app)
    app.extensions.setdefault("vmo.demo_steps", []).append(exams_demo.demo_step)

    # The candidates' web app at /kaoshi/, and its demo account.
    from schedules import kaoshi
    kaoshi.register(app)

    # Driving-test and tour figures in GET /api/v1/stats (vmo's providers hook).
    from schedules import stats
    stats.init_app(app, api)

    # `vmo reminders send`: the texts the day before a test or a tour stop (run daily).
    from schedules.reminders_cli import reminders
    app.cli.add_command(reminders)
