"""The load report in attrs is shared, not deep-copied into every derived frame."""

from __future__ import annotations

import copy
import pickle

import pandas as pd
import pytest

from fpanalysis import io, tables


@pytest.fixture()
def counts(tmp_path):
    (tmp_path / "counts.csv").write_text(
        "unit,period,births_male,births_female\nA,2024-01,3,2\nA,2024-02,1,0\n",
        encoding="utf-8")
    return io.load_counts(tmp_path)


def test_report_is_shared_by_derived_frames(counts):
    stored = counts.attrs["load_report"]
    assert isinstance(stored, tables.StoredReport)
    # pandas deep-copies attrs on each derived frame; the stored report is the same object
    assert counts["births_male"].attrs["load_report"] is stored
    assert copy.deepcopy(counts).attrs["load_report"] is stored
    # the file has 2 rows below the header, both used (counted by hand)
    assert tables.load_report(counts).rows_in == 2 and stored["rows_used"] == 2


def test_report_is_read_only_and_survives_pickle_and_parquet(counts, tmp_path):
    stored = counts.attrs["load_report"]
    for change in (lambda r: r.__setitem__("rows_used", 0), lambda r: r.update(rows_used=0),
                   lambda r: r.pop("file"), lambda r: r.clear()):
        with pytest.raises(TypeError, match="a stored load report is read-only"):
            change(stored)
    assert stored["rows_used"] == 2
    back = pickle.loads(pickle.dumps(counts))
    assert dict(back.attrs["load_report"]) == dict(stored)
    counts.to_parquet(tmp_path / "c.parquet")
    assert pd.read_parquet(tmp_path / "c.parquet").attrs["load_report"] == dict(stored)
