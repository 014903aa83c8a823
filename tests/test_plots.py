"""plots.save: the PNG written is the PNG shown, drawn once."""

from __future__ import annotations

import io

import pytest
from matplotlib.figure import Figure
from PIL import Image

from fpanalysis import plots


def _figure() -> Figure:
    fig = Figure(figsize=(4, 3), dpi=100)
    fig.add_subplot().plot([1, 2, 3], [2.0, 4.5, 3.5])
    return fig


def test_save_writes_the_png_it_shows(tmp_path):
    plots.use_cjk_font()  # the house style: 150 dpi, trimmed
    fig = _figure()
    drawn = []
    fig.canvas.mpl_connect("draw_event", lambda event: drawn.append(event))
    saved = plots.save(fig, tmp_path / "sub" / "f.png")
    on_disk = (tmp_path / "sub" / "f.png").read_bytes()
    after_save = len(drawn)
    png, meta = saved._repr_png_()
    assert png == on_disk  # shown = written, no second drawing for the notebook
    assert after_save >= 1 and len(drawn) == after_save
    width, height = Image.open(io.BytesIO(on_disk)).size
    # a 4 x 3 inch figure at 150 dpi is about 600 x 450 pixels (trimmed a little), shown
    # at 100/150 of that: the size of the 100 dpi figure
    assert 500 < width <= 600 and 380 < height <= 450
    assert meta == {"width": round(width / 1.5), "height": round(height / 1.5)}
    assert repr(saved) == "<figure saved as f.png>"  # stable in committed outputs
    assert saved.figure is fig and saved.axes == fig.axes  # still usable as the figure


def test_save_refuses_other_formats(tmp_path):
    with pytest.raises(ValueError, match="plots.save writes PNG files; f.pdf does not end"):
        plots.save(_figure(), tmp_path / "f.pdf")
    assert not list(tmp_path.iterdir())
