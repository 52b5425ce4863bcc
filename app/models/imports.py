"""Lead files being imported, what became of their rows, and the rows already imported (so a re-import of the
same file creates nothing new)."""
import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.leads import Lead
from app.models.types import UTCDateTime, enum_column, utcnow
from app.models.users import User


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


class ImportState(enum.StrEnum):
    QUEUED = "queued"  # uploaded, not started
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # the file could not be read at all; nothing was imported


class LeadImport(db.Model):
    """One uploaded lead file and its progress: rows done so far are committed batch by batch, so an
    interrupted import resumes at `done_rows`."""

    __tablename__ = "lead_imports"
    __table_args__ = (Index("ix_lead_imports_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    oem_id: Mapped[int] = mapped_column(ForeignKey("oems.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealers.id"))  # a manager's import
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    content: Mapped[bytes | None] = mapped_column(LargeBinary)  # dropped once the import is done
    state: Mapped[ImportState] = mapped_column(enum_column(ImportState), default=ImportState.QUEUED)
    total_rows: Mapped[int] = mapped_column(default=0)
    done_rows: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    merged: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[list | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last batch committed
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LeadImportIssue(db.Model):
    """A row of an import that was skipped, with the reason that names it."""

    __tablename__ = "lead_import_issues"
    __table_args__ = (Index("ix_lead_import_issues_import_line", "import_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("lead_imports.id", ondelete="CASCADE"))
    line: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
