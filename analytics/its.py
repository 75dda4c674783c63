"""Interrupted time series: segmented regression of a series on its pre-period level, trend and
seasonality, with the post window split into up to three segments (early, middle, late).

The counterfactual is the fitted level + trend + season with the post-segment terms switched off;
the effect is the average gap between the observed series and that counterfactual over the post
window (Wagner et al. 2002, "Segmented regression analysis of interrupted time series studies").
Every series sharing dates and design columns is fitted in one batched solve, whatever its
go-live: each series carries its own pre-period mask and post-window segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.frequency import as_days, day_of_week, quarter, time_index, year_fraction
from analytics.hac import bartlett_meat, equivalent_df, long_run_lags
from analytics.results import Frequency

MIN_PRE: dict[Frequency, int] = {"D": 21, "W": 8, "M": 6, "Q": 6, "Y": 3}
MIN_POST: dict[Frequency, int] = {"D": 7, "W": 4, "M": 3, "Q": 2, "Y": 2}
SEGMENTS_FROM = 9  # post points needed to split the post window into early / middle / late
GRAM_BY_PRODUCT = 4  # up to this many series, one X'X product each beats a running sum
FEW_FORMS = 16  # up to this many series, x_t' V x_t row by row beats the triangle trick
SEASONAL = ("dow_", "qtr_", "annual")  # seasonal design columns, by name prefix
ANNUAL = ("qtr_", "annual")  # ... those of the annual season
COLUMNS_PER_PRODUCT = 32  # larger products go to BLAS threads, a loss on a loaded machine
# a lag-one autocorrelation used in a variance is clipped to [0, RHO_MAX]: negative noise
# autocorrelation would narrow the interval, and near 1 the AR(1) variance factor explodes
RHO_MAX = 0.97
DESIGNS_KEPT = 64  # design matrices memoised (`design_matrix`): ~70 kB each at 730 dates
COLUMN_SETS_KEPT = 4096  # pre-periods whose columns are memoised (`columns_for`)
FILTER_TOGETHER = 24  # from this many series, the AR(1) sandwich filters them in one pass
SERIES_PER_PRODUCT = 4  # ... and sums X'LX in products of this many series' columns (48 at k 12)


@dataclass(frozen=True)
class Design:
    """Baseline regression columns over `n` dates, shared by every series fitted with it, and
    each series' windows as row bounds: the pre-period is rows [0, n_pre); segment s of the
    post window is rows [edges[s], edges[s + 1]) (early, middle, late), empty past the series'
    own number of segments. `n_pre` is (1,) and `edges` (1, n_segments + 1) for one go-live
    (`single`), else one row per series; the masks `pre`, `post` and `segment` are then (n,),
    else (n, m)."""

    x: np.ndarray
    names: tuple[str, ...]
    t: np.ndarray  # time in periods
    n_pre: np.ndarray
    edges: np.ndarray
    n_segments: int
    trend_col: int | None
    seasonal_cols: tuple[int, ...]
    spike_col: int | None
    single: bool  # one go-live for every series fitted with it (build_design)

    def _shaped(self, mask: np.ndarray) -> np.ndarray:
        return mask[:, 0] if self.single else mask

    @cached_property
    def pre(self) -> np.ndarray:
        """Rows the baseline is fitted on."""
        return self._shaped(np.arange(len(self.x))[:, None] < self.n_pre[None, :])

    @cached_property
    def post(self) -> np.ndarray:
        """Rows of the post window (rows in neither are left out)."""
        rows = np.arange(len(self.x))[:, None]
        return self._shaped((rows >= self.edges[None, :, 0]) & (rows < self.edges[None, :, -1]))

    @cached_property
    def segment(self) -> np.ndarray:
        """-1 outside the post window, else 0 (early) .. n_segments - 1 (late)."""
        rows = np.arange(len(self.x))[:, None, None]
        inside = (rows >= self.edges[None, :, 1:-1]).sum(axis=2)  # inner edges passed
        return self._shaped(np.where(self.post.reshape(len(self.x), -1), inside, -1))

    @cached_property
    def n_segments_each(self) -> np.ndarray:
        """The number of (non-empty) post-window segments of each series."""
        counts: np.ndarray = (np.diff(self.edges, axis=1) > 0).sum(axis=1)
        return counts

    @cached_property
    def n_slow(self) -> int:
        """Columns that vary slowly over time (level, trend, annual terms, the end-of-pre
        spell): they soak up the slow part of autocorrelated noise."""
        return sum(1 for name in self.names if not name.startswith(("dow_", "qtr_")))

    @cached_property
    def annual_season(self) -> bool:
        """The design models the annual season (Fourier terms, or quarter dummies)."""
        return any(self.names[c].startswith(ANNUAL) for c in self.seasonal_cols)


@dataclass(frozen=True)
class SegmentedFit:
    """Segmented-regression results for `m` series (arrays of length m unless noted)."""

    effect_abs: np.ndarray
    se_abs: np.ndarray
    df_resid: np.ndarray  # degrees of freedom of the t reference (see hac.equivalent_df)
    baseline: np.ndarray  # counterfactual mean over the post window
    segment_effect: np.ndarray  # (m, segments)
    segment_se: np.ndarray  # (m, segments)
    counterfactual: np.ndarray  # (n, m)
    cf_se: np.ndarray  # (n, m) standard error of the counterfactual mean
    trend_contribution: np.ndarray  # how much of the naive pre/post change the trend explains
    trend_t: np.ndarray
    seasonal_contribution: np.ndarray  # how much of the naive pre/post change the season explains
    spike_coef: np.ndarray
    spike_t: np.ndarray
    resid_sd: np.ndarray
    rho: np.ndarray  # lag-one autocorrelation of the pre-period residuals (bias-corrected)


def _edges(start: np.ndarray, end: np.ndarray, segments: int | None) -> tuple[np.ndarray, int]:
    """Split each post window, rows [start, end), into early / middle / late thirds (one
    segment when the window is short, or `segments` when given): row r of the window is in
    segment floor(r n_seg / n_post), so segment s starts ceil(s n_post / n_seg) rows in.
    Returns the segment edges (m, n_segments + 1) and n_segments, the most any series has."""
    n_post = np.maximum(end - start, 0)
    if segments is None:
        n_seg = np.where(n_post >= SEGMENTS_FROM, 3, 1)
    else:
        n_seg = np.full_like(n_post, segments)
    n_seg = np.minimum(n_seg, np.maximum(n_post, 1))
    width = int(n_seg.max(initial=1)) if (n_post > 0).any() else 0
    s = np.arange(max(width, 1) + 1)[None, :]
    offset = np.minimum(-((-s * n_post[:, None]) // n_seg[:, None]), n_post[:, None])
    return start[:, None] + offset, width


def columns_for(
    dates: np.ndarray, n_pre: int, freq: Frequency, trend: bool, seasonal: bool
) -> tuple[str, ...]:
    """Which baseline columns a pre-period (the first `n_pre` dates) supports: day-of-week
    dummies with four weeks of daily pre-period (weekdays seen at least twice), quarter dummies
    with two years of quarterly pre-period (quarters seen at least twice), annual Fourier pairs
    for daily, weekly and monthly data with a year of pre-period (two pairs from 20 points,
    else one). Memoised by the pre-period's dates (backtests ask for every origin's
    columns, and every series of an axis for the same ones)."""
    prefix = np.asarray(dates[: max(n_pre, 0)], dtype="datetime64[ns]")
    return _columns_for(prefix.tobytes(), n_pre, freq, trend, seasonal)


@lru_cache(maxsize=COLUMN_SETS_KEPT)
def _columns_for(
    pre: bytes, n_pre: int, freq: Frequency, trend: bool, seasonal: bool
) -> tuple[str, ...]:
    dates = np.frombuffer(pre, dtype="datetime64[ns]")
    names = ["intercept"] + (["trend"] if trend else [])
    if seasonal and freq == "D" and n_pre >= 28:
        seen = np.bincount(day_of_week(dates[:n_pre]), minlength=7)
        names += [f"dow_{d}" for d in range(1, 7) if seen[d] >= 2]
    if seasonal and freq == "Q" and n_pre >= 8:
        seen = np.bincount(quarter(dates[:n_pre]), minlength=4)
        names += [f"qtr_{q}" for q in range(1, 4) if seen[q] >= 2]
    span = int(as_days(dates[n_pre - 1 : n_pre])[0] - as_days(dates[:1])[0]) if n_pre else 0
    if seasonal and freq in ("D", "W", "M") and span >= 364 and n_pre >= 12:
        for h in range(1, (2 if n_pre >= 20 else 1) + 1):
            names += [f"annual_sin{h}", f"annual_cos{h}"]
    return tuple(names)


def design_matrix(
    dates: npt.ArrayLike, freq: Frequency, names: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The baseline columns `names` (as `columns_for` names them) over `dates`: (n, k) design
    and the time index in periods (n,). Every column is a function of its own date and the
    first date, so the design of a prefix of `dates` is the prefix of the design.

    Memoised by date axis (the series of a portfolio share theirs, and the model family asks
    for the same columns many times: main fits, placebos, backtests, break scans); the arrays
    returned are read-only."""
    values = np.asarray(dates, dtype="datetime64[ns]")
    return _design_columns(values.tobytes(), freq, names)


