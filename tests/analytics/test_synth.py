"""analytics.synth: canonical synthetic control, synthetic difference-in-differences and their
placebo inference, pinned to reference implementations and to published estimates.

Data come from installed packages only (dev extras), nothing is downloaded:
* Proposition 99 (39 states, 1970-2000, California treated from 1989): the CSV that ships in
  causalpy's wheel, located without importing causalpy (which imports pymc);
* Texas prison expansion (1993; 51 states, 1985-2000) and the castle-doctrine 2007 cohort
  (13 states against 29 that never adopted, 2000-2010) from causaldata.

References (dev extras): pysyncon 1.7.0 (canonical synthetic control) and synthdid-py 0.1.0
(import name ``synthdid``: a port of the authors' R package ``synthdid``, agreeing with R to
the fifth decimal on Proposition 99). Published: Arkhangelsky, Athey, Hirshberg, Imbens &
Wager (2021, AER), Table 1, California: SDID -15.6 (8.4), SC -19.6 (9.9), DiD -27.3 (17.7)
packs per capita, standard errors by the placebo method (Algorithm 4, 200 replications).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from analytics import synth as sy

# --- data ---------------------------------------------------------------------------------------


@cache
def prop99() -> pd.DataFrame:
    """Year x state, packs per capita (causalpy's california_prop99.csv, wide)."""
    spec = importlib.util.find_spec("causalpy")  # finds the package without importing it
    assert spec is not None and spec.submodule_search_locations, "pip install -e '.[dev]'"
    path = Path(spec.submodule_search_locations[0]) / "data" / "california_prop99.csv"
    return pd.read_csv(path).set_index("Year")


@cache
def texas() -> pd.DataFrame:
    """Year x state, black male prisoners (causaldata texas; Texas expanded prisons in 1993)."""
    import causaldata

    data = causaldata.texas.load_pandas().data
    return data.pivot(index="year", columns="state", values="bmprison")


@cache
def castle() -> tuple[pd.DataFrame, list, list]:
    """Year x state homicides per 100k, the 2007 castle-doctrine cohort and never-adopters
    (the panel tests/realdata/cases.py uses)."""
    import causaldata

    data = causaldata.castle.load_pandas().data
    first = data[data["post"] > 0].groupby("sid")["year"].min()
    cohort = sorted(first[first == 2007].index)
    never = sorted(set(data["sid"]) - set(first.index))
    return data.pivot(index="year", columns="sid", values="homicide"), cohort, never


def california() -> tuple[np.ndarray, np.ndarray, int, list[str]]:
    frame = prop99()
    controls = frame.drop(columns="California")
    return (
        frame["California"].to_numpy(),
        controls.to_numpy(),
        int((frame.index < 1989).sum()),
        list(controls.columns),
    )


def test_prop99_panel_is_the_canonical_one():
    frame = prop99()
    assert frame.shape == (31, 39) and frame.index[0] == 1970 and frame.index[-1] == 2000
    assert frame.loc[1988, "California"] == pytest.approx(90.1)  # ADH (2010)'s 1988 figure
    assert not frame.isna().any().any()


# --- the canonical synthetic control: exact, KKT ------------------------------------------------


def kkt_violation(y: np.ndarray, d: np.ndarray, w: np.ndarray) -> float:
    """Relative violation of the KKT conditions of min ||y - d w||^2 on the simplex: every
    donor with weight has the same gradient, and none has a lower one."""
    g = d.T @ (d @ w - y)
    on = w > 0
    top = g[on].max()
    scale = max(float((d**2).sum(axis=0).max()), float(y @ y))
    return max(top - g.min(), top - g[on].min()) / scale


def random_problem(rng: np.random.Generator):
    t0, j = int(rng.integers(2, 30)), int(rng.integers(1, 45))
    factors = rng.normal(size=(t0, 3)) @ rng.normal(size=(3, j)) * rng.uniform(0.1, 10)
    d = 50 + factors + rng.normal(size=(t0, j)) * rng.uniform(0, 2)
    y = d @ rng.dirichlet(np.ones(j)) + rng.normal(size=t0) * rng.uniform(0, 5)
    return y + rng.normal() * rng.uniform(0, 20), d  # often outside the donors' hull


def test_weights_satisfy_kkt_and_the_simplex():
    rng = np.random.default_rng(7)
    for _ in range(150):
        y, d = random_problem(rng)
        w = sy.synthetic_control_weights(y, d)
        assert w.shape == (d.shape[1],)
        assert w.min() >= 0 and w.sum() == pytest.approx(1, abs=1e-12)
        assert kkt_violation(y, d, w) < 1e-12


def test_weights_are_no_worse_than_slsqp():
    rng = np.random.default_rng(11)
    for _ in range(10):
        y, d = random_problem(rng)
        d = d[:, :20]  # SLSQP is the slow side: small problems
        j = d.shape[1]
        res = optimize.minimize(
            lambda v, y=y, d=d: np.sum((y - d @ v) ** 2),
            np.full(j, 1 / j),
            jac=lambda v, y=y, d=d: -2 * d.T @ (y - d @ v),
            bounds=[(0, 1)] * j,
            constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1}],
            method="SLSQP",
            options={"ftol": 1e-13, "maxiter": 500},
        )
        ref = np.clip(res.x, 0, None) / np.clip(res.x, 0, None).sum()  # feasible
        ours = sy.synthetic_control_weights(y, d)
        assert np.sum((y - d @ ours) ** 2) <= np.sum((y - d @ ref) ** 2) * (1 + 1e-12) + 1e-12


