"""Personal data typed into free text (survey and review comments, product
names, a transactions key that is an email) is masked before the marts, and
the publish step refuses to publish a text column that still holds any.

The raw files are synthetic: example.com/example.org addresses and
numbers from the ranges kept for fiction (+44 20 7946 0xxx, 555-01xx)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import jinja2
import pytest
from helpers import build_fixture, run_dbt

from crm_analytics import pii
from crm_analytics.contract import PROJECT_DIR
from crm_analytics.publish import PublishError, publish

PLANTED = {
    "email": ["zoe.muller@example.com", "buyer.two@example.org", "k.o@example.net"],
    "phone": ["+44 20 7946 0018", "(555) 010-4567", "020 7946 0958"],
    "name": ["Zoë", "Müller", "Åsa"],
}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])


def write_raw(raw_dir: Path) -> None:
    raw_dir.mkdir(parents=True)
    write_csv(
        raw_dir / "crm_contacts.csv",
        ["contact_id", "first_name", "last_name", "email", "country"],
        [
            ["C1", "Zoë", "Müller", "zoe.muller@example.com", "GB"],
            ["C2", "Åsa", "Lind", "asa.lind@example.com", "SE"],
        ],
    )
    write_csv(
        raw_dir / "survey_responses.csv",
        ["response_id", "contact_id", "responded_at", "nps_score", "comment"],
        [
            [
                "S1",
                "C1",
                "2024-03-01 10:00:00",
                "9",
                "Great! Zoë MÜLLER here, mail zoe.muller@example.com or "
                "call +44 20 7946 0018 (delivered 2024-02-27)",
            ],
            ["S2", "C2", "2024-03-02 10:00:00", "3", "ring me: (555) 010-4567, åsa"],
            ["S3", "C2", "2024-03-03 10:00:00", "7", "Zoë at 020 7946 0958 helped"],
        ],
    )
    write_csv(
        raw_dir / "tickets.csv",
        ["ticket_id", "contact_id", "opened_at", "channel", "category"],
        [
            ["K1", "C1", "2024-03-04 10:00:00", "email", "refund, call 020 7946 0958"],
            ["K2", "C2", "2024-03-05 10:00:00", "buyer.two@example.org", "delivery"],
        ],
    )
    write_csv(
        raw_dir / "products.csv",
        ["product_id", "product_name", "category", "list_price"],
        [
            ["P1", "Mug, ask buyer.two@example.org", "home", "5.00"],
            ["P2", "Plain mug", "home", "4.00"],
        ],
    )
    write_csv(
        raw_dir / "transactions.csv",
        ["customer_id", "transacted_at", "amount", "order_id"],
        [
            ["k.o@example.net", "2024-01-05 10:00:00", "10.50", "T1"],
            ["k.o@example.net", "2024-02-05 10:00:00", "not money", "T2"],
            ["k.o@example.net", "2024-03-05 10:00:00", "12.00", "T3"],
            ["C-1001", "2024-03-05 10:00:00", "20.00", "T4"],
            # an order id that is a phone number (found by the fuzzer)
            ["C-1002", "2024-03-06 10:00:00", "5.00", "+44 20 7946 0018"],
        ],
    )


def literal_hits(path: Path) -> list[tuple[str, str, str]]:
    """(table.column, planted value) for every planted value that occurs,
    in any case, in a text value of the serving file (names as words)."""
    hits = []
    with duckdb.connect(str(path), read_only=True) as connection:
        columns = connection.execute(
            "select table_name, column_name from duckdb_columns() "
            "where schema_name = 'marts' and data_type like 'VARCHAR%'"
        ).fetchall()
        for table, column in columns:
            values = connection.execute(
                f'select distinct cast("{column}" as varchar) from marts."{table}"'
            ).fetchall()
            text = "\n".join(str(value) for (value,) in values).lower()
            for kind, planted in PLANTED.items():
                for value in planted:
                    found = (
                        value.lower() in re.split(r"[^\w]+", text)
                        if kind == "name"
                        else value.lower() in text
                    )
                    if found:
                        hits.append((f"{table}.{column}", kind, value))
    return hits


@build_fixture(scope="module")
def pii_build(tmp_path_factory) -> tuple[Path, Path]:
    """A build of the staging-to-marts path of the planted raw files; the
    build file and its work directory."""
    root = tmp_path_factory.mktemp("hostile_pii")
    write_raw(root / "raw")
    work = root / "build"
    work.mkdir()
    result = run_dbt(
        [
            "build",
            "--select",
            "+fct_survey_responses",
            "+dim_products",
            "+fct_support_tickets",
            "+dq_quarantined_rows",
            "+dq_unmapped_values",
            "+dq_row_reconciliation",
            "--indirect-selection",
            "cautious",
            "--vars",
            "{max_quarantine_share: 1}",
        ],
        root / "raw",
        work / "build.duckdb",
        work,
    )
    assert result.returncode == 0, result.stdout[-8000:]
    return work / "build.duckdb", root


def test_free_text_and_keys_reach_the_serving_file_masked(pii_build) -> None:
    build_path, root = pii_build
    serving = root / "crm.duckdb"
    publish(build_path, serving)
    # the one planted value left is the name on someone else's response
    # (S3, below): masking knows only the record's own names
    assert literal_hits(serving) == [
        ("fct_survey_responses.response_comment", "name", "Zoë")
    ]
    with duckdb.connect(str(serving), read_only=True) as connection:
        comments = dict(
            connection.execute(
                "select response_id, response_comment from marts.fct_survey_responses"
            ).fetchall()
        )
        keys = connection.execute(
            "select record_key, dq_reason from marts.dq_quarantined_rows "
            "where source_table = 'transactions' order by source_row_number"
        ).fetchall()
        tickets = connection.execute(
            "select ticket_id, channel, category from marts.fct_support_tickets "
            "order by ticket_id"
        ).fetchall()
        product = connection.execute(
            "select product_name from marts.dim_products where product_id = 'P1'"
        ).fetchone()[0]
    # The record's own names are masked, in any case; someone else's name
    # (Zoë on C2's response) is not known to be a name there, and the ISO
    # date stays.
    assert comments == {
        "S1": "Great! [name] [name] here, mail [email] or call [phone] "
        "(delivered 2024-02-27)",
        "S2": "ring me: ([phone], [name]",
        "S3": "Zoë at [phone] helped",
    }
    assert keys == [
        ("[email]", "invalid_number"),
        ("C-1002", "personal_data_in_key"),
    ]
    assert product == "Mug, ask [email]"
    assert tickets == [
        ("K1", "email", "refund, call [phone]"),
        ("K2", "[email]", "delivery"),
    ]


def test_the_literal_scan_finds_what_it_looks_for(pii_build, tmp_path) -> None:
    """The check above means something: on a copy of the marts of the
    planted raw text, unmasked, it finds every planted kind."""
    serving = tmp_path / "raw_text.duckdb"
    raw = Path(pii_build[1]) / "raw"
    with duckdb.connect(str(serving)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.survey as select * from read_csv(?, all_varchar=true)",
            [str(raw / "survey_responses.csv")],
        )
    assert {kind for _, kind, _ in literal_hits(serving)} == set(PLANTED)


def test_publish_refuses_text_that_looks_like_pii_and_names_the_column(
    pii_build, tmp_path
) -> None:
    build_path, _ = pii_build
    build_copy = tmp_path / "build.duckdb"
    build_copy.write_bytes(build_path.read_bytes())
    with duckdb.connect(str(build_copy)) as connection:
        connection.execute(
            "update marts.fct_survey_responses set response_comment = "
            "'write to someone@example.com' where response_id in ('S1', 'S2')"
        )
        connection.execute(
            "update marts.dim_products set category = 'call 020 7946 0000'"
        )
    serving = tmp_path / "crm.duckdb"
    serving.write_bytes(b"the old serving file")
    with pytest.raises(PublishError) as error:
        publish(build_copy, serving)
    message = str(error.value)
    assert (
        "marts.fct_survey_responses.response_comment: 2 values look like an email"
        in (message)
    )
    assert "marts.dim_products.category: 2 values look like a phone number" in message
    assert serving.read_bytes() == b"the old serving file"
    assert list(tmp_path.glob(".crm.duckdb.*")) == []


def test_publish_scan_lets_hashes_ids_dates_and_mask_tokens_through(tmp_path) -> None:
    database = tmp_path / "b.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.t as select * from (values "
            "('5012345678901', sha256('x'), 'order of 2024-01-05 10:00:00', "
            "'[email] [phone] [name]', ['a', 'b'])) "
            "v(shopify_customer_id, email_hash, note, masked, tags)"
        )
    with duckdb.connect() as connection:
        connection.execute(f"attach '{database}' as build (read_only)")
        assert pii.find_pii(connection, "build", ["marts"]) == []


def test_the_scan_counts_every_row_whether_it_groups_the_values_or_not() -> None:
    """A column whose values repeat is matched once per distinct value and
    counted by its rows; a column of distinct values row by row; keys only
    where a phone's +, ( or space is."""
    notes = ["call +44 20 7946 0018"] * 3 + ["ok"] * 7
    comments = [f"mail zoe.muller@example.com, visit {i}" for i in range(4)]
    comments += [f"fine {i}" for i in range(6)]
    keys = ["+44 20 7946 0958", "(555) 010-4567"] + [f"A{i} 7" for i in range(8)]
    with duckdb.connect() as connection:
        connection.execute(
            "create table t (note varchar, comment varchar, contact_key varchar)"
        )
        connection.executemany(
            "insert into t values (?, ?, ?)",
            list(zip(notes, comments, keys, strict=True)),
        )
        assert pii._repetitive(connection, "t", "note")
        assert not pii._repetitive(connection, "t", "comment")
        findings = pii.find_pii(connection, "memory", ["main"])
    assert [(f.column, f.kind, f.count) for f in findings] == [
        ("note", "a phone number", 3),
        ("comment", "an email", 4),
        ("contact_key", "a phone number", 2),
    ]


