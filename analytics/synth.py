"""Synthetic control, synthetic difference-in-differences and their placebo inference.

Pure numpy; every function takes the panel as arrays with one row per period and one column per
unit, the pre-period first:

* ``treated``: (T,) one treated unit, or (T, N_tr) several treated units (averaged, as in
  Arkhangelsky et al.);
* ``controls``: (T, N0) the control (donor) units;
* ``n_pre``: T0, the number of pre-period rows; rows ``n_pre:`` are the post-period.

Values are in the outcome's own units (packs per capita, minutes, ...); every effect, gap and
RMSPE below is in those units. No missing values: a NaN or an infinite value raises ValueError,
as do shapes that do not line up.

Estimators
----------
* ``synthetic_control_weights`` / ``synthetic_control``: the canonical synthetic control of
  Abadie, Diamond & Hainmueller (2010, JASA 105(490), 493-505) on the pre-period outcomes with
  V = I: min ||y_pre - D_pre w||^2 over w >= 0, sum w = 1, no intercept, no demeaning; solved
  exactly (an active-set method, Lawson & Hanson 1974 ch. 23 adapted to the simplex).
* ``estimate(..., method=)``: Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021, AER 111(12),
  "Synthetic Difference-in-Differences"), Algorithm 1, computed as the authors' R package
  ``synthdid`` computes it (``synthdid_estimate``: Frank-Wolfe with exact line search,
  ``sc.weight.fw``, its stopping rule min_decrease = 1e-5 sigma, max_iter 10 000, a first round
  of 100 iterations then ``sparsify_function``); ``method="sc"`` and ``"did"`` are the package's
  ``sc_estimate`` (zeta = 1e-6 sigma, no intercept, no time weights) and ``did_estimate``
  (uniform weights).

Inference
---------
* ``placebo_se``: Algorithm 4 (placebo variance), as the R package's ``placebo_se``; seedable,
  or enumerated exactly with one treated unit.
* ``jackknife_se``: Algorithm 3 (fixed-weights jackknife), as the R package's ``jackknife_se``;
  undefined (None) with one treated unit.
* ``placebo_in_space``: Abadie, Diamond & Hainmueller (2010, inference by placebo studies): every
  control unit analysed as if treated, the others as its donors; post/pre RMSPE ratios, the
  treated unit's rank and the permutation p-value rank / (J + 1). All placebo fits in one batch.

With fewer than MIN_CONTROLS (3) control units the placebo inferences are not defined and come
back as None (a distribution of one or two placebo units says nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

Method = Literal["sdid", "sc", "did", "synthetic_control"]
Seed = int | np.random.Generator | None  # numpy default_rng's seed
METHODS: tuple[Method, ...] = get_args(Method)
MIN_CONTROLS = 3  # control units needed for a placebo standard error or a permutation p-value

# the R package's defaults (synthdid_estimate / sc_estimate)
ETA_LAMBDA = 1e-6
ETA_OMEGA_SC = 1e-6
MIN_DECREASE = 1e-5  # times the noise level
MAX_ITER = 10_000
MAX_ITER_PRE_SPARSIFY = 100

__all__ = [
    "METHODS",
    "MIN_CONTROLS",
    "PlaceboInSpace",
    "SynthFit",
    "estimate",
    "jackknife_se",
    "placebo_estimates",
    "placebo_in_space",
    "placebo_se",
    "synthetic_control",
    "synthetic_control_weights",
    "synthetic_control_weights_many",
]


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SynthFit:
    """One fitted estimator.

    ``tau`` is the average effect over the treated units and post-period rows, in the outcome's
    units: mean_post(treated - counterfactual). The counterfactual is the unit-weighted controls
    (``synthetic`` = controls @ unit_weights) shifted by ``offset`` = time_weights @ (treated -
    synthetic)[:n_pre], the level difference SDID and DiD allow (0 for synthetic control, whose
    time weights are zero). Trajectories are (T,) arrays for charting.
    """

    method: str  # "sdid" | "sc" | "did" | "synthetic_control"
    tau: float
    unit_weights: np.ndarray  # (N0,) omega, non-negative, summing to one
    time_weights: np.ndarray  # (T0,) lambda (zeros for the synthetic controls)
    offset: float
    treated: np.ndarray  # (T,) the treated units' mean
    synthetic: np.ndarray  # (T,) controls @ unit_weights
    n_pre: int
    noise_level: float  # sd of the controls' first differences over the pre-period
    zeta_omega: float  # ridge on the unit weights (R: zeta.omega)
    zeta_lambda: float  # ridge on the time weights (R: zeta.lambda)
    min_decrease: float  # Frank-Wolfe stopping rule (R: min.decrease)
    treated_units: np.ndarray  # (T, N_tr) the inputs, kept for the inference functions
    controls: np.ndarray  # (T, N0)

    @property
    def counterfactual(self) -> np.ndarray:
        """(T,) what the treated units would have done: synthetic + offset."""
        return self.synthetic + self.offset

    @property
    def gap(self) -> np.ndarray:
        """(T,) treated - counterfactual; its post-period mean is tau."""
        gap: np.ndarray = self.treated - self.counterfactual
        return gap

    @property
    def effect_curve(self) -> np.ndarray:
        """(T - T0,) the per-period effects that average to tau (R: synthdid_effect_curve)."""
        return self.gap[self.n_pre :]

    @property
    def pre_rmspe(self) -> float:
        """Root mean squared gap over the pre-period (the fit), outcome units."""
        return float(np.sqrt(np.mean(self.gap[: self.n_pre] ** 2)))

    @property
    def post_rmspe(self) -> float:
        """Root mean squared gap over the post-period, outcome units."""
        return float(np.sqrt(np.mean(self.gap[self.n_pre :] ** 2)))

    @property
    def n_treated(self) -> int:
        return int(self.treated_units.shape[1])

    @property
    def n_controls(self) -> int:
        return int(self.controls.shape[1])


@dataclass(frozen=True, eq=False)
class PlaceboInSpace:
    """Placebo-in-space scan (Abadie, Diamond & Hainmueller 2010, placebo studies).

    Index j of each (J,) array is control unit j analysed as if treated, with the other J - 1
    controls (never the treated units) as its donors. ``effects`` are post-period mean gaps
    (the estimator's tau), RMSPEs in outcome units, ``ratios`` post/pre RMSPE. ``rank`` is the
    treated unit's place by ratio among all J + 1 units (1 = largest; a placebo tie counts
    against the treated unit) and ``p_value`` = rank / (J + 1). With fewer than MIN_CONTROLS
    controls ``defined`` is False and rank, p_value and the placebo arrays are None.
    """

    method: str
    effect: float  # the treated units' own estimate
    pre_rmspe: float
    post_rmspe: float
    ratio: float
    effects: np.ndarray | None  # (J,)
    pre_rmspes: np.ndarray | None
    post_rmspes: np.ndarray | None
    ratios: np.ndarray | None
    rank: int | None
    p_value: float | None

    @property
    def defined(self) -> bool:
        return self.rank is not None

    @property
    def n_placebos(self) -> int:
        return 0 if self.effects is None else len(self.effects)


# --- input checks ----------------------------------------------------------------------------


def _finite(name: str, a: np.ndarray) -> None:
    if not np.isfinite(a).all():
        raise ValueError(f"{name} has missing or infinite values (NaN/inf); fill or drop them")


def _panel(
    treated: npt.ArrayLike, controls: npt.ArrayLike, n_pre: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Checked float copies: treated (T, N_tr), controls (T, N0), n_pre."""
    y = np.asarray(treated, dtype=float)
    c = np.asarray(controls, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[1] < 1:
        raise ValueError(f"treated must be (T,) or (T, N_tr), got shape {np.shape(treated)}")
    if c.ndim != 2 or c.shape[1] < 1:
        raise ValueError(f"controls must be (T, N0) with N0 >= 1, got shape {np.shape(controls)}")
    if y.shape[0] != c.shape[0]:
        raise ValueError(
            f"treated has {y.shape[0]} rows (periods) but controls has {c.shape[0]}; "
            "rows are periods, columns units"
        )
    if isinstance(n_pre, bool) or int(n_pre) != n_pre:
        raise ValueError(f"n_pre must be an integer, got {n_pre!r}")
    n_pre = int(n_pre)
    if not 1 <= n_pre < y.shape[0]:
        raise ValueError(
            f"n_pre must leave at least one pre- and one post-period row: got n_pre={n_pre} "
            f"with T={y.shape[0]}"
        )
    _finite("treated", y)
    _finite("controls", c)
    return y, c, n_pre


def _method(method: str) -> Method:
    for known in METHODS:
        if method == known:
            return known
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


# --- canonical synthetic control: exact simplex least squares --------------------------------


def synthetic_control_weights(
    y_pre: np.ndarray, donors_pre: np.ndarray, *, tol: float = 1e-10
) -> np.ndarray:
    """Canonical synthetic-control weights (Abadie, Diamond & Hainmueller 2010, with
    the pre-period outcomes as the predictors and V = I):

        w = argmin ||y_pre - donors_pre @ w||^2   subject to  w >= 0, sum(w) = 1

    no intercept, no demeaning. Shapes: y_pre (T0,), donors_pre (T0, J) -> w (J,). Solved
    exactly by a primal active-set method (Lawson & Hanson 1974, ch. 23, with the sum
    constraint): each working set's equality-constrained least squares is solved by an
    orthogonal factorisation (no normal equations), so the result satisfies the KKT conditions
    to rounding: every donor with positive weight has the same gradient
    g = donors_pre.T @ (donors_pre @ w - y_pre), and no donor's gradient is lower. ``tol``
    (relative to the largest squared donor norm) is how much lower a donor's gradient may be
    before it enters. When the minimiser is not unique (more donors than affinely independent
    pre-periods), one minimiser is returned.

    Raises ValueError on mismatched shapes, no donor, or NaN/inf values."""
    y = np.asarray(y_pre, dtype=float)
    d = np.asarray(donors_pre, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"y_pre must be (T0,), got shape {y.shape}")
    if d.ndim != 2 or d.shape[0] != y.shape[0] or d.shape[1] < 1:
        raise ValueError(
            f"donors_pre must be (T0, J) with T0 = len(y_pre) = {y.shape[0]} and J >= 1, got "
            f"shape {d.shape}"
        )
    _finite("y_pre", y)
    _finite("donors_pre", d)
    return _simplex_lsq(d, y, np.ones(d.shape[1], dtype=bool), tol)


def synthetic_control_weights_many(
    targets_pre: np.ndarray,
    donors_pre: np.ndarray,
    allowed: np.ndarray | None = None,
    *,
    tol: float = 1e-10,
) -> np.ndarray:
    """``synthetic_control_weights`` for many targets sharing one donor pool.

    Shapes: targets_pre (T0, m), donors_pre (T0, J), allowed (m, J) bool (default: all) ->
    weights (m, J), zero outside ``allowed``. Column k of ``targets_pre`` is fitted on the
    donors ``allowed[k]`` marks: placebo-in-space passes the controls as both targets and
    donors with the diagonal forbidden, so no unit is its own donor.

    The cross-products D'D and D'Y are formed once for all targets; each target's active set
    is found on them (cheap: no T0 dimension), then settled on the data themselves as in
    ``synthetic_control_weights`` (orthogonal solves, KKT checked on the direct gradient), so
    the result is the same to rounding."""
    t = np.asarray(targets_pre, dtype=float)
    d = np.asarray(donors_pre, dtype=float)
    if t.ndim != 2 or d.ndim != 2 or t.shape[0] != d.shape[0] or d.shape[1] < 1:
        raise ValueError(
            f"targets_pre must be (T0, m) and donors_pre (T0, J) with the same T0, got "
            f"{t.shape} and {d.shape}"
        )
    m, j = t.shape[1], d.shape[1]
    mask = np.ones((m, j), dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
    if mask.shape != (m, j):
        raise ValueError(f"allowed must be (m, J) = {(m, j)}, got {mask.shape}")
    if not mask.any(axis=1).all():
        raise ValueError("every target needs at least one allowed donor")
    _finite("targets_pre", t)
    _finite("donors_pre", d)
    gram = d.T @ d
    cross = d.T @ t  # (J, m)
    norms = np.einsum("ij,ij->j", t, t)
    out = np.empty((m, j))
    for k in range(m):
        w0 = _simplex_lsq_gram(gram, cross[:, k], norms[k], mask[k], tol)
        out[k] = _simplex_lsq(d, t[:, k], mask[k], tol, start=w0)
    return out


def _eq_lsq(d: np.ndarray, y: np.ndarray, support: list[int]) -> np.ndarray:
    """min ||y - d[:, S] z|| subject to sum z = 1, by eliminating the constraint:
    z = e_0 + (0, v), d[:, S] z = d_s0 + (d[:, S[1:]] - d_s0) v."""
    base = d[:, support[0]]
    if len(support) == 1:
        return np.ones(1)
    v = np.linalg.lstsq(d[:, support[1:]] - base[:, None], y - base, rcond=None)[0]
    return np.concatenate([[1.0 - v.sum()], v])


def _eq_gram(gram: np.ndarray, cross: np.ndarray, support: list[int]) -> np.ndarray:
    """The same equality-constrained minimiser from the cross-products (KKT system)."""
    s = len(support)
    if s == 1:
        return np.ones(1)
    kkt = np.ones((s + 1, s + 1))
    kkt[:s, :s] = gram[np.ix_(support, support)]
    kkt[s, s] = 0.0
    rhs = np.append(cross[support], 1.0)
    try:
        solved: np.ndarray = np.linalg.solve(kkt, rhs)[:s]
    except np.linalg.LinAlgError:
        solved = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:s]
    return solved


def _active_set(
    eq: Callable[[list[int]], np.ndarray],
    grad: Callable[[np.ndarray], np.ndarray],
    w: np.ndarray,
    allowed: np.ndarray,
    tol_abs: float,
) -> np.ndarray:
    """Primal active-set iterations for min f(w) over the simplex on ``allowed``, from a
    feasible ``w`` (Lawson & Hanson 1974, ch. 23, with the sum constraint): ``eq(S)`` is the
    minimiser on the affine hull of the support S, ``grad(w)`` the gradient. A donor enters
    while its gradient is more than ``tol_abs`` below the support's."""
    w = w.copy()
    support = [int(s) for s in np.flatnonzero(w > 0)]
    entering: int | None = None
    for _ in range(4 * len(w) + 20):
        while True:  # settle: the minimiser on the support, keeping w feasible
            z = eq(support)
            if z.min() > 0:
                w[:] = 0.0
                w[support] = z
                break
            current = w[support]
            neg = z <= 0
            alpha = float(np.min(current[neg] / (current[neg] - z[neg])))
            if alpha <= 0 and entering is not None and support[-1] == entering:
                support.pop()  # the entering donor cannot take weight: optimal to rounding
                return _normalised(w)
            moved = current + alpha * (z - current)
            keep = moved > 1e-14 * max(1.0, float(moved.max()))
            w[:] = 0.0
            w[support] = np.where(keep, moved, 0.0)
            support = [s for s, k in zip(support, keep, strict=True) if k]
            w[support] /= w[support].sum()
        g = grad(w)
        level = float(g[support].max())
        g[~allowed] = np.inf
        g[support] = np.inf
        enter = int(np.argmin(g))
        if not g[enter] < level - tol_abs:
            break
        support.append(enter)
        entering = enter
    return _normalised(w)


def _normalised(w: np.ndarray) -> np.ndarray:
    """Weights divided by their sum."""
    out: np.ndarray = w / w.sum()
    return out


def _best_vertex(sq_dist: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    w = np.zeros(len(allowed))
    w[int(np.argmin(np.where(allowed, sq_dist, np.inf)))] = 1.0
    return w


def _simplex_lsq_gram(
    gram: np.ndarray, cross: np.ndarray, norm: float, allowed: np.ndarray, tol: float
) -> np.ndarray:
    """A starting point for _simplex_lsq from the cross-products alone."""
    diag = np.diag(gram)
    scale = max(float(diag.max()), float(norm), 1e-300)
    w = _best_vertex(diag - 2 * cross, allowed)
    return _active_set(
        lambda s: _eq_gram(gram, cross, s), lambda v: gram @ v - cross, w, allowed, tol * scale
    )


def _simplex_lsq(
    d: np.ndarray, y: np.ndarray, allowed: np.ndarray, tol: float, start: np.ndarray | None = None
) -> np.ndarray:
    """The active-set solver behind synthetic_control_weights (checked inputs), from the best
    single donor or from a feasible ``start``."""
    if allowed.sum() == 1:
        return allowed.astype(float)
    scale = max(float(np.einsum("ij,ij->j", d, d).max()), float(y @ y), 1e-300)
    if start is None:
        resid = d - y[:, None]
        start = _best_vertex(np.einsum("ij,ij->j", resid, resid), allowed)
    w = _active_set(
        lambda s: _eq_lsq(d, y, s), lambda v: d.T @ (d @ v - y), start, allowed, tol * scale
    )
    w[w < 0] = 0.0
    return _normalised(w)


def synthetic_control(treated: npt.ArrayLike, controls: npt.ArrayLike, n_pre: int) -> SynthFit:
    """Canonical synthetic control (Abadie, Diamond & Hainmueller 2010) as a ``SynthFit``:
    unit weights from ``synthetic_control_weights`` on the treated mean's pre-period, no time
    weights, no offset; tau = mean post-period gap. Shapes as the module docstring."""
    y, c, n_pre = _panel(treated, controls, n_pre)
    return _fits(y, c, n_pre, "synthetic_control")[0]


# --- Frank-Wolfe (the R package's sc.weight.fw), batched over problems ------------------------


def _fw(
    a: np.ndarray,
    b: np.ndarray,
    zeta: np.ndarray,
    rows: np.ndarray,
    allowed: np.ndarray,
    x: np.ndarray,
    min_decrease: np.ndarray,
    max_iter: int,
) -> np.ndarray:
    """``sc.weight.fw`` of the R package for m problems at once, each run exactly as alone.

    Problem k: minimise zeta_k^2 ||x||^2 + ||A_k x - b_k||^2 / rows_k over the simplex on the
    columns allowed[k], from x[k], by Frank-Wolfe steps with exact line search (``fw.step``),
    stopping after max_iter steps or once a step lowers the objective by no more than
    min_decrease_k^2. a: (n, p) shared or (m, n, p); b: (m, n); x, allowed: (m, p). The
    problems still running are kept packed together, so a finished one costs nothing."""
    out = x.copy()
    shared = a.ndim == 2
    at = np.ascontiguousarray(a.T) if shared else np.empty(0)  # read only when shared
    idx = np.arange(b.shape[0])
    xa, ba, aa = out.copy(), b, a
    z2 = zeta**2
    eta = rows * z2
    md2 = min_decrease**2
    every = bool(allowed.all())
    block = allowed
    prev = np.full(len(idx), np.inf)
    t = 0
    while idx.size and t < max_iter:
        k = np.arange(idx.size)
        ax = xa @ at if shared else np.einsum("knp,kp->kn", aa, xa)
        half = ((ax - ba) @ a if shared else np.einsum("kn,knp->kp", ax - ba, aa)) + eta[
            :, None
        ] * xa
        pick = np.argmin(half if every else np.where(block, half, np.inf), axis=1)
        dx = -xa
        dx[k, pick] += 1.0
        derr = (at[pick] if shared else aa[k, :, pick]) - ax
        denom = np.einsum("kn,kn->k", derr, derr) + eta * np.einsum("kp,kp->k", dx, dx)
        num = -np.einsum("kp,kp->k", half, dx)
        step = np.divide(num, denom, out=np.zeros_like(num), where=denom > 0)
        np.clip(step, 0.0, 1.0, out=step)
        xa = xa + step[:, None] * dx
        err = (xa @ at if shared else np.einsum("knp,kp->kn", aa, xa)) - ba
        vals = z2 * np.einsum("kp,kp->k", xa, xa) + np.einsum("kn,kn->k", err, err) / rows
        t += 1
        if t >= 2:
            go_on = prev - vals > md2
            if not go_on.all():
                out[idx[~go_on]] = xa[~go_on]
                idx, xa, vals, ba = idx[go_on], xa[go_on], vals[go_on], ba[go_on]
                z2, eta, rows, md2 = z2[go_on], eta[go_on], rows[go_on], md2[go_on]
                if not shared:
                    aa = aa[go_on]
                if not every:
                    block = block[go_on]
        prev = vals
    out[idx] = xa
    return out


def _sparsify(x: np.ndarray) -> np.ndarray:
    """The R package's sparsify_function, per row: weights no larger than a quarter of the
    row's largest set to zero, the rest renormalised."""
    x = np.where(x <= x.max(axis=1, keepdims=True) / 4, 0.0, x)
    sparse: np.ndarray = x / x.sum(axis=1, keepdims=True)
    return sparse


def _fw_sparsified(
    a: np.ndarray,
    b: np.ndarray,
    zeta: np.ndarray,
    rows: np.ndarray,
    allowed: np.ndarray,
    x0: np.ndarray,
    min_decrease: np.ndarray,
) -> np.ndarray:
    """The two rounds synthdid_estimate runs: MAX_ITER_PRE_SPARSIFY steps, sparsify, then up
    to MAX_ITER steps from there."""
    first = _fw(a, b, zeta, rows, allowed, x0, min_decrease, MAX_ITER_PRE_SPARSIFY)
    return _fw(a, b, zeta, rows, allowed, _sparsify(first), min_decrease, MAX_ITER)


# --- the batched engine: many (donor set, treated set) problems on one pool of units ----------


@dataclass(frozen=True)
class _Problems:
    """m estimation problems on one pool of units (T, P): problem k compares the mean of the
    pool columns ``treated[k]`` with the donors ``donors[k]`` (disjoint boolean masks)."""

    pool: np.ndarray  # (T, P)
    donors: np.ndarray  # (m, P) bool
    treated: np.ndarray  # (m, P) bool


def _noise_levels(pool_pre: np.ndarray, donors: np.ndarray) -> np.ndarray:
    """(m,) sd (ddof 1) of the first differences of each problem's donors over the
    pre-period, as synthdid_estimate's noise.level; from per-unit sums (shifted by the pool's
    mean difference against cancellation), so no (m, T0, P) array is formed."""
    diffs = np.diff(pool_pre, axis=0)  # (T0 - 1, P)
    diffs = diffs - diffs.mean()
    d = donors.astype(float)
    count = diffs.shape[0] * d.sum(axis=1)
    s1 = d @ diffs.sum(axis=0)
    s2 = d @ np.einsum("ip,ip->p", diffs, diffs)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd: np.ndarray = np.sqrt(np.maximum(s2 - s1**2 / count, 0.0) / (count - 1))
    return sd


CHUNK = 4_000_000  # floats in one batch of time-weight problems (m x P x T0): 32 MB


def _solve(
    probs: _Problems, n_pre: int, method: str, **kw: np.ndarray | None
) -> dict[str, np.ndarray]:
    """``_solve_chunk`` over chunks of problems small enough for the time-weight arrays."""
    m, p = probs.donors.shape
    size = max(1, CHUNK // max(1, p * (n_pre + 1))) if method == "sdid" else m
    if m <= size:
        return _solve_chunk(probs, n_pre, method, **kw)
    parts = []
    for lo in range(0, m, size):
        sl = slice(lo, lo + size)
        sub = _Problems(probs.pool, probs.donors[sl], probs.treated[sl])
        part_kw = {
            k: (v[sl] if isinstance(v, np.ndarray) and v.ndim >= 1 and len(v) == m else v)
            for k, v in kw.items()
        }
        parts.append(_solve_chunk(sub, n_pre, method, **part_kw))
    return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}


def _solve_chunk(
    probs: _Problems,
    n_pre: int,
    method: str,
    *,
    zeta_omega: np.ndarray | None = None,
    zeta_lambda: np.ndarray | None = None,
    min_decrease: np.ndarray | None = None,
    omega0: np.ndarray | None = None,
    lambda0: np.ndarray | None = None,
    noise_level: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Unit weights (m, P), time weights (m, T0) and the tuning of every problem. The tuning
    and starting weights default to synthdid_estimate's; the placebo variance passes the
    original fit's (as the R package's placebo_se does through its opts and weights)."""
    pool, donors, treated = probs.pool, probs.donors, probs.treated
    m = donors.shape[0]
    pre = pool[:n_pre]
    n_post = pool.shape[0] - n_pre
    n_tr = treated.sum(axis=1)
    n_don = donors.sum(axis=1).astype(float)
    y = (treated / n_tr[:, None]) @ pool.T  # (m, T) treated means
    uniform_omega = donors / n_don[:, None]
    uniform_lambda = np.full((m, n_pre), 1.0 / n_pre)
    if method in ("sdid", "sc") and n_pre < 2 and noise_level is None:
        raise ValueError(f"method {method!r} needs at least 2 pre-period rows (a noise level)")
    if noise_level is not None:
        sigma = np.broadcast_to(np.asarray(noise_level, dtype=float), (m,))
    elif n_pre >= 2:
        sigma = _noise_levels(pre, donors)
    else:
        sigma = np.full(m, np.nan)
    if method == "sdid":
        z_om = (n_tr * n_post) ** 0.25 * sigma if zeta_omega is None else zeta_omega
    elif method == "sc":
        z_om = ETA_OMEGA_SC * sigma if zeta_omega is None else zeta_omega
    else:
        z_om = np.zeros(m) if zeta_omega is None else zeta_omega
    z_la = ETA_LAMBDA * sigma if zeta_lambda is None else zeta_lambda
    md = MIN_DECREASE * sigma if min_decrease is None else min_decrease
    tuning = {"noise_level": sigma, "zeta_omega": z_om, "zeta_lambda": z_la, "min_decrease": md}

    if method == "did":
        return {"omega": uniform_omega, "lambda": uniform_lambda, **tuning}
    if method == "synthetic_control":
        omega = synthetic_control_weights_many(y[:, :n_pre].T, pre, donors)
        return {"omega": omega, "lambda": np.zeros((m, n_pre)), **tuning}
    if method == "sdid":
        # time weights: rows = each problem's donors, columns = pre-periods and the post mean,
        # centred over the donors (lambda.intercept)
        post_mean = pool[n_pre:].mean(axis=0)
        block = np.vstack([pre, post_mean]).T  # (P, T0 + 1)
        dmask = donors.astype(float)
        centre = (dmask @ block) / n_don[:, None]  # (m, T0 + 1)
        cube = (block[None, :, :] - centre[:, None, :]) * dmask[:, :, None]  # (m, P, T0 + 1)
        lam0 = uniform_lambda if lambda0 is None else lambda0
        lam = _fw_sparsified(
            cube[:, :, :n_pre],
            cube[:, :, n_pre],
            z_la,
            n_don,
            np.ones((m, n_pre), dtype=bool),
            lam0,
            md,
        )
        a = pre - pre.mean(axis=0)  # omega.intercept: each unit centred over time
        b = y[:, :n_pre] - y[:, :n_pre].mean(axis=1, keepdims=True)
    else:  # sc: no intercept, no time weights
        lam = np.zeros((m, n_pre))
        a, b = pre, y[:, :n_pre]
    om0 = uniform_omega if omega0 is None else omega0
    omega = _fw_sparsified(a, b, z_om, np.full(m, float(n_pre)), donors, om0, md)
    return {"omega": omega, "lambda": lam, **tuning}


def _taus(probs: _Problems, n_pre: int, sol: dict[str, np.ndarray]) -> np.ndarray:
    """(m,) tau = (mean treated - synthetic) over the post-period minus its lambda-weighted
    pre-period mean, as synthdid_estimate's unit_coef' Y time_coef."""
    pool, treated = probs.pool, probs.treated
    y = (treated / treated.sum(axis=1, keepdims=True)) @ pool.T
    gap = y - sol["omega"] @ pool.T  # (m, T)
    tau: np.ndarray = gap[:, n_pre:].mean(axis=1) - np.einsum(
        "kt,kt->k", sol["lambda"], gap[:, :n_pre]
    )
    return tau


def _gaps(probs: _Problems, n_pre: int, sol: dict[str, np.ndarray]) -> np.ndarray:
    """(m, T) treated mean minus counterfactual (synthetic + offset)."""
    pool, treated = probs.pool, probs.treated
    y = (treated / treated.sum(axis=1, keepdims=True)) @ pool.T
    gap = y - sol["omega"] @ pool.T
    offset = np.einsum("kt,kt->k", sol["lambda"], gap[:, :n_pre])
    centred: np.ndarray = gap - offset[:, None]
    return centred


def _fits(
    y: np.ndarray, c: np.ndarray, n_pre: int, method: str, noise_level: float | None = None
) -> list[SynthFit]:
    """One SynthFit for the treated block y (T, N_tr) against controls c (T, N0)."""
    n0, n1 = c.shape[1], y.shape[1]
    pool = np.hstack([c, y])
    donors = np.zeros((1, n0 + n1), dtype=bool)
    donors[0, :n0] = True
    probs = _Problems(pool, donors, ~donors)
    noise = None if noise_level is None else np.array([noise_level], dtype=float)
    sol = _solve(probs, n_pre, method, noise_level=noise)
    tau = float(_taus(probs, n_pre, sol)[0])
    omega = sol["omega"][0, :n0]
    synthetic = c @ omega
    treated = y.mean(axis=1)
    lam = sol["lambda"][0]
    return [
        SynthFit(
            method=method,
            tau=tau,
            unit_weights=omega,
            time_weights=lam,
            offset=float(lam @ (treated - synthetic)[:n_pre]),
            treated=treated,
            synthetic=synthetic,
            n_pre=n_pre,
            noise_level=float(sol["noise_level"][0]),
            zeta_omega=float(sol["zeta_omega"][0]),
            zeta_lambda=float(sol["zeta_lambda"][0]),
            min_decrease=float(sol["min_decrease"][0]),
            treated_units=y,
            controls=c,
        )
    ]


def estimate(
    treated: npt.ArrayLike,
    controls: npt.ArrayLike,
    n_pre: int,
    method: Method = "sdid",
    *,
    noise_level: float | None = None,
) -> SynthFit:
    """Arkhangelsky et al. (2021) Algorithm 1 and its special cases, as the R package
    ``synthdid`` computes them (no covariates).

    method:
      * "sdid" (``synthdid_estimate``): unit weights with an intercept and ridge
        zeta_omega = (N_tr * T_post)^(1/4) * sigma, time weights with an intercept and ridge
        1e-6 * sigma, where sigma is the sd of the controls' first differences over the
        pre-period; both by Frank-Wolfe (100 steps, sparsify, then up to 10 000 steps,
        stopping when a step gains less than (1e-5 sigma)^2).
      * "sc" (``sc_estimate``): unit weights without intercept, ridge 1e-6 * sigma, time
        weights zero.
      * "did" (``did_estimate``): uniform unit and time weights.
      * "synthetic_control": the exact canonical weights (``synthetic_control_weights``).

    ``noise_level`` (outcome units) replaces sigma, as the R package's noise.level argument
    does; by default it is estimated from the data (a common shock to every unit changes it,
    and with it the ridge: pass it to compare fits on transformed data).

    Shapes: treated (T,) or (T, N_tr), controls (T, N0), n_pre = T0 (1 <= T0 < T; "sdid" and
    "sc" need T0 >= 2). Returns a SynthFit; tau in the outcome's units.
    Raises ValueError on bad shapes, NaN/inf, or an unknown method."""
    y, c, n_pre = _panel(treated, controls, n_pre)
    if noise_level is not None and not (np.isfinite(noise_level) and noise_level >= 0):
        raise ValueError(f"noise_level must be a finite number >= 0, got {noise_level!r}")
    return _fits(y, c, n_pre, _method(method), noise_level)[0]


# --- inference ---------------------------------------------------------------------------------


def _draws(n0: int, n1: int, replications: int | None, seed: Seed) -> list[np.ndarray]:
    """Permutations of the controls (the last n1 play treated), drawn as the ported R package
    draws them (numpy default_rng(seed).permutation), or every control once when
    replications is None and n1 == 1."""
    if replications is None:
        if n1 != 1:
            raise ValueError("replications=None (enumerate) needs exactly one treated unit")
        return [np.r_[np.delete(np.arange(n0), u), u] for u in range(n0)]
    if int(replications) < 2:
        raise ValueError(f"replications must be at least 2, got {replications}")
    rng = np.random.default_rng(seed)
    return [rng.permutation(n0) for _ in range(int(replications))]


def placebo_estimates(
    fit: SynthFit, *, replications: int | None = 200, seed: Seed = None
) -> np.ndarray | None:
    """The placebo estimates behind ``placebo_se`` (Arkhangelsky et al. 2021, Algorithm 4):
    (B,) taus, outcome units, one per replication: N_tr of the controls, drawn at random, play
    the treated units and the rest the controls, and the estimator is re-run with the fit's
    tuning (zeta, min_decrease) from the fit's weights (unit weights restricted to the
    remaining controls and renormalised), as the R package's placebo_se does.

    ``seed`` (int or numpy Generator) makes the draws reproducible: numpy's
    default_rng(seed).permutation(N0), replication after replication (the ported R package's
    draws). ``replications=None`` with one treated unit enumerates every control once instead
    (B = N0, the limit of many draws, no seed). Identical draws are solved once; all in one
    batch. None (undefined) with fewer than MIN_CONTROLS controls or no more controls than
    treated units."""
    n0, n1 = fit.n_controls, fit.n_treated
    if n0 < MIN_CONTROLS or n0 <= n1:
        return None
    perms = _draws(n0, n1, replications, seed)
    n_keep = n0 - n1
    donors = np.zeros((len(perms), n0), dtype=bool)
    treated = np.zeros_like(donors)
    for k, ind in enumerate(perms):
        donors[k, ind[:n_keep]] = True
        treated[k, ind[n_keep:]] = True
    keys = np.packbits(np.hstack([donors, treated]), axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    probs = _Problems(fit.controls, donors[first], treated[first])
    m = len(first)
    omega0 = np.where(probs.donors, fit.unit_weights[None, :], 0.0)
    sums = omega0.sum(axis=1, keepdims=True)
    omega0 = np.where(sums > 0, omega0 / np.where(sums > 0, sums, 1.0), probs.donors / n_keep)
    sol = _solve(
        probs,
        fit.n_pre,
        fit.method,
        zeta_omega=np.full(m, fit.zeta_omega),
        zeta_lambda=np.full(m, fit.zeta_lambda),
        min_decrease=np.full(m, fit.min_decrease),
        omega0=omega0,
        lambda0=np.broadcast_to(fit.time_weights, (m, fit.n_pre)).copy(),
    )
    return _taus(probs, fit.n_pre, sol)[np.ravel(inverse)]


def placebo_se(fit: SynthFit, *, replications: int | None = 200, seed: Seed = None) -> float | None:
    """Placebo standard error (Arkhangelsky et al. 2021, Algorithm 4; the R package's
    placebo_se): sqrt((B - 1) / B) * sd of the B ``placebo_estimates`` (their population
    sd), outcome units. Same arguments; None where undefined (fewer than MIN_CONTROLS
    controls, or no more controls than treated units).

    A 200-draw SE is itself noisy: on Proposition 99 the SDID placebo SE over seeds has a
    95% range of about 8.0 to 10.7 around its many-draw limit 9.37."""
    taus = placebo_estimates(fit, replications=replications, seed=seed)
    return None if taus is None else float(np.std(taus, ddof=0))


def jackknife_se(fit: SynthFit) -> float | None:
    """Fixed-weights jackknife standard error (Arkhangelsky et al. 2021, Algorithm 3; the R
    package's jackknife_se): every unit (control or treated) left out in turn, the estimate
    recomputed with the fit's time weights and its unit weights renormalised over the
    remaining controls; SE = sqrt((N - 1)/N * (N - 1) * var(ddof=1)), outcome units.

    Returns None where it is undefined: one treated unit, only one control with weight (the
    R package's NA), or fewer than MIN_CONTROLS controls."""
    n0, n1 = fit.n_controls, fit.n_treated
    if n1 < 2 or n0 < MIN_CONTROLS or np.count_nonzero(fit.unit_weights) == 1:
        return None
    c, y, n_pre = fit.controls, fit.treated_units, fit.n_pre
    lam = fit.time_weights
    time_coef = np.concatenate([-lam, np.full(len(c) - n_pre, 1.0 / (len(c) - n_pre))])
    yc = time_coef @ y  # (N_tr,) each treated unit's weighted difference
    cc = time_coef @ c  # (N0,)
    u = np.empty(n0 + n1)
    w = fit.unit_weights
    for i in range(n0):  # leave out control i
        keep = np.arange(n0) != i
        wi = w[keep]
        wi = wi / wi.sum() if wi.sum() != 0 else np.full(n0 - 1, 1.0 / (n0 - 1))
        u[i] = yc.mean() - wi @ cc[keep]
    base = w @ cc
    for i in range(n1):  # leave out treated unit i
        u[n0 + i] = np.delete(yc, i).mean() - base
    n = n0 + n1
    return float(np.sqrt((n - 1) / n * (n - 1) * np.var(u, ddof=1)))


def _placebo_problems(c: np.ndarray) -> _Problems:
    """Control j treated, the other controls its donors, for every j."""
    j = c.shape[1]
    eye = np.eye(j, dtype=bool)
    return _Problems(c, ~eye, eye)


def placebo_in_space(
    treated: npt.ArrayLike,
    controls: npt.ArrayLike,
    n_pre: int,
    method: Method = "synthetic_control",
) -> PlaceboInSpace:
    """Placebo-in-space permutation inference (Abadie, Diamond & Hainmueller 2010, the
    inferential method and the placebo studies of its Proposition 99 application): the
    estimator ``method`` (see ``estimate``; default the canonical synthetic control) is run
    for the treated units against the controls, and for every control unit as if it were
    treated, with the remaining controls (never the treated units) as donors. For each unit:
    the post-period mean gap (its tau), the pre- and post-period RMSPE and their ratio. The
    treated unit's rank by ratio among the J + 1 units (1 = largest, ties against the
    treated unit) gives the permutation p-value rank / (J + 1).

    Each placebo is a fresh fit of its own panel (its own noise level and ridge for "sdid"
    and "sc"), unlike ``placebo_se``, which reuses the fit's tuning as the R package does.
    The J placebo fits run as one batch (one active-set solve per placebo on a shared donor
    matrix for the synthetic control; vectorised Frank-Wolfe for "sdid"/"sc"; closed form for
    "did"). Several treated units are averaged into one treated series (compare the placebo
    variance of ``placebo_se`` in that case).

    Shapes as ``estimate``. Returns a PlaceboInSpace; with fewer than MIN_CONTROLS controls
    its rank, p_value and placebo arrays are None (not defined)."""
    y, c, n_pre = _panel(treated, controls, n_pre)
    method = _method(method)
    own = _fits(y, c, n_pre, method)[0]
    pre, post = own.pre_rmspe, own.post_rmspe
    ratio = post / pre if pre > 0 else np.inf
    j = c.shape[1]
    if j < MIN_CONTROLS:
        return PlaceboInSpace(method, own.tau, pre, post, ratio, None, None, None, None, None, None)
    probs = _placebo_problems(c)
    sol = _solve(probs, n_pre, method)
    gaps = _gaps(probs, n_pre, sol)
    effects = gaps[:, n_pre:].mean(axis=1)
    pres = np.sqrt(np.mean(gaps[:, :n_pre] ** 2, axis=1))
    posts = np.sqrt(np.mean(gaps[:, n_pre:] ** 2, axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(pres > 0, posts / pres, np.inf)
    rank = 1 + int(np.sum(ratios >= ratio))
    return PlaceboInSpace(
        method, own.tau, pre, post, ratio, effects, pres, posts, ratios, rank, rank / (j + 1)
    )
