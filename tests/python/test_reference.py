"""Country reference seeds: generated, complete, current, and matched the way
the warehouse matches them."""

from __future__ import annotations

import csv

import duckdb
import jinja2
import pycountry
import pytest

from crm_analytics import reference
from crm_analytics.generate import pools
from crm_analytics.reference import PROJECT_DIR, SEEDS_DIR, alias_key


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def aliases() -> dict[str, str]:
    return {
        row["alias"]: row["country_code"] for row in read_seed("country_aliases.csv")
    }


def test_committed_seeds_are_what_the_generator_writes():
    assert reference.stale_seeds() == [], (
        "seeds are stale: regenerate them with `python -m crm_analytics.reference`"
    )


def test_check_flag_reports_a_stale_seed(tmp_path, capsys):
    reference.write_seeds(tmp_path)
    assert reference.main(["--check", "--seeds-dir", str(tmp_path)]) == 0
    path = tmp_path / "country_aliases.csv"
    path.write_text(path.read_text(encoding="utf-8") + "atlantis,GR,hand_kept\n")
    assert reference.main(["--check", "--seeds-dir", str(tmp_path)]) == 1
    assert "country_aliases.csv is stale" in capsys.readouterr().err


def test_every_iso_country_is_in_the_seed_with_its_codes():
    rows = {row["country_code"]: row for row in read_seed("countries.csv")}
    assert len(rows) == len(pycountry.countries) == 249
    for country in pycountry.countries:
        row = rows[country.alpha_2]
        assert row["alpha_3_code"] == country.alpha_3
        assert row["numeric_code"] == country.numeric
        assert row["iso_name"] == country.name
    assert rows["GB"]["country_name"] == "United Kingdom"
    assert rows["KR"]["country_name"] == "South Korea"
    assert rows["AF"]["numeric_code"] == "004"


def test_phone_plans_keep_the_values_the_warehouse_used_before():
    """The 19 countries of the hand-typed seed keep their calling code and
    trunk prefix, so phones normalise as they did."""
    before = {
        "US": ("1", ""), "CA": ("1", ""), "GB": ("44", "0"), "IE": ("353", "0"),
        "DE": ("49", "0"), "AT": ("43", "0"), "CH": ("41", "0"), "FR": ("33", "0"),
        "BE": ("32", "0"), "NL": ("31", "0"), "ES": ("34", ""), "PT": ("351", ""),
        "IT": ("39", ""), "DK": ("45", ""), "SE": ("46", "0"), "NO": ("47", ""),
        "FI": ("358", "0"), "PL": ("48", ""), "AU": ("61", "0"),
    }  # fmt: skip
    rows = {row["country_code"]: row for row in read_seed("countries.csv")}
    for code, plan in before.items():
        assert (rows[code]["calling_code"], rows[code]["trunk_prefix"]) == plan, code
    assert rows["BR"]["calling_code"] == "55"
    assert rows["AQ"]["calling_code"] == ""


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Brazil", "BR"),
        ("Japan", "JP"),
        ("Cyprus", "CY"),
        ("Israel", "IL"),
        ("EIRE", "IE"),
        ("RSA", "ZA"),
        ("Channel Islands", None),
        ("European Community", None),
        ("Unspecified", None),
        ("West Indies", None),
        ("USA", "US"),
        ("United States of America", "US"),
        ("America", "US"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("England", "GB"),
        ("Scotland", "GB"),
        ("Wales", "GB"),
        ("Northern Ireland", "GB"),
        ("Russia", "RU"),
        ("South Korea", "KR"),
        ("Korea", "KR"),
        ("Iran", "IR"),
        ("Vietnam", "VN"),
        ("Viet Nam", "VN"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("Holland", "NL"),
        ("Turkey", "TR"),
        ("TÜRKIYE", "TR"),
        ("  côte   d'ivoire ", "CI"),
        ("Hong Kong", "HK"),
        ("United Arab Emirates", "AE"),
        ("Korea, Republic of", "KR"),
        ("gbr", "GB"),
    ],
)
def test_public_data_set_countries_map_or_stay_unmapped(text, code):
    assert aliases().get(alias_key(text)) == code


def test_every_spelling_of_the_demo_data_still_maps():
    mapped = aliases()
    for code in pools.COUNTRIES:
        for text in (code, *pools.COUNTRY_VARIANTS[code]):
            assert mapped[alias_key(text)] == code, text


def test_hand_kept_aliases_only_hold_what_pycountry_lacks():
    generated = {alias_key(text) for text, _, _ in reference._generated_aliases()}
    redundant = [
        text
        for spellings in reference.EXTRA_ALIASES.values()
        for text in spellings
        if alias_key(text) in generated
    ]
    assert redundant == [], "drop these from EXTRA_ALIASES: pycountry has them"


def test_an_alias_naming_two_countries_is_refused(monkeypatch):
    monkeypatch.setitem(reference.EXTRA_ALIASES, "FR", ("Germany",))
    with pytest.raises(ValueError, match="'germany' would map to both DE and FR"):
        reference.alias_rows()


def test_alias_key_ignores_case_accents_and_spacing():
    assert alias_key("  ESPAÑA ") == "espana"
    assert alias_key("Österreich") == "osterreich"
    assert alias_key("Channel\t\u00a0Islands") == "channel islands"
    assert alias_key("Côte d'Ivoire") == "cote d'ivoire"


def test_country_key_macro_gives_the_keys_the_seed_stores():
    """The SQL twin: the macro, evaluated in DuckDB on every text the
    generator turned into a key (and on messy variants of them), gives the
    same key as alias_key, so every stored alias is reachable."""
    macro_file = PROJECT_DIR / "macros" / "country_key.sql"
    macro = jinja2.Environment().from_string(macro_file.read_text()).module
    texts = [text for text, _, _ in reference._generated_aliases()] + [
        text for spellings in reference.EXTRA_ALIASES.values() for text in spellings
    ]
    texts += [f" \t{text.upper()}\u00a0 " for text in texts]
    with duckdb.connect() as connection:
        connection.execute("create table texts (text varchar)")
        connection.executemany("insert into texts values (?)", [[t] for t in texts])
        keys = connection.execute(
            f"select text, {macro.country_key('text')} from texts"
        ).fetchall()
    mismatched = [(text, key) for text, key in keys if key != alias_key(text)]
    assert mismatched == []
    assert {key for _, key in keys} == set(aliases())
