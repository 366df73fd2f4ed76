"""Feature settings: read once at start, a bad value stops the app naming it, each default written once and documented."""
import dataclasses
import pathlib
import re

import pytest

from tests.conftest import app_test_config
from vmo import create_app, settings
from vmo.config import Config

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _installed(app) -> list:
    return list(app.extensions[settings.EXTENSION])


@pytest.mark.parametrize("bad, named, reason", [
    ({"FLEET_MAX_BATCH": 0}, "VMO_FLEET_MAX_BATCH", "must be 1 to 2000"),
    ({"TOUR_AVERAGE_SPEED_KMH": "fast"}, "VMO_TOUR_AVERAGE_SPEED_KMH", "must be a number"),
    ({"TOUR_DEPART_TIME": "8 o'clock"}, "VMO_TOUR_DEPART_TIME", "HH:MM"),
    ({"EXAM_MAX_CHANGES": -1}, "VMO_EXAM_MAX_CHANGES", "at least 0"),
    ({"EXAM_DRAW_SEED": "ABC"}, "VMO_EXAM_DRAW_SEED", "64 lowercase hex characters"),
    ({"EXAM_OFFICE_RULES": {"nanchuan": {"cancel_untill": "18:00"}}}, "VMO_EXAM_OFFICE_RULES", "cancel_untill"),
    ({"MOBILE_SYNC_MAX_RECORDS": True}, "VMO_MOBILE_SYNC_MAX_RECORDS", "whole number"),
    ({"PHOTO_STORAGE": "s3"}, "VMO_PHOTO_STORAGE", "directory, database, memory"),
    ({"PRIORITY_DAILY_CAPACITY": -1}, "VMO_PRIORITY_DAILY_CAPACITY", "0 to 10000"),
    ({"GREEN_CHANNEL_ARRIVE_FROM": "18:00"}, "VMO_GREEN_CHANNEL_ARRIVE_FROM", "ends before it starts"),
    ({"MOTORCYCLE_INSPECTION_YEARS": "10,6"}, "VMO_MOTORCYCLE_INSPECTION_YEARS", "rising"),
    ({"PHOTO_REQUIRED_KINDS": "车顶"}, "VMO_PHOTO_REQUIRED_KINDS", "车顶"),
    ({"ESCALATION_HIGHLIGHT_HOURS": "two days"}, "VMO_ESCALATION_HIGHLIGHT_HOURS", "must be a number"),
    ({"SMS_BACKEND": "carrier-pigeon"}, "VMO_SMS_BACKEND", "log, http"),
    ({"SMS_MAX_ATTEMPTS": 0}, "VMO_SMS_MAX_ATTEMPTS", "at least 1"),
    ({"RATELIMIT_LOGIN_PER_ADDRESS": "lots"}, "VMO_RATELIMIT_LOGIN_PER_ADDRESS", "10 per minute"),
    ({"RATELIMIT_STRATEGY": "leaky-bucket"}, "VMO_RATELIMIT_STRATEGY", "moving-window"),
    ({"HSTS_SECONDS": -1}, "VMO_HSTS_SECONDS", "at least 0"),
    ({"PROXY_FIX_X_FOR": "one"}, "VMO_PROXY_FIX_X_FOR", "whole number"),
    ({"PUBLIC_CACHE_SECONDS": -2}, "VMO_PUBLIC_CACHE_SECONDS", "at least 0"),
    ({"TIMEZONE": "Asia/Chongqingg"}, "VMO_TIMEZONE", "time zone name"),
])
def test_an_impossible_setting_stops_the_app_naming_it(tmp_path, bad, named, reason):
    with pytest.raises(settings.SettingError) as caught:
        create_app(app_test_config(f"sqlite:///{tmp_path / 'x.sqlite3'}", **bad))
    assert named in str(caught.value) and reason in str(caught.value)


