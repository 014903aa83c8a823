"""Interactive exploration: one indicator for chosen units of one level over a period range.

:func:`view` computes what ``notebooks/explore.ipynb`` shows for one choice: the trend of the
chosen units over the periods of the range, a table of the range pooled per unit (with the
notes of every figure that has one, period by period) and a funnel plot of every unit of the
level over the range. :func:`panel` puts the same view under ipywidgets controls (level,
units, indicator, period frequency and range) for JupyterLab; the controls start from a
:func:`view`, so a headless run of the notebook shows exactly what the panel first draws.

Counts come as one frame per level of their units (:func:`sources`): township counts serve
the township and county levels, village counts the village and area levels. Every number is
computed by :func:`fpanalysis.indicators.compute` from summed counts; tables come from
:mod:`fpanalysis.report` and figures from :mod:`fpanalysis.plots`.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import hierarchy
from . import indicators as ind
from . import periods as pr
from .schema import LEVELS, suggestion

__all__ = ["FREQS", "View", "available_indicators", "panel", "period_options",
           "period_range", "resolve_units", "source_for", "sources", "view"]

#: Period frequencies a trend can run at: month, quarter, half-year, year.
FREQS: tuple[str, ...] = ("M", "Q", "H", "Y")

_FREQ_TEXT = {"M": ("月", "month"), "Q": ("季度", "quarter"), "H": ("半年", "half-year"),
              "Y": ("年", "year")}
_LEVEL_TEXT = {"county": ("县", "county"), "township": ("乡镇", "township"),
               "area": ("片区", "area"), "village": ("村", "village")}


def _i(language: str) -> int:
    if language not in ("zh", "en"):
        raise ValueError(f"language must be 'zh' or 'en', got {language!r}")
    return 0 if language == "zh" else 1


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}"
                         + suggestion(level, LEVELS))


def sources(units: pd.DataFrame, *counts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Key count frames by the level of their units.

    Parameters
    ----------
    units : pandas.DataFrame
        The units table (``unit``, ``level``), as from :func:`fpanalysis.io.load_units`.
    *counts : pandas.DataFrame
        Count frames (as from :func:`fpanalysis.io.load_counts`), each holding units of one
        level, e.g. the township counts and the village counts.

    Returns
    -------
    dict of str to pandas.DataFrame
        Level -> the frame itself (not copied, not changed), in the order of
        :data:`fpanalysis.schema.LEVELS`.

    Raises
    ------
    ValueError
        No frame; a frame without rows or without a ``unit`` column; units not in the units
        table; a frame that mixes levels; two frames at one level.

    Examples
    --------
    >>> units = pd.DataFrame({"unit": ["1", "11", "111"], "parent": ["", "1", "11"],
    ...                       "level": ["county", "township", "village"]})
    >>> c = pd.DataFrame({"unit": ["11"], "period": pd.PeriodIndex(["2024-01"], freq="M"),
    ...                   "births": [3]})
    >>> list(sources(units, c, c.assign(unit="111")))
    ['township', 'village']
    """
    if not counts:
        raise ValueError("sources needs at least one counts frame")
    level_of = pd.Series(units["level"].to_numpy(), index=units["unit"].astype(str).to_numpy())
    level_of = level_of[~level_of.index.duplicated()]
    out: dict[str, pd.DataFrame] = {}
    for k, frame in enumerate(counts, start=1):  # a loop over a few frames
        if "unit" not in frame.columns:
            raise ValueError(f"counts frame {k} has no unit column")
        if frame.empty:
            raise ValueError(f"counts frame {k} has no rows")
        codes = pd.unique(frame["unit"].astype(str))
        found = pd.Series(codes).map(level_of)
        unknown = sorted(codes[found.isna().to_numpy()])
        if unknown:
            raise ValueError(f"counts frame {k} has units not in the units table: "
                             f"{', '.join(unknown[:10])}"
                             + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""))
        levels = sorted(set(found), key=LEVELS.index)
        if len(levels) > 1:
            raise ValueError(f"counts frame {k} mixes units of levels {', '.join(levels)}: "
                             "give one frame per level")
        if levels[0] in out:
            raise ValueError(f"two counts frames hold {levels[0]} units")
        out[levels[0]] = frame
    return {lv: out[lv] for lv in LEVELS if lv in out}


