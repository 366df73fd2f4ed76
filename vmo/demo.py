"""Demo data that shows the whole service; every step can run again without duplicating anything."""
import random
from datetime import timedelta

from sqlalchemy import select

from vmo import clock, hooks, validators
from vmo import settings as app_settings
from vmo.accounts import companies
from vmo.accounts import services as accounts
from vmo.accounts.models import Company, CompanyStatus, Role, User
from vmo.extensions import db
from vmo.fleet import plates
from vmo.fleet import services as fleet
from vmo.fleet.models import BatchStatus, FleetBatch
from vmo.fleet.settings import FleetSettings
from vmo.greenchannel import services as greenchannel
from vmo.greenchannel.settings import GreenChannelSettings
from vmo.accounts.services import AuthSettings
from vmo.offices import services as offices
from vmo.offices.settings import OfficeSettings

DEMO_PASSWORD = "demo-pass-2026"
COMPANY_NAME = "重庆市南川区丰昌汽车服务有限公司"
PENDING_COMPANY_NAME = "重庆市南川区金佛山物流有限公司"
USE_CHARACTERS = ("非营运", "非营运", "租赁")


def demo_vin(rng: random.Random, wmi: str = "LVS") -> str:
    chars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    body = wmi + "".join(rng.choice(chars) for _ in range(5)) + "0" + "N" + "".join(rng.choice("0123456789") for _ in range(7))
    return body[:8] + validators.vin_check_digit(body) + body[9:]


def demo_credit_code(serial: str = "MA5U8Y0X2") -> str:
    first17 = "91500119" + serial
    return first17 + validators.credit_code_check_char(first17)


def demo_papers(i: int, use_character: str) -> dict:
    """A new car's papers as the dealer hands them over (合格证, 完税证明, 交强险 policy, 使用性质)."""
    return {"certificate_number": f"WDY2026{i + 1:08d}", "purchase_tax_number": f"35000026{i + 1:010d}",
            "insurance_policy": f"PDZA202650011900{i + 1:06d}", "use_character": use_character}


def _pending_company(office) -> list[str]:
    """A company that has signed up and submitted a batch, waiting for the counter to check its licence."""
    company = db.session.scalar(select(Company).where(Company.name == PENDING_COMPANY_NAME))
    if company is None:
        company = accounts.register_company(office, {
            "name": PENDING_COMPANY_NAME, "credit_code": demo_credit_code("MA61JF0T3"), "contact_name": "周经理",
            "contact_phone": "13883000002", "username": "jinfoshan", "password": DEMO_PASSWORD,
        }, app_settings.get(AuthSettings))
        rng = random.Random(16)
        vehicles = [{"vin": demo_vin(rng), "make": "福田", "model": "祥菱M2", "vehicle_type": "light_truck",
                     "fuel_type": "diesel", "color": "白", "invoice_number": "05100001",
                     **demo_papers(100, "货运")},
                    # Its papers not all in yet: the vehicle's answer lists what is missing.
                    {"vin": demo_vin(rng), "make": "福田", "model": "祥菱M2", "vehicle_type": "light_truck",
                     "fuel_type": "diesel", "color": "白", "invoice_number": "05100002",
                     "certificate_number": "WDY202600000102"}]
        fleet.submit_batch(company, vehicles, "新购货车2台", company.user, app_settings.get(FleetSettings).max_batch)
    return [f"company jinfoshan / {DEMO_PASSWORD}: {company.name} ({company.status}: signed up, a batch of 2 "
            f"submitted; an officer approves it with POST /api/v1/companies/{company.id}/approve)"]


def _staff(office, username, role, name, badge, supervisor=None) -> str:
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        return f"staff {username} already there"
    accounts.create_staff(office, username, DEMO_PASSWORD, role, app_settings.get(AuthSettings), display_name=name,
                          badge_number=badge, supervisor_username=supervisor)
    return f"staff {role} {username} / {DEMO_PASSWORD}"


