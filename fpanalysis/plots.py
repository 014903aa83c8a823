"""Matplotlib figures from result frames; layout only, no computation.

Chinese unit names need a CJK font. :func:`use_cjk_font` registers Noto Sans CJK SC, shipped
inside the ``mplfonts`` wheel (so no system font install is needed), or else the first CJK
font the system has, makes it matplotlib's sans-serif font and applies the house style
(:data:`STYLE`), so that every figure of every report looks alike. :func:`save` writes a
figure as a PNG file beside the report.
"""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from . import indicators as ind

__all__ = ["STYLE", "age_schedule", "attainment_heatmap", "by_order", "caterpillar",
           "cjk_font_path", "forest", "funnel", "save", "SavedFigure", "trend",
           "use_cjk_font"]

#: The house style of every figure (matplotlib rcParams), applied by :func:`use_cjk_font`.
STYLE: dict[str, object] = {
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#7f7f7f",
    "axes.linewidth": 0.8,
    "xtick.color": "#404040",
    "ytick.color": "#404040",
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.8,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
}

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
    mpl.rcParams.update(STYLE)
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
    mpl.rcParams["axes.unicode_minus"] = False
    return family


class SavedFigure:
    """A figure that :func:`save` wrote as a PNG file.

    In a notebook it shows as the PNG just written, so a figure is drawn once (a report's
    heatmap takes 0.2 s to draw; showing the Figure itself would draw it again). The PNG is
    150 dpi and is shown at the size of a 100 dpi figure, sharp on high-density screens.
    Anything else is the figure's: ``saved.axes``, ``saved.savefig(...)``.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    path : pathlib.Path
        The PNG file.
    """

    def __init__(self, figure: Figure, path: Path, png: bytes) -> None:
        self.figure = figure
        self.path = path
        self._png = png

    def _repr_png_(self) -> tuple[bytes, dict[str, int]]:
        width, height = (int.from_bytes(self._png[i:i + 4], "big") for i in (16, 20))
        scale = 100 / float(mpl.rcParams["savefig.dpi"])
        return self._png, {"width": round(width * scale), "height": round(height * scale)}

    def __repr__(self) -> str:  # no address or folder: stable in committed notebook outputs
        return f"<figure saved as {self.path.name}>"

    def __getattr__(self, name: str) -> object:
        return getattr(self.figure, name)