def test_settings_come_from_the_environment_too(tmp_path, monkeypatch):
    from schedules.tours.services import TourSettings

    monkeypatch.setenv("VMO_TOUR_MAX_STOPS", "12")
    monkeypatch.setenv("VMO_TOUR_DEPART_TIME", "07:30")
    app = create_app(app_test_config(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    tours = settings.of(app, TourSettings)
    assert (tours.max_stops, tours.depart_time.isoformat(), tours.speed_kmh) == (12, "07:30:00", 35.0)
    monkeypatch.setenv("VMO_TOUR_MAX_STOPS", "0")
    with pytest.raises(settings.SettingError, match="VMO_TOUR_MAX_STOPS = 0: must be at least 1"):
        create_app(app_test_config(f"sqlite:///{tmp_path / 'y.sqlite3'}"))


def test_a_setting_is_read_at_start_not_at_each_request(app):
    from vmo.fleet.settings import FleetSettings

    app.config["FLEET_MAX_BATCH"] = 3
    assert settings.of(app, FleetSettings).max_batch == 500
    settings.reload(app)
    assert settings.of(app, FleetSettings).max_batch == 3


def test_every_feature_installs_its_settings(app):
    names = {cls.__name__ for cls in _installed(app)}
    assert names == {"AuthSettings", "FleetSettings", "GreenChannelSettings", "MotorcycleSettings", "FollowUpSettings",
                     "TourSettings", "InspectionSettings", "ExamSettings", "MobileSettings", "SmsSettings",
                     "LimitSettings", "SecuritySettings", "OfficeSettings", "PageCacheSettings", "PrioritySettings",
                     "MailingSettings", "HomeVisitSettings"}


def test_config_keeps_only_flasks_sqlalchemys_and_the_openapi_keys():
    own = {key for key in vars(Config) if key.isupper()}
    assert own == {"SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "SQLALCHEMY_RECORD_QUERIES",
                   "MAX_CONTENT_LENGTH", "JSON_SORT_KEYS", "API_TITLE", "API_VERSION", "OPENAPI_VERSION",
                   "OPENAPI_URL_PREFIX", "OPENAPI_JSON_PATH", "OPENAPI_SWAGGER_UI_PATH", "OPENAPI_SWAGGER_UI_URL",
                   "API_SPEC_OPTIONS"}


def test_the_environment_names_deployments_use_still_work(tmp_path, monkeypatch):
    """Text-like values the environment gives as JSON numbers, lists and true/false arrive as the settings' types."""
    from vmo.limits import LimitSettings
    from vmo.notify.settings import SmsSettings
    from vmo.offices.settings import OfficeSettings
    from vmo.security import SecuritySettings

    for name, value in {"DEFAULT_OFFICE_REGION_CODE": "500102", "SMS_HMAC_SECRET": "123456789",
                        "CORS_ORIGINS": "https://a.example.cn/, https://b.example.cn", "HSTS_SECONDS": "600",
                        "RATELIMIT_ENABLED": "false", "SMS_HTTP_TIMEOUT": "2", "TIMEZONE": "Asia/Urumqi"}.items():
        monkeypatch.setenv(f"VMO_{name}", value)
    config = app_test_config(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    del config["RATELIMIT_ENABLED"]
    app = create_app(config)
    assert settings.of(app, OfficeSettings).region_code == "500102"
    assert settings.of(app, OfficeSettings).timezone == "Asia/Urumqi"
    assert settings.of(app, SmsSettings).hmac_secret == "123456789"
    assert settings.of(app, SmsSettings).http_timeout == 2.0
    assert settings.of(app, SecuritySettings).cors_origins == ("https://a.example.cn", "https://b.example.cn")
    assert settings.of(app, SecuritySettings).hsts_seconds == 600
    assert settings.of(app, LimitSettings).enabled is False and app.config["RATELIMIT_ENABLED"] is False


def test_each_default_is_written_once(app):
    """A feature setting has no second default in vmo.config (nor setdefault calls anywhere)."""
    keys = {key for cls in _installed(app) for key, _ in settings.leaves(cls)}
    assert sorted(keys & set(vars(Config))) == []
    setdefaults = [f"{path.relative_to(ROOT)}" for pkg in ("vmo", "schedules", "mobile_api")
                   for path in (ROOT / pkg).rglob("*.py") if "config.setdefault(" in path.read_text(encoding="utf-8")]
    assert setdefaults == []


def _documented_defaults(text: str, prefix: str = "VMO_") -> dict[str, str]:
    """`VMO_X` -> its default cell, from the tables' rows ("`A` / `B` | `1` / `2`" pairs them)."""
    found = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3:
            continue
        names = re.findall(rf"`{prefix}([A-Z][A-Z0-9_]+)`", cells[0])
        defaults = [part.strip().strip("`") for part in cells[1].split(" / ")]
        if names and len(names) == len(defaults):
            found.update(zip(names, defaults))
    return found


def test_the_configuration_manual_lists_every_setting_with_its_default(app):
    documented = _documented_defaults((ROOT / "docs" / "configuration.md").read_text(encoding="utf-8"))
    missing, wrong = [], []
    for cls in _installed(app):
        for key, field in settings.leaves(cls):
            if key not in documented:
                missing.append(key)
            elif documented[key] != settings.shown(field):
                wrong.append(f"{key}: docs say {documented[key]!r}, the code {settings.shown(field)!r}")
    assert (missing, wrong) == ([], [])


def test_the_other_manuals_tables_give_the_same_defaults(app):
    """Feature manuals repeat their settings (`KEY` or `VMO_KEY`); a default written there must be the code's."""
    fields = {key: field for cls in _installed(app) for key, field in settings.leaves(cls)}
    wrong = []
    for path in sorted((ROOT / "docs").glob("*.md")):
        for key, default in _documented_defaults(path.read_text(encoding="utf-8"), prefix="(?:VMO_)?").items():
            field = fields.get(key)
            if field is not None and not field.metadata.get("shown") and default != settings.shown(field):
                wrong.append(f"{path.name} {key}: {default!r}, the code {settings.shown(field)!r}")
    assert wrong == []


def test_the_docs_check_would_catch_a_changed_default():
    text = "| `VMO_TOUR_MAX_STOPS` / `VMO_TOUR_EXACT_LIMIT` | `40` / `8` | ... |\n| `VMO_PHOTO_DIR` | none | |"
    assert _documented_defaults(text) == {"TOUR_MAX_STOPS": "40", "TOUR_EXACT_LIMIT": "8", "PHOTO_DIR": "none"}
    from schedules.tours.services import TourSettings

    exact = next(f for f in dataclasses.fields(TourSettings) if f.name == "exact_limit")
    assert settings.shown(exact) == "9" != _documented_defaults(text)["TOUR_EXACT_LIMIT"]


def test_the_features_fill_vmos_hooks_once_each_in_start_order(app):
    from vmo import hooks

    assert [f"{f.__module__}.{f.__name__}" for f in app.extensions[hooks.DEMO_STEPS]] == [
        "vmo.notify.resources.demo_step", "vmo.priority.demo.demo_step", "vmo.mailings.demo.demo_step",
        "vmo.homevisits.demo.demo_step",
        "schedules.tours.demo.demo_step", "schedules.exams.demo.demo_step", "schedules.kaoshi.demo.demo_step"]
    assert {t: f.__name__ for t, f in app.extensions[hooks.CASES].items()} == {
        "fleet_batch": "batch_case", "tour_inspection": "inspection_case"}
    assert [f.__name__ for f in app.extensions[hooks.STATS_PROVIDERS]] == ["home_visits", "driving_tests", "tours"]
    assert [f.__name__ for f in app.extensions[hooks.SMS_REPLY_HANDLERS]] == ["cancel_by_reply"]
