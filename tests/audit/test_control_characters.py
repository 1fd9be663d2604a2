"""Whatever the topics hold, `afterglow audit` prints one line per entry, with control
characters shown as visible escapes: a record cannot forge a line or drive the terminal."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from afterglow.audit.timeline import (
    SourceRecord,
    build_timeline,
    decode_record,
    render_json,
    render_text,
)

CHICAGO = ZoneInfo("America/Chicago")
FORGED_LINE = "2026-01-17T08:20:00-06:00  audit  clinician:clin-2  resolved alert al-1"
ACTOR = f"clinician:clin-1\n{FORGED_LINE}"


def audit(action: str, at: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"al-1:{action}:{at}",
        "patient_id": "pt-1",
        "clinic_id": "clinic-a",
        "action": action,
        "actor": "system",
        "at": at,
        "alert_id": "al-1",
        "kind": "safety",
        "priority": "P1",
        **extra,
    }


def hostile_records() -> list[SourceRecord]:
    """A control character in every kind of printed field."""
    values = [
        audit("acknowledged", "2026-01-17T14:20:00+00:00", actor=ACTOR, via="dashboard"),
        audit(
            "resolved",
            "2026-01-17T14:30:00+00:00",
            actor="clinician:\x1b[2K\x1b[31mclin-3",  # ANSI: erase the line, go red
            via="dash\rboard",
            outcome="other\x07",
        ),
        {
            "alert_id": "al-\u202e1",  # bidi override
            "patient_id": "pt-1",
            "kind": "safety",
            "priority": "P1",
            "status": "open",
            "reason": "PHQ-9 item 9\u2028answered 2\x9b31m",  # line separator, C1 CSI
            "changed_at": "2026-01-17T14:10:00+00:00",
        },
        {
            "event_id": "sm-1:e9",
            "type": "something\x7fnew",  # an event type this version has no words for
            "patient_id": "pt-1",
            "at": "2026-01-17T14:40:00+00:00",
            "note": "tab\there\x0bvertical\x85next",
        },
    ]
    records = [
        SourceRecord("afterglow.audit", values[0]),
        SourceRecord("afterglow.audit", values[1]),
        SourceRecord("alerts", values[2]),
        SourceRecord("afterglow.clinical-events", values[3]),
    ]
    # A lone surrogate, as json.loads makes from "\ud800": not even encodable as UTF-8.
    surrogate = audit("noted", "2026-01-17T14:50:00+00:00", actor="bad\ud800")
    records.append(decode_record("afterglow.audit", json.dumps(surrogate).encode(), None))
    return records


def test_text_output_is_one_visible_line_per_entry() -> None:
    entries = build_timeline(hostile_records())
    text = render_text(entries, CHICAGO)
    lines = text.splitlines()  # splits on \r, \v, \x85 and U+2028 too
    assert len(lines) == len(entries) == 5
    for line in lines:
        assert line.isprintable(), ascii(line)
    text.encode("utf-8")  # printable to any UTF-8 terminal
    # The forged line is the acknowledging actor's name, shown on its own entry's line.
    [forged] = [line for line in lines if "acknowledged alert" in line]
    assert forged.startswith("2026-01-17T08:20:00-06:00  audit")
    assert not any(line.startswith(FORGED_LINE) for line in lines)
    assert "clinician:clin-1\\n2026-01-17T08:20:00-06:00" in text
    for shown in (
        "clinician:\\x1b[2K\\x1b[31mclin-3",
        "via dash\\rboard: other\\x07",
        "alert al-\\u202e1",
        "item 9\\u2028answered 2\\x9b31m",
        "something\\x7fnew",
        "tab\\there\\x0bvertical\\x85next",
        "bad\\ud800",
    ):
        assert shown in text, shown


def test_json_output_is_one_line_per_entry_with_the_values_intact() -> None:
    entries = build_timeline(hostile_records())
    text = render_json(entries, CHICAGO)
    lines = text.splitlines()
    assert len(lines) == len(entries)
    for line in lines:
        assert line.isprintable(), ascii(line)
    objects = [json.loads(line) for line in lines]
    # Escaped for the terminal only: a program reading the JSON gets the records' values.
    assert [item["actor"] for item in objects if item["kind"] == "acknowledged"] == [ACTOR]
    assert any("\u2028" in item["summary"] for item in objects)
    assert any(item["actor"] == "bad\ud800" for item in objects)


def test_ordinary_text_is_printed_as_it_is() -> None:
    records = [
        SourceRecord(
            "afterglow.audit",
            audit("acknowledged", "2026-01-17T14:20:00+00:00", actor="clinician:clínica-norte-ü"),
        )
    ]
    text = render_text(build_timeline(records), CHICAGO)
    assert text.endswith("clinician:clínica-norte-ü  acknowledged alert al-1 (safety, P1)")
