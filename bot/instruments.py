"""The instruments this deployment offers: the shipped ones plus any in SIPAS_INSTRUMENTS_DIR."""

from __future__ import annotations

from pathlib import Path

from surveys.instrument import Instrument
from surveys.loader import InstrumentError, load_builtin, load_file


def load_instruments(extra_dir: Path | None = None) -> dict[str, Instrument]:
    """All instruments by id; a broken or clashing file raises InstrumentError and nothing is returned."""
    instruments = load_builtin()
    if extra_dir is None:
        return instruments
    if not extra_dir.is_dir():
        raise InstrumentError(str(extra_dir), "is not a folder (SIPAS_INSTRUMENTS_DIR)")
    for path in sorted(extra_dir.glob("*.y*ml")):
        instrument = load_file(path)
        if instrument.id in instruments:
            raise InstrumentError(path.name, f"id '{instrument.id}' is already used by another instrument")
        instruments[instrument.id] = instrument
    return instruments
