"""fpanalysis: population and reproductive-health indicators for administrative units.

Modules (imports point downward only): ``periods``, ``schema``, ``io`` (with ``reading``,
``tables``, ``rules`` and ``hierarchy``), ``events`` (event registers to counts), ``synth`` at
the bottom; ``intervals`` and ``indicators`` above them; ``scheme`` (the targets file) and
``targets`` (scoring) above those; ``quality`` (data-quality checks) and ``projection``
(nowcasts, life tables, cohort-component projection) beside ``targets``; ``disclosure``,
``plots`` and ``report`` on top.
"""

from importlib import import_module as _import_module

from . import events, hierarchy, indicators, intervals, io, periods, ranks, schema, scheme, targets
from .events import aggregate_events, rejected_events
from .io import (
    LoadReport,
    load_adjustments,
    load_audits,
    load_births_hospital,
    load_counts,
    load_population_age,
    load_report,
    load_scores,
    load_units,
    load_values,
)
from .periods import parse as parse_period
from .schema import DataError
from .scheme import Scheme, Target, load_targets

__all__ = [
    "DataError",
    "LoadReport",
    "Scheme",
    "Target",
    "aggregate_events",
    "events",
    "hierarchy",
    "indicators",
    "intervals",
    "io",
    "load_adjustments",
    "load_audits",
    "load_births_hospital",
    "load_counts",
    "load_population_age",
    "load_report",
    "load_scores",
    "load_targets",
    "load_units",
    "load_values",
    "parse_period",
    "periods",
    "projection",
    "quality",
    "ranks",
    "rejected_events",
    "schema",
    "scheme",
    "targets",
]

__version__ = "0.1.0"

#: Subpackages imported on first use (``fp.quality``), not with the package: they are not
#: needed to load data or compute indicators, and the figures modules import matplotlib.
_LAZY = ("projection", "quality")


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return _import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
