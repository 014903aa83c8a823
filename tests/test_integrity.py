"""Issue 7's cross-module properties: a unit that fails to report never gains by it.

Offices assess townships because births get hidden and reports go missing, so the one
property that matters most is checked end to end on the sample county (load -> compute ->
evaluate -> score -> rank -> year-end standing): removing any one monthly report of any
township never improves that township's score or rank, for the quarter holding the month,
for the year, or in the year-end standing (0.6 x county quarterly mean + 0.4 x city score).
The reference is the same pipeline on the full data; the property is an inequality, so it
does not depend on the code's own figures being right, only on a missing report never
helping.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fpanalysis import io, scheme, targets

from .conftest import SAMPLE

MONTHS = [pd.Period(f"2024-{m:02d}", "M") for m in range(1, 13)]
QUARTERS = ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]


@cache
def _inputs():
    units = io.load_units(SAMPLE)
    counts = io.load_counts(SAMPLE, units=units)
    values = io.load_values(SAMPLE, units=units)
    city = io.load_scores(SAMPLE, units=units)
    plan = scheme.load_targets(SAMPLE, units=units,
                               indicators=list(values["indicator"].unique()))
    return units, counts, values, city, plan


def _assessment(counts: pd.DataFrame, quarter: str) -> dict[str, pd.DataFrame]:
    units, _, values, city, plan = _inputs()
    _, quarters = targets.assess(counts, plan, periods=QUARTERS, values=values, units=units)
    _, year = targets.assess(counts, plan, periods=["2024"], values=values, units=units)
    standing = targets.combine(quarters, city, plan, period="2024")
    return {"quarter": quarters[quarters["period"].astype(str) == quarter].set_index("unit"),
            "year": year.set_index("unit"), "standing": standing.set_index("unit")}


@cache
def _full(quarter: str) -> dict[str, pd.DataFrame]:
    return _assessment(_inputs()[1], quarter)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=st.integers(0, 17), month=st.integers(0, 11))
def test_a_missing_monthly_report_never_improves_score_or_rank(unit, month):
    units, counts, *_ = _inputs()
    code = sorted(units.loc[units["level"] == "township", "unit"])[unit]
    gone = MONTHS[month]
    quarter = str(gone.asfreq("Q"))
    cut = counts[~((counts["unit"] == code) & (counts["period"] == gone))]
    assume(len(cut) == len(counts) - 1)  # the sample already lacks 990101107's 2024-05
    before, after = _full(quarter), _assessment(cut, quarter)
    for view in ("quarter", "year", "standing"):
        b, a = before[view], after[view]
        assert code in a.index, f"{code} vanished from the {view} table"
        assert len(a) == len(b) == 18
        assert not a.loc[code, "score"] > b.loc[code, "score"], view
        # a rank is missing only where the score is (standing without a city score)
        if pd.notna(b.loc[code, "rank"]):
            assert pd.notna(a.loc[code, "rank"]), view
            assert a.loc[code, "rank"] >= b.loc[code, "rank"], view
    assert bool(after["quarter"].loc[code, "not_reported"])
    assert bool(after["year"].loc[code, "not_reported"])
