"""Least squares for many series at once, with Newey-West (HAC) covariances.

One design matrix, many response columns: the coefficients come from a single solve and the
sandwich covariance is built for every column in one `einsum`, so a portfolio of series that
share dates and go-live is fitted in one pass instead of one statsmodels call per series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

import numpy as np


@dataclass(frozen=True)
class BatchFit:
    """OLS fits of `m` series on one design: `coef` (k, m), `cov` (m, k, k), `resid` (n, m)."""

    coef: np.ndarray
    cov: np.ndarray
    resid: np.ndarray
    df_resid: int


def newey_west_lags(n: int) -> int:
    """The Newey-West (1994) rule of thumb for the HAC truncation lag: floor(4 (n/100)^(2/9))."""
    return max(int(np.floor(4 * (n / 100) ** (2 / 9))), 0)


@overload
def long_run_lags(n: int) -> int: ...
@overload
def long_run_lags(n: np.ndarray) -> np.ndarray: ...
def long_run_lags(n: int | np.ndarray) -> int | np.ndarray:
    """Bandwidth for series with persistent noise: S = ceil(1.3 sqrt(n)), i.e. S - 1 lags
    (Lazarus, Lewis, Stock & Watson 2018, "HAR Inference: Recommendations for Practice").
    An int for an int, an array for an array of lengths."""
    lags = np.maximum(np.ceil(1.3 * np.sqrt(np.maximum(n, 1))).astype(int) - 1, 0)
    return int(lags) if np.ndim(lags) == 0 else lags


def equivalent_df(n: np.ndarray, lags: np.ndarray, df_resid: np.ndarray) -> np.ndarray:
    """Degrees of freedom for the t reference of a Bartlett-kernel HAC t-statistic: the
    long-run variance estimate is roughly chi-square with 3n / (2S) degrees of freedom
    (S = lags + 1), capped by the residual degrees of freedom. One entry per series."""
    df: np.ndarray = np.maximum(1, np.minimum(df_resid, np.floor(1.5 * np.asarray(n) / (lags + 1))))
    return df.astype(int)


def ols_hac(x: np.ndarray, y: np.ndarray, maxlags: int | None = None) -> BatchFit:
    """Fit `y[:, j] = x @ b_j + e_j` for every column j by OLS, with a Newey-West covariance.

    Bartlett kernel with `maxlags` lags (default `newey_west_lags(n)`), no small-sample
    correction: the same numbers as statsmodels'
    `sm.OLS(y[:, j], x).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags})`.
    A rank-deficient design is solved with the pseudo-inverse.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    n = x.shape[0]
    lags = newey_west_lags(n) if maxlags is None else int(maxlags)
    xtx = x.T @ x
    # one eigen-decomposition gives both the pseudo-inverse of X'X and the rank of X
    eigval, eigvec = np.linalg.eigh(xtx)
    keep = eigval > max(eigval.max(initial=0.0), 0.0) * max(x.shape) * np.finfo(float).eps * 1e2
    bread = (eigvec[:, keep] / eigval[keep]) @ eigvec[:, keep].T
    coef = bread @ (x.T @ y)
    resid = y - x @ coef
    scores = x[:, :, None] * resid[:, None, :]  # (n, k, m)
    meat = _bartlett_meat(scores, min(lags, max(n - 1, 0)) + 1)
    cov = bread[None, :, :] @ meat @ bread[None, :, :]
    rank = int(keep.sum()) if n else 0
    return BatchFit(coef=coef, cov=cov, resid=resid, df_resid=max(n - rank, 0))


def _bartlett_meat(scores: np.ndarray, width: int) -> np.ndarray:
    """sum_{t,s} (1 - |t-s|/S)_+ g_t g_s' for every series; `scores` is (n, k, m)."""
    return bartlett_meat_mnk(np.ascontiguousarray(scores.transpose(2, 0, 1)), width)