def source_for(data: Mapping[str, pd.DataFrame], level: str) -> pd.DataFrame:
    """The counts that serve ``level``: those of the nearest level at or below it.

    Township counts serve the township and county levels, village counts the village and
    area levels (an area groups villages).

    Raises
    ------
    ValueError
        Unknown level, or no counts at or below it.

    Examples
    --------
    >>> t, v = pd.DataFrame({"unit": ["11"]}), pd.DataFrame({"unit": ["111"]})
    >>> source_for({"township": t, "village": v}, "area") is v
    True
    """
    _check_level(level)
    below = [lv for lv in LEVELS[LEVELS.index(level):] if lv in data]
    if not below:
        raise ValueError(f"no counts at or below level {level!r}; counts are at "
                         f"{', '.join(data) or 'no level'}")
    return data[below[0]]


def available_indicators(counts: pd.DataFrame) -> list[str]:
    """Keys of the built-in indicators that ``counts`` has the columns for, in display order.

    ``births`` counts as present when ``births_male`` and ``births_female`` are (as
    :func:`fpanalysis.indicators.compute` derives it).

    Examples
    --------
    >>> available_indicators(pd.DataFrame(columns=["unit", "period", "births_male",
    ...                                            "births_female", "population"]))
    ['crude_birth_rate', 'sex_ratio_at_birth']
    """
    cols = set(counts.columns)
    if {"births_male", "births_female"} <= cols:
        cols.add("births")
    return [i.key for i in ind.INDICATORS if set(i.columns) <= cols]


def resolve_units(units: pd.DataFrame, level: str, chosen: str | Sequence[str] = ""
                  ) -> list[str]:
    """Codes of the chosen units of ``level``, in the order given.

    Parameters
    ----------
    units : pandas.DataFrame
        The units table.
    level : {'county', 'township', 'area', 'village'}
    chosen : str or sequence of str, default ''
        Unit codes or names; a string may list several separated by commas (``,`` ``，``
        ``、``). Empty: every unit of ``level``, by code.

    Raises
    ------
    ValueError
        Unknown level, no unit at ``level``, a name or code that is no unit of ``level``
        (all of them listed), a name that several units of ``level`` share.

    Examples
    --------
    >>> units = pd.DataFrame({"unit": ["1", "11", "12"], "name": ["县", "东镇", "西镇"],
    ...                       "parent": ["", "1", "1"],
    ...                       "level": ["county", "township", "township"]})
    >>> resolve_units(units, "township", "西镇, 11")
    ['12', '11']
    >>> resolve_units(units, "township")
    ['11', '12']
    """
    _check_level(level)
    at = units[units["level"] == level]
    if at.empty:
        raise ValueError(f"no unit of the units table is at level {level!r}")
    codes = at["unit"].astype(str).to_numpy()
    names = at["name"].astype(str).str.strip().to_numpy()
    if isinstance(chosen, str):
        chosen = [t for t in re.split(r"[,，、]", chosen)]
    tokens = [str(t).strip() for t in chosen]
    tokens = list(dict.fromkeys(t for t in tokens if t))
    if not tokens:
        return sorted(codes)
    by_code = pd.Series(codes, index=codes)
    name_counts = pd.Series(names).value_counts()
    by_name = pd.Series(codes, index=names)
    by_name = by_name[~by_name.index.duplicated()]
    problems, out = [], []
    for t in tokens:  # a loop over the few names a user typed
        if t in by_code.index:
            out.append(str(by_code[t]))
        elif t in by_name.index and name_counts[t] > 1:
            problems.append(f"{t!r} names {name_counts[t]} units of level {level!r}: "
                            "give their codes")
        elif t in by_name.index:
            out.append(str(by_name[t]))
        else:
            problems.append(f"{t!r} is no unit of level {level!r}"
                            + suggestion(t, list(names) + list(codes)))
    if problems:
        raise ValueError("; ".join(problems))
    return list(dict.fromkeys(out))


def _month(ts: pd.Timestamp) -> pd.Period:
    return pd.Period(ts, freq="M")


