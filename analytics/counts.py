"""Counts (manual touches, exceptions, tickets): effects that respect the support. A count cannot
fall by more than 100%, and a counterfactual below zero is a model that does not fit a count,
not a shortage of data.

The effect on a count is read as a ratio of means, observed over counterfactual post-window
level, with its interval on the log scale (the delta method for the log of a ratio of two
independent means: Var log(O/B) = Var O / O^2 + Var B / B^2; e.g. Hirschberg & Lye 2010, "A
geometric comparison of the delta and Fieller confidence intervals"), so the percentage interval
is exp(log ratio +- t se) - 1, never below -100%. Where the linear counterfactual loses most of
the pre-period level (a fitted trend heading for zero or below), the counterfactual comes from
the log-link model instead: a Poisson regression of the pre-period on level and trend
(statsmodels `GLM(family=Poisson())`, a quasi-likelihood fit with HAC covariance, so
overdispersion and autocorrelation widen it; Bernal, Cummins & Gasparrini 2017, "Interrupted
time series regression for the evaluation of public health interventions: a tutorial"), whose
projection is positive by construction.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from analytics.estimate import Estimate
from analytics.frequency import time_index
from analytics.hac import long_run_lags
from analytics.results import replaced

COUNT_UNITS = frozenset({"count", "touches"})  # catalog units whose metrics are counts
# the linear counterfactual over the post window must keep this share of the pre-period level,
# else the log-link model projects it (as analytics.assembly.COUNTERFACTUAL_SHARE)
LINEAR_SHARE = 0.2


@dataclass(frozen=True)
class RatioEffect:
    """A count's effect as a ratio: observed post-window mean over the counterfactual's, the log
    of it and its standard error. `model` names the counterfactual ("log_link" when the Poisson
    model replaced a linear projection that lost the level)."""

    observed: float
    counterfactual: float
    log_ratio: float
    se_log: float
    model: str

    def pct(self, z: float = 0.0) -> float:
        """The change in percent at `z` standard errors from the estimate (0: the estimate)."""
        return 100.0 * (float(np.exp(self.log_ratio + z * self.se_log)) - 1.0)

    def in_units(self, z: float = 0.0) -> float:
        """The same in the metric's unit: counterfactual x (ratio - 1)."""
        return self.counterfactual * self.pct(z) / 100.0


def on_ratio_scale(y: np.ndarray, unit_says_count: bool, est: Estimate) -> bool:
    """Is this series' effect read as a ratio (`count_effect`)? A series that is never negative
    and is a count (its catalog unit says so, or its values are whole numbers with zeros among
    them), or whose linear
    counterfactual loses most of its pre-period level (a duration trending to zero cannot
    cross it either)."""
    finite = y[np.isfinite(y)]
    if len(finite) == 0 or finite.min() < 0:
        return False
    # whole numbers with zeros among them: a count full of zeros (whole numbers alone are not
    # enough: every double past 2^53 is one)
    if unit_says_count or ((finite == 0).any() and bool(np.all(finite == np.round(finite)))):
        return True
    level = float(np.mean(est.observed[: est.n_pre])) if est.n_pre else 0.0
    return level > 0 and not est.baseline > LINEAR_SHARE * level


def count_effect(est: Estimate) -> tuple[Estimate, RatioEffect] | None:
    """The count's effect as a ratio (see the module notes), and the estimate the checks read:
    its effect and standard error put on the log-ratio scale (times the counterfactual level,
    so signs and t statistics are those of the log-ratio test), its counterfactual the log-link
    model's where that replaced the linear one. None when the series has no post-window count
    or pre-period level to form a ratio from."""
    post = np.asarray(est.post, dtype=bool)
    pre = np.zeros_like(post)
    pre[: est.n_pre] = True
    observed_post = est.observed[post]
    level = float(np.mean(est.observed[pre])) if pre.any() else 0.0
    if len(observed_post) == 0 or level <= 0:
        return None
    n_post = len(observed_post)
    # a window of zeros has a mean of zero: half a count over the window keeps the log finite
    observed = max(float(observed_post.mean()), 0.5 / n_post)
    cf_se = est.cf_se[post]
    var_linear = float(np.nanmean(cf_se)) ** 2 if np.isfinite(cf_se).any() else 0.0
    # the post window's own noise: what the effect's variance holds beyond the counterfactual's
    var_observed = max(est.se_abs**2 - var_linear, 0.25 * est.se_abs**2)
    baseline, var_baseline, model = est.baseline, var_linear, "linear"
    counterfactual, band = est.counterfactual, est.cf_se
    if not baseline > LINEAR_SHARE * level:
        if est.method != "its":  # against controls the projection is theirs: no refit
            return None
        fitted = log_link_counterfactual(est)
        if fitted is None:
            return None
        counterfactual, band, baseline, var_baseline = fitted
        model = "log_link"
    se_log = float(np.sqrt(var_observed / observed**2 + var_baseline / baseline**2))
    ratio = RatioEffect(observed, baseline, float(np.log(observed / baseline)), se_log, model)
    checked = replaced(
        est,
        effect_abs=baseline * ratio.log_ratio,
        se_abs=baseline * se_log,
        baseline=baseline,
        counterfactual=counterfactual,
        cf_se=band,
        model=f"{est.model}_log_link" if model == "log_link" else est.model,
    )
    return checked, ratio


def log_link_counterfactual(
    est: Estimate,
) -> tuple[np.ndarray, np.ndarray, float, float] | None:
    """The Poisson regression (log link) of the pre-period on level and trend, projected over
    every date: the counterfactual path, its standard error per date, its mean over the post
    window and that mean's variance (delta method: g' V g with g = mean over the window of
    mu_t x_t). HAC covariance with the long-run bandwidth (analytics.hac). None when the fit
    fails."""
    import statsmodels.api as sm

    y = np.asarray(est.observed, dtype=float)
    pre = np.arange(len(y)) < est.n_pre
    pre &= np.isfinite(y)
    post = np.asarray(est.post, dtype=bool)
    t = time_index(est.dates.values, est.frequency, est.dates[0])
    x = np.column_stack([np.ones(len(y)), (t - t[pre].mean()) / max(np.ptp(t[pre]), 1.0)])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(y[pre], x[pre], family=sm.families.Poisson()).fit(
                cov_type="HAC", cov_kwds={"maxlags": long_run_lags(int(pre.sum()))}
            )
    except (ValueError, np.linalg.LinAlgError):
        return None
    cov = np.asarray(fit.cov_params())
    if not np.all(np.isfinite(cov)) or not np.all(np.isfinite(fit.params)):
        return None
    mu = np.exp(x @ fit.params)
    band = mu * np.sqrt(np.einsum("ij,jk,ik->i", x, cov, x))
    grad = (mu[post, None] * x[post]).mean(axis=0)
    baseline = float(mu[post].mean())
    return mu, band, baseline, float(grad @ cov @ grad)
