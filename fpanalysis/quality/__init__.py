"""Data quality and verification (issue 9): can the reported figures be trusted?

In the spirit of the WHO Data Quality Review and the DHIS2 data-quality tools:

* :mod:`.audits`: audit re-checks — false-report rates with exact intervals, the
  verification factor, audit-corrected counts, pooled (stratified) county estimates and
  indicators recomputed on audit-corrected numerators (the ``[[audit]]`` tables of a targets
  file put the findings in the score: :mod:`fpanalysis.scheme`, :mod:`fpanalysis.targets`);
* :mod:`.outliers`: outliers on each unit's own monthly history (z and modified z, divergent
  units) and funnel-plot outliers against the county, with over-dispersion adjustment;
* :mod:`.trends`: consistency over time against the county, and a weighted trend test;
* :mod:`.sources`: agreement between two sources of births;
* :mod:`.completeness`: completeness and timeliness of monthly reports, completeness of
  values, the sex ratio at birth against the biological reference, age heaping;
* :mod:`.checks`: :func:`check_all`, every check for one period as one flag table, and its
  per-township :func:`scorecard`;
* :mod:`.figures`: the charts of the data-quality notebook.

The checks were written as five modules rather than one ``quality.py`` because each family
has its own inputs, windows and references (about 3,000 lines together); every public name is
re-exported here, so ``fpanalysis.quality.audit_estimates`` and
``fpanalysis.quality.check_all`` are the names to use. No check changes its input.
"""

from .audits import ADJUST, POOLED, VF_OVER, VF_UNDER, audit_adjusted, audit_estimates, audit_sums
from .checks import CHECKS, FLAG_COLUMNS, FUNNEL_INDICATORS, check_all, scorecard, windows
from .completeness import (
    completeness,
    completeness_flags,
    mother_age_heaping,
    myers_index,
    sex_ratio_plausibility,
    timeliness,
    value_completeness,
    whipple_index,
)
from .outliers import (
    funnel_curves,
    funnel_flags,
    funnel_outliers,
    monthly_outliers,
    monthly_values,
    outlier_flags,
    outlier_summary,
    overdispersion,
)
from .sources import agreement_values, compare_sources, source_flags
from .trends import consistency_flags, consistency_over_time, trend_test, weighted_slope

__all__ = [
    "ADJUST",
    "CHECKS",
    "FLAG_COLUMNS",
    "FUNNEL_INDICATORS",
    "POOLED",
    "VF_OVER",
    "VF_UNDER",
    "agreement_values",
    "audit_adjusted",
    "audit_estimates",
    "audit_sums",
    "check_all",
    "compare_sources",
    "completeness",
    "completeness_flags",
    "consistency_chart",
    "consistency_flags",
    "consistency_over_time",
    "funnel_chart",
    "funnel_curves",
    "funnel_flags",
    "funnel_outliers",
    "monthly_outliers",
    "monthly_values",
    "mother_age_heaping",
    "myers_index",
    "outlier_chart",
    "outlier_flags",
    "outlier_summary",
    "overdispersion",
    "scorecard",
    "sex_ratio_plausibility",
    "source_flags",
    "timeliness",
    "trend_test",
    "value_completeness",
    "weighted_slope",
    "whipple_index",
    "windows",
]

#: The charts, imported from :mod:`.figures` on first use (PEP 562): the checks do not need
#: matplotlib.
_FIGURES = ("consistency_chart", "funnel_chart", "outlier_chart")


def __getattr__(name: str) -> object:
    if name in _FIGURES:
        from . import figures

        return getattr(figures, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FIGURES))
