"""The DAG runs one way: sources -> staging -> intermediate -> marts
(docs/architecture.md). Checked on the manifest of a real build, so a new
`ref` that runs back up a layer fails here, naming the edge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_analytics.ml.schedule import SCHEDULED_MODELS

pytestmark = pytest.mark.e2e

LAYERS = ("staging", "intermediate", "marts")


def layer_of(node: dict) -> str:
    """The layer folder a model's file is in (models/<layer>/...)."""
    parts = Path(node["original_file_path"]).parts
    assert parts[0] == "models" and parts[1] in LAYERS, node["original_file_path"]
    return parts[1]


@pytest.fixture(scope="module")
def manifest(demo_warehouse) -> dict:
    path = demo_warehouse.path.parent / "target" / "manifest.json"
    return json.loads(path.read_text())


def edges(manifest: dict) -> list[tuple[str, str, str, str]]:
    """(model, its layer, upstream node, that node's layer or kind)."""
    nodes = manifest["nodes"]
    found = []
    for node in nodes.values():
        if node["resource_type"] != "model":
            continue
        for upstream in node["depends_on"]["nodes"]:
            kind = upstream.split(".")[0]
            if kind == "model":
                found.append(
                    (node["name"], layer_of(node), upstream, layer_of(nodes[upstream]))
                )
            else:
                found.append((node["name"], layer_of(node), upstream, kind))
    return found


def test_no_model_reads_a_layer_above_its_own(manifest) -> None:
    rank = {"source": -1, "seed": -1, **{name: i for i, name in enumerate(LAYERS)}}
    back = [
        f"{model} ({layer}) reads {upstream} ({upstream_layer})"
        for model, layer, upstream, upstream_layer in edges(manifest)
        if rank[upstream_layer] > rank[layer]
    ]
    assert back == []


RECONCILIATION_MARTS = {"dq_quarantined_rows", "dq_row_reconciliation"}
"""The data-quality marts count and show the raw rows themselves, so that
the reconciliation does not trust the staging it checks."""


def test_staging_reads_only_sources_and_only_staging_reads_sources(manifest) -> None:
    wrong = [
        f"{model} ({layer}) reads {upstream}"
        for model, layer, upstream, upstream_layer in edges(manifest)
        if (layer == "staging") != (upstream_layer == "source")
        and model not in RECONCILIATION_MARTS
    ]
    assert wrong == []


def test_marts_do_not_skip_to_staging(manifest) -> None:
    skips = [
        f"{model} reads {upstream}"
        for model, layer, upstream, upstream_layer in edges(manifest)
        if layer == "marts" and upstream_layer == "staging"
    ]
    assert skips == []


def test_every_model_file_is_under_models(manifest) -> None:
    # Python models sit beside their SQL siblings (python_models/ holds a
    # README only).
    outside = [
        node["original_file_path"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and not node["original_file_path"].startswith("models/")
    ]
    assert outside == []


def test_the_scheduled_fits_are_incremental_by_model_name(manifest) -> None:
    """dbt makes a Python model a table unless its own source says
    otherwise (a folder's +materialized is ignored): a scheduled fit built
    as a table would fit again on every run."""
    configs = {
        node["name"]: node["config"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    for name in SCHEDULED_MODELS:
        config = configs[name]
        assert (
            config["materialized"],
            config["incremental_strategy"],
            config["unique_key"],
            config["on_schema_change"],
        ) == ("incremental", "delete+insert", "model_name", "append_new_columns"), name