def _at_freq(first: pd.Period, last: pd.Period, freq: str) -> list[object]:
    """The ``freq`` periods that lie wholly between months ``first`` and ``last``."""
    if freq == "H":
        firsts = pd.period_range(first, last, freq="M")
        firsts = [m for m in firsts if m.month in (1, 7) and m + 5 <= last]
        return [pr.Span(m, m + 5) for m in firsts]
    out = pd.period_range(first.asfreq(freq, how="start"), last.asfreq(freq, how="end"),
                          freq=freq)
    keep = [p for p in out if _month(p.start_time) >= first and _month(p.end_time) <= last]
    return keep


def period_range(start: object, end: object, freq: str = "Q"
                 ) -> tuple[list[object], object]:
    """The periods of a range at a frequency, and the range as one period.

    Parameters
    ----------
    start, end : period label or period
        First and last period of the range, any label :func:`fpanalysis.periods.parse`
        accepts except dekads; ``start`` must begin a ``freq`` period and ``end`` end one.
    freq : {'M', 'Q', 'H', 'Y'}, default 'Q'

    Returns
    -------
    periods : list
        The ``freq`` periods of the range, in time order (``pandas.Period``, or
        :class:`~fpanalysis.periods.Span` for half-years).
    whole : pandas.Period or Span
        The whole range: the one period when the range is one period, else a span of its
        months (``2023-01/2024-12``).

    Raises
    ------
    ValueError
        Unknown ``freq``, a dekad, ``end`` before ``start``, a range that does not start or
        end on a ``freq`` boundary.

    Examples
    --------
    >>> ps, whole = period_range("2024Q1", "2024Q4", "H")
    >>> [str(p) for p in ps], str(whole)
    (['2024H1', '2024H2'], '2024')
    >>> [str(p) for p in period_range("2024-04", "2024-06", "M")[0]]
    ['2024-04', '2024-05', '2024-06']
    """
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {', '.join(FREQS)}, got {freq!r}")
    s, e = pr.parse(start), pr.parse(end)
    if isinstance(s, pr.Dekad) or isinstance(e, pr.Dekad):
        raise ValueError("a period range runs over whole months, not dekads")
    first, last = _month(pr.start(s)), _month(pr.end(e))
    if last < first:
        raise ValueError(f"the range ends ({e}) before it starts ({s})")
    ps = _at_freq(first, last, freq)
    word = _FREQ_TEXT[freq][1]
    if not ps or _month(pr.start(ps[0])) != first:
        raise ValueError(f"the range must start where a {word} starts; {s} does not")
    if _month(pr.end(ps[-1])) != last:
        raise ValueError(f"the range must end where a {word} ends; {e} does not")
    whole: object = pr.Span(first, last)
    for f in ("Q", "Y"):  # the range as a quarter or a year when it is one
        p = first.asfreq(f)
        if _month(p.start_time) == first and _month(p.end_time) == last:
            whole = p
    return ps, whole


def period_options(counts: pd.DataFrame, freq: str = "Q") -> list[str]:
    """Labels of the ``freq`` periods wholly within the months of ``counts``, in order.

    Examples
    --------
    >>> c = pd.DataFrame({"period": pd.PeriodIndex(["2024-02", "2024-12"], freq="M")})
    >>> period_options(c, "Q")
    ['2024Q2', '2024Q3', '2024Q4']
    """
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {', '.join(FREQS)}, got {freq!r}")
    months = pd.unique(counts["period"])
    if not len(months):
        raise ValueError("the counts have no periods")
    first = min(_month(pr.start(p)) for p in months)
    last = max(_month(pr.end(p)) for p in months)
    return [str(p) for p in _at_freq(first, last, freq)]


