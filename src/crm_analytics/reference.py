"""Country reference seeds, generated from maintained packages.

``python -m crm_analytics.reference`` writes ``seeds/countries.csv`` (one row
per ISO 3166-1 country, all 249) and ``seeds/country_aliases.csv`` (every
way of writing a country that the warehouse recognises, as a lookup key).
``--check`` writes nothing and exits 1 when the committed seeds differ from
what the packages give (tests/python/test_reference.py runs the same check).

Where each column comes from:

* ISO 3166-1 codes and English names: ``pycountry`` (the Debian
  ``iso-codes`` data). ``country_name`` is pycountry's common name where it
  has one ('Iran', 'South Korea', 'Taiwan'), else the ISO short name.
* Calling code and trunk prefix, which the phone normaliser needs:
  ``phonenumbers`` (Google's libphonenumber metadata), ``country_code`` and
  ``national_prefix`` of the region. Countries libphonenumber has no plan for
  (Antarctica, Bouvet Island, ...) get none, so their phones stay null. NANP
  countries (calling code 1) get no trunk prefix: libphonenumber lists '1',
  which is the calling code itself, and the ``e164_phone`` macro handles a
  leading 1 on its own.
* Aliases: each country's alpha-2, alpha-3, ISO name, official name and
  common name from pycountry, plus :data:`EXTRA_ALIASES`, the short
  hand-kept list of common English (and a few native) spellings pycountry
  lacks ('UK', 'EIRE', 'Russia', 'Holland', ...). Text that is no ISO country
  ('Channel Islands', 'European Community', 'West Indies') is deliberately
  not mapped: it reaches ``dq_unmapped_values`` instead.

An alias is stored as its lookup key (:func:`alias_key`): lower case, accents
removed, runs of white space made one space, trimmed -- the same as the
``country_key`` macro does to source text, so matching ignores case,
accents and spacing ('ESPAÑA ', 'espana' and 'España' are one key).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import unicodedata
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
SEEDS_DIR = PROJECT_DIR / "seeds"

COUNTRY_COLUMNS: tuple[str, ...] = (
    "country_code",
    "alpha_3_code",
    "numeric_code",
    "country_name",
    "iso_name",
    "official_name",
    "calling_code",
    "trunk_prefix",
)
ALIAS_COLUMNS: tuple[str, ...] = ("alias", "country_code", "alias_source")

#: Common spellings pycountry does not give, keyed by alpha-2. Keep it short:
#: a test fails when pycountry already gives one of these, so the list only
#: holds what the package lacks.
EXTRA_ALIASES: dict[str, tuple[str, ...]] = {
    "AE": ("UAE",),
    "AT": ("Österreich",),
    "BR": ("Brasil",),
    "CH": ("Schweiz", "Suisse", "Svizzera"),
    "CI": ("Ivory Coast",),
    "CV": ("Cape Verde",),
    "DE": ("Deutschland",),
    "ES": ("España",),
    "GB": (
        "UK",
        "U.K.",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
    ),
    "IE": ("EIRE", "Republic of Ireland"),
    "IT": ("Italia",),
    "KR": ("Korea", "Republic of Korea"),
    "MK": ("Macedonia",),
    "MM": ("Burma",),
    "NL": ("Holland", "The Netherlands", "Nederland"),
    "PS": ("Palestine",),
    "RU": ("Russia",),
    "SZ": ("Swaziland",),
    "TL": ("East Timor",),
    "TR": ("Turkey",),
    "US": ("U.S.", "U.S.A.", "America"),
    "VA": ("Vatican", "Vatican City"),
    "ZA": ("RSA",),
}

#: Where an alias comes from, in the order a duplicate key is attributed.
_SOURCES: tuple[str, ...] = (
    "alpha_2",
    "alpha_3",
    "iso_name",
    "official_name",
    "common_name",
    "hand_kept",
)


def alias_key(text: str) -> str:
    """The lookup key of a country text: lower case, no accents, one space.

    Mirrors the ``country_key`` macro (``strip_accents(lower(...))`` with
    white space collapsed and trimmed), so a stored key equals the key the
    warehouse computes from the same text.
    """
    lowered = text.lower()
    decomposed = unicodedata.normalize("NFKD", lowered)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFC", stripped).split())


def _phone_plan(alpha_2: str) -> tuple[str, str]:
    """(calling code, trunk prefix) of a country, '' where there is none."""
    from phonenumbers import PhoneMetadata

    metadata = PhoneMetadata.metadata_for_region(alpha_2)
    if metadata is None or not metadata.country_code:
        return "", ""
    calling_code = str(metadata.country_code)
    trunk = metadata.national_prefix or ""
    if calling_code == "1":
        trunk = ""
    return calling_code, trunk


def country_rows() -> list[dict[str, str]]:
    """One row per ISO 3166-1 country, sorted by alpha-2 code."""
    import pycountry

    rows = []
    for country in pycountry.countries:
        calling_code, trunk = _phone_plan(country.alpha_2)
        rows.append(
            {
                "country_code": country.alpha_2,
                "alpha_3_code": country.alpha_3,
                "numeric_code": country.numeric,
                "country_name": getattr(country, "common_name", None) or country.name,
                "iso_name": country.name,
                "official_name": getattr(country, "official_name", ""),
                "calling_code": calling_code,
                "trunk_prefix": trunk,
            }
        )
    return sorted(rows, key=lambda row: row["country_code"])


def _generated_aliases() -> list[tuple[str, str, str]]:
    """(text, alpha-2, source) for every name and code pycountry gives."""
    import pycountry

    texts = []
    for country in pycountry.countries:
        for source, attribute in (
            ("alpha_2", "alpha_2"),
            ("alpha_3", "alpha_3"),
            ("iso_name", "name"),
            ("official_name", "official_name"),
            ("common_name", "common_name"),
        ):
            value = getattr(country, attribute, None)
            if value:
                texts.append((value, country.alpha_2, source))
    return texts


def alias_rows() -> list[dict[str, str]]:
    """One row per alias key, sorted by key.

    Raises ValueError when one key would name two countries, or when a
    hand-kept alias names a code that is not in ISO 3166-1.
    """
    codes = {row["country_code"] for row in country_rows()}
    unknown = sorted(set(EXTRA_ALIASES) - codes)
    if unknown:
        raise ValueError(f"EXTRA_ALIASES names codes not in ISO 3166-1: {unknown}")
    texts = _generated_aliases() + [
        (text, code, "hand_kept")
        for code, spellings in EXTRA_ALIASES.items()
        for text in spellings
    ]
    chosen: dict[str, tuple[str, str]] = {}
    for text, code, source in sorted(
        texts, key=lambda item: (_SOURCES.index(item[2]), item[1], item[0])
    ):
        key = alias_key(text)
        if key in chosen and chosen[key][0] != code:
            raise ValueError(
                f"alias {key!r} would map to both {chosen[key][0]} and {code}"
            )
        chosen.setdefault(key, (code, source))
    return [
        {"alias": key, "country_code": code, "alias_source": source}
        for key, (code, source) in sorted(chosen.items())
    ]


def render_csv(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    """The seed file text: a header, one line per row, '\\n' line ends."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def seed_files() -> dict[str, str]:
    """File name -> the text the generator gives for it."""
    return {
        "countries.csv": render_csv(country_rows(), COUNTRY_COLUMNS),
        "country_aliases.csv": render_csv(alias_rows(), ALIAS_COLUMNS),
    }


def stale_seeds(seeds_dir: Path = SEEDS_DIR) -> list[str]:
    """Names of the seed files that differ from the generator's output."""
    stale = []
    for name, text in seed_files().items():
        path = seeds_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def write_seeds(seeds_dir: Path = SEEDS_DIR) -> list[Path]:
    """Write both seed files into ``seeds_dir``; return their paths."""
    written = []
    for name, text in seed_files().items():
        path = seeds_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crm_analytics.reference", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR)
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the committed seeds are stale",
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_seeds(args.seeds_dir)
        for name in stale:
            print(f"{args.seeds_dir / name} is stale", file=sys.stderr)
        return 1 if stale else 0
    for path in write_seeds(args.seeds_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
