"""The raw input contract, read from the dbt source YAMLs (its one source).

Each raw table is a dbt source in schema ``raw``; its columns carry
``meta.required`` and ``meta.logical_type``. ``python -m
crm_analytics.contract`` prints the contract as the markdown tables of
docs/raw_data_contract.md.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ContractColumn:
    """One column of a raw table."""

    name: str
    logical_type: str
    required: bool
    description: str


@dataclass(frozen=True)
class ContractTable:
    """One raw table: the file ``<name>.csv`` or ``<name>.parquet``."""

    name: str
    source: str
    description: str
    columns: tuple[ContractColumn, ...]


def load_contract(project_dir: Path = PROJECT_DIR) -> list[ContractTable]:
    """All raw tables declared in ``models/staging/*/_*__sources.yml``."""
    tables: list[ContractTable] = []
    for path in sorted((project_dir / "models" / "staging").glob("*/_*__sources.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for source in document.get("sources", []):
            if source.get("schema") != "raw":
                continue
            for table in source.get("tables", []):
                columns = tuple(
                    ContractColumn(
                        name=column["name"],
                        logical_type=column.get("meta", {}).get(
                            "logical_type", "varchar"
                        ),
                        required=bool(column.get("meta", {}).get("required", False)),
                        description=" ".join(column.get("description", "").split()),
                    )
                    for column in table.get("columns", [])
                )
                tables.append(
                    ContractTable(
                        name=table["name"],
                        source=source["name"],
                        description=" ".join(table.get("description", "").split()),
                        columns=columns,
                    )
                )
    return tables


def render_markdown(tables: list[ContractTable]) -> str:
    """The contract as one markdown section per table."""
    lines: list[str] = []
    for table in tables:
        lines += [
            f"### `{table.name}` (source system `{table.source}`)",
            "",
            table.description,
            "",
            "| column | type | required | description |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{c.name}` | {c.logical_type} | {'yes' if c.required else ''} "
            f"| {c.description} |"
            for c in table.columns
        ]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    sys.stdout.write(render_markdown(load_contract()))


if __name__ == "__main__":
    main()
