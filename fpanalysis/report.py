"""Report tables and rendering: display frames for notebooks, Excel export, and papermill runs.

Published outputs suppress small cells: counts from 1 to ``min_count - 1`` of sensitive
events (infant deaths) are blanked in display tables, together with the rates built on them,
so that no figure in a report can point to an individual family.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import indicators as ind
from . import periods as pr

__all__ = [
    "SENSITIVE",
    "attainment_table",
    "counts_table",
    "heading",
    "indicator_table",
    "latest_complete_quarter",
    "league_table",
    "load_summary",
    "publishable",
    "render",
    "standing_table",
    "suppress_small_cells",
    "test_table",
    "tier_table",
    "write_excel",
]

#: Count columns and indicators whose small values are suppressed in published tables.
SENSITIVE: Mapping[str, str] = {"deaths_infant": "infant_mortality_rate"}

_COUNT_LABELS = {
    "population": ("平均人口", "Mean population"),
    "births": ("出生", "Births"),
    "births_male": ("男", "Male"),
    "births_female": ("女", "Female"),
    "deaths": ("死亡", "Deaths"),
    "deaths_infant": ("婴儿死亡", "Infant deaths"),
    "births_compliant": ("政策内出生", "Compliant births"),
}


def heading(period: object, language: str = "zh"):
    """A Markdown line naming the assessment period and its dates, for the top of a report.

    Examples
    --------
    >>> heading("2024Q3").data
    '**报告期：2024年第3季度**（2024-07-01 至 2024-09-30，92 天）'
    """
    from IPython.display import Markdown

    p = pr.parse(period)
    first, last = pr.start(p).date(), pr.end(p).date()
    if language == "zh":
        text = f"**报告期：{pr.label(p, 'zh')}**（{first} 至 {last}，{pr.days(p)} 天）"
    else:
        text = f"**Assessment period: {pr.label(p, 'en')}** ({first} to {last}, {pr.days(p)} days)"
    return Markdown(text)


def latest_complete_quarter(counts: pd.DataFrame) -> pd.Period:
    """Return the latest quarter in which every unit reported all three months.

    Raises
    ------
    ValueError
        If the counts are not monthly or no quarter is complete.
    """
    per = counts["period"]
    if per.dtype != "period[M]":
        raise ValueError("latest_complete_quarter needs monthly counts (period[M])")
    units = counts["unit"].nunique()
    q = per.dt.asfreq("Q")
    months = counts.assign(_q=q).groupby("_q", observed=True)["period"].nunique()
    rows = counts.assign(_q=q).groupby("_q", observed=True).size()
    complete = months[(months == 3) & (rows == 3 * units)]
    if complete.empty:
        raise ValueError("no quarter has all three months for every unit")
    return complete.index.max()


def load_summary(*frames: pd.DataFrame) -> pd.DataFrame:
    """One row per loaded file: rows read, used and set aside (rows in = used + set aside)."""
    rows = []
    for f in frames:
        rep = f.attrs.get("load_report")
        if rep is None:
            continue
        rows.append({"file": Path(rep.file).name, "rows_in": rep.rows_in,
                     "rows_used": rep.rows_used, "set_aside": len(rep.skipped),
                     "reasons": "; ".join(sorted({why.split(":")[0] for _, why in rep.skipped}))})
    return pd.DataFrame(rows, columns=["file", "rows_in", "rows_used", "set_aside", "reasons"])


def suppress_small_cells(table: pd.DataFrame, columns: Sequence[str], *, min_count: int = 3
                         ) -> pd.DataFrame:
    """Blank counts from 1 to ``min_count - 1`` in ``columns`` (a copy; zeros stay)."""
    out = table.copy()
    for c in columns:
        if c in out.columns:
            v = out[c].astype("Float64")
            out[c] = v.mask((v > 0) & (v < min_count))
    return out


def publishable(results: pd.DataFrame, *, min_count: int = 3) -> pd.DataFrame:
    """A copy of indicator results fit to publish: for sensitive indicators (infant
    mortality) built on 1 to ``min_count - 1`` events, the numerator, value and limits are
    blanked and the note says why."""
    out = results.copy()
    sensitive = out["indicator"].astype(str).isin(list(SENSITIVE.values()))
    small = (sensitive & (out["numerator"] > 0) & (out["numerator"] < min_count)).to_numpy()
    out.loc[small, ["numerator", "value", "lower", "upper"]] = np.nan
    out["note"] = out["note"].astype(str).where(
        ~small, f"suppressed: fewer than {min_count} events")
    return out


def _name_map(units: pd.DataFrame) -> pd.Series:
    return units.set_index("unit")["name"]


def counts_table(counts: pd.DataFrame, units: pd.DataFrame, period: object, *,
                 columns: Sequence[str] = ("population", "births", "births_male",
                                           "births_female", "deaths", "births_compliant"),
                 language: str = "zh", min_count: int = 3) -> pd.DataFrame:
    """Counts of ``period`` per unit with the county total as the last row, for display.

    Monthly counts are rolled up to the period (flows summed, population day-weighted).
    Population is rounded to whole people for display.
    """
    period = pr.parse(period)
    rolled = pr.rollup(counts, period, by=["unit"])
    cols = [c for c in columns if c in rolled.columns]
    body = rolled[["unit"] + cols].copy()
    total = body[cols].sum(min_count=1).to_frame().T
    top = units.loc[units["parent"].isna(), "unit"]
    total.insert(0, "unit", top.iloc[0] if len(top) == 1 else "total")
    table = pd.concat([body, total], ignore_index=True)
    flows = [c for c in cols if c != "population"]
    table[flows] = table[flows].astype("Int64")
    if "population" in table.columns:
        table["population"] = table["population"].astype(float).round().astype("Int64")
    table = suppress_small_cells(table, [c for c in SENSITIVE if c in cols], min_count=min_count)
    names = table["unit"].map(_name_map(units)).fillna("合计" if language == "zh" else "Total")
    table.insert(1, "name", names)
    i = 0 if language == "zh" else 1
    labels = {"unit": ("代码", "Code")[i], "name": ("单位", "Unit")[i]}
    labels.update({c: _COUNT_LABELS.get(c, (c, c))[i] for c in cols})
    return table.rename(columns=labels)


def indicator_table(results: pd.DataFrame, units: pd.DataFrame | None = None, *,
                    indicators: Sequence[str] | None = None, language: str = "zh",
                    intervals: bool = True, min_count: int = 3) -> pd.DataFrame:
    """Long results -> a display table: one row per unit, value and limits per indicator.

    Values whose numerator is a sensitive count between 1 and ``min_count - 1`` are blanked.
    """
    data = publishable(results, min_count=min_count)
    if indicators is not None:
        data = data[data["indicator"].isin(list(indicators))]
    order = list(dict.fromkeys(data["indicator"]))
    fields = ["value", "lower", "upper"] if intervals else ["value"]
    wide = data.pivot_table(index="unit", columns="indicator", values=fields, sort=False,
                            dropna=False)
    i = 0 if language == "zh" else 1
    names = {"value": ("值", "value"), "lower": ("下限", "lower"), "upper": ("上限", "upper")}
    cols = [(k, f) for k in order for f in fields]
    wide = wide.swaplevel(axis=1).reindex(columns=pd.MultiIndex.from_tuples(cols))
    wide.columns = pd.MultiIndex.from_tuples(
        [(_display_label(k, language), names[f][i]) for k, f in cols])
    if units is not None:
        wide.index = wide.index.map(lambda u: _name_map(units).get(u, u))
    wide.index.name = "单位" if language == "zh" else "unit"
    return wide


def _display_label(key: str, language: str) -> str:
    return f"{ind.label(key, language)} ({ind.display_unit(key, language)})"


def test_table(results: pd.DataFrame, units: pd.DataFrame | None = None, *,
               indicator: str = "sex_ratio_at_birth", language: str = "zh") -> pd.DataFrame:
    """Display the exact test of a sex ratio against its reference, one row per unit.

    ``results`` come from :func:`fpanalysis.indicators.add_sex_ratio_test`.
    """
    data = results[results["indicator"] == indicator]
    i = 0 if language == "zh" else 1
    table = pd.DataFrame({
        ("单位", "unit")[i]: data["unit"].map(_name_map(units)).fillna(data["unit"])
        if units is not None else data["unit"],
        ("男", "males")[i]: data["numerator"].astype("Int64"),
        ("女", "females")[i]: data["denominator"].astype("Int64"),
        ("性别比", "ratio")[i]: data["value"],
        ("下限", "lower")[i]: data["lower"],
        ("上限", "upper")[i]: data["upper"],
        ("参照值", "reference")[i]: data["reference"],
        ("P值", "p-value")[i]: data["p_value"],
    })
    return table.reset_index(drop=True)


def attainment_table(evaluated: pd.DataFrame, units: pd.DataFrame | None = None, *,
                     language: str = "zh") -> pd.DataFrame:
    """Units x targets for one period: the value with a mark: ✓ met and (✓) met where the
    interval also reaches the other side of the target; ✗ not met and (✗) not met where
    the interval reaches the target; — without data."""
    data = evaluated.copy()
    met = data["met"].fillna(False).astype(bool).to_numpy()
    unsure = (data["verdict"] == "indeterminate").to_numpy()
    mark = np.where(met, np.where(unsure, "(✓)", "✓"), np.where(unsure, "(✗)", "✗"))
    text = data["value"].map(lambda v: "" if np.isnan(v) else f"{v:.1f}")
    data["cell"] = np.where(data["met"].isna(), "—", text + " " + mark)
    data["column"] = data["label"].where((data["label"] != "") & (language == "zh"),
                                         data["indicator"])
    wide = data.pivot_table(index="unit", columns="column", values="cell", aggfunc="first",
                            sort=False)
    order = list(dict.fromkeys(data.sort_values("target")["column"]))
    wide = wide.reindex(columns=order)
    if units is not None:
        wide.index = wide.index.map(lambda u: _name_map(units).get(u, u))
    wide.index.name = "单位" if language == "zh" else "unit"
    wide.columns.name = None
    return wide


def league_table(uncertainty: pd.DataFrame, scores: pd.DataFrame | None = None,
                 units: pd.DataFrame | None = None, *, language: str = "zh") -> pd.DataFrame:
    """The league table: score, rank, the 95 % rank interval and tier probabilities, with
    the tier and bottom-tier streak where ``scores`` (from :func:`targets.assess`) are given.
    """
    data = uncertainty.copy()
    if scores is not None:
        extra = scores[["unit", "period", "met", "targets", "tier", "streak"]].assign(
            period=scores["period"].astype(str))
        data = data.merge(extra, on=["unit", "period"], how="left")
    names = data["unit"].map(_name_map(units)).fillna(data["unit"]) if units is not None \
        else data["unit"]
    i = 0 if language == "zh" else 1
    table = pd.DataFrame({
        ("名次", "rank")[i]: data["rank"],
        ("单位", "unit")[i]: names,
        ("得分", "score")[i]: data["score"],
        ("名次区间", "95% rank interval")[i]: data["rank_lower"].astype(int).astype(str)
        + "–" + data["rank_upper"].astype(int).astype(str),
        ("前列概率%", "P(top k) %")[i]: (100 * data["p_top"]).round(1),
        ("后列概率%", "P(bottom k) %")[i]: (100 * data["p_bottom"]).round(1),
    })
    if scores is not None:
        table[("达标项", "targets met")[i]] = data["met"].astype("Int64").astype(str) + "/" \
            + data["targets"].astype("Int64").astype(str)
        tier_names = {"top": ("前列", "top")[i], "bottom": ("后列", "bottom")[i], "": ""}
        table[("梯队", "tier")[i]] = data["tier"].map(tier_names)
        table[("连续后列期数", "bottom streak")[i]] = data["streak"]
    return table


def tier_table(scores: pd.DataFrame, units: pd.DataFrame | None = None, *,
               language: str = "zh") -> pd.DataFrame:
    """Units x periods: score and rank, marked ▲ in the top tier and ▼ in the bottom tier
    with the run of consecutive bottom-tier periods (▼3 = third period running)."""
    data = scores.copy()
    mark = np.where(data["tier"] == "top", " ▲",
                    np.where(data["tier"] == "bottom", " ▼" + data["streak"].astype(str), ""))
    data["cell"] = data["score"].map(lambda v: f"{v:g}") + " (" + data["rank"].astype(str) \
        + ")" + mark
    wide = data.pivot_table(index="unit", columns="period", values="cell", aggfunc="first")
    if units is not None:
        wide.index = wide.index.map(lambda u: _name_map(units).get(u, u))
    wide.index.name = "单位" if language == "zh" else "unit"
    wide.columns.name = None
    return wide


def standing_table(standing: pd.DataFrame, units: pd.DataFrame | None = None, *,
                   language: str = "zh") -> pd.DataFrame:
    """Year-end standing for display (from :func:`targets.combine`, optionally banded)."""
    i = 0 if language == "zh" else 1
    names = standing["unit"].map(_name_map(units)).fillna(standing["unit"]) \
        if units is not None else standing["unit"]
    table = pd.DataFrame({
        ("名次", "rank")[i]: standing["rank"],
        ("单位", "unit")[i]: names,
        ("县考核季度均分", "county mean")[i]: standing["county_score"],
        ("季度数", "quarters")[i]: standing["quarters"].astype("Int64"),
        ("市考核得分", "city score")[i]: standing["external_score"],
        ("综合得分", "standing")[i]: standing["score"],
    })
    if "band" in standing.columns:
        table[("等级", "band")[i]] = standing["band"]
    return table.reset_index(drop=True)


def write_excel(tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write several tables to one workbook, a sheet each (names cut to 31 characters)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in tables.items():
            frame = table.copy()
            for c in frame.columns:
                if isinstance(frame[c].dtype, pd.PeriodDtype):
                    frame[c] = frame[c].astype(str)
            keep_index = isinstance(frame.index, pd.MultiIndex) or frame.index.name is not None
            frame.to_excel(writer, sheet_name=name[:31], index=keep_index)
    return path


def render(
    notebook: str | Path = "notebooks/quarterly_report.ipynb",
    *,
    period: str,
    data_dir: str | Path = "data/sample",
    output_dir: str | Path = "reports",
    language: str = "zh",
    parameters: Mapping[str, object] | None = None,
) -> Path:
    """Run a report notebook for one period with papermill and export HTML without code.

    The executed notebook goes to ``<output_dir>/<period>/<name>.ipynb`` and the HTML beside
    it. The kernel starts in the notebook's folder (as under nbval), and paths passed as
    parameters are made relative to that folder.

    Returns
    -------
    pathlib.Path
        The HTML file.

    Raises
    ------
    ValueError
        If a parameter is not declared in the notebook's ``parameters`` cell.
    """
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    nb_path = Path(notebook).resolve()
    nb_dir = nb_path.parent
    label = str(pr.parse(period))
    out_dir = Path(output_dir) / label.replace("/", "_")  # 2024-01/2024-09 -> one folder
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {"data_dir": os.path.relpath(Path(data_dir).resolve(), nb_dir),
              "period": label,
              "output_dir": os.path.relpath(out_dir.resolve(), nb_dir),
              "language": language, **(parameters or {})}
    declared = pm.inspect_notebook(str(nb_path))
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise ValueError(f"{nb_path.name} has no parameter(s) {', '.join(unknown)}; "
                         f"it declares {', '.join(declared)}")
    executed = out_dir / nb_path.name
    pm.execute_notebook(str(nb_path), str(executed), parameters=params, cwd=str(nb_dir),
                        progress_bar=False, kernel_name="python3")
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    html = executed.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html