def save(fig: Figure, path: str | Path) -> SavedFigure:
    """Write ``fig`` as a PNG file (150 dpi, white, trimmed) and return it as a
    :class:`SavedFigure`, so that a notebook cell both saves and shows a figure, drawn once:
    ``plots.save(plots.funnel(...), out / "funnel.png")``. The folder is made if needed.

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.png``.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"plots.save writes PNG files; {path.name} does not end in .png")
    png = _png(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return SavedFigure(fig, path, png)


def _png(fig: Figure) -> bytes:
    """Draw ``fig`` once at the house dpi and return it as PNG bytes, trimmed as
    ``savefig(bbox_inches="tight")`` trims it (if ``savefig.bbox`` is ``"tight"``, as in
    :data:`STYLE`).

    ``savefig`` with a layout engine or a tight bounding box draws the figure twice (a first
    draw with rendering turned off places everything); here the one real draw places
    everything (the layout engine runs inside it), the tight bounding box is measured after
    it and the pixels are cut out of the drawn canvas, padded with the face colour.
    """
    rc = mpl.rcParams
    if rc["savefig.transparent"]:  # savefig clears every face: leave it to savefig
        return _savefig_png(fig)
    dpi = fig.dpi if rc["savefig.dpi"] == "figure" else float(rc["savefig.dpi"])
    face = rc["savefig.facecolor"]
    face = fig.get_facecolor() if str(face) == "auto" else to_rgba(face)
    pad = float(rc["savefig.pad_inches"])
    old_canvas, old_dpi, old_face = fig.canvas, fig.dpi, fig.get_facecolor()
    canvas = FigureCanvasAgg(fig)
    try:
        fig.dpi = dpi
        fig.set_facecolor(face)
        canvas.draw()
        tight = fig.get_tightbbox(canvas.get_renderer())
        box = tight.padded(pad) if rc["savefig.bbox"] == "tight" else fig.bbox_inches
        pixels = np.asarray(canvas.buffer_rgba())
    finally:
        fig.set_facecolor(old_face)
        fig.dpi = old_dpi
        fig.set_canvas(old_canvas)
    whole = fig.bbox_inches
    if (tight.x0 < whole.x0 - 1e-9 or tight.y0 < whole.y0 - 1e-9
            or tight.x1 > whole.x1 + 1e-9 or tight.y1 > whole.y1 + 1e-9):
        # something drawn beyond the figure's edge (a legend anchored outside the axes,
        # text at x > 1): the canvas holds no pixels for it, savefig draws it in
        return _savefig_png(fig)
    height, width = pixels.shape[:2]
    x0, top = round(box.x0 * dpi), round(height - box.y1 * dpi)
    x1 = x0 + max(int(box.width * dpi), 1)  # as savefig sizes it
    bottom = top + max(int(box.height * dpi), 1)
    inside = pixels[max(top, 0):min(bottom, height), max(x0, 0):min(x1, width)]
    opaque = face[3] == 1 and (inside[..., 3] == 255).all()  # as every house figure is
    out = np.empty((bottom - top, x1 - x0, 3 if opaque else 4), dtype=np.uint8)
    out[...] = np.round(np.asarray(face[:out.shape[2]]) * 255)  # the padding beyond the canvas
    out[max(-top, 0):max(-top, 0) + inside.shape[0],
        max(-x0, 0):max(-x0, 0) + inside.shape[1]] = inside[..., :out.shape[2]]
    buffer = io.BytesIO()
    info = PngInfo()
    info.add_text("Software", f"Matplotlib version{mpl.__version__}, https://matplotlib.org/")
    # zlib level 3, not 6: a quarter less encoding time for a file 8 % larger
    Image.fromarray(out).save(buffer, format="png", dpi=(dpi, dpi), pnginfo=info,
                              compress_level=3)
    return buffer.getvalue()


def _savefig_png(fig: Figure) -> bytes:
    """PNG bytes by ``savefig`` (the house settings in ``rcParams``): a second draw."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


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
    reference_label: str | None = None,
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
    reference_label : str, optional
        Its label; default the number, or 全县/county for results. ``""`` for none.
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
        if reference_label is None:
            reference_label = "全县" if language == "zh" else "county"
    if reference_label is None:
        reference_label = "" if reference is None else f"{reference:g}"
    value = data["value"].to_numpy(dtype=float)
    finite = np.isfinite(value)
    if data["value"].isna().any():  # a unit without a value (not reported, suppressed)
        data["label"] = data["label"].astype(str) + np.where(
            data["value"].isna().to_numpy(), " —", "")
    if np.isinf(value).any():  # e.g. a sex ratio with no female births: kept on the axis
        word = {"zh": "（无穷大）", "en": " (infinite)"}.get(language, " (infinite)")
        data["label"] = data["label"].astype(str) + np.where(np.isinf(value), word, "")
    # the axis covers the estimates and reference lines with a margin; intervals of tiny
    # units that run beyond it are cut at the edge and marked with an arrowhead
    marks = [v for v in (reference, target) if v is not None and np.isfinite(v)]
    points = np.concatenate([value[finite], marks])
    if not len(points):  # no value at all (none reported, all suppressed): an empty axis
        points = np.concatenate([data[["lower", "upper"]].to_numpy(dtype=float).ravel(),
                                 [0.0, 1.0]])
        points = points[np.isfinite(points)]
    lo_all = np.nanmin(np.concatenate([data["lower"].to_numpy(), points]))
    hi_all = np.nanmax(np.concatenate([data["upper"].to_numpy(), points]))
    span = max(points.max() - points.min(), 1e-9 + abs(points.max()) * 0.1)
    left, right = max(lo_all, points.min() - 0.6 * span), min(hi_all, points.max() + 0.6 * span)
    pad = 0.03 * (right - left)
    left, right = left - pad, right + pad
    lower, upper = data["lower"].clip(left, right), data["upper"].clip(left, right)
    ax.hlines(y, lower, upper, color="#8faadc", linewidth=2.2)
    ax.plot(value[finite], y[finite], "o", color="#1f4e79", markersize=5)
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
    ax.set_xlabel(_axis_label(spec.key, language))
    ax.set_ylim(-1.2, len(data) - 0.2)
    ax.grid(axis="x", color="#dddddd")
    ax.set_axisbelow(True)
    return fig



