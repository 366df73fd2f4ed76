"""Fixtures: a fresh database per test (and an app reset to its defaults), on SQLite always and PostgreSQL when configured."""
import copy
import itertools
import os
import random
import shutil
import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from vmo import create_app, pagecache, settings, validators
from vmo.uow import unit_of_work
from vmo.extensions import db

PG_URL = os.environ.get("VMO_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "correct-horse-battery"
# A fixed "now" (a Wednesday, 10:00 in Chongqing) makes date rules reproducible.
FROZEN_NOW = "2026-11-25T10:00:00+08:00"

FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1}


def app_test_config(url: str, **extra) -> dict:
    # Rate limits off: tests sign in and book many times from 127.0.0.1; tests/test_limits.py turns them on.
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "FROZEN_NOW": FROZEN_NOW,
            "RATELIMIT_ENABLED": False, **FAST_HASHING, **extra}


def _pg_url() -> str:
    from vmo.config import normalize_database_url
    # Test data need not survive a crash: not waiting for the WAL flush at each commit makes the
    # PostgreSQL half of the suite much quicker (servers started by tests get the same URL).
    url = normalize_database_url(PG_URL)
    return url + ("&" if "?" in url else "?") + "options=-c%20synchronous_commit%3Doff"


@pytest.fixture(scope="session")
def pg_schema():
    """Create the tables on the PostgreSQL test database once; each test then empties them.

    Emptying is DELETE (children first) and a restart of every id sequence in one transaction:
    on tables this small that is some 20 times quicker than TRUNCATE, which makes new files.
    """
    app = create_app(app_test_config(_pg_url()))
    with app.app_context():
        db.drop_all()
        db.create_all()
        deletes = [f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables)]
        with db.engine.connect() as conn:
            sequences = conn.scalars(text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")).all()
        db.engine.dispose()  # an open pooled connection is a ResourceWarning (an error) at exit
    restart = "SELECT " + ", ".join(f"setval('\"{name}\"', 1, false)" for name in sequences)
    yield [*deletes, restart]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    statements = request.getfixturevalue("pg_schema")
    engine = create_engine(_pg_url())
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()
    return _pg_url()


@pytest.fixture
def app_config():
    """Override in a test module to change settings."""
    return {}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """An empty SQLite database with every table, copied for each test (quicker than create_all)."""
    path = tmp_path_factory.mktemp("template") / "schema.sqlite3"
    app = create_app(app_test_config(f"sqlite:///{path}"))  # imports every package's models
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return path


class SharedApp:
    """One app for every test with the default settings, reset between tests.

    Building an app (mostly its OpenAPI document) costs more than most tests, so tests that keep the
    default settings share one per database kind. Between tests the database is fresh, the config and
    the extension registries are put back as they were, and limiter counters are cleared, so a test
    sees the same as with an app of its own. A test that changes the app itself (adds a route) asks
    for one with `@pytest.mark.own_app`; a module that overrides `app_config` gets its own too.
    """

    def __init__(self, app):
        self.app = app
        self.config = copy.deepcopy(dict(app.config))
        self.registries = {k: list(v) for k, v in app.extensions.items() if isinstance(v, list)}
        self.settings = dict(app.extensions[settings.EXTENSION])

    def point_at(self, url: str) -> None:
        """Swap the engine for one on this test's database (only SQLite changes file per test)."""
        engines = db._app_engines[self.app]
        engines[None].dispose()
        if url != self.config["SQLALCHEMY_DATABASE_URI"]:
            engines[None] = create_engine(url, **self.app.config["SQLALCHEMY_ENGINE_OPTIONS"])
            self.app.config["SQLALCHEMY_DATABASE_URI"] = url

    def reset(self) -> None:
        from vmo.limits import LimitSettings, limiter, make_lockout

        app = self.app
        app.config.clear()
        app.config.update(copy.deepcopy(self.config))
        for key, items in self.registries.items():
            app.extensions[key] = list(items)
        app.extensions[settings.EXTENSION] = dict(self.settings)
        app.json.sort_keys = bool(app.config["JSON_SORT_KEYS"])
        # The limiter is one per process: another test's app may have switched it on.
        limiter.enabled = bool(app.config["RATELIMIT_ENABLED"])
        app.extensions["vmo.lockout"] = make_lockout(settings.of(app, LimitSettings))
        pagecache.cache_of(app).clear()  # answers kept from another test's database


_SHARED: dict[str, SharedApp] = {}


@pytest.fixture
def app(database_url, backend, app_config, request):
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), database_url.removeprefix("sqlite:///"))
    if app_config or request.node.get_closest_marker("own_app"):
        app = create_app(app_test_config(database_url, **app_config))
        yield app
        with app.app_context():
            db.engine.dispose()
        return
    shared = _SHARED.get(backend)
    if shared is None:
        shared = _SHARED[backend] = SharedApp(create_app(app_test_config(database_url)))
    shared.reset()
    shared.point_at(database_url)
    # No app context stays pushed: each request gets its own, as in production.
    yield shared.app
    with shared.app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---- factories: plain functions with defaults ------------------------------------------

