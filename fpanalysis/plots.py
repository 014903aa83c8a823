"""Matplotlib figures from result frames; layout only, no computation.

Chinese unit names need a CJK font. :func:`use_cjk_font` registers Noto Sans CJK SC, shipped
inside the ``mplfonts`` wheel (so no system font install is needed), or else the first CJK
font the system has, and makes it matplotlib's sans-serif font.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure

from . import indicators as ind

__all__ = ["cjk_font_path", "forest", "save", "use_cjk_font"]

_SYSTEM_CJK = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
               "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC")


def cjk_font_path() -> Path | None:
    """Return the path of the bundled Noto Sans CJK SC font, or None if mplfonts is absent."""
    try:
        path = resources.files("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf"
    except ModuleNotFoundError:
        return None
    return Path(str(path)) if path.is_file() else None


def use_cjk_font() -> str:
    """Make a CJK font matplotlib's default sans-serif font and return its family name.

    Raises
    ------
    RuntimeError
        If no CJK font can be found (install the ``mplfonts`` package).
    """
    path = cjk_font_path()
    family = None
    if path is not None:
        font_manager.fontManager.addfont(str(path))
        family = font_manager.FontProperties(fname=str(path)).get_name()
    else:
        names = {f.name for f in font_manager.fontManager.ttflist}
        family = next((n for n in _SYSTEM_CJK if n in names), None)
    if family is None:
        raise RuntimeError("no CJK font found: install the mplfonts package")
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
    mpl.rcParams["axes.unicode_minus"] = False
    return family


def _names(results: pd.DataFrame, units: pd.DataFrame | None) -> pd.Series:
    if units is None:
        return results["unit"].astype(str)
    return results["unit"].map(units.set_index("unit")["name"]).fillna(results["unit"])


def forest(
    results: pd.DataFrame,
    indicator: str,
    *,
    units: pd.DataFrame | None = None,
    reference: float | pd.DataFrame | None = None,
    reference_label: str = "",
    target: float | None = None,
    language: str = "zh",
    ax: plt.Axes | None = None,
) -> Figure:
    """Plot one indicator per unit as points with interval bars, sorted by value.

    Parameters
    ----------
    results : pandas.DataFrame
        Output of :func:`fpanalysis.indicators.compute` for one period.
    indicator : str
        Indicator key to plot.
    units : pandas.DataFrame, optional
        Unit table, to label units by name.
    reference : float or pandas.DataFrame, optional
        A vertical reference line: a number, or results (e.g. the county's) from which the
        value of ``indicator`` is taken.
    target : float, optional
        A dashed vertical target line.
    language : {'zh', 'en'}, default 'zh'
    """
    data = results[results["indicator"] == indicator].copy()
    data["label"] = _names(data, units)
    data = data.sort_values(["value", "unit"], na_position="first").reset_index(drop=True)
    spec = ind.get(indicator)
    if ax is None:
        # a pyplot-free Figure: the notebook shows the returned figure exactly once
        fig = Figure(figsize=(7.5, 0.32 * len(data) + 1.6), layout="constrained")
        ax = fig.subplots()
    else:
        fig = ax.figure
    y = np.arange(len(data))
    if isinstance(reference, pd.DataFrame):
        ref = reference.loc[reference["indicator"] == indicator, "value"]
        reference = float(ref.iloc[0]) if len(ref) == 1 else None
    # the axis covers the estimates and reference lines with a margin; intervals of tiny
    # units that run beyond it are cut at the edge and marked with an arrowhead
    marks = [v for v in (reference, target) if v is not None]
    points = np.concatenate([data["value"].dropna().to_numpy(), marks])
    lo_all = np.nanmin(np.concatenate([data["lower"].to_numpy(), points]))
    hi_all = np.nanmax(np.concatenate([data["upper"].to_numpy(), points]))
    span = max(points.max() - points.min(), 1e-9 + abs(points.max()) * 0.1)
    left, right = max(lo_all, points.min() - 0.6 * span), min(hi_all, points.max() + 0.6 * span)
    pad = 0.03 * (right - left)
    left, right = left - pad, right + pad
    lower, upper = data["lower"].clip(left, right), data["upper"].clip(left, right)
    ax.hlines(y, lower, upper, color="#8faadc", linewidth=2.2)
    ax.plot(data["value"], y, "o", color="#1f4e79", markersize=5)
    cut_hi = data["upper"] > right
    cut_lo = data["lower"] < left
    ax.plot(np.full(cut_hi.sum(), right), y[cut_hi], ">", color="#8faadc", markersize=6)
    ax.plot(np.full(cut_lo.sum(), left), y[cut_lo], "<", color="#8faadc", markersize=6)
    ax.set_xlim(left - pad, right + pad)
    ax.set_yticks(y, data["label"])
    if reference is not None:
        ax.axvline(reference, color="#555555", linewidth=1)
        if reference_label:
            ax.text(reference, len(data) - 0.4, f" {reference_label}", color="#555555",
                    fontsize=9, va="bottom")
    if target is not None:
        ax.axvline(target, color="#c00000", linestyle="--", linewidth=1)
        ax.text(target, -0.9, (" 目标 " if language == "zh" else " target ") + f"{target:g}",
                color="#c00000", fontsize=9, va="top")
    unit = spec.display_unit if language == "en" else {
        "per 100 females": "男/100女", "per woman": "个/妇女"}.get(spec.display_unit,
                                                               spec.display_unit)
    ax.set_xlabel(f"{ind.label(indicator, language)} ({unit})")
    ax.set_ylim(-1.2, len(data) - 0.2)
    ax.grid(axis="x", color="#dddddd")
    ax.set_axisbelow(True)
    return fig


def save(fig: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Save a figure as PNG (creating the folder) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path

