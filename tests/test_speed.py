"""What keeps a report fast: ``import fpanalysis`` pulls in no heavy library, the lazy names
still resolve, and the numpy ranking that replaced ``scipy.stats.rankdata`` in
``targets.rank_uncertainty`` gives scipy's ranks (scipy is the reference here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats

from fpanalysis import ranks
from fpanalysis.targets import _rank_min

ROOT = Path(__file__).resolve().parents[1]

#: Imported only where used; each costs from 0.3 s (openpyxl) to 1.5 s (scipy.stats) when
#: compiled from source, as the report kernel does.
HEAVY = ["scipy.stats", "matplotlib", "statsmodels", "papermill", "nbconvert", "openpyxl",
         "fpanalysis.quality", "fpanalysis.projection", "IPython"]


def _modules_after(code: str) -> dict[str, bool]:
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))")
    env = os.environ | {"PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_fpanalysis_pulls_in_nothing_heavy():
    loaded = _modules_after("import fpanalysis")
    assert not any(loaded.values()), [m for m, v in loaded.items() if v]


def test_report_and_cli_modules_leave_matplotlib_and_scipy_stats_alone():
    loaded = _modules_after("import fpanalysis.report, fpanalysis.cli")
    assert not loaded["scipy.stats"] and not loaded["matplotlib"]
    assert not loaded["papermill"] and not loaded["nbconvert"]


def test_lazy_subpackages_still_resolve():
    import fpanalysis as fp

    assert callable(fp.quality.check_all)
    assert callable(fp.projection.nowcast)
    assert callable(fp.projection.figures.fan_chart)
    from fpanalysis.quality import funnel_chart  # re-exported from quality.figures, lazily

    assert funnel_chart is fp.quality.figures.funnel_chart
    assert {"quality", "projection"} <= set(dir(fp))
    assert "funnel_chart" in dir(fp.quality)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fp.nope  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fp.quality.nope  # noqa: B018


@pytest.mark.parametrize("kind", ["ties", "continuous", "signed_zero", "inf"])
@pytest.mark.parametrize("shape", [(500, 18), (7, 1), (0, 4), (3, 0)])
def test_rank_min_is_scipy_rankdata_min(kind, shape):
    # reference: scipy.stats.rankdata(method="min") row by row, values and dtype
    rng = np.random.default_rng(11)
    a = {"ties": lambda: rng.integers(0, 4, shape).astype(float),
         "continuous": lambda: rng.normal(size=shape),
         "signed_zero": lambda: np.where(rng.random(shape) < 0.5, -0.0, 0.0),
         "inf": lambda: np.where(rng.random(shape) < 0.3, np.inf, rng.integers(0, 3, shape)),
         }[kind]()
    before = a.copy()
    got, want = _rank_min(a), stats.rankdata(a, axis=1, method="min")
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(a, before)  # input not changed


def test_rank_min_by_hand_and_nan_rows_as_scipy():
    # by hand: [3, 1, 3, 2] -> 1 is first, 2 second, the two 3s share third
    assert _rank_min(np.array([[3.0, 1.0, 3.0, 2.0]])).tolist() == [[3, 1, 3, 2]]
    a = np.array([[1.0, np.nan, 0.0], [2.0, 1.0, 1.0]])
    np.testing.assert_array_equal(_rank_min(a), stats.rankdata(a, axis=1, method="min"))


def test_rank_set_critical_values_are_normal_quantiles():
    # ndtri is what scipy.stats.norm.ppf evaluates; the sets match those with norm.ppf's z
    x = np.array([10.0, 12.0, 15.0, 11.0])
    se = np.array([1.0, 1.5, 2.0, 1.2])
    sets = ranks.confidence_sets(x, se=se, level=0.9)
    assert special.ndtri(1 - 0.1 / 6) == stats.norm.ppf(1 - 0.1 / 6)
    # by hand, marginal z = norm.ppf(1 - 0.1 / (2 * 3)) = 2.128 for unit 2 (15): against
    # unit 1 (12) 3 / sqrt(2^2 + 1.5^2) = 1.2 and against unit 3 (11) 4 / sqrt(4 + 1.44)
    # = 1.715, both < 2.128 (not sure); against unit 0 (10) 5 / sqrt(4 + 1) = 2.236 > 2.128
    # (surely above it): no unit surely above, one surely below, so ranks 1-3
    assert (sets["rank_set_lower"][2], sets["rank_set_upper"][2]) == (1, 3)
    # unit 0 (10): 2.236 below unit 2 only (against 1: 2 / 1.803 = 1.11, 3: 1 / 1.562): 2-4
    assert (sets["rank_set_lower"][0], sets["rank_set_upper"][0]) == (2, 4)


# --------------------------------------------------------------------------- _discrete
# Reference: scipy.stats.binom / scipy.stats.poisson themselves; equal means same values
# (NaN where scipy has NaN), same dtype and shape, and a scalar where scipy gives one.

K = np.array([-np.inf, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 5, 9.7, 10, 11, 50, np.inf, np.nan])
N = np.array([0, 1, 2, 5, 10, 10.5, -1, np.nan, 30, 1000])  # 10.5, -1: not a binomial n
P = np.array([0, 1e-9, 0.1, 0.5, 0.9, 1, 1.2, -0.1, np.nan])
Q = np.array([0, 1e-12, 0.001, 0.025, 0.5, 0.975, 0.999, 1, 1.1, -0.1, np.nan])
MU = np.array([0, 1e-9, 0.3, 1, 4.5, 30, 1000, -1, np.nan, np.inf])


def _same(got, want):
    assert type(got) is type(want)
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)  # NaN in the same places counts as equal


@pytest.mark.parametrize("name", ["pmf", "cdf", "sf"])
def test_binomial_functions_are_scipys(name):
    import warnings

    from fpanalysis import _discrete

    ours, theirs = getattr(_discrete, f"binom_{name}"), getattr(stats.binom, name)
    grid = np.broadcast_arrays(K[:, None, None], N[None, :, None], P[None, None, :])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(ours(*grid), theirs(*grid))
        _same(ours(3, 10, 0.3), theirs(3, 10, 0.3))
        _same(ours(np.arange(-1, 12), 10, 0.51), theirs(np.arange(-1, 12), 10, 0.51))
        _same(ours(K, 10.0, P[2]), theirs(K, 10.0, P[2]))


def test_binomial_quantile_is_scipys():
    from fpanalysis import _discrete

    grid = np.broadcast_arrays(Q[:, None, None], N[None, :, None], P[None, None, :])
    _same(_discrete.binom_ppf(*grid), stats.binom.ppf(*grid))
    _same(_discrete.binom_ppf(0.025, 1000, 0.5), stats.binom.ppf(0.025, 1000, 0.5))
    _same(_discrete.binom_ppf(Q, np.array(40.0), 0.3), stats.binom.ppf(Q, np.array(40.0), 0.3))


@pytest.mark.parametrize("name", ["cdf", "sf", "ppf"])
def test_poisson_functions_are_scipys(name):
    from fpanalysis import _discrete

    ours, theirs = getattr(_discrete, f"poisson_{name}"), getattr(stats.poisson, name)
    first = Q if name == "ppf" else K
    grid = np.broadcast_arrays(first[:, None], MU[None, :])
    _same(ours(*grid), theirs(*grid))
    _same(ours(first[3], 2.5), theirs(first[3], 2.5))
    _same(ours(first, 0.0), theirs(first, 0.0))


def test_discrete_functions_agree_at_random_counts():
    from fpanalysis import _discrete

    rng = np.random.default_rng(5)
    n = rng.integers(0, 3000, 400).astype(float)
    p, mu = rng.random(400), rng.random(400) * 200
    k = np.floor(rng.random(400) * (n + 3)) - 1
    for name in ("pmf", "cdf", "sf"):
        _same(getattr(_discrete, f"binom_{name}")(k, n, p), getattr(stats.binom, name)(k, n, p))
    _same(_discrete.binom_ppf(p, n, 0.51), stats.binom.ppf(p, n, 0.51))
    _same(_discrete.poisson_cdf(k, mu), stats.poisson.cdf(k, mu))
    _same(_discrete.poisson_sf(k - 1, mu), stats.poisson.sf(k - 1, mu))
    _same(_discrete.poisson_ppf(p, mu), stats.poisson.ppf(p, mu))


def test_a_report_kernel_needs_no_scipy_stats(sample_dir):
    # every computation the quarterly report makes, in a fresh interpreter
    code = f"""
import fpanalysis as fp
d = {str(sample_dir)!r}
p = fp.parse_period("2024Q4")
units = fp.load_units(d)
counts = fp.load_counts(d, units=units)
fp.indicators.compute(counts, period=p, units=units)
values = fp.load_values(d, units=units)
scheme = fp.load_targets(d, units=units, indicators=list(values["indicator"].unique()))
fp.targets.assess(counts, scheme, periods=fp.periods.quarters_to_date(p), values=values,
                  units=units)
fp.targets.rank_uncertainty(counts, scheme, period=p, values=values, units=units, draws=200)
audits = fp.load_audits(d, units=units, optional=True)
hospital = fp.load_births_hospital(d, units=units, optional=True)
fp.quality.check_all(counts, audits=audits, units=units, period=p, hospital=hospital)
"""
    assert not _modules_after(code)["scipy.stats"]
