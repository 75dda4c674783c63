"""Comparison against control units: difference-in-differences and a synthetic control.

The treated series minus the control series (the gap) is modelled like an interrupted time series
without season (the controls share it): its shift after go-live is the difference-in-differences
estimate, with a Newey-West interval. A pre-period trend in the gap means the parallel-trends
assumption fails; with two or more control units the control is then re-weighted (synthetic
control: non-negative weights summing to one, fitted on the pre-period; Abadie, Diamond &
Hainmueller 2010, with an intercept as in Doudchenko & Imbens 2016), else the gap's trend is
modelled and extrapolated.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special

from analytics import synth
from analytics.counterfactual import ORIGIN_SHARE, backtest, prefers_season
from analytics.estimate import (
    Estimate,
    Num,
    SpellModel,
    _backtest_of,
    _calibrated,
    _estimate,
    combined_mean,
    combined_se,
    flagged_lengths,
    screen_batch,
    spell_model,
    welch_masked,
    widened,
)
from analytics.frequency import time_index
from analytics.hac import ols_hac
from analytics.its import MIN_POST, MIN_PRE, batch_designs, build_design, fit_segmented
from analytics.levels import ALPHA, critical_t
from analytics.results import Frequency, Method, replaced
from analytics.series import ControlUnits

PARALLEL_ALPHA = ALPHA
LEVEL_TOLERANCE = 0.05  # controls within 5% of the treated level: levels and proportions agree
LOO_SHARE = 0.5  # the share of the effect one control unit must carry to be named
WEIGHT_ORIGINS = 8  # pseudo go-lives that test a synthetic control's weighting
MIN_PLACEBO_UNITS = 5  # control units needed for a placebo-in-space rank and p-value
# ... and for the placebo spread to set the standard error: with fewer, the spread's own
# sampling error (a chi-square on J degrees of freedom: at J = 5 its 95% range runs from 0.35
# to 1.6 times the truth) would decide the verdict more than the data
MIN_SPREAD_UNITS = 10
PLACEBO_DRAWS = 100  # placebo groups of k > 1 units drawn (Arkhangelsky et al. use 200)
PLACEBO_SEED = 20210801
# A short panel leans on the cross-section: with MIN_SPREAD_UNITS control units or more, the
# placebo spread carries the interval, and a design needs only this many pre- and post-period
# points (the published difference-in-differences designs run on 3 and 3 quarters)
SHORT_PANEL_MIN = (2, 1)


def minimum_points(freq: Frequency, n_controls: int) -> tuple[int, int]:
    """The fewest pre- and post-period points a design needs: an interrupted time series (or a
    comparison with few control units) MIN_PRE and MIN_POST at its frequency; a comparison with
    MIN_SPREAD_UNITS control units or more SHORT_PANEL_MIN, whatever the frequency."""
    if n_controls >= MIN_SPREAD_UNITS:
        return min(SHORT_PANEL_MIN[0], MIN_PRE[freq]), min(SHORT_PANEL_MIN[1], MIN_POST[freq])
    return MIN_PRE[freq], MIN_POST[freq]


def parallel_trends_p(t_pre: np.ndarray, gap_pre: np.ndarray) -> float:
    """p-value of the slope in `gap ~ 1 + t` over the pre-period (HAC errors, normal reference):
    small means the treated and control series were already drifting apart before go-live."""
    return float(parallel_trends_ps(t_pre, np.asarray(gap_pre, dtype=float)[:, None])[0])


def parallel_trends_ps(t_pre: np.ndarray, gaps_pre: np.ndarray) -> np.ndarray:
    """`parallel_trends_p` for every column of `gaps_pre` (n, m), in one batched fit."""
    m = gaps_pre.shape[1]
    if len(t_pre) < 4:
        return np.ones(m)
    x = np.column_stack([np.ones(len(t_pre)), t_pre])
    fit = ols_hac(x, gaps_pre)
    se = np.sqrt(np.maximum(fit.cov[:, 1, 1], 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * special.ndtr(-np.abs(fit.coef[1] / se))  # stats.norm.sf, without its checks
    return np.where((np.ptp(gaps_pre, axis=0) == 0) | (se == 0), 1.0, p)


def synthetic_weights(
    y_pre: np.ndarray, controls_pre: np.ndarray, *, intercept: bool = False
) -> np.ndarray:
    """Synthetic-control weights: non-negative, summing to one, that best reproduce the treated
    pre-period from the controls, min ||y - C w||, w >= 0, sum w = 1 (Abadie, Diamond &
    Hainmueller 2010, on the pre-period outcomes with V = I). With `intercept`, the fit is on
    demeaned series, min ||(y - ybar) - (C - Cbar) w|| (Doudchenko & Imbens 2016; Ferman &
    Pinto 2021): the controls need only the treated series' shape, not its level.

    Shapes: y_pre (T0,), controls_pre (T0, J) -> (J,). The canonical weights come from the exact
    active-set solver `analytics.synth.synthetic_control_weights` (pinned to pysyncon); the
    intercept variant is non-negative least squares with the sum constraint appended as a
    heavily weighted row (scipy.optimize.nnls), then renormalised."""
    if not intercept:
        return synth.synthetic_control_weights(y_pre, controls_pre)
    y_c, c_c = y_pre - y_pre.mean(), controls_pre - controls_pre.mean(axis=0)
    scale = max(float(np.abs(c_c).max()), 1e-12) * 1e3
    a = np.vstack([c_c, np.full((1, c_c.shape[1]), scale)])
    b = np.append(y_c, scale)
    w, _ = optimize.nnls(a, b)
    total = w.sum()
    return w / total if total > 0 else np.full(len(w), 1.0 / len(w))


def estimate_did(
    dates: pd.DatetimeIndex,
    go_live: pd.Timestamp,
    freq: Frequency,
    y: np.ndarray,
    controls: pd.DataFrame,
    sign: float,
) -> Estimate:
    """Difference-in-differences (or synthetic control) estimate for one treated series against
    control units `controls` (rows aligned to `dates`, one column per unit, no missing values)."""
    return estimate_did_batch(dates, go_live, freq, [y], [ControlUnits.of(controls)], [sign])[0]


# synthetic weightings a backtest chooses between when the mean's gap trends before go-live.
# `synthetic_control` also builds SDID ("sdid"); as a third candidate it was measured and left
# out: the backtests chose it for none of the real panels, the independent control families
# lost (balanced accuracy 0.994 -> 0.988, two more false `worse`), and its Frank-Wolfe fits
# made a 36-state placebo scan 140 times slower (0.8 s -> 114 s)
SYNTHETIC = ("synthetic_control", "synthetic_control_intercept")


# a treated series' control: the control series, its method, synthetic weights (None for a
# plain mean), the parallel-trends p-value of its gap and the model's name
ControlPart = tuple[np.ndarray, Method, dict[str, float] | None, float, str]


def _controls(
    t_pre: np.ndarray,
    post: np.ndarray,
    ys: Sequence[np.ndarray],
    controls: Sequence[ControlUnits],
    n_post: int,
    kinds: Sequence[str] | None = None,
) -> list[ControlPart]:
    """The control series for each treated series, with the parallel-trends p-value of its gap
    and the model's name: the mean of its units (difference-in-differences, "did"), or, with two
    or more units and a mean whose gap trends before go-live, the synthetic weighting whose
    rolling-origin backtests forecast the pre-period's gap best (`_weights_backtest`): the
    canonical synthetic control ("synthetic_control", Abadie et al. 2010) or its intercept
    variant ("synthetic_control_intercept", Doudchenko & Imbens 2016). A tie goes to the
    canonical weights."""
    units = [c.values for c in controls]
    means = [c.mean(axis=1) for c in units]
    gaps = np.column_stack([(y - mean)[~post] for y, mean in zip(ys, means, strict=True)])
    ps = parallel_trends_ps(t_pre, gaps)
    n_pre = int((~post).sum())
    out: list[tuple[np.ndarray, Method, dict[str, float] | None, float, str]] = []
    for j, (y, c, unit, mean, p) in enumerate(zip(ys, units, controls, means, ps, strict=True)):
        if p < PARALLEL_ALPHA and c.shape[1] >= 2:
            if kinds is not None:
                kind = kinds[j] if kinds[j] in SYNTHETIC else SYNTHETIC[0]
            else:
                errors = [_weights_backtest(y[:n_pre], c[:n_pre], n_post, k) for k in SYNTHETIC]
                errors = [np.inf if math.isnan(e) else e for e in errors]
                kind = SYNTHETIC[int(np.argmin(errors))]
            control, w = synthetic_control(y, c, n_pre, kind)
            weights = dict(zip(unit.names, map(float, w), strict=True))
            p_synthetic = parallel_trends_p(t_pre, (y - control)[~post])
            out.append((control, "synthetic_control", weights, p_synthetic, kind))
        else:
            out.append((mean, "did", None, float(p), "did"))
    return out


def synthetic_control(
    y: np.ndarray, c: np.ndarray, n_pre: int, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """The control series (T,) of a synthetic weighting `kind` (SYNTHETIC or "sdid") of the units
    `c` (T, J) for the treated series `y` (T,) whose first `n_pre` rows are the pre-period, and
    its unit weights (J,). The gap model then subtracts the gap's plain pre-period mean. SDID
    (`analytics.synth.estimate`, pinned to the authors' R package) reads that level off
    time-weighted pre-period rows instead, so its post-period rows are shifted by the
    difference: the gap model's effect is then exactly SDID's tau."""
    if kind == "sdid":
        fit = synth.estimate(y, c, n_pre, "sdid")
        control = fit.synthetic.copy()
        control[n_pre:] += fit.offset - float((y - fit.synthetic)[:n_pre].mean())
        return control, fit.unit_weights
    w = synthetic_weights(y[:n_pre], c[:n_pre], intercept=kind == "synthetic_control_intercept")
    return c @ w, w


def _weights_backtest(y_pre: np.ndarray, c_pre: np.ndarray, n_post: int, kind: str) -> float:
    """Root-mean-square error of rolling-origin backtests of a synthetic weighting's effect
    (Hyndman & Athanasopoulos, section 5.10): at up to WEIGHT_ORIGINS pseudo go-lives from
    ORIGIN_SHARE of the pre-period on, the weighting is fitted as if the pilot had gone live
    there, with the next h = min(n_post, rows left) rows as its post-period, and its effect
    (there is none) is the error. NaN with fewer than two origins."""
    pre = len(y_pre)
    first = max(int(np.ceil(ORIGIN_SHARE * pre)), 3)
    h = min(n_post, pre - first)
    if h < 1 or pre - h + 1 - first < 2:
        return math.nan
    origins = np.arange(first, pre - h + 1)
    if len(origins) > WEIGHT_ORIGINS:
        origins = origins[np.linspace(0, len(origins) - 1, WEIGHT_ORIGINS).round().astype(int)]
    errors = []
    for o in origins.tolist():
        control, _ = synthetic_control(y_pre[: o + h], c_pre[: o + h], o, kind)
        gap = y_pre[: o + h] - control
        errors.append(gap[o:].mean() - gap[:o].mean())
    return float(np.sqrt(np.mean(np.square(errors))))


def estimate_did_batch(
    dates: pd.DatetimeIndex,
    go_lives: npt.ArrayLike | pd.Timestamp,
    freq: Frequency,
    ys: Sequence[np.ndarray],
    controls: Sequence[ControlUnits],
    signs: Sequence[float],
    n_treated: Sequence[int] | None = None,
) -> list[Estimate]:
    """`estimate_did` for several treated series sharing `dates`, each with its own control
    units and go-live (`go_lives`, one per series or one for all), and each the mean of
    `n_treated` treated units (1 each by default: the placebos of a mean over k units are
    means over k control units, `placebo_draws`). The control series and the
    parallel-trends test are per go-live; the gap models of every series that share a design
    (with or without a gap trend) are fitted in one batched solve, and the spell-robust models
    only for the series whose end-of-pre gap leans the bad way.

    Parallel trends in levels and in proportions are different assumptions when the controls
    run at another level than the treated series (Roth & Sant'Anna 2023, "When Is Parallel
    Trends Sensitive to Functional Form?"): a company-wide 15% fall moves a unit at half the
    treated level by half as many hours. The estimate is in levels; where the levels differ,
    the same comparison with every unit put on the treated pre-period level is attached
    (`proportional_*`), and the control check asks an improvement to hold on both scales."""
    m = len(ys)
    go = np.broadcast_to(np.asarray(go_lives, dtype="datetime64[ns]"), (m,))
    sign = np.asarray(signs, dtype=float)
    out = _did(dates, go, freq, ys, controls, sign, spells=True)
    treated = [1] * m if n_treated is None else [max(int(k), 1) for k in n_treated]
    out = _placebo_in_space(dates, go, freq, ys, controls, sign, out, treated)
    out = _leave_one_out(dates, go, freq, ys, controls, sign, out)
    values = np.asarray(dates, dtype="datetime64[ns]")
    rescaled = [
        on_treated_level(y, c, values < day) for y, c, day in zip(ys, controls, go, strict=True)
    ]
    which = [i for i, r in enumerate(rescaled) if r is not None]
    if which:
        other = _did(
            dates,
            go[which],
            freq,
            [ys[i] for i in which],
            [r for r in rescaled if r is not None],  # those of `which`, in order
            sign[which],
            spells=False,
            kinds=[out[i].model for i in which],
        )
        for i, alt in zip(which, other, strict=True):
            # read with the same placebo-in-space widening and reference as the estimate
            main = out[i]
            cross = main.placebo_units is not None and main.placebo_units >= MIN_SPREAD_UNITS
            out[i] = _on_both_scales(
                replaced(
                    main,
                    proportional_effect=alt.effect_abs,
                    proportional_se=alt.se_abs * main.calibration,
                    proportional_df=main.df if cross else alt.df,
                ),
                alt,
            )
    return out


def _on_both_scales(main: Estimate, alt: Estimate) -> Estimate:
    """Where the comparison in levels (`main`) finds a significant change and the comparison
    with the controls on the treated level (`alt`, its `proportional_*` fields in `main`) does
    not find it in the same direction, the data cannot say which parallel-trends assumption
    holds (Roth & Sant'Anna 2023), so the estimate reported spans both: the equal-weight
    combination of the two (effects, counterfactuals and segment effects averaged; variances
    averaged plus the spread between them, (a - b)^2 / 4; Bates & Granger 1969, as the
    counterfactual candidates are combined). Where the two agree, the estimate in levels."""
    assert main.proportional_effect is not None and main.proportional_se is not None
    if main.se_abs <= 0 or not np.isfinite(main.effect_abs):
        return main
    direction = float(np.sign(main.effect_abs))
    if abs(main.effect_abs) <= critical_t(main.df) * main.se_abs:
        return main  # no significant change in levels: nothing to qualify
    half = critical_t(main.proportional_df or 1) * main.proportional_se
    if direction * main.proportional_effect - half > 0:
        return main  # both scales find it

    def both(a: Num, b: Num) -> Num:
        return combined_mean(0.5, a, b)

    def spread(a: Num, b: Num, sa: Num, sb: Num) -> Num:
        return combined_se(0.5, a, b, sa, sb)

    factor = main.calibration  # the placebo-in-space widening, as `proportional_se` reads it
    n_seg = min(len(main.segment_effect), len(alt.segment_effect))
    return replaced(
        main,
        effect_abs=float(both(main.effect_abs, alt.effect_abs)),
        se_abs=float(spread(main.effect_abs, alt.effect_abs, main.se_abs, main.proportional_se)),
        df=min(main.df, main.proportional_df or main.df),
        counterfactual=both(main.counterfactual, alt.counterfactual),
        cf_se=spread(main.counterfactual, alt.counterfactual, main.cf_se, alt.cf_se * factor),
        baseline=float(both(main.baseline, alt.baseline)),
        segment_effect=both(main.segment_effect[:n_seg], alt.segment_effect[:n_seg]),
        segment_se=spread(
            main.segment_effect[:n_seg],
            alt.segment_effect[:n_seg],
            main.segment_se[:n_seg],
            alt.segment_se[:n_seg] * factor,
        ),
    )


def rmspe(est: Estimate) -> tuple[float, float]:
    """Root mean squared prediction error of the counterfactual before and after go-live
    (metric unit): the pre-period fit and the post-period gap."""
    miss = est.observed - est.counterfactual
    post = np.asarray(est.post, dtype=bool)
    pre = ~post
    return (
        float(np.sqrt(np.mean(miss[pre] ** 2))) if pre.any() else math.nan,
        float(np.sqrt(np.mean(miss[post] ** 2))) if post.any() else math.nan,
    )


def _placebo_in_space(
    dates: pd.DatetimeIndex,
    go: np.ndarray,
    freq: Frequency,
    ys: Sequence[np.ndarray],
    controls: Sequence[ControlUnits],
    sign: np.ndarray,
    found: list[Estimate],
    n_treated: Sequence[int],
) -> list[Estimate]:
    """Placebo-in-space inference (Abadie, Diamond & Hainmueller 2010, section 4; the placebo
    variance of Arkhangelsky et al. 2021, algorithm 4): with at least MIN_PLACEBO_UNITS control
    units, each unit in turn is analysed as if it had gone live, against the other units, by
    the same procedure (all variants in one batch). A series that is the mean of k > 1 treated
    units (`n_treated`) is compared with placebos that are means of k control units
    (`placebo_draws`), the rest their donors: a mean over k units is quieter than any one.
    The treated series' rank by post/pre RMSPE ratio among all placebos gives the permutation
    p-value rank / (J + 1). With at least MIN_SPREAD_UNITS placebos, the root mean square of
    their effects (`_with_placebos`) is the spread the choice of controls alone produces; where
    it exceeds the gap model's own standard error it replaces it, so that a control group whose
    units wander apart after go-live widens the interval, and the t reference has J - 1 degrees
    of freedom; with 19 or more, the interval reaches at least their 95% order statistic
    (`placebo_bound`)."""
    variants: list[tuple[int, np.ndarray, ControlUnits]] = []
    sizes: dict[int, int] = {}
    for i, est in enumerate(found):
        units = controls[i]
        n_units = len(units.names)
        if n_units < MIN_PLACEBO_UNITS or est.se_abs <= 0:
            continue
        draws = placebo_draws(n_units, n_treated[i])
        sizes[i] = len(draws[0])
        for draw in draws:
            pseudo = units.values[:, list(draw)].mean(axis=1)
            variants.append((i, pseudo, units.without_all(draw)))
    if not variants:
        return found
    rows = [v[0] for v in variants]
    again = _did(
        dates,
        go[rows],
        freq,
        [v[1] for v in variants],
        [v[2] for v in variants],
        sign[rows],
        spells=False,
        kinds=[found[i].model for i in rows],
    )
    if len(again) != len(variants):
        return found
    out = list(found)
    for i in sorted(set(rows)):
        placebos = [
            (k, alt) for k, (row, alt) in enumerate(zip(rows, again, strict=True)) if row == i
        ]
        out[i] = _with_placebos(
            replaced(found[i], placebo_group=sizes[i]),
            ys[i],
            [variants[k][1] for k, _ in placebos],
            [alt for _, alt in placebos],
            len(controls[i].names),
        )
    return out


def placebo_draws(n_units: int, k: int) -> list[tuple[int, ...]]:
    """The placebo treated groups of a comparison of the mean of `k` treated units with
    `n_units` control units: every single unit when k = 1 (Abadie, Diamond & Hainmueller 2010);
    for k > 1, groups of k control units whose mean plays the treated series, the other units
    its donors (Arkhangelsky et al. 2021, algorithm 4): every group when there are at most
    PLACEBO_DRAWS, else PLACEBO_DRAWS distinct groups drawn with a fixed seed (the same data
    give the same answer). Where fewer than MIN_PLACEBO_UNITS donors would remain, or the
    groups would outnumber their donors, single units again: a conservative spread (one unit
    is noisier than a mean of k)."""
    if k <= 1 or n_units - k < MIN_PLACEBO_UNITS or 2 * k > n_units:
        return [(u,) for u in range(n_units)]
    if math.comb(n_units, k) <= PLACEBO_DRAWS:
        return list(itertools.combinations(range(n_units), k))
    rng = np.random.default_rng(PLACEBO_SEED)
    seen: set[tuple[int, ...]] = set()
    while len(seen) < PLACEBO_DRAWS:
        seen.add(tuple(sorted(rng.choice(n_units, size=k, replace=False).tolist())))
    return sorted(seen)


def _with_placebos(
    est: Estimate,
    y: np.ndarray,
    units: list[np.ndarray],
    placebos: list[Estimate],
    n_units: int,
) -> Estimate:
    """`est` with its placebo-in-space rank and p-value, and its standard error widened to the
    placebo spread where that is larger. `units` are the placebo treated series (one control
    unit each, or a mean of several: `placebo_draws`) of the `n_units` control units; draws
    that share units are not independent, so the spread's degrees of freedom are those of the
    units (at most n_units - 1). The placebo effects are compared in proportion to each
    unit's pre-period level when every level is positive (units of any size: sites, states),
    else in the metric's unit."""
    pre_rows = ~np.asarray(est.post, dtype=bool)
    level = float(y[pre_rows].mean())
    levels = np.array([float(u[pre_rows].mean()) for u in units])
    relative = level > 0 and bool((levels > 0).all())
    effects = np.array([alt.effect_abs for alt in placebos])
    # in the treated series' unit: each effect in proportion to its unit's level, or as it is
    scaled = effects / levels * level if relative else effects
    spread = np.sqrt(np.mean(scaled**2))
    pre, post = rmspe(est)
    fits = np.array([rmspe(alt) for alt in placebos])
    tiny = 1e-9 * max(abs(level), 1e-12)
    ranked = np.isfinite(fits).all(axis=1) & (fits[:, 0] > tiny)
    if pre > tiny and ranked.sum() >= MIN_PLACEBO_UNITS:
        ratio = post / pre
        ratios = fits[ranked, 1] / fits[ranked, 0]
        rank = 1 + int((ratios >= ratio).sum())
        est = replaced(
            est,
            placebo_units=int(ranked.sum()),
            placebo_rank=rank,
            permutation_p=rank / (int(ranked.sum()) + 1),
            rmspe_ratio=ratio,
        )
    if len(placebos) >= MIN_SPREAD_UNITS and np.isfinite(spread):
        # the spread is estimated on J - 1 degrees of freedom; the interval takes the larger of
        # it and the gap model's own standard error, which is then conservative against a
        # reference the cross-section supports even when the time series alone has almost no
        # degrees of freedom (a short panel: 3 pre- and 3 post-quarters)
        df = min(len(placebos), n_units) - 1
        factor = max(float(spread) / est.se_abs, 1.0)
        # and where the placebos are many enough to give their own (1 - ALPHA) quantile, the
        # interval reaches at least that far: the spread's t reference assumes placebo effects
        # with normal tails, and real units' tails are heavier (states: a few move by a third)
        bound = placebo_bound(scaled)
        if bound is not None:
            factor = max(factor, bound / (critical_t(df) * est.se_abs))
        est = widened(est, factor, df=df)
    return est


def placebo_bound(effects: np.ndarray) -> float | None:
    """The placebo-in-space bound on the size of an effect of no treatment: with J placebo
    effects (`effects`, their sizes, in the treated series' unit), the ceil((1 - ALPHA)(J + 1))-th
    smallest, so that a treated effect beyond it ranks among the top ALPHA of the J + 1 units
    when all are exchangeable (the permutation test of Abadie, Diamond & Hainmueller 2010,
    section 4, on the size of the effect; the placebo interval of Conley & Taber 2011). None
    when J is too small for any rank to reach ALPHA (J < 19 at 5%) or an effect is not finite."""
    sizes = np.sort(np.abs(np.asarray(effects, dtype=float)))
    k = math.ceil((1 - ALPHA) * (len(sizes) + 1) - 1e-9)
    if k > len(sizes) or not np.isfinite(sizes).all():
        return None
    return float(sizes[k - 1])


def _leave_one_out(
    dates: pd.DatetimeIndex,
    go: np.ndarray,
    freq: Frequency,
    ys: Sequence[np.ndarray],
    controls: Sequence[ControlUnits],
    sign: np.ndarray,
    found: list[Estimate],
) -> list[Estimate]:
    """Leave-one-control-out (Abadie, Diamond & Hainmueller 2015, section 4.3): every series
    whose estimate is significant is estimated again without each of its control units in
    turn, all variants in one batch. When dropping one unit takes the significance away and at
    least LOO_SHARE of the effect with it (or turns the sign), the effect is that unit's own
    movement, not the pilot's: the estimate is then the comparison without that unit (its
    effect, interval and counterfactual; the placebo-in-space widening and ranks of the whole
    comparison kept), carrying the unit and the effect and standard error without it
    (`single_control`), and what the comparison with every unit said (`all_controls`). The
    estimate a referee reports is the one no single control unit decides (Abadie 2021, "Using
    synthetic controls", section 7: robustness to the exclusion of any donor)."""
    variants: list[tuple[int, str, np.ndarray, ControlUnits]] = []
    for i, est in enumerate(found):
        units = controls[i]
        if len(units.names) < 2 or est.se_abs <= 0:
            continue
        if abs(est.effect_abs) <= critical_t(est.df) * est.se_abs:
            continue  # not significant: no single unit can make it so by leaving
        variants.extend((i, name, ys[i], units.without(u)) for u, name in enumerate(units.names))
    if not variants:
        return found
    again = _did(
        dates,
        go[[v[0] for v in variants]],
        freq,
        [v[2] for v in variants],
        [v[3] for v in variants],
        sign[[v[0] for v in variants]],
        spells=False,
        kinds=[found[v[0]].model for v in variants],
    )
    out = list(found)
    weakest: dict[int, tuple[float, str, Estimate]] = {}
    for (i, name, _, _), alt in zip(variants, again, strict=True):
        # read on the same scale as the estimate itself, placebo-in-space widening included
        se = alt.se_abs * found[i].calibration
        t = np.sign(found[i].effect_abs) * alt.effect_abs / se if se > 0 else 0.0
        if i not in weakest or t < weakest[i][0]:
            weakest[i] = (float(t), name, alt)
    for i, (t, name, alt) in weakest.items():
        # the unit must carry the effect, not only tip a marginal one: without it, at least
        # LOO_SHARE of the effect is gone
        effect = found[i].effect_abs
        carried = np.sign(effect) * alt.effect_abs <= (1 - LOO_SHARE) * abs(effect)
        if t <= critical_t(alt.df) and carried:
            out[i] = _without_unit(found[i], name, alt)
    return out


def _without_unit(est: Estimate, name: str, alt: Estimate) -> Estimate:
    """The comparison without control unit `name` (`alt`) as the estimate, its standard errors
    widened by `est`'s calibration (backtests, placebo-in-space) as the test read them, with
    `est`'s naive comparison and placebo fields, and its effect kept as `all_controls`."""
    return widened(
        alt,
        est.calibration,  # as the leave-one-out test above reads it
        df=min(alt.df, est.df),
        placebo_effect=est.placebo_effect,
        placebo_t=est.placebo_t,
        naive_diff=est.naive_diff,
        naive_p=est.naive_p,
        n_controls=est.n_controls,
        placebo_units=est.placebo_units,
        placebo_rank=est.placebo_rank,
        permutation_p=est.permutation_p,
        rmspe_ratio=est.rmspe_ratio,
        single_control=(name, alt.effect_abs, alt.se_abs * est.calibration),
        all_controls=(est.effect_abs, est.se_abs),
    )


def on_treated_level(y: np.ndarray, controls: ControlUnits, pre: np.ndarray) -> ControlUnits | None:
    """The control units each rescaled to the treated series' pre-period mean, when every
    level involved is positive (cycle times, costs, counts) and some unit's differs from the
    treated level by more than LEVEL_TOLERANCE (else both scales agree); None otherwise."""
    if not pre.any():
        return None
    level = float(y[pre].mean())
    unit_levels = controls.values[pre].mean(axis=0)
    if level <= 0 or not (unit_levels > 0).all():
        return None
    factor = level / unit_levels
    if np.abs(factor - 1).max() <= LEVEL_TOLERANCE:
        return None
    return ControlUnits(controls.values * factor, controls.names)


def _gap_seasons(
    values: np.ndarray,
    go: np.ndarray,
    freq: Frequency,
    ys: Sequence[np.ndarray],
    controls: Sequence[np.ndarray],
    trends: np.ndarray,
) -> np.ndarray:
    """Whether each treated-minus-control gap gets season terms: where its pre-period supports
    them and one-step-ahead backtests prefer them (`counterfactual.prefers_season`). Controls
    that share the treated series' season leave none in the gap; controls with another season
    (drivers against rear-seat passengers) leave one that, unmodelled, would count as noise."""
    out = np.zeros(len(ys), dtype=bool)
    for day in np.unique(go):
        pre = int(np.searchsorted(values, day))
        for trend in (False, True):
            members = np.flatnonzero((go == day) & (trends == trend))
            if not len(members):
                continue
            gaps = np.column_stack([ys[i] - controls[i] for i in members.tolist()])
            out[members] = prefers_season(values, freq, gaps, pre, trend)
    return out


def _did(
    dates: pd.DatetimeIndex,
    go: np.ndarray,
    freq: Frequency,
    ys: Sequence[np.ndarray],
    controls: Sequence[ControlUnits],
    sign: np.ndarray,
    *,
    spells: bool,
    kinds: Sequence[str] | None = None,
) -> list[Estimate]:
    """Gap-model estimates of each treated series against its controls. `kinds` (one model
    name per series) fixes the synthetic weighting of variants of an estimate already made
    (placebo units, leave-one-out, the proportional scale) instead of backtesting them again;
    only the estimate itself (`spells`) is calibrated by backtests of its gap."""
    m = len(ys)
    values = np.asarray(dates, dtype="datetime64[ns]")
    found_parts: list[ControlPart | None] = [None] * m
    for day in np.unique(go):
        same_day: list[int] = np.flatnonzero(go == day).tolist()
        post = values >= day
        t = time_index(dates, freq, dates[post][0] if post.any() else pd.Timestamp(day))
        found = _controls(
            t[~post],
            post,
            [ys[i] for i in same_day],
            [controls[i] for i in same_day],
            int(post.sum()),
            None if kinds is None else [kinds[i] for i in same_day],
        )
        for i, part in zip(same_day, found, strict=True):
            found_parts[i] = part
    parts = [p for p in found_parts if p is not None]  # every series has a go-live: all m
    trends = np.array([bool(part[3] < PARALLEL_ALPHA) for part in parts])
    seasons = _gap_seasons(values, go, freq, ys, [part[0] for part in parts], trends)
    out: list[Estimate | None] = [None] * m
    for trend, season in ((False, False), (False, True), (True, False), (True, True)):
        members = np.flatnonzero((trends == trend) & (seasons == season))
        if not len(members):
            continue
        y = np.column_stack([ys[i] for i in members.tolist()])
        control = np.column_stack([parts[i][0] for i in members])
        gap = y - control
        for idx, design in batch_designs(dates, go[members], freq, trend=trend, seasonal=season):
            gg, ss = gap[:, idx], sign[members[idx]]
            fit = fit_segmented(design, gg)
            naive_diff, naive_p = welch_masked(y[:, idx], design.pre, design.post)
            control_diff, control_p = welch_masked(control[:, idx], design.pre, design.post)
            # only the estimate itself looks for an end-of-pre spell (`spells`): its variants
            # (placebo units, leave-one-out, the proportional scale) read no screen
            flags = screen_batch(gg, fit, design, ss) if spells else None
            # the gap forecast as a series' counterfactual is: rolling-origin backtests on the
            # pre-period widen an over-confident interval (`counterfactual.calibrated_se`)
            n_pre = np.broadcast_to(design.n_pre, (len(idx),))
            tests = (
                backtest(values, freq, gg, n_pre, len(values) - n_pre, only=trend)[trend]
                if spells
                else None
            )
            for col, j in enumerate(idx):
                i = int(members[j])
                model = SpellModel(design, fit, col)
                if flags is not None and flags[col].any():
                    single = build_design(
                        dates, pd.Timestamp(go[i]), freq, trend=trend, seasonal=season
                    )
                    lengths = flagged_lengths(flags[col], int(single.n_pre[0]))
                    model = spell_model(
                        gg[:, col], float(ss[col]), single, design, fit, col, lengths
                    )
                use_design, use_fit, use_col, spike, beats = model
                _, method, weights, p_parallel, model_name = parts[i]
                estimate = _estimate(
                    method,
                    freq,
                    dates,
                    use_design,
                    use_fit,
                    use_col,
                    ys[i],
                    control[:, j],
                    spike=spike,
                    placebo=(None, None),
                    naive=(float(naive_diff[col]), float(naive_p[col])),
                    control_diff=float(control_diff[col]),
                    control_p=float(control_p[col]),
                    parallel_p=p_parallel,
                    beats_baseline=beats,
                    weights=weights,
                    n_controls=len(controls[i].names),
                    model=model_name,
                )
                if tests is not None:
                    estimate = _calibrated(estimate, model_name, _backtest_of(tests, col))
                out[i] = estimate
    return [e for e in out if e is not None]