def test_weights_recover_an_exact_convex_combination():
    rng = np.random.default_rng(3)
    d = rng.normal(100, 10, size=(20, 8))
    truth = np.array([0.5, 0.3, 0.2, 0, 0, 0, 0, 0])
    w = sy.synthetic_control_weights(d @ truth, d)
    np.testing.assert_allclose(w, truth, atol=1e-10)


def test_weights_one_donor_and_a_vertex():
    d = np.array([[1.0, 5.0], [2.0, 6.0], [3.0, 7.0]])
    np.testing.assert_array_equal(sy.synthetic_control_weights(d[:, 0], d[:, :1]), [1.0])
    # a treated series below every donor: all weight on the nearest donor
    np.testing.assert_allclose(sy.synthetic_control_weights(d[:, 0] - 10, d), [1.0, 0.0])


def test_many_targets_match_single_fits_and_respect_allowed():
    rng = np.random.default_rng(5)
    d = 40 + rng.normal(size=(15, 3)) @ rng.normal(size=(3, 12)) + rng.normal(size=(15, 12))
    allowed = ~np.eye(12, dtype=bool)
    w = sy.synthetic_control_weights_many(d, d, allowed)
    assert w.shape == (12, 12) and np.all(np.diag(w) == 0)
    for k in range(12):
        single = sy.synthetic_control_weights(d[:, k], np.delete(d, k, axis=1))
        np.testing.assert_allclose(np.delete(w[k], k), single, atol=1e-10)


# --- pins: the canonical synthetic control against pysyncon -------------------------------------


def pysyncon_weights(frame: pd.DataFrame, treated: str, n_pre: int):
    """pysyncon's Synth on the pre-period outcomes as the predictors. pysyncon divides each
    predictor row by its sd across units and minimises with V = diag(custom_V); custom_V =
    that variance makes the problem ADH's V = I on the raw outcomes:
        Synth().fit(X0=Z0.iloc[:T0], X1=Z1.iloc[:T0], Z0=Z0, Z1=Z1, custom_V=sd_t ** 2)
    Its inner solver is SLSQP (ftol 1e-6 on the objective), so its weights are exact only to
    about 1e-5."""
    from pysyncon import Synth

    z0, z1 = frame.drop(columns=treated), frame[treated]
    x0, x1 = z0.iloc[:n_pre], z1.iloc[:n_pre]
    v = pd.concat([x0, x1], axis=1).std(axis=1).to_numpy() ** 2
    model = Synth()
    model.fit(X0=x0, X1=x1, Z0=z0, Z1=z1, custom_V=v)
    return np.asarray(model.W, dtype=float), np.asarray(model._gaps(z0, z1), dtype=float)


