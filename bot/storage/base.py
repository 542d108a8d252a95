"""The declarative base of every table, and the clock they use."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sqlalchemy import DateTime
from sqlalchemy.orm import DeclarativeBase


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict] = {dt.datetime: DateTime(timezone=True)}