@dataclass(frozen=True)
class View:
    """One choice of the explore notebook and what it shows.

    Attributes
    ----------
    level, indicator, freq, language : str
    units : list of str
        Codes of the chosen units, in the order chosen.
    periods : list
        The ``freq`` periods of the range.
    whole : pandas.Period or Span
        The range as one period.
    target : float or None
        The funnel's centre when given; else the pooled value of the level's units.
    series : pandas.DataFrame
        :func:`~fpanalysis.indicators.compute` rows of the chosen units for every period of
        the range (a unit that did not report a period keeps its row, value missing, note).
    results : pandas.DataFrame
        Rows of every unit of ``level`` for the whole range.
    table : pandas.DataFrame
        :func:`fpanalysis.report.indicator_table` of the chosen units for the whole range.
    notes : pandas.DataFrame
        :func:`fpanalysis.report.note_table` of the chosen units, for the whole range and
        then each period of the range, indexed by period label and unit.
    trend : matplotlib.figure.Figure
    funnel : matplotlib.figure.Figure or None
        None when the indicator has no funnel or fewer than two units have a value.
    funnel_note : str
        What the funnel's centre is, or why there is no funnel.
    """

    level: str
    units: list[str]
    indicator: str
    freq: str
    language: str
    periods: list[object]
    whole: object
    target: float | None
    series: pd.DataFrame = field(repr=False)
    results: pd.DataFrame = field(repr=False)
    table: pd.DataFrame = field(repr=False)
    notes: pd.DataFrame = field(repr=False)
    trend: object = field(repr=False)
    funnel: object = field(repr=False)
    funnel_note: str = ""

    @property
    def funnel_or_reason(self) -> object:
        """The funnel figure, or (when there is none) the reason as Markdown."""
        if self.funnel is not None:
            return self.funnel
        from IPython.display import Markdown

        return Markdown(self.funnel_note)

    @property
    def funnel_caption(self) -> object:
        """What the funnel's centre line is, as Markdown (empty when there is no funnel:
        :attr:`funnel_or_reason` then says why)."""
        from IPython.display import Markdown

        return Markdown(self.funnel_note if self.funnel is not None else "")

    @property
    def heading(self) -> object:
        """A Markdown line naming the choice: indicator, level, range, frequency."""
        from IPython.display import Markdown

        return Markdown(_heading(self))


def _heading(v: View) -> str:
    i = _i(v.language)
    lab = f"{ind.label(v.indicator, v.language)} ({ind.display_unit(v.indicator, v.language)})"
    first, last = str(v.periods[0]), str(v.periods[-1])
    span = first if first == last else f"{first}–{last}"
    if i == 0:
        return (f"**{lab}**，{_LEVEL_TEXT[v.level][0]}级，{span}（按{_FREQ_TEXT[v.freq][0]}），"
                f"{len(v.units)} 个单位")
    return (f"**{lab}**, {_LEVEL_TEXT[v.level][1]} level, {span} (by {_FREQ_TEXT[v.freq][1]}), "
            f"{len(v.units)} unit{'s' if len(v.units) != 1 else ''}")


def _series(counts: pd.DataFrame, indicator: str, periods: list[object], *, freq: str,
            level: str | None, units: pd.DataFrame) -> pd.DataFrame:
    """Rows of every unit of ``level`` for every period of ``periods``."""
    got = ind.compute(counts, [indicator], freq=freq, level=level, units=units)
    wanted = pd.Series(periods, dtype=object).astype(str)
    labels = got["period"].astype(str)
    parts = [got[labels.isin(set(wanted)).to_numpy()]]
    # a period no unit has complete is not listed by compute(freq=...): ask for it alone, so
    # that every unit gets its row with the note saying what is missing
    for p in [p for p, s in zip(periods, wanted, strict=True) if s not in set(labels)]:
        parts.append(ind.compute(counts, [indicator], period=p, level=level, units=units))
    return pd.concat(parts, ignore_index=True)


def _centre(counts: pd.DataFrame, results: pd.DataFrame, indicator: str, whole: object, *,
            level: str, units: pd.DataFrame, language: str) -> tuple[float, str, str]:
    """The pooled value of the units of ``results`` that have a value, with a label and a
    sentence saying what was pooled."""
    i = _i(language)
    have = results.loc[results["value"].notna(), "unit"].astype(str)
    n_all = len(results)
    anc = hierarchy.ancestors(units, level)
    rows = counts["unit"].astype(str).map(anc).isin(set(have)).to_numpy()
    pooled = ind.compute(counts[rows], [indicator], by=["period"], period=whole)
    value = float(pooled["value"].iloc[0]) if len(pooled) == 1 else float("nan")
    k = len(have)
    if i == 0:
        label = "合计" if k == n_all else f"合计 ({k}/{n_all})"
        note = (f"中心线为 {k} 个单位的合计值 {value:.4g}"
                + ("" if k == n_all else f"（{n_all - k} 个单位无数据，未计入）") + "。")
    else:
        label = "pooled" if k == n_all else f"pooled ({k} of {n_all})"
        note = (f"Centre line: the pooled value of {k} units, {value:.4g}"
                + ("" if k == n_all else f" ({n_all - k} without a value left out)") + ".")
    return value, label, note


