"""Independent high-precision binomial and Poisson tail probabilities, for checking exact
confidence limits at counts up to 10^10.

Method (not the one fpanalysis uses): the first term of the tail, e.g. log P(X = x), is
computed with mpmath at 40 significant digits from log-gamma functions; the following terms
come from the exact ratio of successive probabilities, pmf(k+1)/pmf(k) = (n-k)/(k+1) · p/(1-p)
(binomial) or λ/(k+1) (Poisson), accumulated as a cumulative sum of logarithms over enough
terms (60 standard deviations) that the rest is below 1e-300. The tail probability is then
accurate to about 1e-11 relative, far more than is needed to decide on which side of a
limit p·(1 ± 1e-9) the true root lies: near such a limit the tail changes by more than
1e-9 relative per 1e-9 relative change of p.

mpmath's own ``betainc`` cannot serve here: it takes minutes for a single call at n = 10^8.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

mp.mp.dps = 40


def _sum_from(log_first: mp.mpf, log_ratios: np.ndarray) -> float:
    lr = np.concatenate([[0.0], np.cumsum(log_ratios)])
    top = lr.max()
    return float(mp.exp(log_first + top)) * float(np.exp(lr - top).sum())


def binom_upper_tail(x: float, n: float, p: float) -> float:
    """P(X >= x) for X ~ Bin(n, p)."""
    if x <= 0:
        return 1.0
    sd = float(np.sqrt(n * p * (1 - p))) + 1
    terms = int(min(n - x + 1, 60 * sd + 200))
    k = np.arange(terms - 1, dtype=float) + x
    ratios = np.log(n - k) - np.log(k + 1) + (np.log(p) - np.log1p(-p))
    X, N, P = mp.mpf(x), mp.mpf(n), mp.mpf(p)
    first = (mp.loggamma(N + 1) - mp.loggamma(X + 1) - mp.loggamma(N - X + 1)
             + X * mp.log(P) + (N - X) * mp.log1p(-P))
    return _sum_from(first, ratios)


def binom_lower_tail(x: float, n: float, p: float) -> float:
    """P(X <= x) for X ~ Bin(n, p), as the upper tail of n - X ~ Bin(n, 1 - p)."""
    return binom_upper_tail(n - x, n, 1 - p)


def poisson_upper_tail(x: float, lam: float) -> float:
    """P(X >= x) for X ~ Poisson(lam)."""
    if x <= 0:
        return 1.0
    terms = int(60 * (np.sqrt(lam) + 1) + 200)
    k = np.arange(terms - 1, dtype=float) + x
    ratios = np.log(lam) - np.log(k + 1)
    X, L = mp.mpf(x), mp.mpf(lam)
    return _sum_from(X * mp.log(L) - L - mp.loggamma(X + 1), ratios)


def poisson_lower_tail(x: float, lam: float) -> float:
    """P(X <= x) for X ~ Poisson(lam), summed downwards from x."""
    terms = int(min(x + 1, 60 * (np.sqrt(lam) + 1) + 200))
    k = x - np.arange(terms - 1, dtype=float)
    ratios = np.log(k) - np.log(lam)  # pmf(k-1)/pmf(k) = k/lam
    X, L = mp.mpf(x), mp.mpf(lam)
    return _sum_from(X * mp.log(L) - L - mp.loggamma(X + 1), ratios)