def _fleet_story(company, today) -> list[str]:
    """The seed story's phone call: the company asks for a green channel tomorrow; the officer answers."""
    from vmo.fleet.models import GreenChannelRequest

    batch = db.session.scalar(select(FleetBatch).where(FleetBatch.company_id == company.id).order_by(FleetBatch.id))
    if batch is None:
        return []
    request = db.session.scalar(select(GreenChannelRequest).where(GreenChannelRequest.batch_id == batch.id))
    if request is None and batch.status == BatchStatus.SUBMITTED:
        request = fleet.request_green_channel(company.user, batch.id, today + timedelta(days=1),
                                              "公司刚买了15台新车，能预约提前上户吗？", today, clock.now())
    if request is None:
        return []
    vin = batch.vehicles[0].vin
    return [f"green-channel request {request.id} ({request.status}) for batch {batch.id}, wanted "
            f"{request.wanted_date.isoformat()}: officer grants it with POST /api/v1/green-channel/requests/"
            f"{request.id}/grant {{\"date\", \"arrive_from\": \"12:00\", \"arrive_until\": \"20:00\"}}",
            f"plate choice (50选1): GET /api/v1/fleet/vehicles/{vin}/plate-choices, then POST .../plate "
            f"{{\"plate\"}} (one of them, or a number composed within GA 36)"]


def load_demo() -> list[str]:
    """Every step, in the caller's transaction (`vmo demo` commits them once, vmo.uow)."""
    lines = []
    default = app_settings.get(OfficeSettings)
    office = offices.ensure_office(default.code, default.name, default.plate_prefix, default.timezone,
                                   region_code=default.region_code or None,
                                   address="重庆市南川区政务服务中心", phone="023-71400000")
    lines.append(f"office {office.code}: {office.name}")
    lines.append(_staff(office, "admin", Role.ADMIN, "系统管理员", "000001"))
    lines.append(_staff(office, "supervisor", Role.SUPERVISOR, "陈所长", "500101"))
    lines.append(_staff(office, "officer", Role.OFFICER, "张琼", "500123", "supervisor"))
    lines.append(_staff(office, "officer2", Role.OFFICER, "刘强", "500124", "supervisor"))

    today = clock.local_today(office.timezone)
    officer = db.session.scalar(select(User).where(User.username == "officer"))
    company = db.session.scalar(select(Company).where(Company.name == COMPANY_NAME))
    if company is None:
        company = accounts.register_company(office, {
            "name": COMPANY_NAME, "credit_code": demo_credit_code(), "contact_name": "李经理",
            "contact_phone": "13883000001", "username": "fengchang", "password": DEMO_PASSWORD,
        }, app_settings.get(AuthSettings))
    if company.status != CompanyStatus.APPROVED:
        # The counter checked its business licence against the credit code.
        companies.approve_company(officer, company.id, company.credit_code, clock.now())
    lines.append(f"company fengchang / {DEMO_PASSWORD}: {company.name} (approved)")
    for offset in range(0, 15):
        day = today + timedelta(days=offset)
        capacity = 30 if day.weekday() < 5 else 0
        if capacity:
            if greenchannel.find_day(office.id, day) is None:
                greenchannel.set_day(office, day, {"capacity": capacity, "note": "绿色通道"}, officer, today,
                                     app_settings.get(GreenChannelSettings))
    lines.append("green-channel days opened for the next two weeks (30 vehicles each weekday)")

    if plates.plate_pool_counts(office.id)["ordinary"]["free"] < 50:
        kept_back = app_settings.get(FleetSettings).plate_reserved  # the numbers the office keeps back stay out
        plates.add_plates(office, "ordinary", 200, random.Random(119), kept_back=kept_back)
        plates.add_plates(office, "new_energy", 100, random.Random(384), kept_back=kept_back)
        plates.add_plates(office, "new_energy_large", 20, random.Random(385), kept_back=kept_back)

    if db.session.scalar(select(FleetBatch.id).where(FleetBatch.company_id == company.id)) is None:
        rng = random.Random(15)
        models = [("长安", "CS75 PLUS", "suv", "petrol"), ("长安", "逸动", "passenger_car", "petrol"),
                  ("比亚迪", "秦PLUS DM-i", "passenger_car", "plug_in_hybrid")]
        vehicles = [dict(zip(("make", "model", "vehicle_type", "fuel_type"), models[i % 3]),
                         vin=demo_vin(rng), color="白", invoice_number=f"0500{i + 1:04d}",
                         **demo_papers(i, USE_CHARACTERS[i % 3])) for i in range(15)]
        batch = fleet.submit_batch(company, vehicles, "2022年2月购入新车15台", company.user,
                                   app_settings.get(FleetSettings).max_batch)
        lines.append(f"fleet batch {batch.id} with 15 vehicles (book it: POST /api/v1/fleet/batches/{batch.id}/appointment)")
    lines.extend(_fleet_story(company, today))
    lines.extend(_pending_company(office))  # after 丰昌's, so its batch stays batch 1 as the manuals say

    for step in hooks.registered(hooks.DEMO_STEPS):
        lines.extend(step(office))
    return lines
