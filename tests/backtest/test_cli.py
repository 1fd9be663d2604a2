"""`afterglow backtest FILE` as a clinic would run it (docs/clinics.md, "Trying a rule
configuration on your history")."""

from __future__ import annotations

import io
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from afterglow.cli.backtest_cmd import run_backtest
from tests.backtest.cli import (
    Result,
    alert_tuples,
    assessment,
    event,
    history_text,
    run_afterglow,
    write_history,
)
from tests.support.clinics import write_clinics

KINDS = (
    "safety",
    "severe",
    "worsening",
    "losing_response",
    "probable_relapse",
    "relapse",
    "missed_high_risk",
    "monitoring_stopped",
    "disengaged",
)

# A treated responder (offset -05:00, fractional seconds) and a severe patient (Z).
CLINIC_HISTORY: list[dict[str, Any] | str] = [
    event("patient_enrolled", "p1", "2024-03-01T09:00:00-05:00", baseline_phq9=20),
    event("infusion_completed", "p1", "2024-03-02T09:00:00-05:00"),
    assessment("p1", "2024-03-09T09:00:00-05:00", 4),  # responder, nothing raised
    assessment("p2", "2024-03-10T12:00:00Z", 20),  # severe
    # total 11, item 9 = 1: safety, worsening (+7), losing response (+7), probable relapse
    assessment("p1", "2024-03-16T10:30:00.250000-05:00", 11, item9=1),
    assessment("p1", "2024-03-17T09:00:00-05:00", 4),
    # the same three clinical-change kinds again, all still open: updates, not printed
    assessment("p1", "2024-03-18T09:00:00-05:00", 11),
    event("checkin_expired", "p2", "2024-03-12T12:00:00+00:00"),  # within 14 days of severe
]
CLINIC_EXPECTED = [
    ("p2", "severe", "P2", "2024-03-10T12:00:00Z"),
    ("p1", "safety", "P1", "2024-03-16T10:30:00.250000-05:00"),
    ("p1", "worsening", "P2", "2024-03-16T10:30:00.250000-05:00"),
    ("p1", "losing_response", "P2", "2024-03-16T10:30:00.250000-05:00"),
    ("p1", "probable_relapse", "P2", "2024-03-16T10:30:00.250000-05:00"),
    ("p2", "missed_high_risk", "P2", "2024-03-12T12:00:00+00:00"),
]


def assert_ok(result: Result) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_alerts_are_printed_as_json_lines_in_the_order_raised(tmp_path: Path) -> None:
    result = run_afterglow(["backtest", str(write_history(tmp_path / "h.jsonl", CLINIC_HISTORY))])
    assert_ok(result)
    lines = result.stdout.splitlines()
    assert len(lines) == len(CLINIC_EXPECTED)
    alerts = [json.loads(line) for line in lines]
    for alert in alerts:
        assert {"patient_id", "kind", "priority", "at"} <= set(alert)
        assert alert["priority"] in ("P1", "P2", "P3")
    # `at` is the triggering event's text, unchanged (offset, "Z", fractional seconds).
    assert alert_tuples(alerts) == CLINIC_EXPECTED


def test_stdin_dash_reads_standard_input() -> None:
    result = run_afterglow(["backtest", "-", "--summary"], stdin=history_text(CLINIC_HISTORY))
    assert_ok(result)
    assert alert_tuples(result.alerts()) == CLINIC_EXPECTED
    assert result.summary()["alerts"] == len(CLINIC_EXPECTED)


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    spaced: list[dict[str, Any] | str] = ["", "   "]
    for line in CLINIC_HISTORY:
        spaced += [line, "", "\t "]
    result = run_afterglow(["backtest", str(write_history(tmp_path / "h.jsonl", spaced))])
    assert_ok(result)
    assert alert_tuples(result.alerts()) == CLINIC_EXPECTED


def test_empty_history(tmp_path: Path) -> None:
    path = write_history(tmp_path / "h.jsonl", [])
    result = run_afterglow(["backtest", str(path), "--summary"])
    assert_ok(result)
    assert result.alerts() == []
    summary = result.summary()
    assert summary["alerts"] == 0
    assert all(summary["by_kind"][kind]["count"] == 0 for kind in KINDS)


