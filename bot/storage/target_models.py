"""Targets (`sipas-bot target set`): a centre's, and the province's, for a year; SIPAS or one element index on
0-100. Reports show the gap to them and the probability that the estimate is above them already
(`bot.reports.targets`)."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class Target(Base):
    """A centre's target for a year (`sipas-bot target set`): SIPAS or one element index, on 0-100. Reports show
    the gap to it and the probability that the centre is above it already (`bot.reports.targets`)."""

    __tablename__ = "targets"

    # A centre removed (`centre remove`, one typed by mistake) takes its targets with it.
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure: Mapped[str] = mapped_column(String(20), primary_key=True)  # "sipas" or an element code
    value: Mapped[float] = mapped_column(Float)


class ProvinceTarget(Base):
    """The province's target for a year (`target set --province`): for the "Toàn tỉnh" rows (`--total`)."""

    __tablename__ = "province_targets"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure: Mapped[str] = mapped_column(String(20), primary_key=True)  # "sipas" or an element code
    value: Mapped[float] = mapped_column(Float)