@lru_cache(maxsize=DESIGNS_KEPT)
def _design_columns(
    axis: bytes, freq: Frequency, names: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    dates = np.frombuffer(axis, dtype="datetime64[ns]")
    t = time_index(dates, freq, pd.Timestamp(dates[0])) if len(dates) else np.zeros(0)
    dow = day_of_week(dates) if any(n.startswith("dow_") for n in names) else None
    qtr = quarter(dates) if any(n.startswith("qtr_") for n in names) else None
    phase = 2 * np.pi * year_fraction(dates) if any(n.startswith("annual") for n in names) else None
    cols = []
    for name in names:
        if name == "intercept":
            cols.append(np.ones(len(dates)))
        elif name == "trend":
            cols.append(t)
        elif name.startswith("dow_"):
            assert dow is not None  # computed above when a name asks for it
            cols.append((dow == int(name[4:])).astype(float))
        elif name.startswith("qtr_"):
            assert qtr is not None
            cols.append((qtr == int(name[4:])).astype(float))
        else:
            assert phase is not None
            h = int(name[-1])
            cols.append(np.sin(h * phase) if "sin" in name else np.cos(h * phase))
    x = np.column_stack(cols)
    x.flags.writeable = False  # shared by every caller of the cache
    t.flags.writeable = False
    return x, t


def _design(
    x: np.ndarray,
    names: tuple[str, ...],
    t: np.ndarray,
    n_pre: np.ndarray,
    edges: np.ndarray,
    n_seg: int,
    single: bool,
) -> Design:
    return Design(
        x=x,
        names=names,
        t=t,
        n_pre=n_pre,
        edges=edges,
        n_segments=n_seg,
        trend_col=names.index("trend") if "trend" in names else None,
        seasonal_cols=tuple(i for i, n in enumerate(names) if n.startswith(SEASONAL)),
        spike_col=names.index("pre_spike") if "pre_spike" in names else None,
        single=single,
    )


def build_design(
    dates: npt.ArrayLike,
    go_live: pd.Timestamp,
    freq: Frequency,
    *,
    trend: bool = True,
    seasonal: bool = True,
    spike: int = 0,
    segments: int | None = None,
) -> Design:
    """The design for series sharing one go-live: intercept, trend, day-of-week dummies, annual
    Fourier pairs (as the pre-period supports them), an optional dummy on the last `spike`
    pre-period points; the post window split into segments. `dates` are sorted."""
    dates = np.asarray(dates, dtype="datetime64[ns]")
    n_pre = np.searchsorted(dates, np.datetime64(go_live, "ns"))
    names = columns_for(dates, int(n_pre), freq, trend, seasonal)
    x, t = design_matrix(dates, freq, names)
    edges, n_seg = _edges(np.array([n_pre]), np.array([len(dates)]), segments)
    return add_spike(_design(x, names, t, np.array([n_pre]), edges, n_seg, True), spike)


def batch_designs(
    dates: npt.ArrayLike,
    starts: np.ndarray,
    freq: Frequency,
    ends: np.ndarray | None = None,
    *,
    trend: bool = True,
    seasonal: bool = True,
) -> list[tuple[np.ndarray, Design]]:
    """Designs for series sharing (sorted) dates but not go-live. Series j is fitted on the
    dates before `starts[j]` and its post window runs from `starts[j]` to `ends[j]`
    (open-ended by default; a placebo go-live ends at the real one). The series are grouped by
    the columns their pre-periods support (`trend` and `seasonal` as in `build_design`); each
    group gets one design with a row of window bounds per series. Returns (indices into
    `starts`, design) pairs."""
    dates = np.asarray(dates, dtype="datetime64[ns]")
    n_pre = np.searchsorted(dates, np.asarray(starts, dtype="datetime64[ns]"))
    end = (
        np.full(len(n_pre), len(dates))
        if ends is None
        else np.searchsorted(dates, np.asarray(ends, dtype="datetime64[ns]"))
    )
    groups: dict[tuple[str, ...], list[int]] = {}
    names_by_pre: dict[int, tuple[str, ...]] = {}  # series of one pilot share a pre-period
    for j, p in enumerate(n_pre.tolist()):
        if p not in names_by_pre:
            names_by_pre[p] = columns_for(dates, p, freq, trend, seasonal)
        groups.setdefault(names_by_pre[p], []).append(j)
    out = []
    for names, members in groups.items():
        idx = np.asarray(members)
        x, t = design_matrix(dates, freq, names)
        edges, n_seg = _edges(n_pre[idx], end[idx], None if ends is None else 1)
        out.append((idx, _design(x, names, t, n_pre[idx], edges, n_seg, False)))
    return out


def add_spike(design: Design, k: int) -> Design:
    """The same design with a dummy on the last `k` pre-period points (one go-live only)."""
    if k <= 0 or not design.single:
        return design
    n_pre = int(design.n_pre[0])
    if n_pre <= k:
        return design
    column = np.zeros(len(design.x))
    column[n_pre - k : n_pre] = 1.0
    names = (*design.names, "pre_spike")
    return _design(
        np.column_stack([design.x, column]),
        names,
        design.t,
        design.n_pre,
        design.edges,
        design.n_segments,
        True,
    )


def ar1_mean_variance(sigma2: np.ndarray, rho: np.ndarray, n: npt.ArrayLike) -> np.ndarray:
    """Variance of the mean of `n` consecutive AR(1) points with marginal variance `sigma2`
    and lag-one autocorrelation `rho`:
    sigma2/n * [(1+rho)/(1-rho) - 2 rho (1-rho^n) / (n (1-rho)^2)]."""
    n = np.asarray(n, dtype=float)
    safe = np.maximum(n, 1.0)
    factor = (1 + rho) / (1 - rho) - 2 * rho * (1 - rho**safe) / (safe * (1 - rho) ** 2)
    return np.where(n > 0, sigma2 / safe * np.maximum(factor, 1.0 / safe), np.nan)


def ar1_sandwich(
    x: np.ndarray,
    sigma2: np.ndarray,
    rho: np.ndarray,
    lengths: np.ndarray | None = None,
    bread: np.ndarray | None = None,
    gram: np.ndarray | None = None,
) -> np.ndarray:
    """OLS coefficient covariance under AR(1) noise, per series:
    (X'X)^-1 X' Sigma X (X'X)^-1 with Sigma_ts = sigma2 rho^|t-s|, over the first `lengths[j]`
    rows (a pre-period; all rows by default). With L the lower triangle of Sigma / sigma2
    (rho^(t-s), s <= t), X' Sigma X / sigma2 = X'LX + (X'LX)' - X'X, and LX is one recursive
    filter per series (O(n k)): never the n x n matrix. `gram` (X'X over each series' rows)
    is reused when the caller has it."""
    from scipy import signal

    m = len(rho)
    if lengths is None:
        lengths = np.full(m, len(x))
    if bread is None:
        bread = np.stack([np.linalg.pinv(x[:p].T @ x[:p]) for p in lengths])
    k = x.shape[1]
    if m >= FILTER_TOGETHER:  # one pass for the batch, and X'LX as a few matrix products
        top = int(np.max(lengths, initial=0))
        filtered = _ar1_filter(x[:top], rho)  # (top, m, k)
        filtered *= (np.arange(top)[:, None] < lengths[None, :])[:, :, None]  # each its rows
        lower = np.empty((m, k, k))
        xt = x[:top].T
        for a in range(0, m, SERIES_PER_PRODUCT):
            part = filtered[:, a : a + SERIES_PER_PRODUCT].reshape(top, -1)
            lower[a : a + SERIES_PER_PRODUCT] = (xt @ part).reshape(k, -1, k).transpose(1, 0, 2)
        own = np.stack([x[:p].T @ x[:p] for p in lengths]) if gram is None else gram
        meat = (lower + lower.transpose(0, 2, 1) - own) * sigma2[:, None, None]
    else:
        meat = np.empty((m, k, k))
        for j, (r, p) in enumerate(zip(rho, lengths, strict=True)):
            xj = x[:p]
            filtered = signal.lfilter([1.0], [1.0, -r], xj, axis=0)
            lower = xj.T @ filtered
            meat[j] = (lower + lower.T - (xj.T @ xj if gram is None else gram[j])) * sigma2[j]
    cov: np.ndarray = bread @ meat @ bread
    return cov


def _ar1_filter(x: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """L_j x for every series j at once: z_t = rho_j z_(t-1) + x_t down the rows of `x` (n, k),
    laid out (n, m, k). The same operations as scipy's `signal.lfilter([1], [1, -rho_j], x,
    axis=0)` (the same numbers, bit for bit): one pass over the rows for the whole batch
    instead of one filter per series, which wins from about FILTER_TOGETHER series. Each row
    is one contiguous product and one sum over all m k numbers (a coefficient per number)."""
    n, k = x.shape
    out = np.empty((n, len(rho), k))
    if n == 0:
        return out
    out[:] = x[:, None, :]
    flat = out.reshape(n, -1)
    r = np.repeat(np.asarray(rho, dtype=float), k)
    carried = np.empty_like(r)
    for t in range(1, n):
        np.multiply(r, flat[t - 1], out=carried)
        flat[t] += carried
    return out


def _pre_gram(x: np.ndarray, n_pre: np.ndarray) -> np.ndarray:
    """X' P_j X for every series j, P_j its pre-period (the first n_pre[j] rows): a few series
    take one product each over their prefix, and many read their Gram matrices off one running
    sum of outer products."""
    if len(n_pre) <= GRAM_BY_PRODUCT:
        return np.stack([x[:p].T @ x[:p] for p in n_pre])
    used = x[: max(int(n_pre.max(initial=0)), 1)]
    running = np.cumsum(used[:, :, None] * used[:, None, :], axis=0)
    at = np.maximum(n_pre - 1, 0)
    return np.where((n_pre > 0)[:, None, None], running[at], 0.0)


def _product(a: np.ndarray, b: np.ndarray, chunk: int = COLUMNS_PER_PRODUCT) -> np.ndarray:
    """a @ b, `chunk` columns of b at a time: small products stay on one core, so a large
    batch of series costs what its parts cost (one product over 128 series ran on BLAS threads
    and took four times the CPU of four products over 32)."""
    if b.shape[1] <= chunk:
        product: np.ndarray = a @ b
        return product
    return np.concatenate([a @ b[:, i : i + chunk] for i in range(0, b.shape[1], chunk)], axis=1)


def _quadratic_forms(x: np.ndarray, cov: np.ndarray, chunk: int = 4) -> np.ndarray:
    """x_t' V_j x_t for every row t and series j, (n, m): the upper triangle of x_t x_t' (off
    the diagonal doubled) times the upper triangle of each V_j, as matrix products over `chunk`
    series at a time (small enough that BLAS does not spread them over threads)."""
    if len(cov) == 0:
        return np.zeros((len(x), 0))
    if len(cov) <= FEW_FORMS:  # building the triangle rows costs more than a few direct forms
        forms: np.ndarray = np.einsum("tk,mtk->tm", x, x @ cov)
        return forms
    upper_a, upper_b = np.triu_indices(x.shape[1])
    rows = x[:, upper_a] * x[:, upper_b] * np.where(upper_a == upper_b, 1.0, 2.0)
    flat = cov[:, upper_a, upper_b]
    return np.concatenate(
        [rows @ flat[a : a + chunk].T for a in range(0, len(cov), chunk)], axis=1
    ).reshape(len(x), len(cov))


def rank_threshold(top: npt.ArrayLike, n: int, k: int) -> np.ndarray:
    """The eigenvalue of X'X (n rows, k columns, largest eigenvalue `top`) below which
    `fit_segmented` treats a direction as not identified: top max(n, k) eps 100."""
    threshold: np.ndarray = np.asarray(top) * max(n, k) * np.finfo(float).eps * 1e2
    return threshold


def fit_segmented(
    design: Design, y: np.ndarray, maxlags: int | None = None, *, bands: bool = True
) -> SegmentedFit:
    """Fit the counterfactual model on each series' pre-period, project it over the post
    window and read off the effect as the mean gap observed - counterfactual.

    Var(effect) = xbar' V xbar + Var(mean of the post noise). V is the covariance of the
    pre-period coefficients: the larger of HAC (Bartlett, `long_run_lags` of the series' own
    pre-period length, or `maxlags` for every series) and an AR(1)
    sandwich; xbar is the mean post-window design row. The post noise is AR(1) with the
    pre-period residuals' variance and lag-one autocorrelation (Kendall bias-corrected, clipped
    to [0, 0.97]). The same for each post segment. Fitting the pre-period alone keeps the post
    window out of the counterfactual; a HAC variance of post-period level dummies would shrink
    towards zero, since in-sample residuals under a dummy sum to zero.

    Every window is a run of rows (the pre-period a prefix, the post window and its segments
    contiguous), so window sums and means are differences of running sums.
    `bands=False` leaves `cf_se` NaN (the per-date band costs a quadratic form per date).
    """
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    n, m = y.shape
    x = design.x
    k = x.shape[1]
    n_pre = np.broadcast_to(design.n_pre, (m,))
    edges = np.broadcast_to(design.edges, (m, design.edges.shape[1]))
    rows = np.arange(m)[:, None]
    # each series' own bandwidth from its own pre-period length: a series' interval must not
    # depend on which other series share its batch
    lags = long_run_lags(n_pre) if maxlags is None else np.full(m, int(maxlags))
    # per-series OLS on the pre-period rows: (X' P_j X)^+ X' P_j y_j
    used = int(n_pre.max(initial=0))  # rows after the last pre-period row carry no residual
    pre_f = (np.arange(used)[:, None] < n_pre[None, :]).astype(float)
    # series with one pre-period length (a pilot's metrics) share X' P X: decompose each once
    lengths, which = np.unique(n_pre, return_inverse=True)
    gram = _pre_gram(x, lengths)
    eigval, eigvec = np.linalg.eigh(gram)
    top = np.maximum(eigval.max(axis=1, keepdims=True), 0.0)
    keep = eigval > rank_threshold(top, n, k)
    inv = np.where(keep, 1.0 / np.where(keep, eigval, 1.0), 0.0)
    bread = ((eigvec * inv[:, None, :]) @ eigvec.transpose(0, 2, 1))[which]
    rank = keep.sum(axis=1)[which]
    gram = gram[which]
    coef = np.einsum("mkj,jm->km", bread, _product(x[:used].T, y[:used] * pre_f))
    cf = _product(x, coef)
    resid = (y[:used] - cf[:used]) * pre_f
    meat = bartlett_meat(resid, x[:used], np.minimum(lags, max(n - 1, 0)) + 1)
    hac_cov = bread @ meat @ bread
    dof = np.maximum(n_pre - rank, 1)
    denom = np.einsum("tm,tm->m", resid, resid)
    sigma2 = denom / dof
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(denom > 0, np.einsum("tm,tm->m", resid[1:], resid[:-1]) / denom, 0.0)
    rho = np.clip(unbiased_rho(nan_to_num(rho), n_pre, design.n_slow), 0.0, RHO_MAX)
    # The larger of the HAC and the AR(1) sandwich covariance of the baseline coefficients:
    # HAC with a moderate bandwidth understates the variance of slow regressors (trend, annual
    # terms) under persistent noise; the parametric AR(1) sandwich does not.
    ar1_cov = ar1_sandwich(x, sigma2, rho, n_pre, bread, gram)
    bigger = np.einsum("mkk->m", ar1_cov) > np.einsum("mkk->m", hac_cov)
    coef_cov = np.where(bigger[:, None, None], ar1_cov, hac_cov)
    # the counterfactual's standard error per date draws the chart band; a placebo needs none
    cf_var = _quadratic_forms(x, coef_cov) if bands else np.full((n, m), np.nan)
    # window sums from running sums: of the design rows (m, windows, k) and of the series
    x_run = np.zeros((n + 1, k))
    np.cumsum(x, axis=0, out=x_run[1:])
    y_run = np.zeros((n + 1, m))
    np.cumsum(y, axis=0, out=y_run[1:])
    x_edges = x_run[edges]  # (m, segments + 1, k)
    y_edges = y_run[edges, rows]  # (m, segments + 1)
    x_pre = x_run[n_pre]  # (m, k)
    count = np.diff(edges, axis=1)  # (m, segments)
    safe = np.maximum(count, 1)
    # segment means of the design rows and of the gap observed - counterfactual
    xbar = np.diff(x_edges, axis=1) / safe[:, :, None]
    cf_mean = np.einsum("msk,km->ms", xbar, coef)
    seg_effect = np.diff(y_edges, axis=1) / safe - cf_mean
    seg_effect = np.where(count > 0, seg_effect, 0.0)
    post_noise = _post_noise(y - cf, seg_effect, edges)
    seg_var = np.einsum("msj,msj->ms", xbar @ coef_cov, xbar) + _mean_noise(
        sigma2[:, None], rho[:, None], post_noise, count
    )
    seg_se = np.where(count > 0, np.sqrt(np.clip(seg_var, 0, None)), np.nan)
    # the whole post window
    n_post = edges[:, -1] - edges[:, 0]
    safe_post = np.maximum(n_post, 1)
    xbar_post = (x_edges[:, -1] - x_edges[:, 0]) / safe_post[:, None]
    baseline_all = np.einsum("mk,km->m", xbar_post, coef)
    effect_all = (y_edges[:, -1] - y_edges[:, 0]) / safe_post - baseline_all
    effect = np.where(n_post > 0, effect_all, np.nan)
    var = np.einsum(
        "mj,mj->m", np.einsum("mk,mkj->mj", xbar_post, coef_cov), xbar_post
    ) + _mean_noise(sigma2, rho, post_noise, n_post)
    baseline = np.where(n_post > 0, baseline_all, np.nan)
    # how much of the naive pre/post change each part of the baseline explains: the part's
    # mean over the post window minus its mean over the pre-period
    shift = xbar_post - x_pre / np.maximum(n_pre, 1)[:, None]  # (m, k)
    if design.trend_col is not None:
        c = design.trend_col
        slope = coef[c]
        trend_contribution = np.where(n_post > 0, slope * shift[:, c], 0.0)
        trend_t = _ratio(slope, np.sqrt(np.clip(coef_cov[:, c, c], 0, None)))
    else:
        trend_contribution = np.zeros(m)
        trend_t = np.zeros(m)
    if design.seasonal_cols:
        idx = list(design.seasonal_cols)
        season_shift = np.einsum("mk,km->m", shift[:, idx], coef[idx])
        seasonal_contribution = np.where(n_post > 0, season_shift, 0.0)
    else:
        seasonal_contribution = np.zeros(m)
    if design.spike_col is not None:
        c = design.spike_col
        spike_coef = coef[c]
        width = int(x[:, c].sum())
        spike_var = np.maximum(coef_cov[:, c, c], ar1_mean_variance(sigma2, rho, width))
        spike_t = _ratio(spike_coef, np.sqrt(np.clip(spike_var, 0, None)))
    else:
        spike_coef = np.zeros(m)
        spike_t = np.zeros(m)
    return SegmentedFit(
        effect_abs=effect,
        se_abs=np.sqrt(np.clip(var, 0, None)),
        df_resid=equivalent_df(n_pre, lags, n_pre - rank),
        baseline=baseline,
        segment_effect=seg_effect,
        segment_se=seg_se,
        counterfactual=cf,
        cf_se=np.sqrt(np.clip(cf_var, 0, None)),
        trend_contribution=trend_contribution,
        trend_t=trend_t,
        seasonal_contribution=seasonal_contribution,
        spike_coef=spike_coef,
        spike_t=spike_t,
        resid_sd=np.sqrt(sigma2),
        rho=rho,
    )


def unbiased_rho(rho: np.ndarray, n: np.ndarray, slow: int) -> np.ndarray:
    """The lag-one autocorrelation of regression residuals, corrected for its first-order
    bias. Residuals from `slow` slowly varying regressors (level, trend, annual terms) lose
    the slow part of the noise: E[rho_hat] ~ rho - (slow (1 + rho) + 2 rho) / n, which is
    Kendall's (1954) (1 + 3 rho) / n for the mean alone, and -slow / n under white noise
    (a smooth column is nearly shift-invariant, so tr(H A) ~ slow). Solved for rho. When n is
    under five times (slow + 2) the correction is itself unreliable, and Kendall's is used."""
    n = np.maximum(n, 1).astype(float)
    kendall = np.asarray(kendall_rho(rho, n))
    if slow <= 1:
        return kendall
    solved = (rho + slow / n) / np.maximum(1 - (slow + 2) / n, 1e-9)
    return np.where(n >= 5 * (slow + 2), solved, kendall)


def kendall_rho(rho: np.ndarray | float, n: np.ndarray | float) -> np.ndarray | float:
    """Kendall's (1954) first-order bias correction of a lag-one autocorrelation measured
    around a sample mean of `n` points: E[rho_hat] ~ rho - (1 + 3 rho) / n, so the estimate
    is rho_hat + (1 + 3 rho_hat) / n (`n` taken as at least 1). Scalars or arrays
    (broadcast); not clipped: callers clip to [0, RHO_MAX] where the value feeds a variance.
    The one home of this correction (`unbiased_rho` falls back to it)."""
    return rho + (1 + 3 * rho) / np.maximum(n, 1)


def _post_noise(
    gap: np.ndarray, seg_effect: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The post window's own noise, per series: the variance and lag-one autocorrelation
    (Kendall bias-corrected, clipped to [0, 0.97]) of the gap observed - counterfactual around
    each segment's mean effect, and whether there are enough points to tell (two degrees of
    freedom or more). The variance is (1.4826 MAD)^2, the median absolute deviation's estimate
    of a normal variance: one spike in the window (a launch-week surge) is the effect's shape,
    not noise, and must not widen the interval; the segment means take out a ramp or a fade."""
    m = gap.shape[1]
    # only the rows some post window covers: each row's segment mean there, by adding each mean
    # at its segment's first row and removing it after its last, then a running sum
    lo, hi = int(edges[:, 0].min(initial=0)), int(edges[:, -1].max(initial=0))
    hi = max(hi, lo)
    local = edges - lo
    steps = np.zeros((hi - lo + 1, m))
    cols = np.arange(m)
    for s in range(seg_effect.shape[1]):
        np.add.at(steps, (local[:, s], cols), seg_effect[:, s])
        np.subtract.at(steps, (local[:, s + 1], cols), seg_effect[:, s])
    t = np.arange(lo, hi)[:, None]
    inside = (t >= edges[None, :, 0]) & (t < edges[None, :, -1])
    resid = np.where(inside, gap[lo:hi] - np.cumsum(steps[:-1], axis=0), 0.0)
    n_post = edges[:, -1] - edges[:, 0]
    dof = n_post - (np.diff(edges, axis=1) > 0).sum(axis=1)
    denom = np.einsum("tm,tm->m", resid, resid)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(denom > 0, np.einsum("tm,tm->m", resid[1:], resid[:-1]) / denom, 0.0)
    rho = np.clip(kendall_rho(rho, n_post), 0.0, RHO_MAX)
    known = dof >= 2
    sigma2 = np.zeros(m)
    if known.any() and len(resid):
        # the median of |resid| over each window: sorted with the rows outside it last
        spread = np.sort(np.where(inside, np.abs(resid), np.inf), axis=0)
        count = np.maximum(n_post, 1)
        mad = (spread[(count - 1) // 2, cols] + spread[count // 2, cols]) / 2
        sigma2 = np.where(known, nan_to_num((1.4826 * mad) ** 2, posinf=0.0), 0.0)
    return sigma2, rho, known


def _mean_noise(
    sigma2: np.ndarray,
    rho: np.ndarray,
    post: tuple[np.ndarray, np.ndarray, np.ndarray],
    count: npt.ArrayLike,
) -> np.ndarray:
    """Variance of the mean of `count` post-window noise points: the larger of what the
    pre-period's AR(1) noise and the post window's own implies. A post window noisier than
    the pre-period (or a pre-period without variation) must widen the interval, not vanish."""
    post_sigma2, post_rho, known = post
    shape = np.shape(sigma2)
    from_post = ar1_mean_variance(post_sigma2.reshape(shape), post_rho.reshape(shape), count)
    from_pre = ar1_mean_variance(sigma2, rho, count)
    return np.where(known.reshape(shape), np.fmax(from_pre, from_post), from_pre)


def nan_to_num(a: np.ndarray, posinf: float | None = None) -> np.ndarray:
    """`np.nan_to_num(a, posinf=posinf)`: NaN as 0, infinities as the largest finite values (or
    `posinf`); `a` itself where every entry is finite already (most calls: numpy's own
    version costs ten times one `isfinite` pass on the small arrays of the fits)."""
    if np.isfinite(a).all():
        return a
    out: np.ndarray = np.nan_to_num(a, posinf=posinf)
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return out