def test_resolution_with_nothing_open_and_patients_interleaved_out_of_order(
    tmp_path: Path,
) -> None:
    lines: list[dict[str, Any] | str] = [
        event("alert_resolved", "a", "2024-05-02T00:00:00Z", kind="severe"),
        # Another patient's earlier time is fine: order is only per patient.
        assessment("b", "2024-05-01T00:00:00Z", 22),
        assessment("a", "2024-05-02T00:00:01Z", 21),
    ]
    result = run_afterglow(["backtest", str(write_history(tmp_path / "h.jsonl", lines))])
    assert_ok(result)
    assert alert_tuples(result.alerts()) == [
        ("b", "severe", "P2", "2024-05-01T00:00:00Z"),
        ("a", "severe", "P2", "2024-05-02T00:00:01Z"),
    ]


# --------------------------------------------------------------------------- summary

T = "2024-01-01T00:00:00+00:00"
# 365.25 / 12 * 3 days = 91 days 7 h 30 min (2024 is a leap year: Jan 31 + Feb 29 + Mar 31).
T_PLUS_3_MONTHS = "2024-04-01T07:30:00+00:00"
T_PLUS_1_MONTH = "2024-01-31T10:30:00+00:00"


def test_summary_counts_and_rate_per_100_patient_months(tmp_path: Path) -> None:
    lines = [event("infusion_completed", "p", T), assessment("p", T_PLUS_3_MONTHS, 20)]
    result = run_afterglow(
        ["backtest", str(write_history(tmp_path / "h.jsonl", lines)), "--summary"]
    )
    assert_ok(result)
    assert alert_tuples(result.alerts()) == [("p", "severe", "P2", T_PLUS_3_MONTHS)]
    # The summary comes after the alerts.
    assert "summary" in json.loads(result.stdout.splitlines()[-1])
    summary = result.summary()
    assert summary["patient_months"] == pytest.approx(3.0, abs=0.005)
    assert summary["alerts"] == 1
    assert summary["alerts_per_100_patient_months"] == pytest.approx(33.33, abs=0.005)
    assert summary["by_kind"]["severe"] == {"count": 1, "per_100_patient_months": 33.33}
    for kind in KINDS:
        if kind != "severe":
            assert summary["by_kind"][kind]["count"] == 0


def months(lines: list[dict[str, Any] | str], tmp_path: Path) -> float:
    path = write_history(tmp_path / "h.jsonl", lines)
    result = run_afterglow(["backtest", str(path), "--summary-only"])
    assert_ok(result)
    return float(result.summary()["patient_months"])


def test_follow_up_is_counted_from_each_patients_infusion_and_boosters_do_not_double(
    tmp_path: Path,
) -> None:
    lines: list[dict[str, Any] | str] = [
        event("infusion_completed", "p1", T),
        event("patient_enrolled", "p3", "2024-01-02T00:00:00+00:00"),  # never infused: 0
        event("infusion_completed", "p1", "2024-01-31T00:00:00+00:00"),  # overlapping booster
        event("infusion_completed", "p2", T_PLUS_1_MONTH),
        event("checkin_expired", "p3", T_PLUS_3_MONTHS),  # the history ends here
    ]
    assert months(lines, tmp_path) == pytest.approx(3.0 + 2.0, abs=0.005)


def test_follow_up_stops_365_days_after_the_last_infusion(tmp_path: Path) -> None:
    lines: list[dict[str, Any] | str] = [
        event("infusion_completed", "p", T),
        event("checkin_expired", "p", "2025-05-15T00:00:00+00:00"),  # 500 days later
    ]
    assert months(lines, tmp_path) == pytest.approx(365 / (365.25 / 12), abs=0.005)


def test_summary_only_prints_no_alerts(tmp_path: Path) -> None:
    path = write_history(tmp_path / "h.jsonl", CLINIC_HISTORY)
    result = run_afterglow(["backtest", str(path), "--summary-only"])
    assert_ok(result)
    (only,) = result.stdout.splitlines()
    summary = json.loads(only)["summary"]
    counts = {kind: summary["by_kind"][kind]["count"] for kind in KINDS}
    assert counts == {kind: sum(1 for row in CLINIC_EXPECTED if row[1] == kind) for kind in KINDS}
    assert summary["alerts"] == len(CLINIC_EXPECTED)


