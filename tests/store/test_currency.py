"""Money with a currency: a pilots file's `currency` column (validated, named by line), a
company's currency from Settings, the user's conversion rates, undo and the migration."""

from __future__ import annotations

import duckdb
import pytest

from pilotproof.store import IngestError, Store, StoreError
from pilotproof.store.schema import MIGRATIONS, SCHEMA_VERSION

PILOTS = b"pilot_id,go_live,company,monthly_cost,currency\nA,2026-01-05,Acme,100,eur\n"


def test_a_pilots_file_sets_each_pilots_currency(tmp_path):
    body = PILOTS + b"B,2026-01-05,Acme,200,\n"
    with Store(tmp_path / "x.duckdb") as store:
        store.ingest([("p.csv", body)], user="t")
        assert store.pilot_currencies() == {"A": "EUR", "B": None}


def test_a_bad_currency_refuses_the_whole_file_naming_its_line(tmp_path):
    body = PILOTS + b"B,2026-01-05,Acme,200,EURO\nC,2026-01-05,Acme,200,ABC\n"
    with Store(tmp_path / "x.duckdb") as store:
        with pytest.raises(IngestError) as refused:
            store.ingest([("p.csv", body)], user="t")
        lines = [str(p) for p in refused.value.problems]
        assert lines[0].startswith("p.csv:3: column currency: currency 'EURO' is not")
        assert lines[1].startswith("p.csv:4: column currency: currency 'ABC'")
        assert store.pilots().empty  # nothing written


def test_company_currency_applies_unless_the_pilot_has_its_own(tmp_path):
    body = PILOTS + b"B,2026-01-05,Acme,200,\nC,2026-01-05,Beta,5,\n"
    with Store(tmp_path / "x.duckdb") as store:
        store.ingest([("p.csv", body)], user="t")
        before = store.data_version()
        store.set_company_currency("Acme", "gbp", "partner")
        assert store.data_version() > before  # cached views refresh
        assert store.pilot_currencies() == {"A": "EUR", "B": "GBP", "C": None}
        assert store.company_currencies() == {"Acme": "GBP"}
        store.set_company_currency("Acme", None, "partner")
        assert store.pilot_currencies()["B"] is None
        with pytest.raises(StoreError, match="ISO 4217"):
            store.set_company_currency("Acme", "pounds", "partner")


def test_undoing_the_file_brings_the_previous_currency_back(tmp_path):
    later = PILOTS.replace(b"eur", b"CHF")
    with Store(tmp_path / "x.duckdb") as store:
        store.ingest([("p.csv", PILOTS)], user="t")
        store.ingest([("p2.csv", later)], user="t")
        assert store.pilot_currencies() == {"A": "CHF"}
        store.undo_upload(int(store.uploads()["upload_id"].max()))
        assert store.pilot_currencies() == {"A": "EUR"}


def test_rates_are_what_the_user_entered(tmp_path):
    with Store(tmp_path / "x.duckdb") as store:
        assert store.rates().reporting is None and not store.rates().rates
        store.set_rates("gbp", {"EUR": 0.86, "USD": None, "GBP": 1.0}, "partner")
        rates = store.rates()
        assert rates.reporting == "GBP" and dict(rates.rates) == {"EUR": 0.86}
        assert rates.convertible({"EUR", "GBP"}) and not rates.convertible({"USD"})
        with pytest.raises(StoreError, match="positive"):
            store.set_rates("GBP", {"EUR": -1.0}, "partner")
        assert dict(store.rates().rates) == {"EUR": 0.86}  # nothing written


def test_an_older_database_gains_the_currency_tables(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    for statements in MIGRATIONS[:-1]:
        for statement in statements:
            con.execute(statement)
    version = str(len(MIGRATIONS) - 1)
    con.execute("INSERT INTO meta VALUES ('schema_version', ?), ('data_version', '3')", [version])
    con.close()
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        store.ingest([("p.csv", PILOTS)], user="t")
        assert store.pilot_currencies() == {"A": "EUR"}
