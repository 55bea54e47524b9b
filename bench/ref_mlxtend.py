"""mlxtend on the warehouse's baskets (run in bench/.venv-ref).

Mines the pair rules of fct_product_associations with mlxtend from the same
baskets (completed orders up to as_of_date; products, and categories):
one-hot encoding, then fpgrowth (or apriori) with max_len=2 and
association_rules on confidence. Writes the rules as Parquet and the
timings as JSON.

    python bench/ref_mlxtend.py --baskets B.parquet --min-support 0.001 \
        --min-confidence 0.05 --algo fpgrowth --out result.json \
        [--rules rules.parquet] [--levels product,category]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from mlxtend.frequent_patterns import apriori, association_rules, fpgrowth


def one_hot(baskets: pd.DataFrame) -> pd.DataFrame:
    """Boolean basket x item frame, the input mlxtend expects."""
    rows, _ = pd.factorize(baskets["order_id"])
    cols, items = pd.factorize(baskets["item"])
    matrix = np.zeros((rows.max() + 1, len(items)), dtype=bool)
    matrix[rows, cols] = True
    return pd.DataFrame(matrix, columns=list(items))


def address_space() -> int:
    """Bytes of virtual memory this process holds (VmSize)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baskets", type=Path, required=True)
    parser.add_argument("--min-support", type=float, required=True)
    parser.add_argument("--min-confidence", type=float, required=True)
    parser.add_argument("--algo", choices=["fpgrowth", "apriori"], default="fpgrowth")
    parser.add_argument("--levels", default="product,category")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rules", type=Path)
    parser.add_argument(
        "--cap-gb",
        type=float,
        help="before mining, cap the address space at current use + this",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    mine = {"fpgrowth": fpgrowth, "apriori": apriori}[args.algo]

    result: dict = {"algo": args.algo, "levels": {}}
    args.out.write_text(json.dumps({**result, "status": "started"}))
    baskets = pd.read_parquet(args.baskets)
    frames = []
    for level in args.levels.split(","):
        level_baskets = baskets[baskets["association_level"] == level]
        started = time.perf_counter()
        encoded = one_hot(level_baskets)
        encoded_at = time.perf_counter()
        if args.cap_gb:
            cap = address_space() + int(args.cap_gb * 1024**3)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        itemsets = mine(
            encoded, min_support=args.min_support, use_colnames=True, max_len=2
        )
        mined_at = time.perf_counter()
        rules = association_rules(
            itemsets,
            num_itemsets=len(encoded),
            metric="confidence",
            min_threshold=args.min_confidence,
        )
        ruled_at = time.perf_counter()
        result["levels"][level] = {
            "baskets": len(encoded),
            "items": encoded.shape[1],
            "encode_seconds": round(encoded_at - started, 3),
            "mine_seconds": round(mined_at - encoded_at, 3),
            "rules_seconds": round(ruled_at - mined_at, 3),
            "itemsets": len(itemsets),
            "rules": len(rules),
        }
        frames.append(
            pd.DataFrame(
                {
                    "association_level": level,
                    "antecedents": [next(iter(s)) for s in rules["antecedents"]],
                    "consequents": [next(iter(s)) for s in rules["consequents"]],
                    "antecedent_support": rules["antecedent support"],
                    "consequent_support": rules["consequent support"],
                    "support": rules["support"],
                    "confidence": rules["confidence"],
                    "lift": rules["lift"],
                }
            )
        )
        del encoded
    levels = result["levels"].values()
    result["encode_seconds"] = round(sum(x["encode_seconds"] for x in levels), 3)
    result["mine_seconds"] = round(sum(x["mine_seconds"] for x in levels), 3)
    result["rules_seconds"] = round(sum(x["rules_seconds"] for x in levels), 3)
    result["status"] = "ok"
    if args.rules:
        pd.concat(frames, ignore_index=True).to_parquet(args.rules)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