def make_vin(rng: random.Random, wmi: str = "LSV") -> str:
    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    body = wmi + "".join(rng.choice(alphabet) for _ in range(14))
    return body[:8] + validators.vin_check_digit(body) + body[9:]


def make_credit_code(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = "91500119" + "".join(rng.choice(alphabet) for _ in range(9))
    return first17 + validators.credit_code_check_char(first17)


def make_id_number(rng: random.Random, region: str = "500119", birth: date = date(1995, 6, 12)) -> str:
    first17 = region + birth.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return first17 + validators.resident_id_check_char(first17)


class Factory:
    """Builds offices, accounts and tokens through the public API and services."""

    def __init__(self, app, client):
        self.app = app
        self.client = client
        self.rng = random.Random(20261125)
        self._office = None
        # A phone of its own for each person made: at most five codes go to one phone a day.
        self._phones = itertools.count(1)

    @property
    def office(self) -> str:
        """The default office's code (created on first use)."""
        if self._office is None:
            self._office = self._ensure_office("nanchuan", "南川区车管所", "500119")
        return self._office

    def other_office(self) -> str:
        return self._ensure_office("fuling", "涪陵区车管所", "500102")

    def _ensure_office(self, code, name, region) -> str:
        from vmo.offices.services import ensure_office

        with self.app.app_context(), unit_of_work():
            return ensure_office(code, name, "渝G", region_code=region).code

    def staff(self, role="officer", username=None, office=None, **kw) -> SimpleNamespace:
        from vmo.accounts.services import create_staff
        from vmo.accounts.services import AuthSettings
        from vmo.offices.services import get_office

        username = username or f"{role}-{uuid.uuid4().hex[:8]}"
        with self.app.app_context(), unit_of_work():
            user = create_staff(get_office(office or self.office), username, PASSWORD, role, settings.get(AuthSettings), **kw)
            return SimpleNamespace(id=user.id, username=user.username, role=user.role)

    def token(self, username, password=PASSWORD) -> str:
        response = self.client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["token"]

    def headers(self, user_or_name) -> dict:
        name = user_or_name if isinstance(user_or_name, str) else user_or_name.username
        return {"Authorization": f"Bearer {self.token(name)}"}

    def company(self, username=None, name="南川区丰昌汽车服务有限公司", office=None, approved=True, **fields):
        """A company signed up through the API; approved as an officer would after checking its licence,
        unless `approved=False` (then it stays pending, as every sign-up starts)."""
        self.office  # noqa: B018  (make sure the default office exists)
        body = {"name": name, "credit_code": make_credit_code(self.rng), "contact_name": "李明",
                "contact_phone": "13800138000", "username": username or f"co-{uuid.uuid4().hex[:8]}",
                "password": PASSWORD, **fields}
        if office is not None:
            body["office"] = office
        response = self.client.post("/api/v1/companies", json=body)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["status"] == "pending"
        if not approved:
            return response.get_json()
        return {**response.get_json(), **self.approve_company(response.get_json()["id"])}

    def approve_company(self, company_id) -> dict:
        """Mark a company approved, as the review does (tests of the review itself go through the API)."""
        from vmo.accounts.models import Company

        with self.app.app_context(), unit_of_work():
            company = db.session.get(Company, company_id)
            company.status = "approved"
            return {"status": company.status}

    def phone(self) -> str:
        return f"1391{next(self._phones):07d}"

    def application(self, id_number=None, license_class="C1", phone=None, name="王芳", office=None,
                    accepted_at=None, medical_on=None, school="南川驾校") -> SimpleNamespace:
        """An application accepted (受理) by the office, as at its counter (default: now, a month-old
        medical certificate). A class that is never a first licence (A1, A2, B1, C6) is an added class
        (增驾), accepted at the counter outside this service: its row is written as that would leave it."""
        from schedules.exams import rules
        from schedules.exams.applications import accept
        from schedules.exams.models import Application
        from vmo import clock
        from vmo.offices.services import get_office

        with self.app.app_context(), unit_of_work():
            office_row = get_office(office or self.office)
            today = clock.local_today(office_row.timezone)
            data = {"id_number": id_number or make_id_number(self.rng), "name": name,
                    "phone": phone or self.phone(), "license_class": license_class, "medical_on": medical_on or today - timedelta(days=30),
                    "school": school, "accepted_at": accepted_at}
            if license_class in rules.INITIAL_CLASSES:
                row = accept(office_row, data, clock.now(), today)
            else:
                rid = validators.validate_resident_id(data["id_number"])
                row = Application(office_id=office_row.id, id_number=rid.number, name=name, phone=data["phone"],
                                  license_class=license_class, birth_date=rid.birth_date,
                                  medical_on=data["medical_on"], school=school,
                                  accepted_at=accepted_at or clock.now(), source="counter")
                db.session.add(row)
                db.session.flush()
            return SimpleNamespace(id=row.id, id_number=row.id_number, accepted_at=row.accepted_at)

    def candidate(self, username=None, license_class="C1", accepted_at=None, **fields):
        """A candidate account, opened the way a person opens it: the application accepted, the public
        sign-up, the code texted to the phone recorded at acceptance."""
        self.office  # noqa: B018
        body = {"name": "王芳", "id_number": make_id_number(self.rng), "phone": self.phone(),
                "license_class": license_class, "username": username or f"cand-{uuid.uuid4().hex[:8]}",
                "password": PASSWORD, **fields}
        self.application(body["id_number"], license_class, body["phone"], body["name"], body.get("office"),
                         accepted_at=accepted_at)
        response = self.client.post("/api/v1/candidates", json=body)
        assert response.status_code == 201, response.get_json()
        headers = {"Authorization": f"Bearer {self.verify(body['username'], body['password'])}"}
        return self.client.get("/api/v1/me", headers=headers).get_json()["candidate"]

    def texted_code(self, username) -> str:
        """The code a sign-up's phone received: read from the outbox, as the person reads their phone."""
        return texted_code(self.app, username)

    def verify(self, username, password=PASSWORD) -> str:
        """Enter the texted code of a sign-up (the account opens); returns the token it gets."""
        response = self.client.post("/api/v1/candidates/verify", json={
            "username": username, "password": password, "code": self.texted_code(username)})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["token"]

    def vehicles(self, count, fuel_type="petrol", papers=True):
        """`count` vehicles for a batch, with their papers unless `papers=False`."""
        return [{"vin": make_vin(self.rng), "make": "长安", "model": "CS75 PLUS", "vehicle_type": "suv",
                 "fuel_type": fuel_type, **(self.papers() if papers else {})} for _ in range(count)]

    def papers(self) -> dict:
        """A vehicle's four papers, as registration needs them."""
        serial = f"{self.rng.randrange(10**9):09d}"
        return {"certificate_number": f"WDY{serial}01", "purchase_tax_number": f"3500{serial}",
                "insurance_policy": f"PDZA2026500{serial}", "use_character": "非营运"}


def texted_code(app, username) -> str:
    """The last sign-up code texted for `username`'s sign-up (from the outbox: what the phone recorded at
    acceptance shows)."""
    import re

    from sqlalchemy import select

    from vmo.accounts.models import CandidateSignup, User
    from vmo.notify.models import OutboxMessage

    with app.app_context():
        signup = db.session.scalar(select(CandidateSignup).join(User).where(User.username == username))
        assert signup is not None, f"{username}: no sign-up waiting for a code"
        body = db.session.scalar(select(OutboxMessage.body).where(
            OutboxMessage.kind == "candidate_code",
            OutboxMessage.subject_type == "candidate_signup", OutboxMessage.subject_id == signup.id)
            .order_by(OutboxMessage.id.desc()).limit(1))
        assert body is not None, f"{username}: no code was texted"
        return re.search(r"验证码(\d{6})", body).group(1)


@pytest.fixture
def factory(app, client):
    return Factory(app, client)
