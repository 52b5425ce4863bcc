"""The brand's organisation: OEM → regions → dealers."""
import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import enum_column


class AssignmentMode(enum.StrEnum):
    """How a dealer hands its leads to consultants."""

    ROUND_ROBIN = "round_robin"  # to consultants on shift, in turn (weighted)
    MANAGER_PICK = "manager_pick"  # the manager chooses each time


class Oem(db.Model):
    """The brand (整车厂); it runs the IDCC lead desk and owns the routing rules."""

    __tablename__ = "oems"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))

    regions: Mapped[list["Region"]] = relationship(back_populates="oem", order_by="Region.code")


class Region(db.Model):
    """A sales region of the brand, grouping dealers (e.g. South China)."""

    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    oem_id: Mapped[int] = mapped_column(ForeignKey("oems.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))

    oem: Mapped[Oem] = relationship(back_populates="regions")
    dealers: Mapped[list["Dealer"]] = relationship(back_populates="region", order_by="Dealer.code")


class Dealer(db.Model):
    """A dealership (4S store). Its time zone governs "today", quiet hours and display."""

    __tablename__ = "dealers"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(60))
    province: Mapped[str] = mapped_column(String(60))
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    phone_region: Mapped[str] = mapped_column(String(2), default="CN")
    active: Mapped[bool] = mapped_column(default=True)
    assignment_mode: Mapped[AssignmentMode] = mapped_column(
        enum_column(AssignmentMode), default=AssignmentMode.ROUND_ROBIN, server_default=AssignmentMode.ROUND_ROBIN.value)

    region: Mapped[Region] = relationship(back_populates="dealers")

    @property
    def oem_id(self) -> int:
        return self.region.oem_id
