"""A new vehicle's papers: what registration needs besides the car itself, their shapes and who may fill them in.

《机动车登记规定》(公安部令第102号, as amended by 第124号) 第七条: "申请注册登记的，机动车所有人应当填写
申请表，交验机动车，并提交以下证明、凭证：(一)机动车所有人的身份证明；(二)购车发票等机动车来历证明；
(三)机动车整车出厂合格证明或者进口机动车进口凭证；(四)车辆购置税完税证明或者免税凭证；(五)机动车交通
事故责任强制保险凭证；..." Here: the sales invoice is `invoice_number`, (三) `certificate_number`, (四)
`purchase_tax_number`, (五) `insurance_policy`; the application states the use (使用性质: `use_character`).
The 2021 order (公安部令第164号) keeps the list under another article number (not checked; the quote is
from the 2012 text as published secondary sources reproduce it: fairly sure of the content).
A vehicle may be submitted without them; it cannot be registered without them (409 `documents_missing`).

Shapes: the numbers are printed by the manufacturer, the tax office and the insurer in formats that
differ between them, so each is checked for what every one of them has (letters and digits only,
within a length), not for one issuer's layout.
"""
import re

from sqlalchemy import update

from vmo import uow
from vmo.accounts.models import User
from vmo.audit import services as audit
from vmo.errors import Conflict
from vmo.extensions import db
from vmo.fleet.models import FleetVehicle, VehicleStatus

# 使用性质, GA 24.3《机动车登记信息代码 第3部分：使用性质代码》(codes A to R, in this order, as vendors'
# code tables reproduce them), with 预约出租客运 (T) added for ride-hailing cars (网络预约出租汽车经营服务
# 管理暂行办法, 2016). The letters are not stored: the office writes the name on the 行驶证. How sure: the
# list matches two vendors' copies of the table; the standard itself was not at hand.
USE_CHARACTERS = (
    "非营运", "公路客运", "公交客运", "出租客运", "旅游客运", "货运", "租赁", "警用", "消防", "救护", "工程救险",
    "营转非", "出租转非", "教练", "幼儿校车", "小学生校车", "其他校车", "危化品运输", "预约出租客运",
)
# These describe a registered vehicle leaving operating use (a change of registration, 变更登记): a new
# vehicle is registered with the use it starts with.
CHANGE_ONLY_USE_CHARACTERS = ("营转非", "出租转非")
NEW_VEHICLE_USE_CHARACTERS = tuple(u for u in USE_CHARACTERS if u not in CHANGE_ONLY_USE_CHARACTERS)

# field -> (Chinese name, shortest, longest, allowed characters and their description)
PAPERS = {
    "certificate_number": ("机动车整车出厂合格证编号", 10, 20),
    "purchase_tax_number": ("车辆购置税完税证明号码", 8, 30),
    "insurance_policy": ("交强险保单号", 8, 40),
}
PAPER_FIELDS = (*PAPERS, "use_character")
LABELS = {**{name: zh for name, (zh, _low, _high) in PAPERS.items()}, "use_character": "使用性质"}
_LETTERS_AND_DIGITS = re.compile(r"^[0-9A-Z]+$")
_HALF_WIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
               "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ"}


def validate_paper(name: str, value: str) -> str:
    """The number normalised (spaces and dashes dropped, full-width and lower-case letters made plain
    capitals), or ValueError saying what is wrong."""
    _zh, low, high = PAPERS[name]
    text = re.sub(r"[\s\-]", "", value.translate(_HALF_WIDTH)).upper()
    if not text:
        raise ValueError("must not be empty")
    if not _LETTERS_AND_DIGITS.match(text):
        raise ValueError("only letters and digits (as printed on the paper)")
    if not low <= len(text) <= high:
        raise ValueError(f"{low} to {high} letters and digits, not {len(text)}")
    return text


def validate_use_character(value: str) -> str:
    text = value.strip()
    if text in CHANGE_ONLY_USE_CHARACTERS:
        raise ValueError(f"{text} is for a registered vehicle that leaves operating use; a new vehicle is "
                         "registered with the use it starts with")
    if text not in NEW_VEHICLE_USE_CHARACTERS:
        raise ValueError(f"one of {'、'.join(NEW_VEHICLE_USE_CHARACTERS)} (GA 24.3)")
    return text


def missing(vehicle: FleetVehicle) -> list[str]:
    """The papers the vehicle still lacks, in the order of PAPER_FIELDS."""
    return [name for name in PAPER_FIELDS if not getattr(vehicle, name)]


def require_papers(vehicle: FleetVehicle) -> None:
    """Registration needs every paper: 409 `documents_missing`, naming the missing ones."""
    absent = missing(vehicle)
    if absent:
        raise Conflict(f"vehicle {vehicle.vin} cannot be registered without its papers: "
                       f"{'、'.join(LABELS[name] for name in absent)} missing",
                       reason="documents_missing", missing=absent)


def update_papers(actor: User, vehicle: FleetVehicle, papers: dict) -> FleetVehicle:
    """Fill in or correct a vehicle's papers (the owner company or an officer), until it is registered."""
    if vehicle.status == VehicleStatus.REGISTERED:
        raise Conflict(f"vehicle {vehicle.vin} is registered as {vehicle.plate}; its papers are on record",
                       reason="registered")
    if not papers:
        return vehicle  # nothing to change (an empty PATCH)
    before = {name: getattr(vehicle, name) for name in papers}
    # Guarded on the status: a registration committed meanwhile makes this touch no row.
    changed = db.session.execute(
        update(FleetVehicle).where(FleetVehicle.id == vehicle.id, FleetVehicle.status != VehicleStatus.REGISTERED)
        .values(**papers).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise Conflict(f"vehicle {vehicle.vin} was registered just now; its papers are on record", reason="registered")
    db.session.refresh(vehicle)
    audit.record("fleet.papers", "fleet_vehicle", vehicle.vin, actor=actor, office_id=vehicle.office_id,
                 before=before, after=papers)
    uow.flush()
    return vehicle