def view(
    data: Mapping[str, pd.DataFrame],
    units: pd.DataFrame,
    *,
    level: str = "township",
    selection: str | Sequence[str] = "",
    indicator: str = "crude_birth_rate",
    start: object = "2024Q1",
    end: object = "2024Q4",
    freq: str = "Q",
    target: float | None = None,
    language: str = "zh",
) -> View:
    """Compute and draw one indicator for chosen units of one level over a period range.

    Parameters
    ----------
    data : mapping of str to pandas.DataFrame
        Counts by level of their units, from :func:`sources`.
    units : pandas.DataFrame
        The units table.
    level : {'county', 'township', 'area', 'village'}, default 'township'
    selection : str or sequence of str, default ''
        Units shown in the trend and the table (codes or names, see
        :func:`resolve_units`); empty: every unit of ``level``. The funnel always shows
        every unit of ``level``.
    indicator : str, default 'crude_birth_rate'
        An indicator key the level's counts have columns for.
    start, end : period label, default '2024Q1', '2024Q4'
        The range (see :func:`period_range`).
    freq : {'M', 'Q', 'H', 'Y'}, default 'Q'
        The trend's periods.
    target : float, optional
        The funnel's centre (in display units); default the pooled value of every unit of
        ``level`` that has a value for the whole range.
    language : {'zh', 'en'}, default 'zh'

    Returns
    -------
    View

    Raises
    ------
    ValueError
        Unknown level, unit, indicator, frequency or language; an indicator the counts lack
        columns for; a range that does not fit ``freq``; and whatever
        :func:`fpanalysis.indicators.compute` refuses.
    """
    from . import plots, report

    _i(language)
    counts = source_for(data, level)
    known = available_indicators(counts)
    if indicator not in known:
        ind.get(indicator)  # an unknown key: its own message
        raise ValueError(f"the {level} counts lack columns for {indicator!r}; they have "
                         f"{', '.join(known)}")
    chosen = resolve_units(units, level, selection)
    ps, whole = period_range(start, end, freq)
    # at the counts' own level no aggregation: notes then name the missing months directly
    at = None if (units.loc[units["unit"].astype(str).isin(
        set(counts["unit"].astype(str))), "level"] == level).all() else level
    series = _series(counts, indicator, ps, freq=freq, level=at, units=units)
    series = series[series["unit"].astype(str).isin(set(chosen)).to_numpy()]
    results = ind.compute(counts, [indicator], period=whole, level=at, units=units)
    mine = results[results["unit"].astype(str).isin(set(chosen)).to_numpy()]
    rank = {c: k for k, c in enumerate(chosen)}
    mine = mine.iloc[np.argsort(mine["unit"].astype(str).map(rank).to_numpy(),
                                kind="stable")].reset_index(drop=True)
    when = series["period"].astype(str).map({str(p): k for k, p in enumerate(ps)}).to_numpy()
    series = series.iloc[np.lexsort((series["unit"].astype(str).map(rank).to_numpy(), when))]
    series = series.reset_index(drop=True)
    table = report.indicator_table(mine, units, indicators=[indicator], language=language)
    labels = [str(whole)] + [str(p) for p in ps]
    parts = [report.note_table(mine, units, language=language)]
    for p in ps:  # a loop over the few periods of the range
        parts.append(report.note_table(series[series["period"].astype(str) == str(p)], units,
                                       language=language))
    notes = pd.concat(parts, keys=labels, names=["时期" if language == "zh" else "period"])
    # figures show no value that a published table suppresses (report.publishable decides)
    trend = plots.trend(_masked(series), indicator, units=units, target=target,
                        language=language)
    funnel, funnel_note = _funnel(counts, results, indicator, whole, level=level, units=units,
                                  target=target, language=language)
    return View(level=level, units=chosen, indicator=indicator, freq=freq, language=language,
                periods=ps, whole=whole, target=target, series=series, results=results,
                table=table, notes=notes, trend=trend, funnel=funnel, funnel_note=funnel_note)