# Proposition 99, canonical SC on the 19 pre-period outcomes (V = I). The reference call:
#   pysyncon_weights(prop99(), "California", 19)  -> weights agree to 2e-5, gaps to 3e-4 packs
PROP99_SC_WEIGHTS = {
    "Utah": 0.39391,
    "Montana": 0.23184,
    "Nevada": 0.20492,
    "Connecticut": 0.10909,
    "New Hampshire": 0.04543,
    "Colorado": 0.01481,
}
PROP99_SC_TAU = -19.5136  # mean 1989-2000 gap, packs per capita (pysyncon: -19.5135)
PROP99_SC_PRE_RMSPE = 1.6564


def test_prop99_synthetic_control_pinned():
    y, c, n_pre, names = california()
    fit = sy.synthetic_control(y, c, n_pre)
    weights = dict(zip(names, fit.unit_weights, strict=True))
    for state, w in PROP99_SC_WEIGHTS.items():
        assert weights[state] == pytest.approx(w, abs=1e-5)
    assert sum(w > 0 for w in weights.values()) == len(PROP99_SC_WEIGHTS)
    assert fit.tau == pytest.approx(PROP99_SC_TAU, abs=1e-4)
    assert fit.pre_rmspe == pytest.approx(PROP99_SC_PRE_RMSPE, abs=1e-4)
    assert np.all(fit.time_weights == 0) and fit.offset == 0
    np.testing.assert_allclose(fit.counterfactual, c @ fit.unit_weights)


# pysyncon's SLSQP can stop where it starts (the uniform 1/J weights) on a badly scaled
# problem: on Texas' raw counts its weights summed to 1.7, and scipy 1.17.1 stops at 1/J on
# Texas in hundreds. The weights do not depend on the outcome's unit, so the reference is
# pysyncon run on the panel in several units, the run with the best pre-period fit: the
# scaling is pysyncon's need, not ours
REFERENCE_SCALES = (1.0, 10.0, 100.0, 1000.0)


def best_pysyncon_weights(frame: pd.DataFrame, treated: str, n_pre: int):
    """`pysyncon_weights` over REFERENCE_SCALES, the run whose weights fit the pre-period
    best (sum of squares on the raw panel), with its gap back in the panel's unit."""
    pre_y = frame[treated].to_numpy()[:n_pre]
    pre_c = frame.drop(columns=treated).to_numpy()[:n_pre]
    runs = []
    for scale in REFERENCE_SCALES:
        w, gap = pysyncon_weights(frame / scale, treated, n_pre)
        runs.append((float(np.sum((pre_y - pre_c @ w) ** 2)), w, gap * scale))
    _, w, gap = min(runs, key=lambda run: run[0])
    return w, gap


@pytest.mark.parametrize("name", ["prop99", "texas"])
def test_synthetic_control_agrees_with_pysyncon(name):
    frame, treated, go = (
        (prop99(), "California", 1989) if name == "prop99" else (texas(), "Texas", 1993)
    )
    n_pre = int((frame.index < go).sum())
    ref_w, ref_gap = best_pysyncon_weights(frame, treated, n_pre)
    fit = sy.synthetic_control(frame[treated], frame.drop(columns=treated), n_pre)
    # tolerance: pysyncon's SLSQP (ftol 1e-6) is exact to ~1e-5 in the weights
    np.testing.assert_allclose(fit.unit_weights, ref_w, atol=1e-4)
    # the gap is y - C w: weights within 1e-4 move it by at most about 1e-4 of the level
    level = float(frame[treated].mean())
    np.testing.assert_allclose(fit.gap, ref_gap, atol=1e-4 * level)
    # the exact optimum is never worse than the reference's
    pre_y, pre_c = frame[treated].to_numpy()[:n_pre], frame.drop(columns=treated).to_numpy()[:n_pre]
    ours = np.sum((pre_y - pre_c @ fit.unit_weights) ** 2)
    assert ours <= np.sum((pre_y - pre_c @ (ref_w / ref_w.sum())) ** 2) * (1 + 1e-9)


# Texas 1993 (8 pre-years, 50 donors): canonical SC, black male prisoners. Reference call:
#   pysyncon_weights(texas() / 100, "Texas", 8)  -> weights agree to 5e-6
TEXAS_SC_WEIGHTS = {"Florida": 0.37253, "New York": 0.35546, "Illinois": 0.27201}
TEXAS_SC_TAU = 21013.19  # mean 1993-2000 gap, prisoners


