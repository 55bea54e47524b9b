"""Identity resolution: one customer per person across source systems.

Source records (CRM contacts, shop accounts, transaction-file customers) are
linked when they share a match key under one of these rules, tried in order:

0. ``customer_key``: the same person key, an optional id a source provides
   (Olist's ``customer_unique_id``, a CRM id the shop also stores), trimmed
   and compared case-sensitively;
1. ``email``: the same normalised email address;
2. ``phone_name``: the same E.164 phone number and the same name key;
3. ``name_birth_date``: the same name key and the same birth date.

A fuzzy key value (rules 1-3) shared by more than ``max_group_size`` records
(a placeholder email, a call-centre phone number) is ignored. A customer key
is a source's own statement that records are one person, so it links however
many records share it. Links are transitive: the connected components of the
record graph are the resolved customers.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

PERSON_KEY_RULE = "customer_key"
"""The rule (and column) of a source-provided person key: no placeholder limit."""

MATCH_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (PERSON_KEY_RULE, ("customer_key",)),
    ("email", ("email",)),
    ("phone_name", ("phone", "name_key")),
    ("name_birth_date", ("name_key", "birth_date")),
)
"""The rules in the order they are tried: name and the columns that must agree."""

REQUIRED_COLUMNS = ("record_key", "source_system", "source_customer_id")


def customer_id_for(record_key: str) -> str:
    """The resolved customer key derived from a component's smallest record key.

    Stable across builds as long as that record exists, and independent of
    row order.
    """
    return "cus_" + hashlib.md5(record_key.encode("utf-8")).hexdigest()[:16]


def _rule_keys(records: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """One text key per record for a rule; null where any part is missing.

    Parts are trimmed and an empty part counts as missing (staging already
    does both; this keeps the function safe on its own).
    """
    parts = [
        records[column].astype("string").str.strip().replace("", pd.NA)
        for column in columns
    ]
    key = parts[0]
    for part in parts[1:]:
        key = key + "\x1f" + part
    return key


def resolve_identities(records: pd.DataFrame, max_group_size: int = 8) -> pd.DataFrame:
    """Map every source record to a resolved customer.

    Args:
        records: one row per source record with ``record_key``,
            ``source_system``, ``source_customer_id`` and the match columns
            ``customer_key``, ``email``, ``phone``, ``name_key``,
            ``birth_date`` (nullable; a rule whose columns are absent is
            skipped).
        max_group_size: a fuzzy key value (email, phone and name, name and
            birth date) shared by more records than this is treated as a
            placeholder and links nothing. It does not apply to
            ``customer_key``.

    Returns:
        One row per record: ``record_key``, ``source_system``,
        ``source_customer_id``, ``customer_id``, ``match_rule`` (the first
        rule that linked the record to another, or ``unmatched``) and
        ``count_customer_records``.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in records.columns]
    if missing:
        raise ValueError(f"records lack required column(s): {', '.join(missing)}")
    if max_group_size < 2:
        raise ValueError("max_group_size must be at least 2")
    if records["record_key"].duplicated().any():
        raise ValueError("record_key must be unique")

    records = records.sort_values("record_key", kind="stable").reset_index(drop=True)
    n = len(records)
    positions = np.arange(n)
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    match_rule = np.full(n, "unmatched", dtype=object)

    for rule, columns in MATCH_RULES:
        if any(column not in records.columns for column in columns):
            continue
        keys = _rule_keys(records, columns)
        usable = keys.notna().to_numpy()
        if not usable.any():
            continue
        key_values = keys[usable]
        codes, _ = pd.factorize(key_values)
        sizes = np.bincount(codes)
        linked = sizes[codes] >= 2
        if rule != PERSON_KEY_RULE:
            linked &= sizes[codes] <= max_group_size
        members = positions[usable][linked]
        member_codes = codes[linked]
        if members.size == 0:
            continue
        first_member = pd.Series(members).groupby(member_codes).transform("min")
        sources.append(members)
        targets.append(first_member.to_numpy())
        newly_matched = match_rule[members] == "unmatched"
        match_rule[members[newly_matched]] = rule

    if sources:
        rows = np.concatenate(sources)
        cols = np.concatenate(targets)
    else:
        rows = cols = np.array([], dtype=np.int64)
    graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)

    record_keys = records["record_key"].to_numpy()
    # Records are sorted by key, so a component's first member holds its
    # smallest key.
    first_position = pd.Series(positions).groupby(labels).transform("min")
    anchor_keys = record_keys[first_position.to_numpy()]
    unique_anchors = pd.unique(anchor_keys)
    ids = {key: customer_id_for(key) for key in unique_anchors}
    component_sizes = np.bincount(labels)

    # String dtypes keep the columns text when there are no records (an
    # empty object column reaches DuckDB as INTEGER).
    return pd.DataFrame(
        {
            "record_key": pd.array(record_keys, dtype="string"),
            "source_system": pd.array(records["source_system"], dtype="string"),
            "source_customer_id": pd.array(
                records["source_customer_id"], dtype="string"
            ),
            "customer_id": pd.array([ids[key] for key in anchor_keys], dtype="string"),
            "match_rule": pd.array(match_rule, dtype="string"),
            "count_customer_records": component_sizes[labels].astype(np.int64),
        }
    )
