"""The faster figure path keeps the figures' content: plots.save trims as savefig does, and
the attainment heatmap (cells as one mesh, open cells as one hatched path) still puts each
unit/target in its colour, with its value, hatched where the interval leaves it open.

Expected colours and labels are written by hand from the small table below; the trimmed
size is checked against matplotlib's own ``savefig(bbox_inches="tight")``.
"""

from __future__ import annotations

import io
import logging
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from fpanalysis import plots

GREEN, ORANGE, GREY = (0xA9, 0xD1, 0x8E), (0xF4, 0xB1, 0x83), (0xD9, 0xD9, 0xD9)
HATCH = (0x7F, 0x7F, 0x7F)

UNITS = pd.DataFrame({"unit": [101, 102, 103], "name": ["东林镇", "双凰乡", "长岗乡"]})

# 3 units x 2 targets. met: True -> green, False -> orange, missing -> grey.
# verdict "indeterminate" -> hatched. note "suppressed ..." without a value -> "[c]".
EVALUATED = pd.DataFrame({
    "unit": [101, 101, 102, 102, 103, 103],
    "indicator": ["compliance_rate", "crude_birth_rate"] * 3,
    "label": ["政策符合率", "出生率"] * 3,
    "target": [1, 2] * 3,
    "met": [True, False, False, True, None, True],
    "value": [95.0, 12.5, 80.0, 9.25, np.nan, 8.0],
    "verdict": ["met", "not met", "indeterminate", "met", "no data", "indeterminate"],
    "note": ["", "", "", "", "suppressed: 1-4 events", ""],
})
# by hand, rows in unit order (101, 102, 103), columns in target order (1, 2)
EXPECTED_COLOUR = [[GREEN, ORANGE], [ORANGE, GREEN], [GREY, GREEN]]
EXPECTED_HATCHED = [[False, False], [True, False], [False, True]]
EXPECTED_TEXT = ["95.0", "12.5", "80.0", "9.2", "[c]", "8.0"]  # 9.25 -> "9.2" (half to even)


@pytest.fixture(scope="module", autouse=True)
def _cjk():
    plots.use_cjk_font()


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _is(pixels: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return (np.abs(pixels - np.array(colour)) <= 2).all(axis=-1)


def test_heatmap_puts_each_unit_and_target_in_its_colour(tmp_path):
    fig = plots.attainment_heatmap(EVALUATED, units=UNITS, language="zh")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["东林镇", "双凰乡", "长岗乡"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["政策符合率", "出生率"]
    assert [t.get_text() for t in ax.texts] == EXPECTED_TEXT  # row by row
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph or findfont warning fails
        saved = plots.save(fig, tmp_path / "attainment.png")
    px = _pixels(saved._repr_png_()[0])
    # the cells fill the axes: their extent is where most pixels of a row (a column) have
    # one of the three fill colours; the legend's small swatches above do not count
    cells = _is(px, GREEN) | _is(px, ORANGE) | _is(px, GREY)
    per_row = cells.sum(axis=1)
    rows = np.nonzero(per_row > 0.4 * per_row.max())[0]
    per_col = cells[rows[0]:rows[-1] + 1].sum(axis=0)
    cols = np.nonzero(per_col > 0.4 * per_col.max())[0]
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    assert bottom - top > 200 and right - left > 400  # 3 x 0.34 in and 2 x 1 in at 150 dpi
    height, width = (bottom - top) / 3, (right - left) / 2
    for i in range(3):
        for j in range(2):
            # a patch in the left fifth of the cell, clear of the centred value
            y0, x0 = int(top + (i + 0.3) * height), int(left + (j + 0.05) * width)
            patch = px[y0:int(y0 + 0.4 * height), x0:int(x0 + 0.15 * width)]
            fill = _is(patch, EXPECTED_COLOUR[i][j]).mean()
            hatch = (np.abs(patch - np.array(EXPECTED_COLOUR[i][j])).max(axis=-1) > 40).mean()
            assert fill > 0.5, (i, j, fill)
            if EXPECTED_HATCHED[i][j]:
                assert hatch > 0.05, (i, j, hatch)  # hatch lines cross the patch
            else:
                assert hatch == 0, (i, j, hatch)


def test_heatmap_in_english_and_with_nothing_open():
    fig = plots.attainment_heatmap(EVALUATED.assign(verdict="met"), units=UNITS,
                                   language="en")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Policy compliance",
                                                            "Crude birth rate"]
    assert not ax.patches and not ax.artists  # no hatched path when no cell is open
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "met", "not met", "no data", "interval spans target"]


def test_heatmap_does_not_mutate_its_input():
    before = EVALUATED.copy()
    plots.attainment_heatmap(EVALUATED, units=UNITS)
    pd.testing.assert_frame_equal(EVALUATED, before)


def _constrained_figure() -> Figure:
    fig = Figure(figsize=(5, 3.5), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1, 2], [3.0, 1.0, 2.0], label="线")
    ax.set_yticks([1, 2, 3], ["东林镇", "双凰乡", "长岗乡"])
    ax.set_xlabel("出生率 (‰)")
    ax.legend()
    return fig


def test_save_trims_as_savefig_tight_does_and_restores_the_figure(tmp_path):
    fig = _constrained_figure()
    canvas, dpi, face = fig.canvas, fig.dpi, fig.get_facecolor()
    saved = plots.save(fig, tmp_path / "f.png")
    assert fig.canvas is canvas and fig.dpi == dpi and fig.get_facecolor() == face
    ours = _pixels(saved.path.read_bytes())
    reference = io.BytesIO()
    _constrained_figure().savefig(reference, format="png", bbox_inches="tight")
    theirs = _pixels(reference.getvalue())
    # matplotlib's own trimming is the reference: same size; the content may sit up to a
    # pixel apart (the cut is on whole pixels), so compare the darker-pixel counts
    assert ours.shape == theirs.shape
    dark_ours, dark_theirs = (ours.min(axis=-1) < 128).sum(), (theirs.min(axis=-1) < 128).sum()
    assert abs(dark_ours - dark_theirs) <= 0.05 * dark_theirs
    with Image.open(saved.path) as im:
        assert im.mode == "RGB" and round(im.info["dpi"][0]) == 150


def test_save_logs_no_findfont_message(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        plots.save(plots.attainment_heatmap(EVALUATED, units=UNITS), tmp_path / "a.png")
    assert caplog.records == []
