import numpy as np
import pytest
import statsmodels.api as sm

from analytics.hac import inverse_symmetric, newey_west_lags, ols_hac, pinv_symmetric


def _ar1(rng, n, phi):
    e = rng.normal(size=n)
    out = np.empty(n)
    out[0] = e[0]
    for i in range(1, n):
        out[i] = phi * out[i - 1] + e[i]
    return out


@pytest.mark.parametrize("maxlags", [0, 1, 4, 9])
def test_batched_hac_matches_statsmodels(maxlags):
    rng = np.random.default_rng(maxlags)
    n = 120
    t = np.arange(n, dtype=float)
    x = np.column_stack([np.ones(n), t, (t >= 80).astype(float), np.sin(t / 7)])
    y = np.column_stack([2 + 0.01 * t + _ar1(rng, n, phi) for phi in (0.0, 0.5, 0.9)])
    batch = ols_hac(x, y, maxlags)
    for j in range(y.shape[1]):
        # statsmodels: sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": k})
        ref = sm.OLS(y[:, j], x).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags})
        np.testing.assert_allclose(batch.coef[:, j], ref.params, rtol=1e-8)
        np.testing.assert_allclose(batch.cov[j], ref.cov_params(), rtol=1e-8, atol=1e-14)
        np.testing.assert_allclose(batch.resid[:, j], ref.resid, rtol=1e-8, atol=1e-12)
    assert batch.df_resid == n - x.shape[1]


def test_newey_west_rule_of_thumb():
    # floor(4 * (n/100)^(2/9)): n=100 -> 4, n=730 -> 6, n=20 -> 2
    assert newey_west_lags(100) == 4
    assert newey_west_lags(730) == 6
    assert newey_west_lags(20) == 2


def test_rank_deficient_design_does_not_raise():
    n = 30
    x = np.column_stack([np.ones(n), np.ones(n)])
    y = np.arange(n, dtype=float)
    fit = ols_hac(x, y, 2)
    assert np.all(np.isfinite(fit.coef))
    assert fit.df_resid == n - 1


def test_inverse_symmetric_is_the_pseudo_inverse():
    # the backtests' Gram matrices: intercept, trend, weekday dummies over growing histories,
    # plus one rank-deficient (a duplicated column) and one tiny-eigenvalue matrix, which must
    # take numpy's pseudo-inverse path; an exactly singular (zero) one sends its whole batch
    rng = np.random.default_rng(3)
    n = 400
    t = np.arange(n, dtype=float)
    x = np.column_stack([np.ones(n), t, (t % 7 == 1), (t % 7 == 2), rng.normal(size=n)])
    grams = [x[:o].T @ x[:o] for o in range(40, n, 60)]
    dup = np.column_stack([x[:, :3], x[:, 2]])
    grams.append(np.pad(dup.T @ dup, ((0, 1), (0, 1))))
    near = np.diag([1.0, 1.0, 1.0, 1.0, 1e-16])
    grams.append(near)
    a = np.stack(grams)
    got = inverse_symmetric(a)
    for g, inv in zip(a, got, strict=True):
        # numpy: np.linalg.pinv(g, hermitian=True)
        ref = np.linalg.pinv(g, hermitian=True)
        np.testing.assert_allclose(inv, ref, rtol=1e-7, atol=1e-9 * np.abs(ref).max())
    np.testing.assert_array_equal(got[-2:], pinv_symmetric(a[-2:]))
    with_zero = np.concatenate([a, np.zeros((1, 5, 5))])
    np.testing.assert_array_equal(inverse_symmetric(with_zero), pinv_symmetric(with_zero))


def _exact_inverse(a):
    """The inverse of a float matrix in exact rational arithmetic (Gauss-Jordan on Fractions),
    rounded to floats once at the end: the reference both inversions are read against."""
    from fractions import Fraction

    k = len(a)
    rows = [[Fraction(float(v)) for v in row] + [Fraction(int(i == j)) for j in range(k)]
            for i, row in enumerate(a)]  # fmt: skip
    for c in range(k):
        p = max(range(c, k), key=lambda r: abs(rows[r][c]))
        rows[c], rows[p] = rows[p], rows[c]
        pivot = rows[c][c]
        rows[c] = [v / pivot for v in rows[c]]
        for r in range(k):
            if r != c and rows[r][c] != 0:
                f = rows[r][c]
                rows[r] = [v - f * w for v, w in zip(rows[r], rows[c], strict=True)]
    return np.array([[float(v) for v in row[k:]] for row in rows])


def test_inverse_symmetric_is_as_close_to_the_exact_inverse_as_rounding_allows():
    # a backtest's Gram matrix on the bench's daily design (intercept, trend, weekdays, two
    # annual pairs; condition number ~5e6): against the exact inverse, the scaled LU inverse
    # is off by a few units of rounding, numpy's eigendecomposition-based pinv by ~1e-10
    import pandas as pd

    from analytics.its import columns_for, design_matrix

    dates = np.asarray(pd.date_range("2024-01-01", periods=730, freq="D"), dtype="datetime64[ns]")
    x = design_matrix(dates, "D", columns_for(dates, 500, "D", True, True))[0]
    gram = x[:499].T @ x[:499]
    exact = _exact_inverse(gram)
    scale = np.abs(exact).max()
    assert np.abs(inverse_symmetric(gram[None])[0] - exact).max() < 1e-13 * scale
    # numpy: np.linalg.pinv(gram, hermitian=True), the same inverse within its own rounding
    np.testing.assert_allclose(pinv_symmetric(gram), exact, atol=1e-9 * scale)
