"""`afterglow report outcomes` prints, as JSON, the figures the dashboard's outcomes page
shows for the same read model; an unknown clinic exits 2."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from sqlalchemy import Engine

from tests.sms.fakes import RecordingPublisher
from tests.support.processes import AFTERGLOW
from tests.web.test_inbox import Client, _log_in, _run
from tests.web.test_outcomes_page import URL, json_figures, page_figures, project_cohort


def _report(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AFTERGLOW_DATA_DIR": str(database.parent),
        "AFTERGLOW_DATABASE_URL": f"sqlite:///{database}",
    }
    return subprocess.run(
        [AFTERGLOW, "report", "outcomes", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_json_has_the_numbers_of_the_page(tmp_path: Path) -> None:
    async def scenario(client: Client, publisher: RecordingPublisher, engine: Engine) -> None:
        project_cohort(engine)
        await _log_in(client, "lee@a.example")
        async with client.get(URL) as response:
            assert response.status == 200
            shown = page_figures(await response.text())
        done = _report(
            tmp_path / "db.sqlite3",
            "--clinic",
            "clinic-a",
            "--from",
            "2026-01-01",
            "--to",
            "2026-06-30",
        )
        assert done.returncode == 0, done.stderr
        printed = json.loads(done.stdout)
        assert (printed["clinic_id"], printed["from"], printed["to"]) == (
            "clinic-a", "2026-01-01", "2026-06-30",
        )  # fmt: skip
        assert json_figures(printed) == shown
        assert printed["cohort"]["series"] > 40

    _run(tmp_path, scenario)


def test_an_unknown_clinic_exits_2_with_a_message(tmp_path: Path) -> None:
    done = _report(tmp_path / "readmodel.sqlite3", "--clinic", "clinic-zz")
    assert done.returncode == 2
    assert "unknown clinic 'clinic-zz'" in done.stderr
    assert done.stdout == ""


def test_a_date_that_is_not_one_is_refused(tmp_path: Path) -> None:
    done = _report(tmp_path / "readmodel.sqlite3", "--clinic", "clinic-a", "--from", "June")
    assert done.returncode == 2
    assert "not a date" in done.stderr
