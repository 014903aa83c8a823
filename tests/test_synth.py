"""The sample-county generator: byte-identical regeneration, other counties, scale, realism.
Realism ranges are those the Foundation issue asks for (CBR 9-14 per mille, CDR 6-8, SRB of
first births near 106, compliance 80-95 %)."""

from __future__ import annotations

import filecmp
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from fpanalysis import io, periods, synth
from tests.conftest import ROOT, SAMPLE


def test_regenerates_committed_sample_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, "-m", "fpanalysis.synth", "--out", str(tmp_path)],
                   check=True, cwd=ROOT, capture_output=True)
    names = sorted(p.name for p in SAMPLE.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(SAMPLE, tmp_path, names, shallow=False)
    assert mismatch == [] and errors == []


def test_other_counties_load_cleanly(tmp_path):
    synth.write_sample(tmp_path, seed=7, units=25, years=(2020, 2024))
    units = io.load_units(tmp_path)
    counts = io.load_counts(tmp_path)
    assert len(units) == 26 and counts["unit"].nunique() == 25
    assert counts["period"].min() == pd.Period("2020-01", "M")
    assert counts["period"].max() == pd.Period("2024-12", "M")
    io.load_audits(tmp_path)
    io.load_counts(tmp_path / "births_hospital.csv", units=units)


def test_sample_levels_are_realistic(sample_counts):
    year = periods.rollup(sample_counts, "Y", by=[])
    cbr = year["births"] / year["population"] * 1000
    cdr = year["deaths"] / year["population"] * 1000
    assert cbr.between(9, 14).all() and cdr.between(6, 8).all()
    s = sample_counts[["births_male_o1", "births_female_o1", "births_compliant", "births"]].sum()
    srb1 = s.births_male_o1 / s.births_female_o1 * 100
    assert 100 < srb1 < 112
    assert 0.80 < s.births_compliant / s.births < 0.95
    params = synth.parameters()
    assert (params["population0"] < 4000).sum() == 2  # small townships whose rates swing
    assert (params["srb_o2"] > 130).sum() == 3


def test_event_register_is_written_in_chunks(tmp_path):
    path = synth.write_events(tmp_path / "events.parquet", 25_000, n_units=40, chunk=10_000)
    meta = pq.ParquetFile(path)
    assert meta.metadata.num_rows == 25_000
    assert meta.metadata.num_row_groups == 3
    table = pq.read_table(path).to_pandas()
    assert set(table["event"]) == {"birth", "death"}
    births = table[table["event"] == "birth"]
    assert births["mother_age"].between(15, 49).all()
    assert table.loc[table["event"] == "death", "birth_order"].isna().all()
    assert table["date"].min() >= pd.Timestamp("2024-01-01").date()
    assert table["unit"].nunique() <= 40


def test_generator_scales_without_row_loops():
    params = synth.parameters(2000, seed=3)
    counts = synth.make_counts(params, (2024, 2024), seed=3)
    assert len(counts) == 24_000
    assert (counts.drop(columns=["unit", "period"]).to_numpy() >= 0).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_units must be at least 1"):
        synth.make_units(0)
    with pytest.raises(SystemExit):
        synth.main(["--years", "2024-2020"])
    assert np.isclose(synth.ASFR_SHAPE.sum(), 1)