def bartlett_meat_mnk(scores: np.ndarray, width: int) -> np.ndarray:
    """The Newey-West meat for every series from scores laid out (m, n, k).

    The Bartlett kernel is a triangle, the self-convolution of a box of width S, so the meat
    equals (1/S) sum_j B_j B_j' over all windows of S consecutive scores (windows overhanging
    either end included), with B_j the window sums from cumulative sums. Cost O((n + S) k^2 m)
    whatever the lag, instead of one product per lag.
    """
    m, n, k = scores.shape
    csum = np.zeros((m, n + 2 * width - 1, k))
    np.cumsum(scores, axis=1, out=csum[:, width : width + n])
    csum[:, width + n :] = csum[:, width + n - 1 : width + n]
    windows = csum[:, width:] - csum[:, :-width]  # (m, n + width - 1, k)
    meat: np.ndarray = windows.transpose(0, 2, 1) @ windows / width
    return meat


# from this many numbers in a row of the scores (series x design columns), their running
# sums run as one addition per row over every series: numpy's cumsum down the rows of a wide
# array walks each column separately (~3.5 ns a number), a row's addition is contiguous
# (~1 us a row plus ~0.15 ns a number)
ROWS_TOGETHER = 256


def bartlett_meat(
    resid: np.ndarray, x: np.ndarray, width: int | np.ndarray, chunk: int = 8
) -> np.ndarray:
    """`bartlett_meat_mnk` for scores `resid[:, j] * x` (resid (n, m), x (n, k) shared by every
    series), laid out (n, m, k) so the running sums run down contiguous rows, `chunk` series at
    a time so the window products stay in the CPU cache. `width` (S = lags + 1) is one for all
    series or one per series (each series' own bandwidth, whatever else shares its batch).
    Returns (m, k, k).

    Series are taken in groups of one width, so every window is a plain difference of two
    slices of the running sum (no gather), and the window products are one batched matrix
    product per chunk: half the time of a per-series gather on the bench portfolio's main fit.
    A wide batch (ROWS_TOGETHER numbers a row or more) forms the running sums of every series
    first, one row addition at a time: the same additions in the same order as `np.cumsum`,
    so the same numbers."""
    n, m = resid.shape
    k = x.shape[1]
    out = np.zeros((m, k, k))
    if n == 0 or m == 0:
        return out
    widths = np.broadcast_to(np.asarray(width, dtype=int), (m,))
    order = np.argsort(widths, kind="stable")
    if m * k >= ROWS_TOGETHER:  # series in order of width: a chunk is a slice of the sums
        running = _running_scores(resid[:, order], x)
        sorted_widths = widths[order]
        for lo in np.flatnonzero(np.diff(sorted_widths, prepend=-1)):
            top = int(sorted_widths[lo])
            hi = int(np.searchsorted(sorted_widths, top, side="right"))
            for a in range(lo, hi, chunk):
                part = running[:, a : min(a + chunk, hi)]
                # the windows of S rows (overhanging either end): differences of running sums
                windows = np.empty((n + top - 1, part.shape[1], k))
                windows[:top] = part[:top]
                np.subtract(part[top:], part[: n - top], out=windows[top:n])
                np.subtract(part[n - 1], part[n - top : n - 1], out=windows[n:])
                windows = windows.transpose(1, 0, 2)
                out[order[a : a + part.shape[1]]] = windows.transpose(0, 2, 1) @ windows / top
        return out
    for same in np.split(order, np.flatnonzero(np.diff(widths[order])) + 1):
        top = int(widths[same[0]])
        for a in range(0, len(same), chunk):
            idx = same[a : a + chunk]
            csum = np.zeros((n + 2 * top - 1, len(idx), k))
            np.cumsum(resid[:, idx, None] * x[:, None, :], axis=0, out=csum[top : top + n])
            csum[top + n :] = csum[top + n - 1]
            windows = (csum[top:] - csum[:-top]).transpose(1, 0, 2)  # (chunk, n + top - 1, k)
            out[idx] = windows.transpose(0, 2, 1) @ windows / top
    return out


