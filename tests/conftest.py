"""Shared fixtures: paths to the project, the sample data and the shared reference values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
# ../shared/reference is read in place, never copied; it is absent in a user's clone
PHE = ROOT.parent / "shared" / "reference" / "phe"


def phe_file(name: str) -> Path:
    """Path of a PHEindicatormethods reference file, or skip the test saying why."""
    path = PHE / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (../shared/reference is only beside the team's "
                    "checkout, not in a user's clone)")
    return path


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def sample_units() -> pd.DataFrame:
    from fpanalysis.io import load_units

    return load_units(SAMPLE)


@pytest.fixture(scope="session")
def sample_counts(sample_units: pd.DataFrame) -> pd.DataFrame:
    from fpanalysis.io import load_counts

    return load_counts(SAMPLE, units=sample_units)


@pytest.fixture
def write(tmp_path: Path):
    """Write text to a file in tmp_path (UTF-8 unless told) and return its path."""

    def _write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return _write

# the WPP extraction script needs h5py, which the project does not install; it is run by
# hand (see its docstring), never collected
collect_ignore = ["reference/extract_wpp.py"]
