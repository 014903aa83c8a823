"""Binomial and Poisson pmf, cdf, sf and ppf as ``scipy.stats.binom``/``poisson`` give them,
without importing :mod:`scipy.stats`.

Importing ``scipy.stats`` takes over a second when modules are compiled from source, as in
a report's kernel, and the data-quality checks need nothing else from it. Each function
repeats what ``scipy.stats.rv_discrete`` does around the distribution's private method
(the argument check, the support, NaN for bad parameters, 0-d in -> scalar out) and calls
the same :mod:`scipy.special` functions, so the results are scipy's, bit for bit
(``tests/test_speed.py`` compares them). Should scipy drop the private binomial ufuncs,
the functions hand over to ``scipy.stats``.
"""

from __future__ import annotations

import numpy as np
from scipy import special

try:
    from scipy.special._ufuncs import _binom_cdf, _binom_pmf, _binom_ppf, _binom_sf
except ImportError:  # pragma: no cover - a scipy without them: use scipy.stats
    _binom_cdf = _binom_pmf = _binom_ppf = _binom_sf = None

__all__ = ["binom_cdf", "binom_pmf", "binom_ppf", "binom_sf", "poisson_cdf", "poisson_ppf",
           "poisson_sf"]


def _put(output: np.ndarray, mask: np.ndarray, values: object) -> None:
    np.place(output, np.broadcast_to(mask, output.shape), values)


def _out(output: np.ndarray) -> np.ndarray | np.float64:
    return output[()] if output.ndim == 0 else output


def _binom_ok(n: np.ndarray, p: np.ndarray) -> np.ndarray:
    return (n >= 0) & (n == np.round(n)) & (p >= 0) & (p <= 1)


def _cdf(k, args, ok, low, high, method):
    k = np.asarray(np.asarray(k) - np.asarray(0))  # as rv_discrete: k - loc
    args = [np.asarray(a) for a in args]
    ok = ok(*args)
    cond = ok & (k >= low) & (k < high(*args)) & np.isfinite(k)
    output = np.zeros(np.broadcast_shapes(cond.shape, k.shape), "d")
    _put(output, k >= high(*args), 1.0)
    _put(output, np.isneginf(k), 0.0)
    _put(output, ~ok | np.isnan(k), np.nan)
    if cond.any():
        good = [np.broadcast_to(a, cond.shape)[cond] for a in (k, *args)]
        np.place(output, cond, np.clip(method(np.floor(good[0]), *good[1:]), 0, 1))
    return _out(output)


def _sf(k, args, ok, low, high, method):
    k = np.asarray(np.asarray(k) - np.asarray(0))  # as rv_discrete: k - loc
    args = [np.asarray(a) for a in args]
    ok = ok(*args)
    cond = ok & (k >= low) & (k < high(*args)) & np.isfinite(k)
    output = np.zeros(np.broadcast_shapes(cond.shape, k.shape), "d")
    _put(output, ~ok | np.isnan(k), np.nan)
    _put(output, ((k < low) | np.isneginf(k)) & ok, 1.0)
    if cond.any():
        good = [np.broadcast_to(a, cond.shape)[cond] for a in (k, *args)]
        np.place(output, cond, np.clip(method(np.floor(good[0]), *good[1:]), 0, 1))
    return _out(output)


def _ppf(q, args, ok, low, high, method):
    q = np.asarray(q)
    args = [np.asarray(a) for a in args]
    ok = ok(*args)
    cond = ok & (q > 0) & (q < 1)
    output = np.full(np.broadcast_shapes(cond.shape, q.shape), np.nan, dtype="d")
    at0 = np.broadcast_to((q == 0) & ok, output.shape)
    at1 = np.broadcast_to((q == 1) & ok, output.shape)
    np.place(output, at0, np.broadcast_to(np.asarray(low - 1), at0.shape)[at0])
    np.place(output, at1, np.broadcast_to(high(*args), at1.shape)[at1])
    if cond.any():
        good = [np.broadcast_to(a, cond.shape)[cond] for a in (q, *args)]
        np.place(output, cond, method(*good))
    return _out(output)


def binom_pmf(k, n, p):
    """``scipy.stats.binom.pmf(k, n, p)``."""
    if _binom_pmf is None:  # pragma: no cover
        from scipy import stats

        return stats.binom.pmf(k, n, p)
    k, n, p = np.asarray(np.asarray(k) - np.asarray(0)), np.asarray(n), np.asarray(p)
    ok = _binom_ok(n, p)
    cond = ok & (k >= 0) & (k <= n) & (np.floor(k) == k)
    output = np.zeros(np.broadcast_shapes(cond.shape, k.shape), "d")
    _put(output, ~ok | np.isnan(k), np.nan)
    if cond.any():
        good = [np.broadcast_to(a, cond.shape)[cond] for a in (k, n, p)]
        np.place(output, cond, np.clip(_binom_pmf(*good), 0, 1))
    return _out(output)


def binom_cdf(k, n, p):
    """``scipy.stats.binom.cdf(k, n, p)``."""
    if _binom_cdf is None:  # pragma: no cover
        from scipy import stats

        return stats.binom.cdf(k, n, p)
    return _cdf(k, (n, p), _binom_ok, 0, lambda n, p: n, _binom_cdf)


def binom_sf(k, n, p):
    """``scipy.stats.binom.sf(k, n, p)``."""
    if _binom_sf is None:  # pragma: no cover
        from scipy import stats

        return stats.binom.sf(k, n, p)
    return _sf(k, (n, p), _binom_ok, 0, lambda n, p: n, _binom_sf)


def binom_ppf(q, n, p):
    """``scipy.stats.binom.ppf(q, n, p)``."""
    if _binom_ppf is None:  # pragma: no cover
        from scipy import stats

        return stats.binom.ppf(q, n, p)
    return _ppf(q, (n, p), _binom_ok, 0, lambda n, p: n, _binom_ppf)


def _poisson_ok(mu: np.ndarray) -> np.ndarray:
    return mu >= 0


def _poisson_ppf(q: np.ndarray, mu: np.ndarray) -> np.ndarray:
    vals = np.ceil(special.pdtrik(q, mu))
    vals1 = np.maximum(vals - 1, 0)
    return np.where(special.pdtr(vals1, mu) >= q, vals1, vals)


def poisson_cdf(k, mu):
    """``scipy.stats.poisson.cdf(k, mu)``."""
    return _cdf(k, (mu,), _poisson_ok, 0, lambda mu: np.inf, special.pdtr)


def poisson_sf(k, mu):
    """``scipy.stats.poisson.sf(k, mu)``."""
    return _sf(k, (mu,), _poisson_ok, 0, lambda mu: np.inf, special.pdtrc)


def poisson_ppf(q, mu):
    """``scipy.stats.poisson.ppf(q, mu)``."""
    return _ppf(q, (mu,), _poisson_ok, 0, lambda mu: np.asarray(np.inf), _poisson_ppf)
