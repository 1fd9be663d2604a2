"""One table of alert kinds: priorities, page labels and the never-suppressed kind agree
with the rules (docs/rules.md) and with every schema that names a kind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from afterglow.core.alerting import kind_label
from afterglow.core.rules.kinds import KINDS, NEVER_SUPPRESSED, PRIORITY, AlertKind
from afterglow.validation import default_catalog


def _kind_enums(node: Any, path: str = "") -> Iterator[tuple[str, list[str]]]:
    """Every enum under a property named `kind` (or `kinds`' items) in a schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "kind" and isinstance(value, dict) and "enum" in value:
                yield f"{path}.{key}", value["enum"]
            yield from _kind_enums(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _kind_enums(value, f"{path}[{index}]")


# `kind` there is the kind of check-in (baseline, follow-up, confirmatory), or of operator
# warning (tests/operator_warnings), not of alert.
_OTHER_KINDS = {"afterglow.checkins", "afterglow.operator-warnings"}
# Every schema whose records name an alert kind.
_ALERT_KIND_SCHEMAS = {
    "alerts",
    "afterglow.audit",
    "afterglow.alert-notifications",
    "afterglow.clinical-events",
    "history/alert_resolved",
}


def _all_kind_enums() -> list[tuple[str, list[str]]]:
    catalog = default_catalog()
    return [
        (f"{name}{path}", enum)
        for name in catalog.names()
        if name not in _OTHER_KINDS
        for path, enum in _kind_enums(catalog.schemas[name])
    ]


def test_the_table_has_every_kind_once() -> None:
    assert list(KINDS) == list(AlertKind)


@pytest.mark.parametrize(("where", "enum"), _all_kind_enums())
def test_every_schema_lists_exactly_the_alert_kinds(where: str, enum: list[str]) -> None:
    assert sorted(enum) == sorted(kind.value for kind in AlertKind), where


def test_every_schema_that_carries_an_alert_kind_constrains_it() -> None:
    checked = {where.split(".properties")[0] for where, _ in _all_kind_enums()}
    assert checked == _ALERT_KIND_SCHEMAS


def test_priorities_follow_the_rule_table() -> None:
    assert PRIORITY[AlertKind.SAFETY] == "P1"
    assert PRIORITY[AlertKind.DISENGAGED] == "P3"
    assert {PRIORITY[k] for k in AlertKind} - {"P1", "P3"} == {"P2"}
    assert {AlertKind.SAFETY} == NEVER_SUPPRESSED


def test_a_page_label_never_names_a_score_or_a_diagnosis() -> None:
    for kind in AlertKind:
        label = kind_label(kind.value)
        assert label == KINDS[kind].page_label
        for word in ("relapse", "severe", "worsen", "depress", "phq", "score", "suicid"):
            assert word not in label
