"""Mailings: recorded by staff (the recipient texted the carrier and number), asked for by a company
for its batch, closed as delivered or returned. Cases belong to other features: looked up through
vmo.hooks.CASES, never imported."""
from datetime import datetime

from sqlalchemy import Select, select

from vmo import hooks, uow
from vmo.accounts.models import User
from vmo.audit import services as audit
from vmo.errors import Conflict, NotFound, RuleViolation
from vmo.extensions import db
from vmo.mailings import notifications as texts
from vmo.mailings.models import Mailing, MailingStatus
from vmo.notify import services as notify

# What a company's batch request posts: the plates and the papers that go with a registration.
BATCH_ITEMS = ["号牌", "行驶证", "机动车登记证书"]
FLEET_BATCH = "fleet_batch"


def _case_in_office(case_type: str, case_id: int, office_id: int) -> hooks.Case:
    if case_type not in hooks.case_types():
        known = ", ".join(hooks.case_types())
        raise RuleViolation(f"unknown case type {case_type!r} (one of {known})", reason="case_type",
                            fields={"case": {"type": [f"one of {known}"]}})
    case = hooks.find_case(case_type, case_id)
    if case is None or case.office_id != office_id:
        raise NotFound(f"no {case_type} {case_id} in this office")
    return case


def _check_free(case: hooks.Case) -> None:
    """A case has one mailing under way at a time (the unique open_case column holds it against races)."""
    existing = db.session.scalar(select(Mailing).where(Mailing.open_case == _open_key(case.type, case.id)))
    if existing is not None:
        hint = (f"; record its carrier and tracking number with PATCH /api/v1/mailings/{existing.id}"
                if existing.status == MailingStatus.REQUESTED else "")
        raise Conflict(f"{case.type} {case.id} already has mailing {existing.id} ({existing.status}){hint}",
                       reason="mailing_under_way")


def _open_key(case_type: str | None, case_id: int | None) -> str | None:
    return f"{case_type}:{case_id}" if case_type else None


def _send(mailing: Mailing, officer: User, carrier: str, tracking_number: str, now: datetime) -> None:
    """Handed to the carrier: recorded, and the recipient texted the carrier and number (one segment)."""
    mailing.carrier, mailing.tracking_number = carrier, tracking_number.upper()
    mailing.status, mailing.sent_at, mailing.sent_by_id = MailingStatus.SENT, now, officer.id
    notify.queue(mailing.office_id, mailing.phone,
                 texts.MAILING_SENT.render(carrier=mailing.carrier, tracking_number=mailing.tracking_number),
                 kind="mailing_sent", key=f"mailing_sent:{mailing.id}", subject_type="mailing",
                 subject_id=mailing.id, officer_id=officer.id, now=now)


def _summary(mailing: Mailing) -> dict:
    # The audit log keeps no address or phone: who received what is in the mailing itself.
    return {"status": mailing.status, "case": _open_key(mailing.case_type, mailing.case_id),
            "items": mailing.items, "carrier": mailing.carrier, "tracking_number": mailing.tracking_number}


def create(officer: User, data: dict, now: datetime, default_carrier: str) -> Mailing:
    """Staff record a mailing handed to the carrier; for a case, the case must be finished."""
    case_ref = data.get("case")
    case = None
    if case_ref is not None:
        case = _case_in_office(case_ref["type"], case_ref["id"], officer.office_id)
        if not case.finished:
            raise Conflict(f"{case.label or case.type} is not finished: its papers cannot be posted yet",
                           reason="not_finished")
        _check_free(case)
    mailing = Mailing(office_id=officer.office_id, case_type=case and case.type, case_id=case and case.id,
                      open_case=case and _open_key(case.type, case.id), recipient=data["recipient"],
                      phone=data["phone"], address=data["address"], items=list(data["items"]),
                      requested_by_id=officer.id, created_at=now)
    db.session.add(mailing)
    uow.flush()
    _send(mailing, officer, data.get("carrier") or default_carrier, data["tracking_number"], now)
    audit.record("mailing.create", "mailing", mailing.id, actor=officer, after=_summary(mailing))
    uow.flush()
    return mailing


