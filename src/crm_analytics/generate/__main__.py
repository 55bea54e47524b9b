"""Command line: ``python -m crm_analytics.generate --customers N --out DIR``."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from crm_analytics.generate import generate
from crm_analytics.generate.batches import split_daily_batches
from crm_analytics.generate.writer import FORMATS


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the generator CLI."""
    parser = argparse.ArgumentParser(
        prog="python -m crm_analytics.generate",
        description="Write synthetic, messy CRM/shop raw files plus ground truth.",
    )
    parser.add_argument(
        "--customers", type=_positive_int, default=5000, help="persons (default 5000)"
    )
    parser.add_argument(
        "--seed", type=_seed, default=42, help="random seed (default 42)"
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--format", choices=FORMATS, default="csv", dest="file_format")
    parser.add_argument("--start", type=_iso_date, default="2023-01-01")
    parser.add_argument("--end", type=_iso_date, default="2025-06-30")
    parser.add_argument(
        "--transactions-only",
        action="store_true",
        help="write only raw/transactions.csv (completed orders, no defects)",
    )
    parser.add_argument(
        "--batch-days",
        type=int,
        default=0,
        metavar="N",
        help="write the last N days of orders, order lines, web and email events "
        "as daily load batches <raw>/<table>/<YYYY-MM-DD>.<format>, with late and "
        "updated rows (default 0: one file per table)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _check_out_dir(parser: argparse.ArgumentParser, out: Path) -> None:
    """Fail with a usage error unless ``out`` can be created and written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        parser.error(f"--out: cannot write to {out}: {exc.strerror or exc}")


def main(argv: list[str] | None = None) -> int:
    """Run the generator; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.end <= args.start:
        parser.error(f"--end ({args.end}) must be after --start ({args.start})")
    if args.batch_days < 0:
        parser.error(f"--batch-days must be >= 0, got {args.batch_days}")
    if args.batch_days and args.transactions_only:
        parser.error("--batch-days needs the shop tables, not --transactions-only")
    _check_out_dir(parser, args.out)
    began = time.perf_counter()
    rows = generate(
        customers=args.customers,
        seed=args.seed,
        out_dir=args.out,
        file_format=args.file_format,
        start=args.start,
        end=args.end,
        transactions_only=args.transactions_only,
        progress=not args.quiet,
    )
    if args.batch_days:
        batched = split_daily_batches(
            args.out / "raw", args.batch_days, args.end, args.seed
        )
        print(
            f"{args.batch_days} daily batches: "
            + ", ".join(f"{name}={count:,}" for name, count in batched.items())
        )
    seconds = time.perf_counter() - began
    summary = ", ".join(f"{name}={count:,}" for name, count in rows.items())
    print(f"wrote {args.out / 'raw'} in {seconds:.1f}s: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