_COLORS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6")


def _english(key: str) -> str:
    """An indicator's English name, or the key for a name the registry does not know."""
    try:
        return ind.label(key, "en")
    except (KeyError, ValueError):
        return key


def _axis_label(indicator: str, language: str) -> str:
    return f"{ind.label(indicator, language)} ({ind.display_unit(indicator, language)})"


def funnel(
    points: pd.DataFrame,
    curves: pd.DataFrame,
    indicator: str,
    *,
    units: pd.DataFrame | None = None,
    language: str = "zh",
    title: str = "",
    centre_label: str | None = None,
) -> Figure:
    """Draw a funnel plot from :func:`fpanalysis.indicators.funnel_data` output.

    Units outside the outer (99.8 %) funnel are labelled by name; the y axis shows the
    funnel around the target and the units, not the funnel's extremes at tiny x.
    ``centre_label`` names the centre line (default: the target, 目标).
    """
    fig = Figure(figsize=(8, 5.2), layout="constrained")
    ax = fig.subplots()
    levels = sorted({c.split("_", 1)[1] for c in curves.columns if c.startswith("lower_")},
                    key=float)
    styles = {levels[0]: ("--", "#7f7f7f"), levels[-1]: ("-", "#404040")}
    for lev in levels:
        ls, color = styles[lev]
        pct = f"{float(lev) * 100:g}%"
        ax.plot(curves["x"], curves[f"upper_{lev}"], ls, color=color, linewidth=1, label=pct)
        ax.plot(curves["x"], curves[f"lower_{lev}"], ls, color=color, linewidth=1)
    target = float(curves["target"].iloc[0])
    if centre_label is None:
        centre_label = "目标" if language == "zh" else "target"
    ax.axhline(target, color="#c00000", linewidth=1, label=f"{centre_label} {target:.4g}")
    outer = points["funnel"].str.contains(r"0\.001", regex=True).to_numpy()
    inner_only = points["funnel"].str.contains(r"0\.025", regex=True).to_numpy()
    colors = np.where(outer, "#c00000", np.where(inner_only, "#ed7d31", "#1f4e79"))
    ax.scatter(points["x"], points["value"], s=28, color=colors, zorder=3)
    names = _names(points, units)
    for x, y, name, f in zip(points["x"], points["value"], names, outer | inner_only,
                             strict=True):
        if f:
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=9)
    vals = points["value"].dropna().to_numpy()
    # the y range follows the units and the funnel from the smaller units on; the funnel's
    # mouth at the very smallest units runs off the top rather than squash everything
    inner = curves[[f"lower_{levels[-1]}", f"upper_{levels[-1]}"]]
    x_from = np.nanpercentile(points["x"].to_numpy(dtype=float), 25) * 0.9
    near = inner[curves["x"] >= x_from].to_numpy()
    lo = np.nanmin(np.concatenate([vals, near[np.isfinite(near)], [target]]))
    hi = np.nanmax(np.concatenate([vals, near[np.isfinite(near)], [target]]))
    pad = 0.08 * (hi - lo)
    ax.set_ylim(max(0.0, lo - pad), hi + pad)
    ax.set_xscale("log")
    ax.set_xlabel(ind.get(indicator).funnel_axis(language))
    ax.set_ylabel(_axis_label(indicator, language))
    if title:
        ax.set_title(title)
    ax.legend(loc="upper right", fontsize=9, frameon=False)
    ax.grid(color="#eeeeee")
    return fig


