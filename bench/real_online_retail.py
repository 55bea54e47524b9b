"""The full UCI Online Retail data set through the warehouse, checked.

    python bench/real_online_retail.py --source OnlineRetail.csv [--work DIR]

The data set is not in the repository (CC BY 4.0, 45 MB; docs/real_data.md
says where to get it). This script

1. converts it (``python -m crm_analytics.convert online-retail``) and builds
   the warehouse on the output (``python -m crm_analytics.publish``), each a
   measured process (wall time, peak RSS of the process tree);
2. reads rows in / kept / merged / quarantined per raw table;
3. checks net revenue against the source file itself, read by DuckDB with no
   importer code: distinct lines of identified customers, the non-product
   codes left out, credit notes included, less the lines the warehouse
   quarantines;
4. checks dim_customer_rfm against lifetimes'
   ``summary_data_from_transaction_data`` on the same transactions (the
   completed orders of fct_orders, net of refunds), customer by customer,
   and the BG/NBD parameters of ``crm_analytics.ml.clv.fit_bgnbd`` against
   lifetimes' ``BetaGeoFitter`` (lifetimes runs in bench/.venv-ref);

and prints the figures as markdown. Everything it writes goes to ``--work``
(default ``bench/.work/online-retail``).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BENCH, GB, PROJECT, log, measure, reference_python  # noqa: E402

from crm_analytics.convert.online_retail import (  # noqa: E402
    NON_PRODUCT_CODES,
    NON_PRODUCT_PREFIXES,
)
from crm_analytics.settings import dbt_environment  # noqa: E402

RFM_COLUMNS = ("frequency", "recency", "t", "monetary_value")


def source_net_revenue(source: Path) -> dict:
    """Quantity x UnitPrice over the distinct product lines of identified
    customers, straight from the source CSV."""
    codes = ", ".join(f"'{code}'" for code in sorted(NON_PRODUCT_CODES))
    prefixes = " or ".join(
        f"upper(StockCode) like '{prefix}%'" for prefix in NON_PRODUCT_PREFIXES
    )
    with duckdb.connect() as con:
        row = con.execute(
            f"""
            with lines as (
                select distinct * from read_csv(
                    '{source}', header = true, all_varchar = true
                )
            )
            select
                sum(cast(Quantity as decimal(18, 0))
                    * cast(UnitPrice as decimal(18, 4))),
                sum(cast(Quantity as decimal(18, 0))
                    * cast(UnitPrice as decimal(18, 4)))
                    filter (where not starts_with(upper(InvoiceNo), 'C')),
                sum(cast(Quantity as decimal(18, 0))
                    * cast(UnitPrice as decimal(18, 4)))
                    filter (where starts_with(upper(InvoiceNo), 'C')),
                count(*)
            from lines
            where nullif(trim(CustomerID), '') is not null
                and upper(trim(StockCode)) not in ({codes})
                and not ({prefixes})
            """
        ).fetchone()
    total, sales, credits, count = row
    return {
        "lines": count,
        "total": float(total),
        "sales": float(sales),
        "credit_notes": float(credits),
    }


def warehouse_figures(database: Path, out: Path) -> dict:
    with duckdb.connect(str(database), read_only=True) as con:
        reconciliation = con.execute(
            "select source_table, count_rows_in, count_kept, count_merged, "
            "count_quarantined from marts.dq_row_reconciliation "
            "where count_rows_in > 0 order by source_table"
        ).fetchall()
        quarantined_amount = con.execute(
            """
            select coalesce(sum(
                try_cast(lines.quantity as decimal(18, 0))
                * try_cast(lines.unit_price as decimal(18, 4))), 0), count(*)
            from marts.dq_quarantined_rows as q
            inner join raw.order_lines as lines
                on q.source_row_number = lines._row_number
            where q.source_table = 'order_lines'
            """
        ).fetchone()
        sums = con.execute(
            """
            select
                (select sum(net_revenue) from marts.fct_orders),
                (select sum(lifetime_net_revenue) from marts.dim_customers),
                (select sum(sum_net_revenue) from marts.fct_kpi_monthly),
                (select count(*) from marts.fct_refunds),
                (select count(*) from marts.dim_customers),
                (select count(*) from marts.dim_customers
                    where country_code is null)
            """
        ).fetchone()
        matches = con.execute(
            "select match_method, count(*), sum(refund_amount) "
            "from marts.fct_refunds group by 1 order by 2 desc"
        ).fetchall()
        as_of = con.execute(
            "select as_of_date from intermediate.int_as_of_date"
        ).fetchone()[0]
        con.execute(
            f"""copy (
                select customer_id, order_date, net_revenue
                from marts.fct_orders
                where is_completed and order_date <= date '{as_of}'
                order by customer_id, order_date
            ) to '{out / "transactions.parquet"}' (format parquet)"""
        )
        rfm = con.execute(
            "select customer_id, frequency, recency, t, monetary_value "
            "from marts.dim_customer_rfm"
        ).df()
    return {
        "reconciliation": reconciliation,
        "quarantined_order_lines": {
            "lines": quarantined_amount[1],
            "amount": float(quarantined_amount[0]),
        },
        "net_revenue": {
            "fct_orders": float(sums[0]),
            "dim_customers": float(sums[1]),
            "fct_kpi_monthly": float(sums[2]),
        },
        "refunds": sums[3],
        "refund_matches": [(m, n, float(a)) for m, n, a in matches],
        "customers": sums[4],
        "customers_without_country": sums[5],
        "as_of_date": str(as_of),
        "rfm": rfm,
    }


def compare_rfm(ours: pd.DataFrame, theirs: pd.DataFrame) -> dict:
    theirs = theirs.rename(columns={"T": "t"})
    merged = ours.merge(
        theirs, on="customer_id", how="outer", suffixes=("_ours", "_lifetimes")
    )
    both = merged.dropna(subset=["frequency_ours", "frequency_lifetimes"])
    result = {
        "customers_ours": len(ours),
        "customers_lifetimes": len(theirs),
        "customers_in_both": len(both),
    }
    for column in RFM_COLUMNS:
        difference = (
            both[f"{column}_ours"].astype(float)
            - both[f"{column}_lifetimes"].astype(float)
        ).abs()
        result[f"max_abs_diff_{column}"] = float(difference.max())
        result[f"customers_differing_{column}"] = int((difference > 0.005).sum())
    return result


def bgnbd_params(rfm: pd.DataFrame) -> dict:
    from crm_analytics.ml.clv import fit_bgnbd

    fit = fit_bgnbd(rfm["frequency"], rfm["recency"], rfm["t"], unit_days=1.0)
    return {"r": fit.r, "alpha": fit.alpha, "a": fit.a, "b": fit.b}


def report(figures: dict) -> str:
    out = ["| step | wall time | peak memory |", "|---|---|---|"]
    for step in ("convert", "build"):
        run = figures[step]
        out.append(
            f"| {step} | {run['wall_seconds']:.0f} s | "
            f"{run['peak_rss_bytes'] / GB:.2f} GB |"
        )
    out += ["", "| raw table | rows in | kept | merged | quarantined |"]
    out.append("|---|---|---|---|---|")
    for table, rows_in, kept, merged, quarantined in figures["reconciliation"]:
        out.append(
            f"| {table} | {rows_in:,} | {kept:,} | {merged:,} | {quarantined:,} |"
        )
    source = figures["source"]
    quarantined = figures["quarantined_order_lines"]
    expected = source["total"] - quarantined["amount"]
    net = figures["net_revenue"]
    out += [
        "",
        "| net revenue | amount |",
        "|---|---|",
        f"| source: distinct product lines of identified customers "
        f"({source['lines']:,}) | {source['total']:,.2f} |",
        f"| of which sales / credit notes | {source['sales']:,.2f} / "
        f"{source['credit_notes']:,.2f} |",
        f"| less the {quarantined['lines']} quarantined order lines | "
        f"{-quarantined['amount']:,.2f} |",
        f"| expected | **{expected:,.2f}** |",
        f"| `sum(fct_orders.net_revenue)` | **{net['fct_orders']:,.2f}** |",
        f"| `sum(dim_customers.lifetime_net_revenue)` | {net['dim_customers']:,.2f} |",
        f"| `sum(fct_kpi_monthly.sum_net_revenue)` | {net['fct_kpi_monthly']:,.2f} |",
        "",
        f"Refunds: {figures['refunds']:,}; matched by "
        + ", ".join(
            f"{method} {count:,} ({amount:,.2f})"
            for method, count, amount in figures["refund_matches"]
        )
        + f". Customers: {figures['customers']:,}, "
        f"{figures['customers_without_country']:,} without a country code.",
    ]
    rfm = figures["rfm_vs_lifetimes"]
    out += [
        "",
        f"RFM against lifetimes (as of {figures['as_of_date']}, days): "
        f"{rfm['customers_ours']:,} buyers in dim_customer_rfm, "
        f"{rfm['customers_lifetimes']:,} in lifetimes' summary, "
        f"{rfm['customers_in_both']:,} in both.",
        "",
        "| column | max abs difference | customers differing (> 0.005) |",
        "|---|---|---|",
    ]
    for column in RFM_COLUMNS:
        out.append(
            f"| {column} | {rfm[f'max_abs_diff_{column}']:.6g} | "
            f"{rfm[f'customers_differing_{column}']:,} |"
        )
    ours, theirs = figures["bgnbd_ours"], figures["bgnbd_lifetimes"]
    out += ["", "| BG/NBD | ours | lifetimes |", "|---|---|---|"]
    for name in ("r", "alpha", "a", "b"):
        out.append(f"| {name} | {ours[name]:.6g} | {theirs[name]:.6g} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=BENCH / ".work" / "online-retail")
    args = parser.parse_args()
    source = args.source.resolve()
    work = args.work.resolve()
    raw = work / "raw"
    work.mkdir(parents=True, exist_ok=True)
    python = PROJECT / ".venv" / "bin" / "python"

    log(f"converting {source}")
    convert = measure(
        [python, "-m", "crm_analytics.convert", "online-retail", source, raw],
        work / "convert.log",
        "convert",
    )
    if convert.returncode:
        sys.exit(f"convert failed: see {work / 'convert.log'}")
    log("building")
    env = dbt_environment(
        raw_dir=raw,
        build_path=work / "build.duckdb",
        serving_path=work / "serving.duckdb",
        temp_dir=work / "duckdb_tmp",
        pii_hash_key=secrets.token_hex(32),
        project_dir=PROJECT,
        profiles_dir=PROJECT / "profiles",
        target_path=work / "target",
        log_path=work / "logs",
    )
    build = measure(
        [python, "-m", "crm_analytics.publish", "--full-refresh"],
        work / "build.log",
        "build",
        env=env,
    )
    if build.returncode:
        log(f"build failed (exit {build.returncode}): see {work / 'build.log'}")

    figures = warehouse_figures(work / "build.duckdb", work)
    figures["convert"] = convert.summary()
    figures["build"] = build.summary()
    log("net revenue from the source file")
    figures["source"] = source_net_revenue(source)

    log("lifetimes")
    ref = reference_python(work)
    measured = measure(
        [
            ref,
            BENCH / "ref_lifetimes.py",
            "--transactions",
            work / "transactions.parquet",
            "--as-of",
            figures["as_of_date"],
            "--out",
            work / "lifetimes.json",
            "--summary-out",
            work / "lifetimes_summary.parquet",
        ],
        work / "lifetimes.log",
        "lifetimes",
    )
    if measured.returncode:
        sys.exit(f"lifetimes failed: see {work / 'lifetimes.log'}")
    rfm = figures.pop("rfm")
    theirs = pd.read_parquet(work / "lifetimes_summary.parquet")
    figures["rfm_vs_lifetimes"] = compare_rfm(rfm, theirs)
    figures["bgnbd_ours"] = bgnbd_params(rfm)
    figures["bgnbd_lifetimes"] = json.loads((work / "lifetimes.json").read_text())[
        "params"
    ]
    (work / "figures.json").write_text(json.dumps(figures, indent=2, default=str))
    print(report(figures))
    if build.returncode:
        sys.exit(f"the build failed (exit {build.returncode}): {work / 'build.log'}")


if __name__ == "__main__":
    main()
