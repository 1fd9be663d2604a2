"""The topic catalog is the one place topic names, keys and schemas come from."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from afterglow.topics import CATALOG, topic_spec
from afterglow.validation import default_catalog

PACKAGE = Path(__file__).resolve().parents[1] / "services" / "afterglow"
# The shells that produce and consume records must name topics through the catalog.
SHELLS = ("worker", "web", "cli", "readmodel")


def test_every_topic_has_a_schema_with_its_key_fields() -> None:
    catalog = default_catalog()
    for spec in CATALOG:
        schema = catalog.schemas[spec.schema]
        for field in spec.key_fields:
            assert field in schema["properties"], (spec.name, field)


def test_a_record_is_keyed_by_the_first_key_field_it_has() -> None:
    outbound = topic_spec("afterglow.sms.outbound")
    assert outbound.key_field_of({"patient_id": "p", "to": "+15555550101"}) == "patient_id"
    assert outbound.key_field_of({"recipient": "clin-1"}) == "recipient"
    assert topic_spec("afterglow.ticks").key_field_of({"now": "x"}) is None


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


@pytest.mark.parametrize("shell", SHELLS)
def test_no_shell_spells_a_topic_name(shell: str) -> None:
    # Dotted names only: "alerts" and "deadletter" are also ordinary words (a JSON field, a
    # metric outcome), while a dotted catalog name in a string is always a topic.
    names = {spec.name for spec in CATALOG if "." in spec.name}
    found = [
        f"{path.relative_to(PACKAGE)}:{line} {value!r}"
        for path in sorted((PACKAGE / shell).rglob("*.py"))
        for line, value in _string_constants(path)
        if value in names
    ]
    assert found == []
