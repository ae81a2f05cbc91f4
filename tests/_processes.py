"""Helpers for tests that start ``funnelsim`` as a real process and kill it with SIGKILL.

Processes are found through /proc (no psutil): a process's descendants are recorded while it
runs, and after the kill a test checks that none of them is still alive (a zombie, dead but not
yet reaped by whoever inherited it, counts as dead).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

SURVIVAL_LIMIT = 5.0  # seconds a worker may outlive its killed parent (issue #14)


def _table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state letter) of every process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        out[int(name)] = (int(fields[1]), fields[0])
    return out


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (children, their children, ...)."""
    table = _table()
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        kids = [p for p, (pp, state) in table.items() if pp == parent and state != "Z"]
        found.update(kids)
        todo += kids
    return found


def alive(pids: set[int]) -> set[int]:
    table = _table()
    return {p for p in pids if p in table and table[p][1] != "Z"}


def start(args: Sequence[object], log: Path) -> subprocess.Popen:
    """``funnelsim ARGS`` as a new process; its stderr goes to ``log``."""
    with open(log, "wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "funnelsim.cli", *map(str, args)],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 90.0) -> set[int]:
    """SIGKILL ``proc`` as soon as ``ready()`` holds; return every descendant seen meanwhile.

    Fails when the process ends first (the kill would test nothing)."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        seen |= descendants(proc.pid)
        if ready():
            break
        time.sleep(0.01)
    seen |= descendants(proc.pid)
    assert proc.poll() is None, "the command ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return seen


def survivors(pids: set[int], within: float = SURVIVAL_LIMIT) -> set[int]:
    """The processes of ``pids`` still alive ``within`` seconds from now (at the latest)."""
    deadline = time.monotonic() + within
    left = alive(pids)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = alive(left)
    for pid in left:  # do not leave them behind for the next test
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


def lock_is_free(path: Path) -> bool:
    """True when no process holds the POSIX lock on ``path`` (a sweep folder's lock file)."""
    import fcntl

    if not path.exists():
        return True
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True