def test_texas_synthetic_control_pinned():
    frame = texas()
    fit = sy.synthetic_control(frame["Texas"], frame.drop(columns="Texas"), 8)
    weights = dict(zip(frame.drop(columns="Texas").columns, fit.unit_weights, strict=True))
    assert {k for k, w in weights.items() if w > 0} == set(TEXAS_SC_WEIGHTS)
    for state, w in TEXAS_SC_WEIGHTS.items():
        assert weights[state] == pytest.approx(w, abs=1e-5)
    assert fit.tau == pytest.approx(TEXAS_SC_TAU, abs=0.01)


# --- pins: SDID / SC / DiD against synthdid-py and the paper ------------------------------------

# California, packs per capita. Reference calls (synthdid-py 0.1.0, = R synthdid 0.0.9):
#   Y = np.vstack([controls.T, california[None]]); N0, T0 = 38, 19
#   synthdid.synthdid_estimate(Y, N0, T0)  -> -15.603828   (paper Table 1: -15.6)
#   synthdid.sc_estimate(Y, N0, T0)        -> -19.619663   (paper: -19.6)
#   synthdid.did_estimate(Y, N0, T0)       -> -27.349111   (paper: -27.3)
#   <estimate>.se(method="placebo", replications=200, random_state=0)
#                                          -> 10.276746, 12.236723, 18.404091
PROP99 = {
    # method: (tau, seeded placebo SE, enumerated placebo SE, paper tau, paper SE)
    "sdid": (-15.603828, 10.276746, 9.370999, -15.6, 8.4),
    "sc": (-19.619663, 12.236723, 10.615297, -19.6, 9.9),
    "did": (-27.349111, 18.404091, 17.286800, -27.3, 17.7),
}


@pytest.fixture(scope="module")
def prop99_fits() -> dict[str, sy.SynthFit]:
    y, c, n_pre, _ = california()
    return {m: sy.estimate(y, c, n_pre, m) for m in PROP99}


@pytest.mark.parametrize("method", list(PROP99))
def test_prop99_estimates_pinned_to_synthdid_and_the_paper(prop99_fits, method):
    tau, _, _, paper_tau, _ = PROP99[method]
    fit = prop99_fits[method]
    # the port reproduces the R package's arithmetic: 1e-6 is rounding of the pinned digits
    assert fit.tau == pytest.approx(tau, abs=1e-6)
    # the paper prints one decimal: agreement to its rounding (0.05)
    assert abs(fit.tau - paper_tau) <= 0.05


@pytest.mark.parametrize("method", list(PROP99))
def test_prop99_seeded_placebo_se_equals_synthdid(prop99_fits, method):
    _, seeded, _, _, _ = PROP99[method]
    se = sy.placebo_se(prop99_fits[method], replications=200, seed=0)
    assert se == pytest.approx(seeded, abs=1e-6)


@pytest.mark.parametrize("method", list(PROP99))
def test_prop99_placebo_se_against_the_paper(prop99_fits, method):
    """The paper's SE is one draw of a 200-replication placebo: with one treated unit each
    replication is one of the 38 controls playing California, so its sampling distribution is
    that of the sd of 200 draws (with replacement) from the 38 enumerated placebo estimates.
    Tolerance: the paper's number must lie inside that distribution's central 99%. (SDID's 8.4
    sits at about its 8th percentile; the many-draw limit is 9.37. SC 9.9: ~23rd; DiD 17.7:
    ~62nd.) The enumerated SE itself is pinned exactly."""
    _, _, enumerated, _, paper_se = PROP99[method]
    fit = prop99_fits[method]
    taus = sy.placebo_estimates(fit, replications=None)
    assert taus is not None and len(taus) == 38
    assert float(np.std(taus)) == pytest.approx(enumerated, abs=1e-6)
    rng = np.random.default_rng(0)
    draws = rng.choice(taus, size=(20_000, 200), replace=True).std(axis=1)
    low, high = np.percentile(draws, [0.5, 99.5])
    assert low <= paper_se <= high