# ---------------------------------------------------------------------------- errors

GOOD = event("infusion_completed", "p", "2024-01-01T00:00:00Z")
ITEMS = [1, 1, 1, 1, 1, 1, 1, 1, 0]


def bad_assessment(**fields: Any) -> dict[str, Any]:
    return {**event("assessment_completed", "p", "2024-01-02T00:00:00Z", items=ITEMS), **fields}


def without(line: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k != key}


# Each bad line is the 4th physical line: a good line, two blank lines, the bad one.
ERROR_CASES: dict[str, dict[str, Any] | str] = {
    "not JSON": '{"type": "infusion_completed", "patient_id": "p",',
    "not an object": "[1, 2, 3]",
    "unknown type": event("infusion_started", "p", "2024-01-02T00:00:00Z"),
    "missing type": without(GOOD, "type"),
    "missing patient_id": without(bad_assessment(), "patient_id"),
    "missing at": without(bad_assessment(), "at"),
    "missing items": without(bad_assessment(), "items"),
    "missing kind": event("alert_resolved", "p", "2024-01-02T00:00:00Z"),
    "items not a list": bad_assessment(items="1,1,1,1,1,1,1,1,0"),
    "item not an integer": bad_assessment(items=[1, 1, 1, "1", 1, 1, 1, 1, 0]),
    "patient_id not a string": {**GOOD, "patient_id": 7},
    "at not a string": {**GOOD, "at": 1704067200},
    "baseline as a string": event(
        "patient_enrolled", "p", "2024-01-02T00:00:00Z", baseline_phq9="12"
    ),
    "baseline out of range": event(
        "patient_enrolled", "p", "2024-01-02T00:00:00Z", baseline_phq9=28
    ),
    "item out of range (4)": bad_assessment(items=[1, 1, 1, 1, 4, 1, 1, 1, 0]),
    "item out of range (-1)": bad_assessment(items=[1, 1, 1, 1, -1, 1, 1, 1, 0]),
    "8 items": bad_assessment(items=ITEMS[:8]),
    "10 items": bad_assessment(items=[*ITEMS, 0]),
    "difficulty out of range": bad_assessment(difficulty=4),
    "unknown alert kind": event("alert_resolved", "p", "2024-01-02T00:00:00Z", kind="sad"),
    "datetime without offset": event("checkin_expired", "p", "2024-01-02T00:00:00"),
    "date only": event("checkin_expired", "p", "2024-01-02"),
    "time going backwards": event("checkin_expired", "p", "2023-12-31T23:59:59Z"),
    "backwards in another offset": event("checkin_expired", "p", "2024-01-01T01:00:00+02:00"),
}


# The cases the backtest command documents (docs/clinics.md) run through the real command;
# every case also runs in-process through the function the command calls (fast, same code path).
CLI_ERROR_CASES = (
    "not JSON",
    "unknown type",
    "missing items",
    "patient_id not a string",
    "item out of range (4)",
    "8 items",
    "datetime without offset",
    "time going backwards",
)


def error_lines(bad: dict[str, Any] | str) -> list[dict[str, Any] | str]:
    return [GOOD, "", "", bad, assessment("p", "2024-02-01T00:00:00Z", 20)]


@pytest.fixture(scope="module")
def error_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """The command-line error cases, run concurrently (independent processes)."""
    folder = tmp_path_factory.mktemp("errors")

    def run(item: tuple[int, str]) -> tuple[str, Result]:
        number, name = item
        path = write_history(folder / f"case{number}.jsonl", error_lines(ERROR_CASES[name]))
        return name, run_afterglow(["backtest", str(path)])

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(run, enumerate(CLI_ERROR_CASES)))


def check_error(result: Result) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert re.search(r"^line 4: \S", result.stderr, re.MULTILINE), result.stderr
    assert "Traceback" not in result.stderr
    # Nothing after the bad line was evaluated.
    assert all(alert["kind"] != "severe" for alert in result.alerts())


