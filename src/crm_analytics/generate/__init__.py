"""Synthetic, deliberately messy customer data with known ground truth.

:func:`generate` simulates persons with latent personas, satisfaction and
churn, their records in a CRM and a web shop, orders, tickets, surveys,
web/email events and order reviews; writes the raw tables of the dbt source
contract with planted defects; and writes the truth (persons, record-to-person map,
planted bundles, planted collections and each person's favourite styles,
every planted defect by file row) for testing the pipeline.
See ``docs/demo_data.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from crm_analytics.generate import behaviour as bh
from crm_analytics.generate import formats as fmt
from crm_analytics.generate import people, pools, records, tables
from crm_analytics.generate.messiness import RawTable
from crm_analytics.generate.writer import write_csv, write_raw

__all__ = ["RAW_TABLES", "generate"]

#: Raw tables in the order they are written.
RAW_TABLES: tuple[str, ...] = (
    "crm_contacts",
    "shop_accounts",
    "products",
    "orders",
    "order_lines",
    "tickets",
    "survey_responses",
    "web_events",
    "email_events",
    "order_reviews",
)
#: Independent random streams, one per step, all derived from the seed.
_STREAMS: tuple[str, ...] = (
    "persons", "products", "records", "tickets", "churn", "orders", "lines",
    "surveys", "web", "email", "render_crm", "render_shop", "render_orders",
    "render_lines", "render_products", "render_tickets", "render_surveys",
    "render_web", "render_email",
    # Appended, so the streams above (and the files they make) are unchanged.
    "reviews", "render_reviews", "collections",
)  # fmt: skip


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {
        name: np.random.default_rng(child)
        for name, child in zip(_STREAMS, children, strict=True)
    }


def _persons_truth(
    persons: pd.DataFrame, churn_at: np.ndarray, window: people.Window
) -> pa.Table:
    n = len(persons)
    width = fmt.id_width(n)
    household = persons["household"].to_numpy()
    churned = churn_at < window.end
    anomaly = persons["anomaly"].to_numpy()
    return pa.table(
        {
            "person_id": fmt.ids("PER", persons["person_no"].to_numpy(), width),
            "persona": fmt.labels(pools.PERSONAS, persons["persona"].to_numpy()),
            "country": fmt.labels(pools.COUNTRIES, persons["country"].to_numpy()),
            "is_seasonal": fmt.labels(
                ("false", "true"), persons["is_seasonal"].to_numpy().astype(int)
            ),
            "is_anomalous": fmt.labels(("false", "true"), (anomaly > 0).astype(int)),
            "anomaly_kind": fmt.labels(people.ANOMALY_KINDS, anomaly),
            "latent_satisfaction": pa.array(
                persons["satisfaction"].map("{:.4f}".format).to_numpy(), pa.string()
            ),
            "churned_at": fmt.timestamps(
                np.minimum(churn_at, window.end), valid=churned
            ),
            "household_id": fmt.ids("HH", household, 6, valid=household > 0),
            "signup_at": fmt.timestamps(persons["signup_at"].to_numpy()),
        }
    )


def _bundles_truth(bundles: pd.DataFrame) -> pa.Table:
    return pa.table(
        {
            "antecedent_product_id": tables.product_ids(
                bundles["antecedent_no"].to_numpy() - 1
            ),
            "consequent_product_id": tables.product_ids(
                bundles["consequent_no"].to_numpy() - 1
            ),
            "p_consequent_given_antecedent": pa.array(
                bundles["p_consequent_given_antecedent"]
                .map("{:.2f}".format)
                .to_numpy(),
                pa.string(),
            ),
        }
    )


def _collections_truth(products: pd.DataFrame) -> pa.Table:
    return pa.table(
        {
            "product_id": tables.product_ids(np.arange(len(products))),
            "category": fmt.labels(pools.CATEGORIES, products["category"].to_numpy()),
            "style": fmt.integers(products["style"].to_numpy()),
            "collection_id": fmt.ids("COL", products["collection"].to_numpy() + 1, 2),
        }
    )


def _styles_truth(persons: pd.DataFrame, styles: np.ndarray) -> pa.Table:
    width = fmt.id_width(len(persons))
    return pa.table(
        {
            "person_id": fmt.ids("PER", persons["person_no"].to_numpy(), width),
            "favourite_style": fmt.integers(styles[:, 0]),
            "second_style": fmt.integers(
                np.maximum(styles[:, 1], 0), valid=styles[:, 1] >= 0
            ),
        }
    )


def generate(
    customers: int,
    seed: int,
    out_dir: str | Path,
    file_format: str = "csv",
    start: str = "2023-01-01",
    end: str = "2025-06-30",
    transactions_only: bool = False,
    progress: bool = True,
) -> dict[str, int]:
    """Simulate ``customers`` persons and write raw and truth files.

    Writes ``<out_dir>/raw/<table>.<file_format>`` and
    ``<out_dir>/truth/*.csv``; with ``transactions_only`` just
    ``<out_dir>/raw/transactions.csv`` (completed orders, no defects).
    The same arguments always give byte-identical files. Returns the number
    of data rows written per raw table.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    window = people.Window.from_dates(start, end)
    if window.end <= window.start + people.DAY:
        raise ValueError("end must be after start")
    out = Path(out_dir)
    raw_dir, truth_dir = out / "raw", out / "truth"
    rng = _streams(seed)
    n_steps = 9 if transactions_only else 12 + 2 * len(RAW_TABLES)
    bar = tqdm(
        total=n_steps,
        desc="generate",
        unit="step",
        file=sys.stderr,
        disable=not progress,
    )

    def step(label: str, fn: Callable[[], object]):
        bar.set_postfix_str(label)
        result = fn()
        bar.update(1)
        return result

    rows: dict[str, int] = {}
    try:
        persons = step(
            "persons",
            lambda: people.simulate_persons(customers, window, rng["persons"]),
        )
        products = people.simulate_products(rng["products"])
        bundles, products = step(
            "products", lambda: people.plant_bundles(products, rng["products"])
        )
        contacts, accounts = step(
            "records", lambda: records.plan_records(persons, window, rng["records"])
        )

        def tickets_step() -> pd.DataFrame:
            t = bh.simulate_tickets(persons, contacts, window, rng["tickets"])
            t["contact_no"] = bh.owner_record(
                t["person_idx"].to_numpy(),
                t["opened_at"].to_numpy(),
                contacts,
                rng["tickets"],
            )
            return t

        tickets = step("tickets", tickets_step)
        churn_at = step(
            "churn", lambda: bh.simulate_churn(persons, tickets, window, rng["churn"])
        )
        keep = (
            tickets["opened_at"].to_numpy() < churn_at[tickets["person_idx"].to_numpy()]
        )
        tickets = tickets.loc[keep].reset_index(drop=True)
        orders = step(
            "orders",
            lambda: bh.simulate_orders(
                persons, accounts, churn_at, window, rng["orders"]
            ),
        )
        favourite = bh.favourite_categories(persons, rng["lines"])
        products = people.plant_collections(products, rng["collections"])
        styles = bh.favourite_styles(persons, rng["collections"])
        lines, orders = step(
            "lines",
            lambda: bh.simulate_lines(
                orders, persons, favourite, products, bundles, rng["lines"], styles
            ),
        )
        account_width = fmt.id_width(len(accounts))
        order_width = fmt.id_width(len(orders), minimum=9)
        if transactions_only:
            table = step(
                "transactions",
                lambda: tables.render_transactions(orders, account_width, order_width),
            )
            step(
                "write transactions",
                lambda: write_csv(table, raw_dir / "transactions.csv"),
            )
            rows["transactions"] = table.num_rows
            return rows

        surveys = step(
            "surveys",
            lambda: bh.simulate_surveys(
                persons, contacts, churn_at, tickets, window, rng["surveys"]
            ),
        )
        web = step(
            "web events",
            lambda: bh.simulate_web_events(
                persons,
                accounts,
                orders,
                lines,
                favourite,
                products,
                churn_at,
                window,
                rng["web"],
                styles,
            ),
        )
        email, campaigns = step(
            "email events",
            lambda: bh.simulate_email_events(
                persons, contacts, churn_at, window, rng["email"]
            ),
        )
        reviews = step(
            "reviews",
            lambda: bh.simulate_reviews(persons, orders, lines, window, rng["reviews"]),
        )
        text = records.person_text(persons)
        contact_width = fmt.id_width(len(contacts))
        # Frames are popped once rendered so that memory is freed as we go.
        sim = {
            "orders": orders,
            "lines": lines,
            "tickets": tickets,
            "surveys": surveys,
            "web": web,
            "email": email,
            "reviews": reviews,
        }
        orders = lines = surveys = web = email = reviews = None  # owned by `sim`
        renderers: dict[str, Callable[[], RawTable]] = {
            "crm_contacts": lambda: records.render_contacts(
                persons, text, contacts, rng["render_crm"]
            )[0],
            "shop_accounts": lambda: records.render_accounts(
                persons, text, accounts, rng["render_shop"]
            )[0],
            "products": lambda: tables.render_products(
                products, rng["render_products"]
            ),
            "orders": lambda: tables.render_orders(
                sim.pop("orders"), account_width, order_width, rng["render_orders"]
            ),
            "order_lines": lambda: tables.render_lines(
                sim.pop("lines"), products, order_width, rng["render_lines"]
            ),
            "tickets": lambda: tables.render_tickets(
                sim.pop("tickets"), contact_width, rng["render_tickets"]
            ),
            "survey_responses": lambda: tables.render_surveys(
                sim.pop("surveys"), contact_width, rng["render_surveys"]
            ),
            "web_events": lambda: tables.render_web_events(
                sim.pop("web"), account_width, rng["render_web"]
            ),
            "email_events": lambda: tables.render_email_events(
                sim.pop("email"), campaigns, contact_width, rng["render_email"]
            ),
            "order_reviews": lambda: tables.render_reviews(
                sim.pop("reviews"), order_width, rng["render_reviews"]
            ),
        }
        defects = []
        for name in RAW_TABLES:
            raw = step(f"render {name}", renderers[name])
            defects.append(raw.defect_rows())
            arrow = raw.to_arrow()
            del raw
            step(
                f"write {name}",
                lambda a=arrow, n=name: write_raw(a, raw_dir, n, file_format),
            )
            rows[name] = arrow.num_rows
            del arrow
        write_csv(_persons_truth(persons, churn_at, window), truth_dir / "persons.csv")
        write_csv(
            records.source_records(
                contacts, accounts, persons, contact_width, account_width
            ),
            truth_dir / "source_records.csv",
        )
        write_csv(_bundles_truth(bundles), truth_dir / "bundles.csv")
        write_csv(_collections_truth(products), truth_dir / "collections.csv")
        write_csv(_styles_truth(persons, styles), truth_dir / "person_styles.csv")
        defect_frame = pd.concat(defects, ignore_index=True)
        defect_frame["row_number"] = defect_frame["row_number"].astype(np.int64)
        step(
            "truth",
            lambda: write_csv(
                pa.Table.from_pandas(defect_frame, preserve_index=False),
                truth_dir / "defects.csv",
            ),
        )
        return rows
    finally:
        bar.close()
