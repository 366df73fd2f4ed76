"""The vmo command line: staff accounts, fleet CSV import, the demo data and the plate pool."""
import csv
import random

import pytest

from sqlalchemy import func, select

from tests.conftest import make_vin
from vmo.accounts.models import User
from vmo.audit.models import AuditEntry
from vmo import settings
from vmo.extensions import db
from vmo.fleet.models import FleetBatch, FleetVehicle, PlatePool


def table_counts(app):
    with app.app_context():
        return {t.name: db.session.execute(select(func.count()).select_from(t)).scalar()
                for t in db.metadata.sorted_tables}


def write_csv(path, rows, columns=("vin", "make", "model", "vehicle_type", "fuel_type", "color", "invoice_number")):
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def vehicle_rows(count, seed=1):
    rng = random.Random(seed)
    return [{"vin": make_vin(rng), "make": "长安", "model": "CS75 PLUS", "vehicle_type": "suv",
             "fuel_type": "petrol", "color": "白", "invoice_number": f"0500{i:04d}"} for i in range(count)]


# ---- users -----------------------------------------------------------------------------

def test_users_create_with_supervisor(app, runner, factory):
    factory.office  # noqa: B018
    result = runner.invoke(args=["users", "create", "--role", "supervisor", "--username", "chen",
                                 "--password", "correct-horse-battery"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created supervisor chen in nanchuan"
    result = runner.invoke(args=["users", "create", "--role", "officer", "--username", "zhang",
                                 "--password", "correct-horse-battery", "--badge", "500123",
                                 "--name", "张琼", "--supervisor", "chen"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        zhang = db.session.scalar(select(User).where(User.username == "zhang"))
        assert (zhang.role, zhang.badge_number, zhang.display_name, zhang.supervisor.username) == (
            "officer", "500123", "张琼", "chen")
    token = factory.client.post("/api/v1/auth/token",
                                json={"username": "zhang", "password": "correct-horse-battery"})
    assert token.status_code == 200


def test_users_create_errors(app, runner, factory):
    factory.office  # noqa: B018
    base = ["users", "create", "--role", "officer", "--password", "correct-horse-battery"]
    factory.staff("officer", username="taken")
    cases = [
        (base + ["--username", "taken"], "username 'taken' is taken"),
        (base + ["--username", "x1", "--supervisor", "ghost"], "'ghost' is not a supervisor of this office"),
        (base + ["--username", "x2", "--office", "atlantis"], "no office 'atlantis'"),
        (["users", "create", "--role", "officer", "--username", "x3", "--password", "short"],
         "must be at least 8 characters"),
    ]
    before = table_counts(app)["users"]
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code == 1, result.output
        assert f"Error: {message}" in result.output
    bad_role = runner.invoke(args=["users", "create", "--role", "company", "--username", "x4", "--password", "p" * 9])
    assert bad_role.exit_code == 2
    assert table_counts(app)["users"] == before


# ---- fleet import ----------------------------------------------------------------------

def test_fleet_import_creates_a_batch(app, runner, factory, tmp_path):
    company = factory.company(username="fengchang")
    path = write_csv(tmp_path / "fleet.csv", vehicle_rows(15))
    result = runner.invoke(args=["fleet", "import", path, "--company", company["name"], "--note", "15台新车"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("submitted with 15 vehicles")
    with app.app_context():
        batch = db.session.scalar(select(FleetBatch))
        assert batch.note == "15台新车" and len(batch.vehicles) == 15
        assert {v.status for v in batch.vehicles} == {"submitted"}
        assert batch.vehicles[0].invoice_number == "05000000" and batch.vehicles[0].color == "白"
    # The company may also be named by username or credit code.
    again = runner.invoke(args=["fleet", "import", write_csv(tmp_path / "b.csv", vehicle_rows(1, seed=2)),
                                "--company", "fengchang"])
    assert again.exit_code == 0, again.output


def test_fleet_import_reports_each_bad_row_and_creates_nothing(app, runner, factory, tmp_path):
    company = factory.company()
    rows = vehicle_rows(5)
    good_vin = rows[1]["vin"]
    rows[1]["vin"] = good_vin[:8] + ("X" if good_vin[8] != "X" else "0") + good_vin[9:]
    rows[3]["vehicle_type"] = "spaceship"
    rows[4]["vin"] = rows[0]["vin"]
    path = write_csv(tmp_path / "bad.csv", rows)
    result = runner.invoke(args=["fleet", "import", path, "--company", company["credit_code"]])
    assert result.exit_code == 1
    assert f"row 3: vin: check digit is {good_vin[8]}, not {rows[1]['vin'][8]}" in result.output
    assert "row 5: vehicle_type:" in result.output
    assert "row 6: vin: appears twice in this batch (also at index 0)" in result.output
    assert "Error: 3 problem(s) in the file; nothing was submitted" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FleetVehicle)) == 0


def test_fleet_import_vin_already_known(app, runner, factory, tmp_path):
    company = factory.company()
    rows = vehicle_rows(2)
    assert runner.invoke(args=["fleet", "import", write_csv(tmp_path / "a.csv", rows[:1]),
                               "--company", company["username"]]).exit_code == 0
    result = runner.invoke(args=["fleet", "import", write_csv(tmp_path / "b.csv", rows),
                                 "--company", company["username"]])
    assert result.exit_code == 1
    assert "row 2: vin: already known to the office" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FleetVehicle)) == 1


def test_fleet_import_unknown_company(runner, factory, tmp_path):
    factory.office  # noqa: B018
    result = runner.invoke(args=["fleet", "import", write_csv(tmp_path / "a.csv", vehicle_rows(1)),
                                 "--company", "nobody"])
    assert result.exit_code == 1
    assert "no company named 'nobody'" in result.output


def test_fleet_import_empty_file(app, runner, factory, tmp_path):
    company = factory.company()
    result = runner.invoke(args=["fleet", "import", write_csv(tmp_path / "e.csv", []), "--company",
                                 company["username"]])
    assert result.exit_code == 1
    assert "1 to 500 vehicles" in result.output


# ---- demo and plates -------------------------------------------------------------------

def test_demo_twice_creates_nothing_new(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "company fengchang / demo-pass-2026" in first.output
    after_first = table_counts(app)
    assert after_first["fleet_vehicles"] == 15 + 2 and after_first["green_channel_days"] >= 10
    with app.app_context():
        last_entry = db.session.scalar(select(func.max(AuditEntry.id)))
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    # Nothing new at all, not even an audit entry for a no-op run.
    assert table_counts(app) == after_first
    with app.app_context():
        assert db.session.scalar(select(func.max(AuditEntry.id))) == last_entry


def test_demo_accounts_can_sign_in(app, runner, client):
    assert runner.invoke(args=["demo"]).exit_code == 0
    for username, role in (("fengchang", "company"), ("officer", "officer"), ("admin", "admin")):
        response = client.post("/api/v1/auth/token", json={"username": username, "password": "demo-pass-2026"})
        assert response.status_code == 200 and response.get_json()["role"] == role
    token = client.post("/api/v1/auth/token", json={"username": "fengchang", "password": "demo-pass-2026"})
    batches = client.get("/api/v1/fleet/batches",
                         headers={"Authorization": f"Bearer {token.get_json()['token']}"}).get_json()
    assert len(batches) == 1 and batches[0]["vehicle_count"] == 15 and batches[0]["status"] == "submitted"


def test_plates_add(app, runner, factory):
    factory.office  # noqa: B018
    result = runner.invoke(args=["plates", "add", "--count", "20"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("added 20 plates")
    green = runner.invoke(args=["plates", "add", "--count", "5", "--new-energy"])
    assert green.exit_code == 0 and green.output.startswith("added 5 plates")
    with app.app_context():
        kinds = dict(db.session.execute(select(PlatePool.kind, func.count()).group_by(PlatePool.kind)).all())
    assert kinds == {"ordinary": 20, "new_energy": 5}
    large = runner.invoke(args=["plates", "add", "--count", "3", "--kind", "new_energy_large"])
    assert large.exit_code == 0 and large.output.startswith("added 3 plates")
    with app.app_context():
        plates = db.session.scalars(select(PlatePool.plate).where(PlatePool.kind == "new_energy_large")).all()
    assert len(plates) == 3 and all(p[2:7].isdigit() and p[-1] in "DF" for p in plates)
    bad = runner.invoke(args=["plates", "add", "--office", "atlantis"])
    assert bad.exit_code == 1
    assert bad.output.strip() == "Error: no office 'atlantis'"


@pytest.mark.parametrize("app_config", [{"FLEET_MAX_BATCH": 2}])
def test_fleet_import_uses_the_configured_limit(app, runner, factory, tmp_path, app_config):
    company = factory.company()
    result = runner.invoke(args=["fleet", "import", write_csv(tmp_path / "3.csv", vehicle_rows(3)), "--company",
                                 company["username"]])
    assert result.exit_code == 1
    assert "1 to 2 vehicles" in result.output


class TestSmsPhone:
    """`vmo sms phone`: the development stand-in for a phone, to read a sign-up code."""

    def test_shows_a_numbers_texts_in_full_with_the_log_backend(self, app, runner):
        from vmo.notify import services as notify
        from vmo.offices.services import ensure_office
        from vmo.uow import unit_of_work

        with app.app_context(), unit_of_work():
            office = ensure_office("nanchuan", "南川区车管所", "渝G")
            notify.queue(office.id, "13800138000", "您申请考试账号的验证码041887，15分钟内有效。", kind="t", key="t:1")
            notify.queue(office.id, "13900139000", "别人的短信", kind="t", key="t:2")
        result = runner.invoke(args=["sms", "phone", "13800138000"])
        assert result.exit_code == 0, result.output
        assert "验证码041887" in result.output  # unmasked: this is the phone
        assert "别人的短信" not in result.output

    def test_a_bad_number_and_no_texts_are_said_plainly(self, runner):
        assert "is not a mobile number" in runner.invoke(args=["sms", "phone", "12345"]).output
        assert "no texts to 13700137000" in runner.invoke(args=["sms", "phone", "13700137000"]).output

    @pytest.mark.own_app
    def test_refuses_with_a_real_gateway(self, app, runner):
        app.config["SMS_BACKEND"] = "http"
        app.config["SMS_HTTP_URL"] = "http://127.0.0.1:9/send"
        settings.reload(app)
        result = runner.invoke(args=["sms", "phone", "13800138000"])
        assert result.exit_code != 0
        assert "only with the log backend" in result.output
