"""`afterglow up`'s supervision (cli/up_cmd.py) with fake children, as a process of its own.

`python -m tests.support.fake_up CONFIG`, CONFIG being JSON: `{"logs": dir, "children":
{name: [command...]}, "log_max_bytes": n, "log_files": n}` (the last two optional). It
runs and stops the children the way `up` does, without the broker and the topics.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from afterglow.cli.up_cmd import LOG_FILES, LOG_MAX_BYTES, ChildSpec, Supervisor


def main() -> None:
    config = json.loads(sys.argv[1])
    specs = [ChildSpec(name, tuple(command)) for name, command in config["children"].items()]
    supervisor = Supervisor(
        specs,
        Path(config["logs"]),
        log_max_bytes=config.get("log_max_bytes", LOG_MAX_BYTES),
        log_files=config.get("log_files", LOG_FILES),
    )
    try:
        supervisor.run()
    finally:
        print("stopping ...", flush=True)
        supervisor.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    main()
