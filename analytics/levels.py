"""The error rates behind every test, interval and minimum detectable effect in pilotproof,
written once: 95% two-sided intervals (a 5% test) and 80% power.

`Z_CRIT` and `MDE_FACTOR` are the standard normal quantiles they imply; `critical_t` is the
Student t quantile for a reference with `df` degrees of freedom. The minimum detectable effect
in standard errors, z_{1-alpha/2} + z_{power} = 2.80, is the one statsmodels' power module gives:
`NormalIndPower().solve_power(effect_size=None, nobs1=1, alpha=ALPHA, power=POWER, ratio=0)`
(Cohen 1988, "Statistical Power Analysis for the Behavioral Sciences", ch. 2).
"""

from __future__ import annotations

from functools import lru_cache

from scipy import stats

ALPHA = 0.05  # two-sided: intervals are 95%
POWER = 0.8  # the minimum detectable effect is found four times in five
Z_CRIT = float(stats.norm.ppf(1 - ALPHA / 2))  # 1.959963984540054
MDE_FACTOR = Z_CRIT + float(stats.norm.ppf(POWER))  # 2.8015852...


@lru_cache(maxsize=4096)
def critical_t(df: int) -> float:
    """The two-sided (1 - ALPHA) critical value of Student's t with `df` degrees of freedom
    (at least 1): the half-width of an interval in standard errors."""
    return float(stats.t.ppf(1 - ALPHA / 2, max(int(df), 1)))