def test_the_estimators_agree_with_synthdid_live(prop99_fits):
    import synthdid

    y, c, n_pre, _ = california()
    big_y = np.vstack([c.T, y[None]])
    refs = {
        "sdid": synthdid.synthdid_estimate(big_y, c.shape[1], n_pre),
        "sc": synthdid.sc_estimate(big_y, c.shape[1], n_pre),
        "did": synthdid.did_estimate(big_y, c.shape[1], n_pre),
    }
    for method, ref in refs.items():
        fit = prop99_fits[method]
        assert fit.tau == pytest.approx(float(ref), abs=1e-9)
        np.testing.assert_allclose(fit.unit_weights, ref.weights.omega, atol=1e-12)
        np.testing.assert_allclose(fit.time_weights, ref.weights.lambda_, atol=1e-12)
        np.testing.assert_allclose(fit.effect_curve, synthdid.synthdid_effect_curve(ref), atol=1e-9)


def test_castle_many_treated_units_agree_with_synthdid():
    """13 treated states: SDID with N_tr > 1, the jackknife (Algorithm 3) and the seeded
    placebo variance against synthdid-py. Reference calls:
        synthdid.<estimator>(Y, 29, 7); .se(method="jackknife");
        .se(method="placebo", replications=20, random_state=3)"""
    import synthdid

    wide, cohort, never = castle()
    n_pre = int((wide.index < 2007).sum())
    y, c = wide[cohort].to_numpy(), wide[never].to_numpy()
    big_y = np.vstack([c.T, y.T])
    for method, ref_fn in (
        ("sdid", synthdid.synthdid_estimate),
        ("sc", synthdid.sc_estimate),
        ("did", synthdid.did_estimate),
    ):
        fit = sy.estimate(y, c, n_pre, method)
        ref = ref_fn(big_y, c.shape[1], n_pre)
        assert fit.tau == pytest.approx(float(ref), abs=1e-9)
        assert sy.jackknife_se(fit) == pytest.approx(ref.se(method="jackknife"), abs=1e-9)
        assert sy.placebo_se(fit, replications=20, seed=3) == pytest.approx(
            ref.se(method="placebo", replications=20, random_state=3), abs=1e-9
        )


def test_sdid_weights_and_trajectories(prop99_fits):
    fit = prop99_fits["sdid"]
    assert fit.unit_weights.shape == (38,) and fit.time_weights.shape == (19,)
    for w in (fit.unit_weights, fit.time_weights):
        assert w.min() >= 0 and w.sum() == pytest.approx(1)
    assert fit.treated.shape == fit.synthetic.shape == fit.counterfactual.shape == (31,)
    assert fit.effect_curve.mean() == pytest.approx(fit.tau)
    assert fit.zeta_omega == pytest.approx(12**0.25 * fit.noise_level)
    # the paper's Figure 1: the time weights sit on the last pre-years (1986-1988)
    assert fit.time_weights[-3:].sum() > 0.9


# --- known truth: a factor model ----------------------------------------------------------------


def factor_panel(seed: int, tau: float = -5.0, shift: float = 0.0, t: int = 40, t0: int = 30):
    """30 controls = level + common trend + two random-walk factors with unit loadings +
    noise (sd 0.5); the treated unit is a convex mix of four controls' levels and loadings
    (plus `shift`, which takes it outside the donors' hull), with effect `tau` after t0."""
    rng = np.random.default_rng(seed)
    j = 30
    factors = np.cumsum(rng.normal(size=(t, 2)), axis=0)
    loads = rng.normal(1.0, 1.0, size=(2, j))
    levels = rng.normal(50, 5, size=j)
    trend = np.cumsum(rng.normal(size=t))
    c = levels + trend[:, None] + factors @ loads + rng.normal(0, 0.5, size=(t, j))
    mix, pick = rng.dirichlet(np.ones(4)), rng.choice(j, 4, replace=False)
    y = levels[pick] @ mix + shift + trend + factors @ (loads[:, pick] @ mix)
    y = y + rng.normal(0, 0.5, t)
    y[t0:] += tau
    return y, c, t0


@pytest.mark.parametrize(
    ("method", "shift", "rmse"),
    [
        ("sdid", 0.0, 0.6),
        ("sdid", 25.0, 0.6),  # SDID's intercept absorbs a level outside the hull
        ("synthetic_control", 0.0, 0.6),
        ("sc", 0.0, 0.6),
    ],
)
def test_known_effect_is_recovered(method, shift, rmse):
    est = np.array(
        [sy.estimate(*factor_panel(s, shift=shift), method=method).tau for s in range(8)]
    )
    assert np.sqrt(np.mean((est + 5.0) ** 2)) < rmse


