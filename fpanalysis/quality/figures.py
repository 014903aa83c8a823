"""Figures of the outlier and consistency checks; layout only, as :mod:`fpanalysis.plots`.

Call :func:`fpanalysis.plots.use_cjk_font` first for Chinese unit names and labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import plots
from .outliers import funnel_curves

__all__ = ["consistency_chart", "funnel_chart", "outlier_chart"]

_SEVERITY_COLORS = {"extreme": "#c00000", "moderate": "#ed7d31"}


_COUNT_WORDS = {"births": ("出生数", "births"), "deaths": ("死亡数", "deaths"),
                "births_male": ("男婴出生数", "male births"),
                "births_female": ("女婴出生数", "female births"),
                "deaths_infant": ("婴儿死亡数", "infant deaths")}


def _series_label(key: str, language: str) -> str:
    if key in _COUNT_WORDS:
        return _COUNT_WORDS[key][0 if language == "zh" else 1]
    try:
        return plots._axis_label(key, language)
    except ValueError:  # another count column
        return key


def outlier_chart(outliers: pd.DataFrame, unit: str, indicator: str, *,
                  units: pd.DataFrame | None = None, language: str = "zh") -> Figure:
    """Draw one unit's monthly series from :func:`monthly_outliers` output: the values, the
    mean and the 2 and 3 SD bands of each window, flagged months in orange (moderate) or
    red (extreme), missing months as gaps.
    """
    rows = outliers[(outliers["unit"] == unit) & (outliers["indicator"] == indicator)]
    if rows.empty:
        raise ValueError(f"no rows for unit {unit!r} and indicator {indicator!r}")
    rows = rows.sort_values("period")
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(rows))
    ax.plot(x, rows["value"], "-o", color="#1f4e79", markersize=3.5, linewidth=1.2)
    for _, w in rows.groupby("window", sort=True):  # a few windows (years)
        pos = x[rows["window"].to_numpy() == w["window"].iloc[0]]
        mean, sd = w["mean"].iloc[0], w["sd"].iloc[0]
        if np.isfinite(mean) and np.isfinite(sd):
            ax.plot(pos, np.full(len(pos), mean), color="#7f7f7f", linewidth=1)
            floor = 0.0 if (rows["value"].dropna() >= 0).all() else -np.inf
            for k, alpha in ((2, 0.12), (3, 0.06)):  # counts and rates are never negative
                ax.fill_between(pos, np.maximum(mean - k * sd, floor), mean + k * sd,
                                color="#7f7f7f", alpha=alpha, linewidth=0)
    sev = rows["severity"].to_numpy(dtype=object)
    for level, color in _SEVERITY_COLORS.items():
        hit = sev == level
        ax.scatter(x[hit], rows["value"].to_numpy()[hit], s=40, color=color, zorder=3,
                   label={"extreme": "严重 (3 SD)" if language == "zh" else "extreme (3 SD)",
                          "moderate": "一般 (2 SD)" if language == "zh" else "moderate (2 SD)"}[
                       level])
    labels = rows["period"].astype(str).tolist()
    step = max(1, len(labels) // 12)
    ax.set_xticks(x[::step], labels[::step], rotation=45, ha="right")
    name = plots._names(rows.iloc[[0]], units).iloc[0]
    ax.set_title(f"{name}: {_series_label(indicator, language)}")
    if pd.notna(sev).any():
        ax.legend(fontsize=9, frameon=False, loc="upper left", ncols=2)
    ax.grid(color="#eeeeee")
    return fig


def funnel_chart(funnel: pd.DataFrame, *, units: pd.DataFrame | None = None,
                 language: str = "zh", title: str = "") -> Figure:
    """Draw a :func:`funnel_outliers` result with :func:`fpanalysis.plots.funnel` (limits
    from :func:`funnel_curves`; the centre line is the county value)."""
    key = str(pd.unique(funnel["indicator"].astype(str))[0])
    return plots.funnel(funnel, funnel_curves(funnel), key, units=units, language=language,
                        title=title, centre_label="全县" if language == "zh" else "county")


def consistency_chart(consistency: pd.DataFrame, indicator: str, *,
                      units: pd.DataFrame | None = None, language: str = "zh") -> Figure:
    """Draw the WHO consistency-over-time scatter: each unit's mean of the previous years
    (x) against its current year (y), the county ratio as a line through the origin and
    the tolerance band around it; flagged units named."""
    rows = consistency[consistency["indicator"] == indicator]
    if rows.empty:
        raise ValueError(f"no rows for indicator {indicator!r}")
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.subplots()
    xv, yv = rows["previous_mean"].to_numpy(float), rows["value"].to_numpy(float)
    flagged = rows["flag"].notna().to_numpy()
    ax.scatter(xv[~flagged], yv[~flagged], s=28, color="#1f4e79", zorder=3)
    ax.scatter(xv[flagged], yv[flagged], s=36, color="#c00000", zorder=3)
    ratio = rows["county_ratio"].iloc[0]
    finite = np.isfinite(xv)
    if np.isfinite(ratio) and finite.any():
        top = np.nanmax(np.concatenate([xv[finite], yv[np.isfinite(yv)] / ratio])) * 1.1
        line = np.array([0.0, top])
        ax.plot(line, ratio * line, color="#404040", linewidth=1)
        for bound in (rows["lower"].iloc[0], rows["upper"].iloc[0]):
            ax.plot(line, ratio * bound * line, "--", color="#7f7f7f", linewidth=1)
    names = plots._names(rows, units).to_numpy()
    for x, y, name in zip(xv[flagged], yv[flagged], names[flagged], strict=True):
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=9)
    label = _series_label(indicator, language)
    years = rows["previous_years"].iloc[0]
    ax.set_xlabel(("前几年平均 " if language == "zh" else "mean of ") + f"{years}")
    ax.set_ylabel(f"{rows['year'].iloc[0]}")
    ax.set_title(label)
    ax.grid(color="#eeeeee")
    return fig

