"""Rank confidence sets: which ranks a unit's true value is compatible with, at 95 %.

A league table ranks estimates, and estimates of small units are noisy. The spread of ranks
under redraws (:func:`fpanalysis.targets.rank_uncertainty`, ``draw_rank_lower`` and
``draw_rank_upper``) is *not* a confidence set for the true rank: redraws centred on the
observed counts inherit the pull of observed ranks towards the middle, and the bootstrap is
not valid for the ranks of near-tied units (Hall and Miller 2009). In an 18-township county
simulated from known rates, the redraw range held the true rank in only 21 % of counties for
all units at once.

The sets here are built from confidence intervals for the pairwise differences
``theta_k - theta_j`` of the true values (Mogstad, Romano, Shaikh and Wilhelm 2024, "Inference
for ranks with applications to mobility across neighbourhoods and academic achievement
across countries", Review of Economic Studies; Klein, Wright and Wieczorek 2020, "A joint
confidence region for an overall ranking of populations", JRSS C). Where the interval for
``theta_k - theta_j`` lies wholly on the worse side, unit ``j`` is surely better than ``k``;
where it lies wholly on the better side, ``j`` is surely worse. Then, with ranks 1 = best and
tied units sharing the better rank::

    rank_set_lower = 1 + #{j : j surely better than k}
    rank_set_upper = K - #{j : j surely worse than k}

* **Marginal set** (``rank_set_lower``, ``rank_set_upper``): for one unit ``k``, Bonferroni
  over its ``K - 1`` differences, each interval at level ``1 - alpha / (K - 1)``. If all of
  them hold, which happens with probability at least ``1 - alpha``, the true rank of ``k`` lies
  in the set. Mogstad et al. use the max-|t| over the same ``K - 1`` differences, which is a
  little narrower; Bonferroni is the conservative version of it.
* **Joint set** (``joint_rank_set_lower``, ``joint_rank_set_upper``): Bonferroni over all
  ``K (K - 1) / 2`` differences; with probability at least ``1 - alpha`` *every* unit's true
  rank lies in its joint set at once. Use it to read the whole table ("which units could be
  last?"), the marginal set to read one row.

Each difference interval is ``d_kj +/- c * sd_kj`` with ``c`` the normal quantile: the
**normal approximation** to the estimate of each difference. It is good when each unit has a
few dozen events or more; it is weakest for units with a handful of events (a rate from 0-5
events is skewed and its standard error, estimated from the count, is too small when the
count is low by chance). The Bonferroni margin absorbs much of that (see
``tests/test_ranks.py`` for the coverage measured at ten events a quarter), but a set for a
unit with single-digit counts should be read as approximate. Pooling several periods or
ranking the parent units is the honest remedy.

Two sources of ``sd_kj``:

* a single indicator's estimates with standard errors (or intervals, converted by
  ``se = (upper - lower) / (2 z)``) from independent units: ``sd_kj = sqrt(se_k^2 + se_j^2)``
  (:func:`rank_sets`);
* a score summed from points over many targets, whose sampling distribution only the redraws
  know: ``sd_kj`` is the standard deviation of ``S_k - S_j`` over the redraws, from their
  covariance matrix (:func:`draw_difference_sd`). The interval is "difference +/- c sd", a
  normal approximation with a redraw-estimated standard error, not a percentile bootstrap
  of the ranks. Scores are step functions of the rates (points for meeting a threshold), and
  the redraws' mean score can differ from the observed one by a whole step (an observed
  100 % meets a ">= 100 %" target, no redraw of it does), so the interval spans both the
  observed and the mean redrawn difference (``also_centre``), +/- c sd. That is
  conservative; the approximation stays coarse for a unit whose rate sits at a threshold.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["confidence_sets", "draw_difference_sd", "rank_sets"]

_SETS = ("rank_set_lower", "rank_set_upper", "joint_rank_set_lower", "joint_rank_set_upper")


def _check_level(level: object, what: str) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float | np.floating) \
            or not 0 < level < 1:
        raise ValueError(f"{what} must be between 0 and 1 (exclusive), got {level!r}")
    return float(level)


def _sets(low: np.ndarray, high: np.ndarray, sd: np.ndarray, c: float
          ) -> tuple[np.ndarray, np.ndarray]:
    """Rank bounds from differences in ``[low, high]`` (``[..., k, j]``, better is positive)
    widened by ``c`` SDs."""
    n = low.shape[-1]
    better = (high + c * sd < 0).sum(axis=-1)  # j surely better than k
    worse = (low - c * sd > 0).sum(axis=-1)  # j surely worse than k
    return 1 + better, n - worse


def confidence_sets(value: np.ndarray, *, se: np.ndarray | None = None,
                    difference_sd: np.ndarray | None = None,
                    also_centre: np.ndarray | None = None, level: float = 0.95,
                    higher_is_better: bool = True) -> dict[str, np.ndarray]:
    """Marginal and joint rank confidence sets from estimates, arrays in and out.

    Parameters
    ----------
    value : array (..., K)
        Estimates of K units; leading axes are independent tables (e.g. simulated counties).
    se : array (..., K), optional
        Standard errors of independent estimates; ``sd_kj = sqrt(se_k^2 + se_j^2)``.
    difference_sd : array (..., K, K), optional
        Standard deviation of ``value_k - value_j`` (e.g. from :func:`draw_difference_sd`).
        Exactly one of ``se`` and ``difference_sd`` is given.
    also_centre : array (..., K), optional
        A second estimate of the values (e.g. the mean over redraws). Each difference's
        interval then runs from the smaller of the two differences minus ``c sd`` to the
        larger plus ``c sd``: conservative where the two disagree, as they do when a score
        is a step function of a rate that sits at its threshold.
    level : float, default 0.95
        Coverage of each marginal set, and of the joint set for all units at once.
    higher_is_better : bool, default True
        Rank 1 goes to the highest value (a score); False ranks the lowest first (a rate
        that should be low).

    Returns
    -------
    dict of int arrays (..., K)
        ``rank`` (observed, ties share the better rank), ``rank_set_lower``,
        ``rank_set_upper`` (marginal, Bonferroni over the unit's K - 1 differences) and
        ``joint_rank_set_lower``, ``joint_rank_set_upper`` (Bonferroni over all pairs).

    Examples
    --------
    Three units with SE 1: differences have SD sqrt(2) = 1.414. K = 3, alpha = 0.05; the
    marginal critical value is z(1 - 0.05 / 4) = 2.241, margin 3.169; the joint one is
    z(1 - 0.05 / 6) = 2.394, margin 3.386. a - b = 2 (not sure), a - c = 5 (a surely
    better than c under both), b - c = 3 (not sure at either margin), so a: 1-2, b: 1-3,
    c: 2-3.

    >>> s = confidence_sets(np.array([10.0, 8.0, 5.0]), se=np.ones(3))
    >>> [s[k].tolist() for k in ("rank", "rank_set_lower", "rank_set_upper")]
    [[1, 2, 3], [1, 1, 2], [2, 3, 3]]
    >>> s["joint_rank_set_lower"].tolist(), s["joint_rank_set_upper"].tolist()
    ([1, 1, 2], [2, 3, 3])
    """
    from scipy import special

    level = _check_level(level, "level")
    if (se is None) == (difference_sd is None):
        raise ValueError("give exactly one of se and difference_sd")
    x = np.asarray(value, dtype=float)
    if x.ndim < 1:
        raise ValueError("value must have a unit axis")
    if not isinstance(higher_is_better, bool | np.bool_):
        raise ValueError(f"higher_is_better must be True or False, got {higher_is_better!r}")
    if not np.isfinite(x).all():
        raise ValueError("every value must be finite: an infinite or missing value cannot "
                         "be ranked with a confidence set")
    n = x.shape[-1]
    if se is not None:
        s = np.asarray(se, dtype=float)
        if s.shape not in ((), x.shape):
            raise ValueError(f"se must match value's shape {x.shape}; got {s.shape}")
        s = np.broadcast_to(s, x.shape)
        if not np.isfinite(s).all():
            raise ValueError("standard errors must be finite")
        if (s < 0).any():
            raise ValueError("standard errors must not be negative")
        sd = np.sqrt(s[..., :, None] ** 2 + s[..., None, :] ** 2)
    else:
        sd = np.asarray(difference_sd, dtype=float)
        if sd.shape[-2:] != (n, n):
            raise ValueError(f"difference_sd must end in ({n}, {n}) axes; got {sd.shape}")
    if np.isnan(x).any() or np.isnan(sd).any():
        raise ValueError("every unit needs a value and a standard error; got NaN")
    if (sd < 0).any():
        raise ValueError("standard errors must not be negative")
    sign = 1.0 if higher_is_better else -1.0
    d = sign * (x[..., :, None] - x[..., None, :])  # > 0: k better than j
    alpha = 1.0 - level
    pairs = max(n - 1, 1)
    c_marginal = special.ndtri(1 - alpha / (2 * pairs))
    c_joint = special.ndtri(1 - alpha / max(n * (n - 1), 1))
    low = high = d
    if also_centre is not None:
        y = np.broadcast_to(np.asarray(also_centre, dtype=float), x.shape)
        if np.isnan(y).any():
            raise ValueError("also_centre needs a value for every unit; got NaN")
        e = sign * (y[..., :, None] - y[..., None, :])
        low, high = np.minimum(d, e), np.maximum(d, e)
    lo, hi = _sets(low, high, sd, c_marginal)
    jlo, jhi = _sets(low, high, sd, c_joint)
    rank = 1 + (d < 0).sum(axis=-1)
    return {"rank": rank, "rank_set_lower": lo, "rank_set_upper": hi,
            "joint_rank_set_lower": jlo, "joint_rank_set_upper": jhi}


def draw_difference_sd(draws: np.ndarray) -> np.ndarray:
    """SD of every pairwise difference over redraws: (draws x K) in, (K x K) out.

    ``Var(S_k - S_j) = Var S_k + Var S_j - 2 Cov(S_k, S_j)``, from one covariance matrix,
    so no (draws x K x K) array is formed.

    Examples
    --------
    >>> d = np.array([[1.0, 0.0, 5.0], [3.0, 2.0, 5.0], [2.0, 1.0, 5.0]])
    >>> draw_difference_sd(d).round(3).tolist()  # unit 0 - unit 1 is 1 in every draw
    [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """
    a = np.asarray(draws, dtype=float)
    if a.ndim != 2 or a.shape[0] < 2:
        raise ValueError("draws must be a (draws x units) array with at least two draws")
    # the covariance by einsum, not np.cov: np.cov calls multi-threaded BLAS, whose threads
    # took 0.2-0.6 s for this (10,000 x 18) product on a busy 2-core machine, einsum 2 ms
    centred = a - a.mean(axis=0)
    cov = np.einsum("ij,ik->jk", centred, centred) / (a.shape[0] - 1)
    v = np.diag(cov)
    return np.sqrt(np.clip(v[:, None] + v[None, :] - 2 * cov, 0.0, None))


def rank_sets(estimates: pd.DataFrame, *, unit: str = "unit", value: str = "value",
              se: str | None = None, lower: str | None = None, upper: str | None = None,
              confidence: float = 0.95, level: float = 0.95,
              higher_is_better: bool = True) -> pd.DataFrame:
    """Rank confidence sets for one indicator's estimates of independent units.

    Parameters
    ----------
    estimates : pandas.DataFrame
        One row per unit: ``unit``, ``value`` and either ``se`` or ``lower`` and ``upper``.
    unit, value, se, lower, upper : str
        Column names. With ``lower`` and ``upper`` (a ``confidence`` interval, e.g. from
        :func:`fpanalysis.indicators.compute`), the standard error is taken as
        ``(upper - lower) / (2 z)``: symmetric normal intervals are assumed, which an exact
        or Wilson interval of a small count is not (see the module notes).
    confidence : float, default 0.95
        Level of the ``lower``/``upper`` interval given.
    level : float, default 0.95
        Level of the rank sets.
    higher_is_better : bool, default True

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``value``, ``se``, ``rank``, ``rank_set_lower``, ``rank_set_upper``,
        ``joint_rank_set_lower``, ``joint_rank_set_upper``; sorted by rank then unit;
        ``attrs["level"]`` and ``attrs["method"]`` say what the sets are.

    Raises
    ------
    ValueError
        On a missing column, a duplicate unit, a missing or non-finite value or standard
        error, or a negative standard error.

    Examples
    --------
    >>> est = pd.DataFrame({"unit": ["a", "b", "c"], "value": [10.0, 8.0, 5.0], "se": 1.0})
    >>> rank_sets(est, se="se")[["unit", "rank", "rank_set_lower", "rank_set_upper"]]
      unit  rank  rank_set_lower  rank_set_upper
    0    a     1               1               2
    1    b     2               1               3
    2    c     3               2               3
    """
    from scipy import special

    if (se is None) == (lower is None or upper is None) or (lower is None) != (upper is None):
        raise ValueError("rank_sets needs either se or both lower and upper")
    cols = [unit, value] + ([se] if se is not None else [lower, upper])
    missing = [c for c in cols if c not in estimates.columns]
    if missing:
        raise ValueError(f"rank_sets needs columns {missing}")
    keys = estimates[unit].astype(str).str.strip()  # " 101", "101" and 101 are one unit
    dup = keys[keys.duplicated()]
    if len(dup):
        raise ValueError(f"rank_sets needs one row per unit; repeated: {sorted(map(str, dup))}")
    x = pd.to_numeric(estimates[value], errors="coerce").to_numpy(dtype=float)
    if se is not None:
        s = pd.to_numeric(estimates[se], errors="coerce").to_numpy(dtype=float)
    else:
        z = special.ndtri(0.5 + _check_level(confidence, "confidence") / 2)
        lo = pd.to_numeric(estimates[lower], errors="coerce").to_numpy(dtype=float)
        hi = pd.to_numeric(estimates[upper], errors="coerce").to_numpy(dtype=float)
        s = (hi - lo) / (2 * z)
    bad = ~np.isfinite(x) | ~np.isfinite(s)
    if bad.any():
        raise ValueError("rank_sets needs a finite value and standard error for every unit; "
                         f"missing for {sorted(map(str, estimates[unit][bad]))}")
    sets = confidence_sets(x, se=s, level=level, higher_is_better=higher_is_better)
    out = pd.DataFrame({"unit": keys.to_numpy(), "value": x, "se": s, **sets})
    out = out.sort_values(["rank", "unit"], kind="stable").reset_index(drop=True)
    out.attrs.update(_attrs(level, "normal intervals for pairwise differences from "
                                   "standard errors of independent estimates"))
    return out


def _attrs(level: float, source: str) -> Mapping[str, object]:
    return {"level": level,
            "method": f"rank confidence sets ({source}): marginal = Bonferroni over the unit's "
                      "K - 1 differences; joint = Bonferroni over all K (K - 1) / 2 pairs"}