def trend(
    results: pd.DataFrame,
    indicators: str | list[str],
    *,
    units: pd.DataFrame | None = None,
    target: float | None = None,
    language: str = "zh",
) -> Figure:
    """Lines over periods with shaded intervals: one line per indicator (for one unit) or
    per unit (for one indicator)."""
    keys = [indicators] if isinstance(indicators, str) else list(indicators)
    data = results[results["indicator"].isin(keys)].copy()
    data["label"] = _names(data, units)
    series = ("indicator" if len(keys) > 1 else "label")
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.subplots()
    periods = list(dict.fromkeys(data.sort_values("period")["period"].astype(str)))
    pos = {p: i for i, p in enumerate(periods)}
    for k, (name, g) in enumerate(data.groupby(series, sort=False)):
        g = g.sort_values("period")
        x = g["period"].astype(str).map(pos).to_numpy()
        color = _COLORS[k % len(_COLORS)]
        shown = ind.label(name, language) if series == "indicator" else name
        ax.plot(x, g["value"], "-o", color=color, markersize=3.5, linewidth=1.5, label=shown)
        ax.fill_between(x, g["lower"], g["upper"], color=color, alpha=0.15, linewidth=0)
    if target is not None:
        ax.axhline(target, color="#c00000", linestyle="--", linewidth=1,
                   label=("目标 " if language == "zh" else "target ") + f"{target:g}")
    step = max(1, len(periods) // 12)
    ax.set_xticks(range(0, len(periods), step), periods[::step], rotation=45, ha="right")
    unit = ind.display_unit(keys[0], language)
    ax.set_ylabel(_axis_label(keys[0], language) if len(keys) == 1 else unit)
    ax.legend(fontsize=9, frameon=False, ncol=min(4, len(keys)))
    ax.grid(color="#eeeeee")
    return fig


def by_order(
    results: pd.DataFrame,
    *,
    units: pd.DataFrame | None = None,
    reference: float = 105.0,
    target: float | None = 130.0,
    language: str = "zh",
) -> Figure:
    """Sex ratio at birth per unit for first, second and third-and-later births (dots), with
    the overall ratio as a bar; units sorted by the second-birth ratio."""
    keys = ["sex_ratio_at_birth_o1", "sex_ratio_at_birth_o2", "sex_ratio_at_birth_o3p"]
    data = results[results["indicator"].isin(keys + ["sex_ratio_at_birth"])].copy()
    data["label"] = _names(data, units)
    wide = data.pivot_table(index="label", columns="indicator", values="value", sort=False)
    wide = wide.sort_values("sex_ratio_at_birth_o2", na_position="first")
    fig = Figure(figsize=(8, 0.3 * len(wide) + 1.8), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(wide))
    ax.barh(y, wide["sex_ratio_at_birth"], color="#dde6f2", height=0.7,
            label=ind.label("sex_ratio_at_birth", language))
    for k, key in enumerate(keys):
        ax.plot(wide[key], y, "o", color=_COLORS[k], markersize=5,
                label=ind.label(key, language))
    ax.axvline(reference, color="#555555", linewidth=1)
    if target is not None:
        ax.axvline(target, color="#c00000", linestyle="--", linewidth=1)
    finite = wide.to_numpy()[np.isfinite(wide.to_numpy())]
    ax.set_xlim(0, min(np.nanmax(finite) * 1.05, 300) if len(finite) else 200)
    ax.set_yticks(y, wide.index)
    ax.set_xlabel(_axis_label("sex_ratio_at_birth", language))
    fig.legend(fontsize=8, frameon=False, loc="outside upper center", ncol=4)
    ax.grid(axis="x", color="#eeeeee")
    return fig


def age_schedule(results: pd.DataFrame, *, language: str = "zh") -> Figure:
    """Age-specific fertility rates with intervals for one unit and period."""
    data = results[results["indicator"].str.startswith("asfr_")]
    fig = Figure(figsize=(6.5, 3.6), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(data))
    err = np.vstack([data["value"] - data["lower"], data["upper"] - data["value"]])
    ax.bar(x, data["value"], color="#8faadc", yerr=err, capsize=3, ecolor="#404040")
    ax.set_xticks(x, [k.removeprefix("asfr_").replace("_", "-") for k in data["indicator"]])
    ax.set_xlabel("母亲年龄 (岁)" if language == "zh" else "mother's age")
    ax.set_ylabel("Age-specific fertility rate (‰)" if language == "en" else "年龄别生育率 (‰)")
    ax.grid(axis="y", color="#eeeeee")
    return fig


def attainment_heatmap(
    evaluated: pd.DataFrame,
    *,
    units: pd.DataFrame | None = None,
    language: str = "zh",
) -> Figure:
    """Units x targets: green met, red not met, grey no data; hatched where the interval
    leaves it open (verdict ``indeterminate``). Each cell shows the value, or ``[c]`` where
    :func:`fpanalysis.report.withhold` took it out (note ``suppressed: ...``)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch, PathPatch
    from matplotlib.path import Path as MplPath

    if len(evaluated) == 0:  # nothing assessed (no target applies): say so, draw no grid
        fig = Figure(figsize=(6.0, 1.6), layout="constrained")
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "本期无适用的考核目标" if language == "zh"
                else "no target of the scheme applies to this period",
                ha="center", va="center", fontsize=12, transform=ax.transAxes)
        return fig
    data = evaluated.copy()
    data["name"] = _names(data, units)
    data["column"] = data["label"].where(data["label"] != "", data["indicator"])
    if language == "en":  # the indicator's English name where it has one
        data["column"] = [_english(k) for k in data["indicator"].astype(str)]
    order_cols = list(dict.fromkeys(data.sort_values("target")["column"]))
    order_rows = list(dict.fromkeys(data.sort_values("unit")["name"]))
    state = np.select([data["met"].isna(), data["met"].fillna(False).astype(bool)], [2, 0], 1)
    data["state"] = state
    data["held"] = (data["note"].fillna("").astype(str).str.startswith("suppressed")
                    if "note" in data.columns else False)
    data["open"] = data["verdict"] == "indeterminate"
    wide = data.pivot_table(index="name", columns="column", aggfunc="first", dropna=False,
                            values=["state", "value", "held", "open"])
    grid, vals, held, open_ = (wide[k].reindex(index=order_rows, columns=order_cols)
                               for k in ("state", "value", "held", "open"))
    fig = Figure(figsize=(1.0 * len(order_cols) + 2.5, 0.34 * len(order_rows) + 2.2),
                 layout="constrained")
    ax = fig.subplots()
    cmap = ListedColormap(["#a9d18e", "#f4b183", "#d9d9d9"])
    rows, cols = len(order_rows), len(order_cols)
    # one mesh of cells, not an image resampled to the canvas; the axes as imshow sets them
    ax.pcolormesh(np.arange(cols + 1) - 0.5, np.arange(rows + 1) - 0.5,
                  np.ma.masked_invalid(grid.to_numpy(dtype=float)), cmap=cmap, vmin=0, vmax=2)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    value = vals.to_numpy(dtype=float)
    shown = np.isfinite(value)
    withheld = ~shown & held.eq(1).to_numpy()
    for i, j in zip(*np.nonzero(shown | withheld), strict=True):
        # inside its cell: left out of the layout and the trimming, which need not measure it
        ax.text(j, i, f"{value[i, j]:.1f}" if shown[i, j] else "[c]", ha="center",
                va="center", fontsize=7, in_layout=False)
    i, j = np.nonzero(open_.eq(1).to_numpy())
    if len(i):  # the open cells as one hatched path, drawn once
        corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
        vertices = (np.column_stack([j, i])[:, None, :] + corners).reshape(-1, 2)
        codes = np.tile([MplPath.MOVETO] + [MplPath.LINETO] * 3 + [MplPath.CLOSEPOLY], len(i))
        # add_artist, not add_patch: the limits are set above, not grown to the path
        ax.add_artist(PathPatch(MplPath(vertices, codes), fill=False, hatch="///",
                                edgecolor="#7f7f7f", linewidth=0, in_layout=False))
    ax.set_xticks(range(len(order_cols)), order_cols, rotation=35, ha="right")
    ax.set_yticks(range(len(order_rows)), order_rows)
    zh = language == "zh"
    handles = [Patch(color="#a9d18e", label="达标" if zh else "met"),
               Patch(color="#f4b183", label="未达标" if zh else "not met"),
               Patch(color="#d9d9d9", label="无数据" if zh else "no data"),
               Patch(facecolor="white", edgecolor="#7f7f7f", hatch="///",
                     label="区间跨越目标" if zh else "interval spans target")]
    fig.legend(handles=handles, loc="outside upper center", ncol=4, fontsize=8, frameon=False)
    return fig


def caterpillar(
    uncertainty: pd.DataFrame,
    *,
    units: pd.DataFrame | None = None,
    language: str = "zh",
) -> Figure:
    """League table with rank uncertainty, best first: each unit's marginal 95 % rank
    confidence set (wide pale bar), the joint 95 % set (thin grey line behind it), the spread
    of ranks under redraws (narrow dark bar; not a confidence set), the median redrawn rank
    (dot) and the observed rank (diamond). ``uncertainty`` is
    :func:`fpanalysis.targets.rank_uncertainty`."""
    need = ["rank", "unit", "score", "median_rank", "draw_rank_lower", "draw_rank_upper",
            "rank_set_lower", "rank_set_upper", "joint_rank_set_lower", "joint_rank_set_upper"]
    missing = [c for c in need if c not in uncertainty.columns]
    if missing:
        raise ValueError("caterpillar needs the output of targets.rank_uncertainty; "
                         f"missing columns {missing}")
    zh = language == "zh"
    data = uncertainty.sort_values(["rank", "unit"]).reset_index(drop=True)
    names = _names(data, units)
    n = len(data)
    fig = Figure(figsize=(7.5, 0.3 * n + 1.8), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n)[::-1]
    ax.hlines(y, data["joint_rank_set_lower"] - 0.4, data["joint_rank_set_upper"] + 0.4,
              color="#a6a6a6", linewidth=1,
              label="全表95%名次置信集" if zh else "95 % joint rank set")
    ax.hlines(y, data["rank_set_lower"] - 0.4, data["rank_set_upper"] + 0.4, color="#c9d7ef",
              linewidth=8, label="95%名次置信集" if zh else "95 % rank confidence set")
    ax.hlines(y, data["draw_rank_lower"], data["draw_rank_upper"], color="#2e75b6",
              linewidth=2, label="重抽名次范围 (非置信集)" if zh
              else "redraw rank range (not a confidence set)")
    ax.plot(data["median_rank"], y, "o", color="#1f4e79", markersize=5,
            label="重抽中位名次" if zh else "median redrawn rank")
    ax.plot(data["rank"], y, "D", color="#c00000", markersize=4, fillstyle="none",
            label="实际名次" if zh else "observed rank")
    ax.set_yticks(y, [f"{nm} ({s:g})" for nm, s in zip(names, data["score"], strict=True)])
    ax.set_xlim(0.4, n + 0.6)
    ax.set_xticks(range(1, n + 1))
    ax.set_xlabel("名次 (1 = 最好)" if zh else "rank (1 = best)")
    fig.legend(loc="outside upper center", ncol=3, fontsize=7, frameon=False)
    ax.grid(axis="x", color="#eeeeee")
    return fig
