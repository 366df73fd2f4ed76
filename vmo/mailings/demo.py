"""Demo data: the demo company asks for its finished batch's plates and papers by post, and the office posts them."""
from sqlalchemy import select

from vmo import clock, hooks
from vmo import settings as app_settings
from vmo.accounts.models import Company, Role, User
from vmo.extensions import db
from vmo.mailings import services
from vmo.mailings.models import Mailing, MailingStatus
from vmo.mailings.settings import MailingSettings

ADDRESS = "重庆市南川区东城街道金佛大道38号丰昌汽车服务有限公司"


def demo_step(office) -> list[str]:
    company_user = db.session.scalar(select(User).where(User.username == "fengchang", User.office_id == office.id))
    officer = db.session.scalar(select(User).where(User.username == "officer", User.role == Role.OFFICER,
                                                   User.office_id == office.id))
    if company_user is None or officer is None:
        return ["no demo company or officer: mailing skipped"]
    company = db.session.scalar(select(Company).where(Company.user_id == company_user.id))
    batch_id = 1
    case = hooks.find_case(services.FLEET_BATCH, batch_id)
    if case is None or case.owner_user_id != company_user.id:
        return ["demo batch 1 is not the demo company's: mailing skipped"]
    existing = db.session.scalar(select(Mailing.id).where(Mailing.case_type == services.FLEET_BATCH,
                                                          Mailing.case_id == batch_id))
    if existing is not None:
        return [f"mailing {existing} of batch {batch_id} already there (GET /api/v1/mailings)"]
    now = clock.now()
    mailing = services.request_for_batch(company_user, batch_id, {
        "recipient": (company.contact_name or company.name)[:60], "phone": company.contact_phone, "address": ADDRESS}, now)
    services.update(officer, mailing.id, {"status": MailingStatus.SENT, "tracking_number": "1187654321098"}, now,
                    app_settings.get(MailingSettings).default_carrier)
    return [f"mailing {mailing.id}: batch {batch_id}'s plates and papers asked for by post from /qiye/ and posted "
            f"by EMS 1187654321098 (GET /api/v1/mailings; PATCH /api/v1/mailings/{mailing.id} "
            '{"status": "delivered"})']
