"""Figures of the projections; layout only, as :mod:`fpanalysis.plots`.

* :func:`fan_chart`: each unit's projected annual value with nested predictive ranges, its
  year-to-date value and the target (from :func:`~fpanalysis.projection.nowcast`);
* :func:`backtest_chart`: coverage of the predictive intervals by months observed
  (from :func:`~fpanalysis.projection.backtest_nowcast`);
* :func:`pyramid`: a population pyramid by 5-year age group;
* :func:`scenario_chart`: total population or births by year under several scenarios
  (from :func:`~fpanalysis.projection.cohort_component`).

Call :func:`fpanalysis.plots.use_cjk_font` first for Chinese unit names and labels.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .. import plots
from .lifetable import age_start

__all__ = ["backtest_chart", "fan_chart", "pyramid", "scenario_chart"]

_DARK, _LIGHT, _POINT = "#2e75b6", "#bdd7ee", "#1f4e79"
_TARGET = "#c00000"


def _check_language(language: str) -> bool:
    if language not in ("zh", "en"):
        raise ValueError(f"language must be 'zh' or 'en', got {language!r}")
    return language == "zh"


def fan_chart(nowcast: pd.DataFrame, indicator: str, *, units: pd.DataFrame | None = None,
              target: float | None = None, language: str = "zh") -> Figure:
    """Draw each unit's projected annual value of one indicator with its predictive ranges.

    Per unit (sorted by the projected value, a unit not projected at the bottom): the
    widest range of the nowcast as a light bar (95 %), the narrowest as a dark bar inside
    it (80 %), the projected value (median of the draws) as a dot, the year-to-date value
    as a hollow circle, and the target as a red line (or a red tick per unit where units
    have their own thresholds). A unit not projected keeps its row, with 未预测 / "not
    projected" written on it.

    Parameters
    ----------
    nowcast : pandas.DataFrame
        :func:`fpanalysis.projection.nowcast` output of one year and cut-off.
    indicator : str
        The indicator drawn.
    units : pandas.DataFrame, optional
        The units table, to label units by name.
    target : float, optional
        The target line; default the thresholds the nowcast carries for the indicator
        (of its targets on the value, not a change on last year), if any.
    language : {'zh', 'en'}, default 'zh'

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        Not a nowcast, no rows for ``indicator``, several years, an unknown language.
    """
    zh = _check_language(language)
    need = ["unit", "period", "indicator", "observed", "value", "note"]
    if not isinstance(nowcast, pd.DataFrame) or any(c not in nowcast for c in need):
        raise ValueError("fan_chart needs the output of projection.nowcast")
    if nowcast["period"].astype(str).nunique() > 1:
        raise ValueError("fan_chart shows one year; got "
                         + ", ".join(sorted(nowcast["period"].astype(str).unique())))
    rows = nowcast[nowcast["indicator"].astype(str) == indicator]
    if rows.empty:
        raise ValueError(f"fan_chart: no rows for indicator {indicator!r}")
    levels = sorted((c.removeprefix("lower_") for c in rows.columns
                     if c.startswith("lower_")), key=float)
    # thresholds on the value itself (a change target's threshold is on another scale)
    on_value = rows["target"].notna() if "target" in rows else pd.Series(False, rows.index)
    if "baseline" in rows:
        on_value &= rows["baseline"].isna()
    thresholds = rows[on_value].drop_duplicates("unit").set_index("unit")["threshold"] \
        if on_value.any() else pd.Series(dtype=float)
    data = rows.drop_duplicates("unit").copy()  # several targets: the same projection
    data["threshold"] = data["unit"].map(thresholds).astype(float)
    data["name"] = plots._names(data, units).astype(str)
    data = data.sort_values(["value", "unit"], na_position="first").reset_index(drop=True)
    n = len(data)
    fig = Figure(figsize=(7.5, 0.32 * n + 2.0), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n)
    styles = {levels[-1]: (_LIGHT, 9)} if levels else {}
    if len(levels) > 1:
        styles[levels[0]] = (_DARK, 9)
    for lev in levels[::-1]:  # widest first, so the narrower bar lies on top
        if lev not in styles:
            continue
        color, width = styles[lev]
        ax.hlines(y, data[f"lower_{lev}"], data[f"upper_{lev}"], color=color,
                  linewidth=width, label=(f"{float(lev) * 100:g}%预测区间" if zh
                                          else f"{float(lev) * 100:g}% predictive range"))
    ax.plot(data["value"], y, "o", color=_POINT, markersize=5,
            label="预计全年" if zh else "projected year")
    ax.plot(data["observed"], y, "o", markerfacecolor="none", markeredgecolor="#404040",
            markersize=7, label="年初至今" if zh else "year to date")
    thr = data["threshold"].to_numpy(dtype=float)
    shown = [v for v in thr if np.isfinite(v)]
    if target is not None:
        ax.axvline(target, color=_TARGET, linestyle="--", linewidth=1,
                   label=("目标 " if zh else "target ") + f"{target:g}")
    elif shown and len(set(shown)) == 1:
        ax.axvline(shown[0], color=_TARGET, linestyle="--", linewidth=1,
                   label=("目标 " if zh else "target ") + f"{shown[0]:g}")
    elif shown:
        ax.plot(thr, y, "|", color=_TARGET, markersize=14, markeredgewidth=2,
                label="目标（各单位）" if zh else "target (per unit)")
    values = data[[c for c in data.columns if c.startswith(("lower_", "upper_"))]
                  + ["value", "observed"]].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    marks = [target] if target is not None else shown
    ends = np.concatenate([finite, np.asarray(marks, dtype=float)])
    left, right = (ends.min(), ends.max()) if len(ends) else (0.0, 1.0)
    pad = 0.05 * (right - left) if right > left else 1.0
    ax.set_xlim(left - pad, right + pad)
    missing = data["value"].isna().to_numpy()
    for k in np.flatnonzero(missing):  # the units not projected (a few)
        ax.text(left, k, "未预测" if zh else "not projected", va="center", ha="left",
                fontsize=9, color="#7f7f7f")
    ax.set_yticks(y, data["name"])
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(plots._axis_label(indicator, language))
    year, through = data["period"].astype(str).iloc[0], ""
    if "through" in data:
        through = str(data["through"].iloc[0])
    ax.set_title((f"{year}年全年预测（数据截至 {through}）" if zh
                  else f"{year} projected from the year to {through}"), fontsize=10)
    fig.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    ax.grid(axis="x", color="#eeeeee")
    ax.set_axisbelow(True)
    return fig


def backtest_chart(backtest: pd.DataFrame, *, language: str = "zh") -> Figure:
    """Draw the coverage of the predictive intervals by months observed.

    One line per confidence level and kind (counts solid, indicators dashed) from the
    pooled rows (``quantity == 'all'``) of :func:`fpanalysis.projection.backtest_nowcast`,
    with the nominal level as a grey horizontal line in the level's colour.

    Raises
    ------
    ValueError
        Not a backtest, no pooled rows, an unknown language.
    """
    zh = _check_language(language)
    need = ["through", "kind", "quantity"]
    if not isinstance(backtest, pd.DataFrame) or any(c not in backtest for c in need):
        raise ValueError("backtest_chart needs the output of projection.backtest_nowcast")
    levels = sorted((c.removeprefix("coverage_") for c in backtest.columns
                     if c.startswith("coverage_")), key=float)
    pooled = backtest[backtest["quantity"] == "all"]
    if pooled.empty or not levels:
        raise ValueError("backtest_chart needs the output of projection.backtest_nowcast "
                         "(its pooled rows and coverage columns)")
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    colors = plots._COLORS
    kinds = {"count": ("-", "计数", "counts"), "indicator": ("--", "指标", "indicators")}
    for j, lev in enumerate(levels):  # two levels
        color = colors[j % len(colors)]
        nominal = 100 * float(lev)
        ax.axhline(nominal, color=color, linewidth=0.8, alpha=0.5,
                   label=(f"名义水平 {nominal:g}%" if zh else f"nominal {nominal:g}%"))
        for kind, (ls, zh_name, en_name) in kinds.items():  # two kinds
            part = pooled[pooled["kind"] == kind].sort_values("through")
            if part.empty:
                continue
            ax.plot(part["through"], 100 * part[f"coverage_{lev}"], ls, marker="o",
                    markersize=4, color=color,
                    label=(f"{nominal:g}%区间 · {zh_name}" if zh
                           else f"{nominal:g}% interval, {en_name}"))
    months = sorted(pooled["through"].unique())
    ax.set_xticks(months)
    ax.set_xlabel("已观察月数" if zh else "months observed")
    ax.set_ylabel("实际值落入区间的比例 (%)" if zh else "actual inside the interval (%)")
    low = np.nanmin(100 * pooled[[f"coverage_{lev}" for lev in levels]].to_numpy(float))
    ax.set_ylim(min(50.0, np.floor(low / 10) * 10), 102)
    ax.legend(fontsize=8, frameon=False, loc="lower right", ncol=3)
    ax.grid(color="#eeeeee")
    return fig


def _five_year(population: pd.DataFrame, year: object, zh: bool) -> tuple[pd.DataFrame, str]:
    """Population by sex and 5-year group (open group kept) of one year, summed over
    units."""
    need = ["sex", "age_group", "population"]
    if not isinstance(population, pd.DataFrame) or any(c not in population for c in need):
        raise ValueError("pyramid needs sex, age_group and population columns (population_age "
                         "or cohort_component output)")
    when = "year" if "year" in population.columns else "period" if "period" in population \
        else None
    data = population
    label = ""
    if when is not None:
        years = data[when].astype(str)
        present = sorted(years.unique())
        if year is None:
            if len(present) > 1:
                raise ValueError(f"pyramid shows one year; choose one with year= (the data "
                                 f"hold {', '.join(present)})")
            label = present[0] if present else ""
        else:
            label = str(year)
            if label not in present:
                raise ValueError(f"pyramid: no rows for year {label} (the data hold "
                                 f"{', '.join(present)})")
            data = data[years == label]
    sex = data["sex"].astype(str).str.strip()
    bad = sorted(set(sex) - {"male", "female"})
    if bad:
        raise ValueError(f"pyramid: sex must be male or female, got {', '.join(bad)}")
    pop = pd.to_numeric(data["population"], errors="coerce")
    if pop.isna().any() or (pop < 0).any():
        raise ValueError("pyramid: population must be numbers of at least 0")
    start = age_start(data["age_group"])
    open_group = data["age_group"].astype(str).str.strip().str.endswith("+").to_numpy()
    group = np.where(open_group, data["age_group"].astype(str).str.strip(),
                     pd.Series(start // 5 * 5).astype(str).to_numpy(dtype=object) + "-"
                     + pd.Series(start // 5 * 5 + 4).astype(str).to_numpy(dtype=object))
    frame = pd.DataFrame({"sex": sex.to_numpy(), "group": group, "start": start // 5 * 5,
                          "population": pop.to_numpy(float)})
    wide = frame.groupby(["start", "group", "sex"], sort=True)["population"].sum().unstack(
        "sex").reindex(columns=["male", "female"]).fillna(0.0)
    wide = wide.reset_index().sort_values("start")
    return wide, label


def pyramid(population: pd.DataFrame, *, year: object = None, language: str = "zh",
            title: str = "") -> Figure:
    """Draw a population pyramid: males left, females right, by 5-year age group.

    Parameters
    ----------
    population : pandas.DataFrame
        ``sex`` (``male``/``female``), ``age_group`` (``"0"``, ``"1-4"``, ``"5-9"`` …,
        one open group such as ``"100+"``) and ``population``, with ``year``
        (:func:`fpanalysis.projection.cohort_component`) or ``period``
        (:func:`fpanalysis.load_population_age`); rows of several units are summed, the
        groups 0 and 1-4 drawn as 0-4.
    year : int, str or list of them, optional
        The year drawn; needed when the frame holds several. A list draws one pyramid per
        year side by side on one scale (e.g. the start and the end of a projection).
    language : {'zh', 'en'}, default 'zh'
    title : str, optional
        Default: each panel's year and total population.

    Raises
    ------
    ValueError
        Missing columns, several years and no ``year``, a year absent, a sex other than
        male/female, a negative or missing population, an unknown language.
    """
    zh = _check_language(language)
    wanted = list(year) if isinstance(year, list | tuple) else [year]
    if not wanted:
        raise ValueError("pyramid: year is an empty list")
    panels = [_five_year(population, y, zh) for y in wanted]  # a few years
    n_groups = max(len(w) for w, _ in panels)
    fig = Figure(figsize=(5.2 * len(panels) + 1.0, 0.22 * n_groups + 2.0),
                 layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharex=True, sharey=True))
    top = max(float(np.nanmax(w[["male", "female"]].to_numpy())) if len(w) else 1.0
              for w, _ in panels)
    for ax, (wide, label) in zip(axes, panels, strict=True):
        y = np.arange(len(wide))
        ax.barh(y, -wide["male"], color="#2e75b6", height=0.85, label="男" if zh else "males")
        ax.barh(y, wide["female"], color="#c55a11", height=0.85,
                label="女" if zh else "females")
        ax.set_yticks(y, wide["group"])
        ax.set_xlim(-1.08 * top, 1.08 * top)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):,.0f}"))
        ax.axvline(0, color="#404040", linewidth=0.8)
        ax.set_xlabel("人口 (人)" if zh else "population")
        total = wide[["male", "female"]].to_numpy().sum()
        ax.set_title(title or (f"{label}年 总人口 {total:,.0f}" if zh
                               else f"{label} total population {total:,.0f}"), fontsize=10)
        ax.grid(axis="x", color="#eeeeee")
        ax.set_axisbelow(True)
    axes[0].set_ylabel("年龄组 (岁)" if zh else "age group")
    axes[-1].legend(loc="upper right", fontsize=9, frameon=False)
    return fig


def scenario_chart(projections: Mapping[str, pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]],
                   *, what: str = "population", language: str = "zh") -> Figure:
    """Draw total population, or births a year, by year under several scenarios.

    Parameters
    ----------
    projections : mapping of str to DataFrame or (DataFrame, DataFrame)
        Scenario name -> :func:`fpanalysis.projection.cohort_component` output: the
        population frame (``year``, ``population``) for ``what='population'``; the
        components frame (``year``, ``end_year``, ``births``) for ``what='births'``; or the
        ``(population, components)`` tuple of ``components=True`` for either.
    what : {'population', 'births'}, default 'population'
        Total population at each step's year, or births per year over each step (the
        step's births divided by its length, drawn at the middle of the step).
    language : {'zh', 'en'}, default 'zh'

    Raises
    ------
    ValueError
        An unknown ``what`` or language, no scenario, a frame without the needed columns.
    """
    zh = _check_language(language)
    if what not in ("population", "births"):
        raise ValueError(f"what must be 'population' or 'births', got {what!r}")
    if not isinstance(projections, Mapping) or not projections:
        raise ValueError("projections must map at least one scenario name to a "
                         "cohort_component output")
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.subplots()
    for k, (name, frame) in enumerate(projections.items()):  # a few scenarios
        if isinstance(frame, tuple):
            frame = frame[0] if what == "population" else frame[1]
        need = ["year", "population"] if what == "population" else \
            ["year", "end_year", "births"]
        if not isinstance(frame, pd.DataFrame) or any(c not in frame for c in need):
            raise ValueError(f"scenario {name!r}: {what} needs columns {need} (cohort_component"
                             " output" + (", components=True" if what == "births" else "")
                             + ")")
        if what == "population":
            series = frame.groupby("year", sort=True)["population"].sum()
            x, v = series.index.to_numpy(float), series.to_numpy(float)
        else:
            steps = frame.groupby(["year", "end_year"], sort=True)["births"].sum().reset_index()
            x = (steps["year"] + steps["end_year"]).to_numpy(float) / 2
            v = steps["births"].to_numpy(float) / (steps["end_year"] - steps["year"]).to_numpy(
                float)
        color = plots._COLORS[k % len(plots._COLORS)]
        ax.plot(x, v, "-o", color=color, markersize=4, linewidth=1.6, label=str(name))
        ax.annotate(f"{v[-1]:,.0f}", (x[-1], v[-1]), textcoords="offset points",
                    xytext=(4, 0), fontsize=8, color=color, va="center")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel("年份" if zh else "year")
    ax.set_ylabel(("总人口 (人)" if zh else "total population") if what == "population"
                  else ("年均出生 (人)" if zh else "births a year (step mean)"))
    ax.margins(x=0.14)
    ax.legend(fontsize=9, frameon=False)
    ax.grid(color="#eeeeee")
    return fig
