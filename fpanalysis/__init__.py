"""fpanalysis: population and reproductive-health indicators for administrative units.

Modules (imports point downward only): ``periods``, ``schema``, ``io``, ``synth`` at the
bottom; ``intervals`` and ``indicators`` above them; ``plots`` and ``report`` on top.
"""

from . import io, periods, schema
from .io import LoadReport, load_audits, load_counts, load_targets, load_units
from .periods import parse as parse_period
from .schema import DataError

__all__ = [
    "DataError",
    "LoadReport",
    "io",
    "load_audits",
    "load_counts",
    "load_targets",
    "load_units",
    "parse_period",
    "periods",
    "schema",
]

__version__ = "0.1.0"