def test_did_is_biased_where_loadings_differ_and_sc_outside_the_hull():
    did = np.array([sy.estimate(*factor_panel(s), method="did").tau for s in range(8)])
    outside = [factor_panel(s, shift=25.0) for s in range(8)]
    sc = np.array([sy.estimate(*p, method="synthetic_control").tau for p in outside])
    assert np.sqrt(np.mean((did + 5) ** 2)) > 1.5
    assert np.sqrt(np.mean((sc + 5) ** 2)) > 5


def test_invariances():
    """The R package's own checks: unit and time fixed effects leave SDID and DiD unchanged,
    time effects leave SC unchanged (its weights sum to one), and every tau scales with Y.
    A time effect also moves the estimated noise level (the sd of first differences), hence
    the ridge: the comparison holds it fixed, as the R package's tests do."""
    y, c, t0 = factor_panel(1)
    rng = np.random.default_rng(2)
    time_fe = rng.normal(0, 10, size=len(y))
    unit_fe = rng.normal(0, 10, size=c.shape[1] + 1)
    for method in ("sdid", "did", "sc", "synthetic_control"):
        base = sy.estimate(y, c, t0, method)
        sigma = base.noise_level
        moved = sy.estimate(y + time_fe, c + time_fe[:, None], t0, method, noise_level=sigma)
        assert moved.tau == pytest.approx(base.tau, abs=1e-6)
        scaled = sy.estimate(3 * y, 3 * c, t0, method).tau
        assert scaled == pytest.approx(3 * base.tau, rel=1e-6)
    for method in ("sdid", "did"):
        base = sy.estimate(y, c, t0, method).tau
        shifted = sy.estimate(y + unit_fe[-1], c + unit_fe[:-1], t0, method).tau
        assert shifted == pytest.approx(base, abs=1e-6)


# --- placebo-in-space ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["synthetic_control", "sc", "sdid", "did"])
def test_placebo_in_space_batch_equals_the_naive_loop(method):
    y, c, t0 = factor_panel(4, t=24, t0=16)
    c = c[:, :8]
    scan = sy.placebo_in_space(y, c, t0, method)
    assert scan.defined and scan.n_placebos == 8
    for u in range(8):
        alone = sy.estimate(c[:, u], np.delete(c, u, axis=1), t0, method)
        assert scan.effects[u] == pytest.approx(alone.tau, abs=1e-8)
        assert scan.pre_rmspes[u] == pytest.approx(alone.pre_rmspe, abs=1e-8)
        assert scan.post_rmspes[u] == pytest.approx(alone.post_rmspe, abs=1e-8)
    own = sy.estimate(y, c, t0, method)
    assert scan.effect == pytest.approx(own.tau) and scan.ratio == pytest.approx(
        own.post_rmspe / own.pre_rmspe
    )
    assert scan.rank == 1 + int(np.sum(scan.ratios >= scan.ratio))
    assert scan.p_value == pytest.approx(scan.rank / 9)


# Proposition 99, placebo-in-space over the 38 donor states (post/pre RMSPE ratio):
#   method             California's rank  p = rank/39   states above it
PROP99_RANKS = {
    "synthetic_control": 3,  # 0.077   Missouri (pre RMSPE 0.44), Virginia (0.82)
    "sc": 3,  # 0.077   the same two
    "sdid": 1,  # 0.026
    "did": 4,  # 0.103   West Virginia, South Dakota, Illinois
}


@pytest.mark.parametrize("method", list(PROP99_RANKS))
def test_placebo_in_space_prop99(method):
    """ADH (2010, Figure 8) find California's ratio the highest of the 39 states (p = 0.026)
    with a synthetic control matched on covariates as well; on the outcomes alone two states
    whose pre-period fit is unusually tight (small denominators) rank above it, so the
    outcome-only synthetic control gives p = 3/39. SDID's intercept makes the pre-period fits
    comparable and gives back rank 1."""
    y, c, n_pre, _ = california()
    scan = sy.placebo_in_space(y, c, n_pre, method)
    assert scan.rank == PROP99_RANKS[method]
    assert scan.p_value == pytest.approx(PROP99_RANKS[method] / 39)
    assert scan.effects.shape == scan.ratios.shape == (38,)
    if method == "synthetic_control":
        assert scan.effect == pytest.approx(PROP99_SC_TAU, abs=1e-4)