def _masked(results: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``results`` whose value and limits are missing where
    :func:`fpanalysis.report.publishable` shows a suppression mark instead of a number."""
    from . import report

    shown = pd.to_numeric(report.publishable(results)["value"], errors="coerce")
    hidden = (shown.isna() & results["value"].notna()).to_numpy(dtype=bool)
    out = results.copy()
    if hidden.any():
        out.loc[hidden, ["value", "lower", "upper"]] = np.nan
    return out


def _funnel(counts: pd.DataFrame, results: pd.DataFrame, indicator: str, whole: object, *,
            level: str, units: pd.DataFrame, target: float | None, language: str
            ) -> tuple[object, str]:
    from . import plots

    zh = language == "zh"
    spec = ind.get(indicator)
    name = ind.label(indicator, language)
    if not spec.behaviour.funnel:
        return None, (f"{name}没有漏斗图（此类指标无精确控制限）。" if zh else
                      f"No funnel plot for {name}: no exact control limits for its kind.")
    n_value = int(results["value"].notna().sum())
    if n_value < 2:
        return None, (f"漏斗图需要至少两个有数值的单位；{_LEVEL_TEXT[level][0]}级有 {n_value} 个。"
                      if zh else f"A funnel plot needs at least two units with a value; "
                      f"the {level} level has {n_value}.")
    if target is None:
        centre, label, note = _centre(counts, results, indicator, whole, level=level,
                                      units=units, language=language)
    else:
        centre, label = float(target), None
        note = (f"中心线为目标值 {centre:g}。" if zh else f"Centre line: the target, {centre:g}.")
    if not np.isfinite(centre):
        return None, ("合计值无法计算，无漏斗图。" if zh else
                      "No funnel plot: the pooled value cannot be computed.")
    points, curves = ind.funnel_data(_masked(results), indicator, target=centre)
    title = f"{name}，{whole}" if zh else f"{name}, {whole}"
    fig = plots.funnel(points, curves, indicator, units=units, language=language, title=title,
                       centre_label=label)
    return fig, note


# --------------------------------------------------------------------------- the panel


def _display_data(obj: object) -> dict:
    """One output of an ipywidgets Output widget (a display_data message's content)."""
    from matplotlib.figure import Figure

    if isinstance(obj, Figure):
        buf = io.BytesIO()
        obj.savefig(buf, format="png", bbox_inches="tight")
        w, h = obj.get_size_inches() * obj.dpi
        data = {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"),
                "text/plain": f"<Figure size {w:g}x{h:g} with {len(obj.axes)} Axes>"}
    elif isinstance(obj, pd.DataFrame):
        data = {"text/html": obj._repr_html_(), "text/plain": repr(obj)}
    else:
        data = {"text/markdown": str(obj), "text/plain": str(obj)}
    return {"output_type": "display_data", "data": data, "metadata": {}}


def _outputs(v: View) -> tuple[dict, ...]:
    notes = v.notes
    shown = [_heading(v), v.trend, v.funnel if v.funnel is not None else v.funnel_note]
    if v.funnel is not None:
        shown.append(v.funnel_note)
    shown.append(v.table)
    if len(notes):
        shown.append(notes)
    return tuple(_display_data(o) for o in shown)


def panel(start_from: View, data: Mapping[str, pd.DataFrame], units: pd.DataFrame):
    """ipywidgets controls over :func:`view`, starting from the choice ``start_from``.

    Controls: level, units (several may be chosen; none chosen means every unit of the
    level), indicator (those the level's counts have columns for), frequency and period
    range. Every change recomputes and redraws the heading, trend, funnel, table and notes
    below the controls; a choice the package refuses shows its message there instead.
    The first drawing is ``start_from``'s, so a headless run shows what the panel shows.

    Parameters
    ----------
    start_from : View
        The initial choice, as from :func:`view`.
    data : mapping of str to pandas.DataFrame
        Counts by level (:func:`sources`), the same as ``start_from`` was made from.
    units : pandas.DataFrame
        The units table.

    Returns
    -------
    ipywidgets.VBox
        The controls and the output area. ``panel.children[-1]`` is the output
        (``ipywidgets.Output``); the controls are ``panel.children[0].children``
        (level, units, indicator, frequency, range).
    """
    import ipywidgets as w

    v0 = start_from
    zh = v0.language == "zh"
    i = _i(v0.language)
    levels = [lv for lv in LEVELS if (units["level"] == lv).any()
              and any(LEVELS.index(s) >= LEVELS.index(lv) for s in data)]
    name_of = units.set_index(units["unit"].astype(str))["name"].astype(str)

    def unit_options(level: str) -> list[tuple[str, str]]:
        codes = resolve_units(units, level)
        return [(f"{name_of[c]} ({c})", c) for c in codes]

    def indicator_options(level: str) -> list[tuple[str, str]]:
        return [(f"{ind.label(k, v0.language)} ({ind.display_unit(k, v0.language)})", k)
                for k in available_indicators(source_for(data, level))]

    def range_options(level: str, freq: str) -> list[str]:
        return period_options(source_for(data, level), freq)

    style = {"description_width": "initial"}
    level_box = w.Dropdown(options=[(_LEVEL_TEXT[lv][i], lv) for lv in levels],
                           value=v0.level, description="层级" if zh else "Level", style=style)
    unit_box = w.SelectMultiple(options=unit_options(v0.level), value=tuple(v0.units),
                                rows=8, description="单位" if zh else "Units", style=style)
    ind_box = w.Dropdown(options=indicator_options(v0.level), value=v0.indicator,
                         description="指标" if zh else "Indicator", style=style)
    freq_box = w.Dropdown(options=[(_FREQ_TEXT[f][i], f) for f in FREQS], value=v0.freq,
                          description="频率" if zh else "Frequency", style=style)
    opts = range_options(v0.level, v0.freq)
    first, last = str(v0.periods[0]), str(v0.periods[-1])
    range_box = w.SelectionRangeSlider(
        options=opts, index=(opts.index(first) if first in opts else 0,
                             opts.index(last) if last in opts else len(opts) - 1),
        description="时期" if zh else "Periods", style=style,
        layout=w.Layout(width="95%"), continuous_update=False)
    out = w.Output()
    out.outputs = _outputs(v0)
    state = {"busy": False}

    def draw(_change: object = None) -> None:
        if state["busy"]:
            return
        try:
            lo, hi = range_box.value
            v = view(data, units, level=level_box.value, selection=list(unit_box.value),
                     indicator=ind_box.value, start=lo, end=hi, freq=freq_box.value,
                     target=v0.target, language=v0.language)
            out.outputs = _outputs(v)
        except ValueError as error:  # includes DataError: shown, not lost in a log
            show(error)

    def show(error: Exception) -> None:
        out.outputs = (_display_data(f"**{'无法计算' if zh else 'Cannot compute'}:** {error}"),)

    def retarget_range(level: str, freq: str) -> None:
        """New range options keeping the old range's months as nearly as they fit."""
        lo, hi = range_box.value
        s, e = _month(pr.start(pr.parse(lo))), _month(pr.end(pr.parse(hi)))
        new = range_options(level, freq)
        if not new:
            raise ValueError(f"the {level} counts hold no whole {_FREQ_TEXT[freq][1]}")
        starts = [_month(pr.start(pr.parse(p))) for p in new]
        ends = [_month(pr.end(pr.parse(p))) for p in new]
        a = next((k for k, m in enumerate(starts) if m >= s), 0)
        b = max((k for k, m in enumerate(ends) if m <= e), default=len(new) - 1)
        range_box.options = new
        range_box.index = (a, max(a, b))

    def on_level(change: dict) -> None:
        state["busy"] = True
        try:
            level = change["new"]
            unit_box.options = unit_options(level)
            unit_box.value = tuple(c for _, c in unit_box.options)
            keys = indicator_options(level)
            current = ind_box.value
            ind_box.options = keys
            ind_box.value = current if current in [k for _, k in keys] else keys[0][1]
            retarget_range(level, freq_box.value)
        except ValueError as error:
            return show(error)
        finally:
            state["busy"] = False
        draw()

    def on_freq(change: dict) -> None:
        state["busy"] = True
        try:
            retarget_range(level_box.value, change["new"])
        except ValueError as error:
            return show(error)
        finally:
            state["busy"] = False
        draw()

    level_box.observe(on_level, names="value")
    freq_box.observe(on_freq, names="value")
    for box in (unit_box, ind_box, range_box):  # three controls
        box.observe(draw, names="value")
    controls = w.VBox([level_box, unit_box, ind_box, freq_box, range_box])
    return w.VBox([controls, out])