def request_for_batch(company_user: User, batch_id: int, data: dict, now: datetime) -> Mailing:
    """A company asks for its batch's plates and papers by post; staff post them later (`dispatch`)."""
    case = hooks.find_case(FLEET_BATCH, batch_id)
    if case is None or case.office_id != company_user.office_id or case.owner_user_id != company_user.id:
        raise NotFound(f"no batch {batch_id}")  # another company's batch is 'not found', as if absent
    _check_free(case)
    mailing = Mailing(office_id=case.office_id, case_type=case.type, case_id=case.id,
                      open_case=_open_key(case.type, case.id), recipient=data["recipient"], phone=data["phone"],
                      address=data["address"], items=list(BATCH_ITEMS), status=MailingStatus.REQUESTED,
                      requested_by_id=company_user.id, created_at=now)
    db.session.add(mailing)
    uow.flush()
    audit.record("mailing.request", "mailing", mailing.id, actor=company_user, after=_summary(mailing))
    uow.flush()
    return mailing


def batch_mailing(user: User, batch_id: int) -> Mailing:
    """The latest mailing of a batch, for its company or the office's staff."""
    case = hooks.find_case(FLEET_BATCH, batch_id)
    if case is None or case.office_id != user.office_id or (not user.is_staff and case.owner_user_id != user.id):
        raise NotFound(f"no batch {batch_id}")
    mailing = db.session.scalar(select(Mailing).where(Mailing.case_type == FLEET_BATCH, Mailing.case_id == batch_id)
                                .order_by(Mailing.id.desc()).limit(1))
    if mailing is None:
        raise NotFound(f"batch {batch_id} has no mailing")
    return mailing


def reveal_phone(office_id: int, mailing_id: str) -> str:
    """The recipient's phone of a mailing of this office, for the waybill (POST /phones/reveal, audited)."""
    if not (mailing_id.isascii() and mailing_id.isdigit()):
        raise NotFound(f"no mailing {mailing_id}")
    return get_mailing(office_id, int(mailing_id)).phone


def get_mailing(office_id: int, mailing_id: int) -> Mailing:
    mailing = db.session.scalar(select(Mailing).where(Mailing.id == mailing_id, Mailing.office_id == office_id))
    if mailing is None:
        raise NotFound(f"no mailing {mailing_id}")
    return mailing


def update(officer: User, mailing_id: int, data: dict, now: datetime, default_carrier: str) -> Mailing:
    """Post a requested mailing (carrier and tracking number), or close a sent one as delivered or returned."""
    mailing = get_mailing(officer.office_id, mailing_id)
    before = _summary(mailing)
    if data["status"] == MailingStatus.SENT:
        if mailing.status != MailingStatus.REQUESTED:
            raise Conflict(f"mailing {mailing.id} is {mailing.status}: only a requested one is posted",
                           reason="not_requested")
        _send(mailing, officer, data.get("carrier") or default_carrier, data["tracking_number"], now)
        action = "mailing.send"
    else:
        if mailing.status != MailingStatus.SENT:
            raise Conflict(f"mailing {mailing.id} is {mailing.status}: only a sent one is delivered or returned",
                           reason="not_sent")
        mailing.status, mailing.closed_at, mailing.open_case = MailingStatus(data["status"]), now, None
        action = "mailing.close"
    audit.record(action, "mailing", mailing.id, actor=officer, before=before, after=_summary(mailing))
    uow.flush()
    return mailing


def list_mailings(office_id: int, status: str | None = None) -> Select:
    stmt = select(Mailing).where(Mailing.office_id == office_id)
    if status:
        stmt = stmt.where(Mailing.status == status)
    return stmt.order_by(Mailing.id.desc())