def test_placebo_in_space_is_calibrated_on_a_null():
    """No effect: the treated unit's permutation p-value is at most 0.05 only as often as a
    rank of 1 in 31 allows (3.2%), up to sampling noise (100 panels)."""
    ps = np.array([sy.placebo_in_space(*factor_panel(s, tau=0.0)).p_value for s in range(100)])
    assert np.mean(ps <= 0.05) <= 0.10
    found = [sy.placebo_in_space(*factor_panel(s, tau=-5.0)).p_value for s in range(10)]
    assert all(p == pytest.approx(1 / 31) for p in found)


@pytest.mark.parametrize("n_controls", [1, 2])
def test_one_or_two_controls_are_not_a_distribution(n_controls):
    y, c, t0 = factor_panel(0)
    c = c[:, :n_controls]
    scan = sy.placebo_in_space(y, c, t0, "did")
    assert not scan.defined and scan.rank is None and scan.p_value is None
    assert scan.effects is None and np.isfinite(scan.effect)
    for method in ("sdid", "did", "synthetic_control"):
        fit = sy.estimate(y, c, t0, method)
        assert sy.placebo_se(fit) is None and sy.placebo_estimates(fit) is None
        assert sy.jackknife_se(fit) is None


def test_jackknife_undefined_with_one_treated_unit(prop99_fits):
    assert sy.jackknife_se(prop99_fits["sdid"]) is None


def test_placebo_se_is_seedable_and_enumerable():
    y, c, t0 = factor_panel(2, t=24, t0=16)
    fit = sy.estimate(y, c[:, :10], t0, "sdid")
    a = sy.placebo_se(fit, replications=30, seed=5)
    assert a == sy.placebo_se(fit, replications=30, seed=5)
    assert a != sy.placebo_se(fit, replications=30, seed=6)
    assert len(sy.placebo_estimates(fit, replications=None)) == 10
    with pytest.raises(ValueError, match="enumerate"):
        sy.placebo_se(sy.estimate(np.c_[y, y + 1], c[:, :10], t0, "did"), replications=None)


# --- bad input ----------------------------------------------------------------------------------


def test_bad_input_raises_value_error():
    y, c, t0 = factor_panel(0, t=12, t0=8)
    bad = c.copy()
    bad[3, 2] = np.nan
    cases = [
        (lambda: sy.estimate(y, bad, t0), "NaN"),
        (lambda: sy.estimate(np.r_[y, np.inf], np.vstack([c, c[:1]]), t0), "NaN/inf"),
        (lambda: sy.estimate(y[:-1], c, t0), "rows"),
        (lambda: sy.estimate(y, c[:, 0], t0), r"\(T, N0\)"),
        (lambda: sy.estimate(y, c, 0), "n_pre"),
        (lambda: sy.estimate(y, c, len(y)), "n_pre"),
        (lambda: sy.estimate(y, c, 2.5), "integer"),
        (lambda: sy.estimate(y, c, t0, "lasso"), "method"),
        (lambda: sy.estimate(y, c, 1, "sdid"), "2 pre-period"),
        (lambda: sy.estimate(y, c, t0, noise_level=np.nan), "noise_level"),
        (lambda: sy.placebo_in_space(y, c, t0, "nope"), "method"),
        (lambda: sy.synthetic_control_weights(y[:t0], c[: t0 - 1]), "donors_pre"),
        (lambda: sy.synthetic_control_weights(y[:t0, None], c[:t0]), "y_pre"),
        (lambda: sy.synthetic_control_weights(y[:t0], bad[:t0]), "NaN"),
        (lambda: sy.synthetic_control_weights_many(c[:t0], c[:t0], np.zeros((3, 3))), "allowed"),
        (
            lambda: sy.synthetic_control_weights_many(
                c[:t0, :2], c[:t0, :2], np.zeros((2, 2), dtype=bool)
            ),
            "at least one",
        ),
        (lambda: sy.placebo_se(sy.estimate(y, c, t0), replications=1), "replications"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
