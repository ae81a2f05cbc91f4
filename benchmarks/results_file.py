"""Write a benchmark's figures as JSON, with when and where they were measured."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from pathlib import Path
from typing import Any


def save(path: Path, figures: dict[str, Any]) -> None:
    """``figures`` to ``path`` (its folder created), after the date, machine, Python, core
    count and load average: a wall-time figure means little without the load beside it."""
    doc = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        **figures,
    }
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
