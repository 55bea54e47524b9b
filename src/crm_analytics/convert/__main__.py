"""Command line: ``python -m crm_analytics.convert LAYOUT SRC OUT``.

Converts a real export into raw contract files in OUT and prints what was
mapped, what was dropped and why. Layouts:

  shopify        SRC: the orders export CSV, or a folder holding it
                 (orders_export*.csv) and the customers export
                 (customers_export*.csv); --customers FILE names it elsewhere
  online-retail  SRC: a UCI Online Retail / Online Retail II file, .csv or
                 .xlsx (or a folder holding one)
  olist          SRC: the folder of the Olist dump's CSV files

See docs/real_data.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_analytics.convert import olist, online_retail, shopify


def _timezone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"not an IANA time zone: {text!r}") from exc
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crm_analytics.convert",
        description="Convert a real export into the raw input contract's files.",
    )
    layouts = parser.add_subparsers(dest="layout", required=True)

    shop = layouts.add_parser("shopify", help="Shopify orders (+ customers) export")
    shop.add_argument("src", type=Path, help="the orders export CSV")
    shop.add_argument(
        "out", type=Path, help="directory to write the contract files to (created)"
    )
    shop.add_argument("--customers", type=Path, help="the customers export CSV")

    retail = layouts.add_parser(
        "online-retail", help="UCI Online Retail / Online Retail II invoice lines"
    )
    retail.add_argument("src", type=Path, help="the invoice-line file (.csv, .xlsx)")
    retail.add_argument(
        "out", type=Path, help="directory to write the contract files to (created)"
    )
    retail.add_argument(
        "--date-order",
        choices=online_retail.DATE_ORDERS,
        help="how slash dates are written (default: detected; month-first, "
        "the UCI files' convention, when no value tells)",
    )
    retail.add_argument(
        "--timezone",
        type=_timezone,
        default="UTC",
        help="time zone of the export's wall-clock times (default UTC; the "
        "UCI shop's is Europe/London)",
    )

    dump = layouts.add_parser("olist", help="the Olist (Brazilian e-commerce) dump")
    dump.add_argument(
        "src", type=Path, help="the directory holding the olist_*.csv files"
    )
    dump.add_argument(
        "out", type=Path, help="directory to write the contract files to (created)"
    )
    dump.add_argument(
        "--timezone",
        type=_timezone,
        default="UTC",
        help="time zone of the dump's wall-clock times (default UTC; Olist's "
        "is America/Sao_Paulo)",
    )
    return parser


def _one_file(src: Path, patterns: tuple[str, ...]) -> Path:
    if src.is_file():
        return src
    found = sorted({p for pattern in patterns for p in src.glob(pattern)})
    if len(found) != 1:
        raise SystemExit(
            f"{src}: expected one file matching {' or '.join(patterns)}, "
            f"found {len(found)}"
        )
    return found[0]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.layout == "shopify":
            orders = _one_file(args.src, ("orders_export*.csv",))
            customers = args.customers
            if customers is None and args.src.is_dir():
                matches = sorted(args.src.glob("customers_export*.csv"))
                customers = matches[0] if matches else None
            report = shopify.convert(orders, customers, args.out)
        elif args.layout == "online-retail":
            source = _one_file(args.src, ("*.xlsx", "*.csv"))
            report = online_retail.convert(
                source, args.out, args.date_order, args.timezone
            )
        else:
            report = olist.convert(args.src, args.out, args.timezone)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(report.render())
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
