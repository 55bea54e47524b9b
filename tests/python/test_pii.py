"""Personal data stays out of the serving file: tagged columns are not
published, no value looks like an email or a phone number, and BI gets a
keyed hash of the email whose key is in no artifact."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import Warehouse, run_dbt

from crm_analytics.pii import HASH_KEY_ENV, HashKeyError, hash_key, keyed_hash
from crm_analytics.publish import main, publish

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
# E.164 anywhere, or a whole value made of a phone's characters with 8+
# digits (national formats such as '020 7946 0018' or '(555) 123-4567')
# that is not an ISO date or timestamp.
PHONE = (
    r"(\+[1-9][0-9]{7,14})"
    r"|(^[+(]?[0-9][0-9 ().-]{6,}[0-9]$)"
)
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"


@pytest.fixture(scope="module")
def serving_file(demo_warehouse: Warehouse, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pii") / "crm.duckdb"
    publish(demo_warehouse.path, path)
    return path


def tagged_pii_columns(manifest: dict) -> set[str]:
    """Names of the columns tagged ``contains_pii`` in any model or source."""
    names = set()
    nodes = [*manifest["nodes"].values(), *manifest["sources"].values()]
    for node in nodes:
        for column in node.get("columns", {}).values():
            config_meta = column.get("config", {}).get("meta", {})
            if {**column.get("meta", {}), **config_meta}.get("contains_pii"):
                names.add(column["name"])
    return names


def pii_like_values(path: Path, schemas: tuple[str, ...]) -> list[tuple]:
    """(table, column, value) of text values matching EMAIL or PHONE."""
    hits = []
    with duckdb.connect(str(path), read_only=True) as connection:
        columns = connection.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where data_type = 'VARCHAR' and schema_name in "
            f"({', '.join('?' for _ in schemas)})",
            list(schemas),
        ).fetchall()
        for schema, table, column in columns:
            hits += connection.execute(
                f'select ?, ?, "{column}" from "{schema}"."{table}" '
                f'where regexp_matches("{column}", ?) '
                f'or (regexp_matches("{column}", ?) '
                f'and not regexp_matches("{column}", ?)) limit 3',
                [table, column, EMAIL, PHONE, ISO_DATE],
            ).fetchall()
    return hits


def test_keyed_hash_is_hmac_sha256() -> None:
    # RFC 4231, test case 2.
    assert keyed_hash("what do ya want for nothing?", b"Jefe") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert keyed_hash(None, b"Jefe") is None
    assert keyed_hash(float("nan"), b"Jefe") is None
    assert keyed_hash("", b"Jefe") is None


@pytest.mark.parametrize("value", [None, "", "too short"])
def test_a_missing_or_short_key_says_what_to_set(value: str | None) -> None:
    environ = {} if value is None else {HASH_KEY_ENV: value}
    with pytest.raises(HashKeyError, match=f"{HASH_KEY_ENV} .*at least 32"):
        hash_key(environ)


def test_no_tagged_pii_column_is_published(
    demo_warehouse: Warehouse, serving_file: Path
) -> None:
    manifest_file = demo_warehouse.path.parent / "target" / "manifest.json"
    tagged = tagged_pii_columns(json.loads(manifest_file.read_text()))
    assert {"email", "phone", "full_name", "birth_date", "street_address"} <= tagged
    with duckdb.connect(str(serving_file), read_only=True) as connection:
        published = {
            row[0]
            for row in connection.execute(
                "select distinct column_name from duckdb_columns()"
            ).fetchall()
        }
    assert published & tagged == set()


def test_no_published_value_looks_like_an_email_or_a_phone(
    demo_warehouse: Warehouse, serving_file: Path
) -> None:
    # The scan finds the personal data where it is (the build file's
    # restricted schema), so an empty result on the serving file means
    # something.
    found = pii_like_values(demo_warehouse.path, ("restricted",))
    assert {column for _, column, _ in found} >= {"email", "phone"}
    assert pii_like_values(serving_file, ("marts",)) == []


def test_email_hash_is_the_hmac_of_the_email_under_the_environment_key(
    demo_warehouse: Warehouse, serving_file: Path
) -> None:
    contacts = demo_warehouse.query(
        "select customer_id, email from restricted.dim_customer_contacts"
    )
    with duckdb.connect(str(serving_file), read_only=True) as connection:
        published = connection.execute(
            "select customer_id, email_hash from marts.dim_customers"
        ).df()
    merged = contacts.merge(published, on="customer_id", validate="one_to_one")
    assert len(merged) == len(published) > 1000
    key = os.environ[HASH_KEY_ENV].encode()
    expected = [
        hmac.new(key, email.encode(), hashlib.sha256).hexdigest()
        if isinstance(email, str)
        else None
        for email in merged["email"]
    ]
    published_hashes = [
        value if isinstance(value, str) else None for value in merged["email_hash"]
    ]
    assert published_hashes == expected
    assert merged["email_hash"].notna().sum() > 0.9 * len(merged)


def test_the_key_is_in_no_artifact_and_not_in_the_serving_file(
    demo_warehouse: Warehouse, serving_file: Path
) -> None:
    key = os.environ[HASH_KEY_ENV].encode()
    work_dir = demo_warehouse.path.parent
    scanned = [
        *(work_dir / "target").rglob("*"),
        *(work_dir / "logs").rglob("*"),
        serving_file,
    ]
    files = [path for path in scanned if path.is_file()]
    assert len(files) > 10
    assert [path for path in files if key in path.read_bytes()] == []


def test_a_build_without_the_key_stops_with_what_to_set(
    demo_warehouse: Warehouse, tmp_path: Path, monkeypatch
) -> None:
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse.path, database)
    monkeypatch.delenv(HASH_KEY_ENV)
    result = run_dbt(
        ["run", "--select", "int_customer_email_hashes"],
        demo_warehouse.data_dir / "raw",
        database,
        tmp_path,
    )
    assert result.returncode != 0
    assert f"{HASH_KEY_ENV} is not set" in result.stdout


def test_build_and_publish_checks_the_key_before_building(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.delenv(HASH_KEY_ENV)
    serving = tmp_path / "crm.duckdb"
    code = main(
        ["--build-path", str(tmp_path / "b.duckdb"), "--serving-path", str(serving)]
    )
    assert code == 1
    error = capsys.readouterr().err
    assert f"not published: {HASH_KEY_ENV} is not set" in error
    assert "Traceback" not in error
    assert not serving.exists()
