"""fpanalysis: population and reproductive-health indicators for administrative units.

Modules (imports point downward only): ``periods``, ``schema``, ``io`` (with ``reading``,
``tables``, ``rules`` and ``hierarchy``), ``synth`` at the bottom; ``intervals`` and
``indicators`` above them; ``plots`` and ``report`` on top.
"""

from . import hierarchy, indicators, intervals, io, periods, schema, targets
from .io import (
    LoadReport,
    load_audits,
    load_counts,
    load_report,
    load_scores,
    load_targets,
    load_units,
    load_values,
)
from .periods import parse as parse_period
from .schema import DataError

__all__ = [
    "DataError",
    "LoadReport",
    "hierarchy",
    "indicators",
    "intervals",
    "io",
    "load_audits",
    "load_counts",
    "load_report",
    "load_scores",
    "load_targets",
    "load_units",
    "load_values",
    "parse_period",
    "periods",
    "schema",
    "targets",
]

__version__ = "0.1.0"