@pytest.mark.parametrize(
    ("text", "email", "phone"),
    [
        ("mail a.b+c@mail.example.co.uk now", True, False),
        ("not@an-address", False, False),
        ("+4915112345678", False, True),
        ("call (555) 010-4567 today", False, True),
        ("020 7946 0958", False, True),
        ("tel. 030/1234567", False, False),
        ("INV-10023 and O00010", False, False),
        ("2024-01-05 10:00:00", False, False),
        ("12.50 EUR", False, False),
    ],
)
def test_the_patterns_agree_in_python_and_in_duckdb(
    text: str, email: bool, phone: bool
) -> None:
    import re

    without_dates = re.sub(pii.ISO_DATE_PATTERN, "", text)
    assert bool(re.search(pii.EMAIL_PATTERN, text)) is email
    assert bool(re.search(pii.PHONE_PATTERN, without_dates)) is phone
    with duckdb.connect() as connection:
        in_duckdb = connection.execute(
            "select regexp_matches(?, ?), "
            "regexp_matches(regexp_replace(?, ?, '', 'g'), ?)",
            [text, pii.EMAIL_PATTERN, text, pii.ISO_DATE_PATTERN, pii.PHONE_PATTERN],
        ).fetchone()
    assert in_duckdb == (email, phone)


