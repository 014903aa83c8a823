"""Projection (issue 10): what the year will bring, and what the population will become.

* :mod:`.nowcasting`: the year-end nowcast of every unit's counts and indicators from the year
  to date, with predictive intervals, the probability of meeting each annual target and the
  projected year-end share of milestone targets (:func:`nowcast`,
  :func:`project_milestones`, :func:`project_counts`), and :func:`backtest_nowcast`, which
  replays earlier years to measure the intervals' coverage;
* :mod:`.lifetable`: abridged life tables with Chiang's intervals and ageing indicators;
* :mod:`.cohort`: the cohort-component projection by sex and 5-year age group with
  fertility scenarios (:func:`cohort_component`, :func:`fertility_scenario`) and its inputs
  from the ``population_age`` table (:func:`cohort_inputs`);
* :mod:`.figures`: the fan, backtest, pyramid and scenario charts of the projection notebook.

Three modules rather than one ``projection.py``: the nowcast works on monthly counts of many
units, the life table and the projection on one population by age; they share no code.
"""

from .cohort import FERTILE_GROUPS, cohort_component, cohort_inputs, fertility_scenario
from .lifetable import age_start, ageing_indicators, life_expectancy, life_table
from .nowcasting import (
    FAR_OFF_FACTOR,
    FLAT_PSEUDO_EVENTS,
    backtest_nowcast,
    nowcast,
    project_counts,
    project_milestones,
)

__all__ = [
    "FAR_OFF_FACTOR",
    "FERTILE_GROUPS",
    "FLAT_PSEUDO_EVENTS",
    "age_start",
    "ageing_indicators",
    "backtest_nowcast",
    "cohort_component",
    "cohort_inputs",
    "fertility_scenario",
    "figures",
    "life_expectancy",
    "life_table",
    "nowcast",
    "project_counts",
    "project_milestones",
]


def __getattr__(name: str) -> object:
    # the charts (:mod:`.figures`, which imports matplotlib) on first use (PEP 562)
    if name == "figures":
        import importlib

        return importlib.import_module(f"{__name__}.figures")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"figures"})
