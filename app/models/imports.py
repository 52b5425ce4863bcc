"""Rows already imported, so a re-import of the same file creates nothing new."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.leads import Lead
from app.models.types import UTCDateTime, utcnow


class ImportedRow(db.Model):
    """One imported row's key (the provider's id, else phone + source + request time) and the lead it became."""

    __tablename__ = "imported_rows"
    __table_args__ = (UniqueConstraint("oem_id", "import_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    oem_id: Mapped[int] = mapped_column(ForeignKey("oems.id"))
    import_key: Mapped[str] = mapped_column(String(200))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship()
