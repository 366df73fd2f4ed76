"""A company's review: staff approve it after checking its business licence, or decline it with a reason.

A company signs up `pending`. It may sign in and submit batches (the office sees what it intends), but
nothing scarce (a green-channel day or request, plate choices, a plate reservation) until an officer
has compared the original business licence (营业执照) with the credit code it signed up with.
`require_approved` is that one check; every scarce action calls it with the company concerned.
"""
from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import joinedload

from vmo import uow
from vmo.accounts import notifications as texts
from vmo.accounts.models import Company, CompanyStatus, User
from vmo.audit import services as audit
from vmo.errors import Conflict, Forbidden, NotFound, RuleViolation
from vmo.extensions import db
from vmo.notify import services as notify
from vmo.offices.models import Office

NOT_APPROVED = "company_not_approved"


def require_approved(company: Company) -> None:
    """Refuse (403 `company_not_approved`) anything scarce for a company the office has not approved."""
    if company.status == CompanyStatus.APPROVED:
        return
    if company.status == CompanyStatus.DECLINED:
        message = (f"{company.name} was not approved ({company.decline_reason}); bring the business licence "
                   "to the counter")
    else:
        message = (f"{company.name} is waiting for the office to check its business licence; green-channel days "
                   "and plates open once it is approved")
    raise Forbidden(message, reason=NOT_APPROVED)


def list_companies(office_id: int, status: str | None) -> Select:
    """The office's companies, oldest sign-up first (the order they wait in); each answer names its
    account, office and deciding officer, loaded in the page's one query."""
    stmt = (select(Company).where(Company.office_id == office_id)
            .options(joinedload(Company.user).joinedload(User.office), joinedload(Company.decided_by)))
    if status:
        stmt = stmt.where(Company.status == status)
    return stmt.order_by(Company.created_at, Company.id)


def get_company(staff: User, company_id: int) -> Company:
    company = db.session.scalar(select(Company).where(Company.id == company_id, Company.office_id == staff.office_id))
    if company is None:
        raise NotFound(f"no company {company_id}")
    return company


def reveal_phone(office_id: int, company_id: str) -> str:
    """The contact phone of a company of this office, for POST /phones/reveal (case type `company`)."""
    phone = None
    if company_id.isascii() and company_id.isdigit():
        phone = db.session.scalar(select(Company.contact_phone).where(Company.id == int(company_id),
                                                                      Company.office_id == office_id))
    if phone is None:
        raise NotFound(f"no company {company_id}")
    return phone


def _decide(officer: User, company: Company, frm: tuple, now: datetime, **values) -> None:
    """Only the officer whose UPDATE flips the status decides: a concurrent second decision is a 409."""
    flipped = db.session.execute(
        update(Company).where(Company.id == company.id, Company.status.in_(frm))
        .values(decided_at=now, decided_by_id=officer.id, **values)
        .execution_options(synchronize_session=False)).rowcount
    if flipped != 1:
        db.session.refresh(company)
        raise Conflict(f"{company.name} is already {company.status}", reason=f"already_{company.status}")
    db.session.refresh(company)


def approve_company(officer: User, company_id: int, licence_credit_code: str | None, now: datetime) -> Company:
    """Approve after the business licence was checked; `licence_credit_code`, when given, is the code read
    off the licence and must be the one the company signed up with. A declined company may be approved
    once it has brought the right licence: the code is required then."""
    company = get_company(officer, company_id)
    before = company.status
    if before == CompanyStatus.DECLINED and licence_credit_code is None:
        # A second look after a decline is made with the licence in hand, never by a click alone (nor by
        # an approval racing the decline it never saw).
        raise RuleViolation(f"{company.name} was declined ({company.decline_reason}); approve it with the credit "
                            "code read off the business licence it brings", reason="licence_required")
    if licence_credit_code is not None and licence_credit_code.strip().upper() != company.credit_code:
        raise RuleViolation(f"the business licence's credit code {licence_credit_code.strip().upper()} is not "
                            f"{company.credit_code}, the one {company.name} signed up with",
                            reason="credit_code_mismatch")
    # From the state just read only: a decision taken meanwhile makes this a 409.
    _decide(officer, company, (before,) if before != CompanyStatus.APPROVED else (), now,
            status=CompanyStatus.APPROVED, decline_reason=None)
    audit.record("company.approve", "company", company.id, actor=officer, before={"status": before},
                 after={"status": company.status, "credit_code": company.credit_code,
                        "licence_checked": licence_credit_code is not None})
    notify.queue(company.office_id, company.contact_phone, texts.COMPANY_APPROVED.render(company=company.name),
                 kind="company_review", key=f"company.approved:{company.id}",
                 subject_type="company", subject_id=company.id)
    uow.flush()
    return company


def decline_company(officer: User, company_id: int, reason: str, now: datetime) -> Company:
    """Decline a pending company; the contact is texted the reason and where to bring the licence."""
    company = get_company(officer, company_id)
    _decide(officer, company, (CompanyStatus.PENDING,), now, status=CompanyStatus.DECLINED, decline_reason=reason)
    office = db.session.get(Office, company.office_id)
    audit.record("company.decline", "company", company.id, actor=officer, before={"status": CompanyStatus.PENDING},
                 after={"status": company.status, "reason": reason})
    notify.queue(company.office_id, company.contact_phone,
                 texts.COMPANY_DECLINED.render(company=company.name, reason=reason,
                                               place=office.address or office.name, phone=office.phone or "本所窗口"),
                 kind="company_review", key=f"company.declined:{company.id}:{now.isoformat()}",
                 subject_type="company", subject_id=company.id)
    uow.flush()
    return company