@pytest.mark.parametrize("case", CLI_ERROR_CASES)
def test_invalid_line_exits_2_with_its_physical_line_number(
    case: str, error_results: dict[str, Result]
) -> None:
    check_error(error_results[case])


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_every_invalid_line_is_reported_with_status_2(case: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_backtest(
        io.StringIO(history_text(error_lines(ERROR_CASES[case]))), out, err, True, False
    )
    check_error(Result(code, out.getvalue(), err.getvalue()))
    assert '"summary"' not in out.getvalue()


def test_error_reason_names_the_problem(error_results: dict[str, Result]) -> None:
    assert "JSON" in error_results["not JSON"].stderr
    assert "infusion_started" in error_results["unknown type"].stderr
    assert "backwards" in error_results["time going backwards"].stderr


def test_lower_case_t_and_z_never_crash(tmp_path: Path) -> None:
    # RFC 3339 allows lower-case "t" and "z"; the schema accepts them. The backtest command:
    # exit 2 with `line N: ...` on an invalid line, 0 otherwise - never a traceback.
    lines: list[dict[str, Any] | str] = [
        GOOD,
        event("checkin_expired", "p", "2024-01-02t00:00:00z"),
    ]
    result = run_afterglow(["backtest", str(write_history(tmp_path / "h.jsonl", lines))])
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 2)
    if result.returncode == 2:
        assert re.search(r"^line 2: \S", result.stderr, re.MULTILINE), result.stderr


@pytest.mark.parametrize(
    "at",
    [
        "2024-06-30T23:59:60Z",  # RFC 3339 leap second; Python's datetime cannot hold it
        "0000-01-01T00:00:00Z",  # year 0 matches the date-time pattern
        "9999-12-31T00:00:00Z",  # its follow-up window ends after year 9999
    ],
)
def test_schema_valid_datetimes_never_crash(at: str) -> None:
    # Every line here passes the schema; the backtest command allows only exit 0, or exit 2 with
    # `line N: ...`.
    lines: list[dict[str, Any] | str] = [GOOD, event("infusion_completed", "p", at)]
    out, err = io.StringIO(), io.StringIO()
    try:
        code = run_backtest(io.StringIO(history_text(lines)), out, err, True, False)
    except (ValueError, OverflowError) as error:
        pytest.fail(f"the backtest crashed: {type(error).__name__}: {error}")
    assert code in (0, 2)
    if code == 2:
        assert re.search(r"^line 2: \S", err.getvalue(), re.MULTILINE), err.getvalue()


def test_a_line_that_is_not_utf8_is_reported_with_its_number(tmp_path: Path) -> None:
    path = write_history(tmp_path / "h.jsonl", CLINIC_HISTORY[:3])
    with path.open("ab") as history:
        history.write(
            b'{"type": "opted_out", "patient_id": "p\xff", "at": "2024-04-01T09:00:00Z"}\n'
        )
    result = run_afterglow(["backtest", str(path)])
    assert result.returncode == 2
    assert result.stderr.startswith("line 4: ")
    assert "UTF-8" in result.stderr


SEVERE_AT_16 = """
[clinics.strict]
rules = { severe_total = 16 }
"""


def test_clinic_thresholds_come_from_the_clinic_settings_file(tmp_path: Path) -> None:
    settings = write_clinics(tmp_path / "clinics.toml", SEVERE_AT_16)
    path = write_history(tmp_path / "h.jsonl", [assessment("p9", "2024-03-10T12:00:00Z", 17)])
    env = {"AFTERGLOW_CLINICS_FILE": str(settings)}
    default = run_afterglow(["backtest", str(path)], env=env)
    strict = run_afterglow(["backtest", "--clinic", "strict", str(path)], env=env)
    unknown = run_afterglow(["backtest", "--clinic", "lax", str(path)], env=env)
    assert (default.returncode, default.alerts()) == (0, [])
    assert alert_tuples(strict.alerts()) == [("p9", "severe", "P2", "2024-03-10T12:00:00Z")]
    assert unknown.returncode == 2
    assert "no clinic 'lax'" in unknown.stderr
