"""`afterglow demo reset`: deletes the demo's data directory after a confirmation."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.processes import AFTERGLOW, free_port


def _reset(data_dir: Path, *args: str, answer: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AFTERGLOW_DATA_DIR": str(data_dir),
        "AFTERGLOW_BROKER_PORT": str(free_port()),
    }
    return subprocess.run(
        [AFTERGLOW, "demo", "reset", *args],
        env=env,
        input=answer,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_reset_asks_first_and_deletes_only_the_demo(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    (demo / "simulator").mkdir(parents=True)
    (demo / "clock.json").write_text("{}")
    (tmp_path / "readmodel.sqlite3").write_text("real data")

    declined = _reset(tmp_path, answer="n\n")
    assert declined.returncode == 1
    assert demo.exists()

    done = _reset(tmp_path, "--yes")
    assert done.returncode == 0, done.stderr
    assert not demo.exists()
    assert (tmp_path / "readmodel.sqlite3").read_text() == "real data"
    assert "afterglow up --demo" in done.stdout

    assert "no demo in" in _reset(tmp_path, "--yes").stdout
