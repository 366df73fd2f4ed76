"""Schedules: weekend driving-test sessions, rural inspection tours and their calendar feeds."""


def register(app, api) -> None:
    """Hang this package's blueprints on the Api, install its settings and fill vmo's hooks (called by
    vmo.create_app)."""
    from schedules import resources
    from schedules.exams import models as exams_models
    from schedules.exams.settings import ExamSettings
    from schedules.tours import models as tours_models
    from schedules.tours.inspections import InspectionSettings
    from schedules.tours.services import TourSettings
    from vmo import hooks, integrity, settings

    integrity.register(app, tours_models.CONFLICTS)
    integrity.register(app, exams_models.CONFLICTS)
    for blueprint in resources.BLUEPRINTS:
        api.register_blueprint(blueprint)

    # Settings (env VMO_TOUR_*, VMO_EXAM_*, the inspection checklist and photos): read and checked once.
    for cls in (TourSettings, InspectionSettings, ExamSettings):
        settings.install(app, cls)

    # Rural inspection tours: owners cancel by texting `取消 <code>` back (a reply hook of vmo's inbound
    # SMS webhook), and the demo tour. Driving tests: `vmo draw` and demo sessions.
    from schedules.exams import cli as exams_cli, demo as exams_demo
    from schedules.tours import demo as tours_demo, registrations
    hooks.add(app, hooks.SMS_REPLY_HANDLERS, registrations.cancel_by_reply)
    from schedules.tours.inspections import inspection_case
    hooks.add_case(app, "tour_inspection", inspection_case)  # a passed inspection's papers may be posted
    # Staff see registrations' phones masked; an officer who must call one asks for it (audited).
    from vmo.audit import phones
    phones.provide(app, "tour_registration", registrations.reveal_phone)
    hooks.add(app, hooks.DEMO_STEPS, tours_demo.demo_step, exams_demo.demo_step)
    # A candidate account opens only for an application the office accepted (受理), with a code texted
    # to the phone recorded then.
    from schedules.exams import applications
    hooks.add(app, hooks.CANDIDATE_ACCEPTANCE, applications.acceptance)
    exams_cli.init_app(app)

    # The candidates' web app at /kaoshi/, and its demo account.
    from schedules import kaoshi
    kaoshi.register(app)

    # Driving-test and tour figures in GET /api/v1/stats (vmo's providers hook).
    from schedules import stats
    stats.init_app(app, api)

    # `vmo reminders send`: the texts the day before a test or a tour stop (run daily).
    from schedules.reminders_cli import reminders
    app.cli.add_command(reminders)
