"""Read instrument files: one YAML file, or every shipped one.

The format of a file is described in ``surveys.schema``, which checks a parsed document and builds the
`Instrument`; this module reads the files and reports YAML syntax errors with their line and column. Any mistake
raises `InstrumentError` naming the file, the question code (when there is one) and what is wrong. Nothing
half-loaded is ever returned.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import yaml

from surveys.instrument import Instrument
from surveys.schema import InstrumentError, parse_instrument

__all__ = ["InstrumentError", "load_builtin", "load_file", "parse_instrument"]


def load_file(path: str | Path) -> Instrument:
    """Read and validate one instrument file.

    Args:
        path: The YAML file (UTF-8); only its name appears in error messages.

    Returns:
        The validated instrument, its ``source`` set to the file name.

    Raises:
        InstrumentError: If the file cannot be read, is not valid YAML, or breaks a rule of the format.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InstrumentError(path.name, f"cannot be read ({error.__class__.__name__}: {error})") from error
    try:
        # libyaml's parser when PyYAML has it: six times faster, and every process start reads all the files.
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise InstrumentError(path.name, f"is not valid YAML{where}: {problem}") from error
    return parse_instrument(document, path.name)


def load_builtin() -> dict[str, Instrument]:
    """Load every shipped instrument under ``surveys/instruments/``, keyed by id.

    Returns:
        Instrument id -> instrument, for every ``.yaml`` or ``.yml`` file of the folder, in file name order.

    Raises:
        InstrumentError: If any shipped file is broken (then none is returned), or two share an id.
    """
    return dict(_shipped())  # a new dict: callers add their own instruments to it


@functools.cache
def _shipped() -> dict[str, Instrument]:
    # The shipped files never change while a process runs, and instruments are frozen: read them once.
    folder = resources.files("surveys") / "instruments"
    loaded: dict[str, Instrument] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith((".yaml", ".yml")):
            continue
        instrument = load_file(Path(str(entry)))
        if instrument.id in loaded:
            raise InstrumentError(entry.name, f"id '{instrument.id}' is already used by another file")
        loaded[instrument.id] = instrument
    return loaded
