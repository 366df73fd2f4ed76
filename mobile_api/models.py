"""Photos attached to synced tour inspections (the inspections themselves live in schedules.tours)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vmo import integrity
from vmo.extensions import db
from vmo.types import UTCDateTime, utcnow


class InspectionPhoto(db.Model):
    """One photo of one inspection; the bytes are in the photo storage under `sha256`.

    Unique per (inspection, hash), so sending a photo again adds nothing; the same bytes attached
    to two inspections are stored once.
    """

    __tablename__ = "tour_inspection_photos"
    __table_args__ = (UniqueConstraint("inspection_id", "sha256", name="tour_inspection_photo"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("tour_inspections.id", ondelete="CASCADE"), index=True)
    # The inspection's client_id, kept here for the photo's address.
    client_id: Mapped[str] = mapped_column(String(36))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    # One of PHOTO_KINDS (e.g. 左前45度, 车架号), as the record declared it or the upload named it.
    kind: Mapped[str | None] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by = relationship("User")


class PhotoBlob(db.Model):
    """A photo's bytes when PHOTO_STORAGE is "database" (mobile_api.storage.DatabaseStorage).

    Global, not per office: content-addressed by SHA-256, so the same bytes are kept once whoever
    sent them. Under Citus it is distributed by its own key, `sha256` (docs/scale.md): nothing
    joins it to an office's rows.
    """

    __tablename__ = "photo_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The 409 each unique constraint above answers when a concurrent request got there first (vmo.integrity).
CONFLICTS: dict[str, integrity.Unique] = {
    "tour_inspection_photo": integrity.Unique("this photo is already stored for the inspection"),
}