def _running_scores(resid: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The running sums down the rows of the scores resid[t, j] x[t] (n, m, k): row t the sum
    of rows 0..t, added row by row (as `np.cumsum` adds them)."""
    running: np.ndarray = resid[:, :, None] * x[:, None, :]
    for t in range(1, len(running)):
        np.add(running[t - 1], running[t], out=running[t])
    return running


def pinv_symmetric(a: np.ndarray) -> np.ndarray:
    """`np.linalg.pinv(a, hermitian=True)` for real symmetric matrices `a` (k, k) or (m, k, k), the
    same numbers bit for bit (the same eigendecomposition, the eigenpairs in the same order of
    descending |eigenvalue|, the same cutoff at 1e-15 of the largest, the same product),
    without numpy's general path (its singular value wrapper gathers each array along the
    order with `take_along_axis`): a tenth less time for the backtests' batch of a dozen-column
    Gram matrices, one per origin, and half for the few-column ones."""
    values, vectors = np.linalg.eigh(a)
    order = np.argsort(np.abs(values), axis=-1)[..., ::-1]
    if a.ndim == 2:
        values, vectors = values[order], vectors[:, order]
    else:
        batch = np.arange(len(a))[:, None]
        values = values[batch, order]
        vectors = vectors[batch[:, :, None], np.arange(a.shape[-1])[None, :, None], order[:, None]]
    size = np.abs(values)
    large = size > 1e-15 * size.max(axis=-1, keepdims=True, initial=0.0)
    inverse = np.divide(1.0, size, where=large, out=np.zeros_like(size))
    signed = vectors * np.copysign(1.0, values)[..., None, :]
    product: np.ndarray = np.matmul(signed, inverse[..., None] * np.swapaxes(vectors, -1, -2))
    return product


# `inverse_symmetric` inverts directly where its bound on the condition number stays below
# this: eleven orders of magnitude short of the 1e15 at which `pinv_symmetric` starts dropping
# directions, so the two are the same inverse there (up to rounding)
DIRECT_COND = 1e10


def inverse_symmetric(a: np.ndarray) -> np.ndarray:
    """`pinv_symmetric(a)` for a batch of real symmetric positive semi-definite matrices `a`
    (m, k, k), the backtests' Gram matrices (one per origin), at a seventh of the cost: the
    inverse by LU of the Jacobi-scaled matrix S = D^-1 a D^-1 (D the square roots of the
    diagonal; van der Sluis 1969: the scaling that makes the inverse's error follow S's
    condition number, not a's), rescaled, wherever that matrix is provably far from singular,
    and `pinv_symmetric` for the others. The proof per matrix: S has a unit diagonal, so its
    largest eigenvalue is at most k, and its smallest at least 1 / ||S^-1||_F; a's condition
    number is then at most k ||S^-1||_F max(D^2) / min(D^2), and where that bound is under
    DIRECT_COND no eigenvalue is anywhere near the pseudo-inverse's cutoff (1e-15 of the
    largest): the pseudo-inverse is the inverse. The two differ by rounding only (about the
    condition number times 1e-16, relative)."""
    a = np.asarray(a, dtype=float)
    if len(a) == 0:
        return np.empty_like(a)
    k = a.shape[-1]
    diag = np.diagonal(a, axis1=-2, axis2=-1)
    low, high = diag.min(axis=-1), diag.max(axis=-1)
    scale = 1.0 / np.sqrt(np.where(low[:, None] > 0, diag, 1.0))
    outer = scale[:, :, None] * scale[:, None, :]
    try:
        inverse = np.linalg.inv(a * outer)
    except np.linalg.LinAlgError:  # an exactly singular matrix in the batch
        return pinv_symmetric(a)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        bound = k * np.sqrt(np.einsum("mij,mij->m", inverse, inverse)) * (high / low)
    inverse *= outer
    direct = (low > 0) & (bound < DIRECT_COND)  # False for NaN, infinite or negative
    if not direct.all():
        inverse[~direct] = pinv_symmetric(a[~direct])
    return inverse
