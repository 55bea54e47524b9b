"""Every macro of macros/ is documented in macros/_macros.yml, with nothing
documented that no longer exists (CONVENTIONS.md, "Macros")."""

from __future__ import annotations

import re

import yaml

from crm_analytics.contract import PROJECT_DIR

MACRO = re.compile(r"{%-?\s*macro\s+(\w+)\s*\(")


def defined_macros() -> set[str]:
    return {
        name
        for path in (PROJECT_DIR / "macros").glob("*.sql")
        for name in MACRO.findall(path.read_text())
    }


def documented_macros() -> set[str]:
    text = (PROJECT_DIR / "macros" / "_macros.yml").read_text()
    return {macro["name"] for macro in yaml.safe_load(text)["macros"]}


def test_every_macro_is_documented_and_every_documented_macro_exists():
    defined = defined_macros()
    documented = documented_macros()
    assert len(defined) > 40
    assert defined - documented == set(), "macros not in macros/_macros.yml"
    assert documented - defined == set(), "documented macros that do not exist"


def test_the_macro_pattern_finds_each_way_of_opening_a_macro():
    text = "{% macro a(x) %}{%- macro b() -%}{% macro  c (y) %}"
    assert MACRO.findall(text) == ["a", "b", "c"]
