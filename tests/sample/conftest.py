"""Session fixtures: the shipped sample portfolio read with pandas."""

from __future__ import annotations

import pandas as pd
import pytest
from sample_data import SAMPLE_DIR, read_observations


@pytest.fixture(scope="session")
def observations() -> pd.DataFrame:
    return read_observations()


@pytest.fixture(scope="session")
def pilots() -> pd.DataFrame:
    return pd.read_csv(
        SAMPLE_DIR / "pilots.csv", parse_dates=["go_live"], keep_default_na=False, na_values=[""]
    ).set_index("pilot_id")


@pytest.fixture(scope="session")
def expected() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_DIR / "expected.csv", keep_default_na=False)