def test_the_macro_and_the_package_hold_the_same_patterns() -> None:
    source = (PROJECT_DIR / "macros" / "pii_patterns.sql").read_text()
    macros = jinja2.Environment().from_string(source).module
    assert str(macros.pii_email_pattern()) == pii.EMAIL_PATTERN
    assert str(macros.pii_phone_pattern()) == pii.PHONE_PATTERN
    assert str(macros.pii_iso_date_pattern()) == pii.ISO_DATE_PATTERN
    assert str(macros.pii_key_phone_pattern()) == pii.KEY_PHONE_PATTERN


@pytest.mark.parametrize(
    ("key", "phone"),
    [
        ("+44 20 7946 0123", True),
        ("020 7946 0456", True),
        ("(555) 010-4567", True),
        ("+4915112345678", True),
        # order and account numbers: digit runs, dashes, letters
        ("4567890123456", False),
        ("114-1234567-1234567", False),
        ("536365", False),
        ("O00010", False),
        ("T 1", False),
    ],
)
def test_a_key_is_a_phone_only_when_written_as_one(key: str, phone: bool) -> None:
    import re

    assert (
        bool(re.search(pii.KEY_PHONE_PATTERN, key))
        and bool(re.search(pii.WHOLE_PHONE_PATTERN, key))
    ) is phone
    with duckdb.connect() as connection:
        connection.execute("create table keys (order_id varchar)")
        connection.execute("insert into keys values (?)", [key])
        findings = pii.find_pii(connection, "memory", ["main"])
    assert [f.kind for f in findings] == (["a phone number"] if phone else [])
