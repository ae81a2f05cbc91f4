"""Worker processes die with the process that started them, even when it is killed with SIGKILL.

A killed parent runs no cleanup, so a pool's workers would live on as orphans, finishing their
tasks (and, before the sweep store used POSIX locks, holding the folder's lock). Each worker we
start calls `tie_to` with its parent's pid:

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker the moment the
  thread that started it ends. Only set for a direct child of that pid, whose pool is started
  from the thread that opened it (`open_executor` starts all workers at once, at opening);
- everywhere, a daemon thread that waits on the parent: a pidfd where Linux has one (woken the
  instant the parent exits), else a poll every 0.2 s; the worker then exits at once.

A Dask local cluster's worker processes are spawned (a fresh interpreter) with the parent's
pid in `PARENT_PID_ENV`; ``import funnelsim`` (the first thing a worker of the ``funnelsim``
command does) calls `tie_to_environment`, and the cluster's preload (`dask_setup`) does it for
workers that import funnelsim later. This module imports nothing heavy, so it can run first.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

PARENT_PID_ENV = "FUNNELSIM_PARENT_PID"
POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1
_tied: set[int] = set()


def tie_to(parent_pid: int) -> None:
    """Make this process exit when ``parent_pid`` ends (nothing when this is that process)."""
    if parent_pid == os.getpid() or parent_pid in _tied:
        return
    _tied.add(parent_pid)
    direct = os.getppid() == parent_pid
    if direct:
        _set_parent_death_signal()
    if not _alive(parent_pid, direct):  # it died before we could watch it
        os._exit(1)
    threading.Thread(
        target=_watch, args=(parent_pid, direct), name="funnelsim-lifeline", daemon=True
    ).start()


def tie_to_environment() -> None:
    """Tie this process to the pid in `PARENT_PID_ENV`, when that is set."""
    pid = os.environ.get(PARENT_PID_ENV, "")
    if pid.isdigit():
        tie_to(int(pid))


def dask_setup(worker: Any) -> None:
    """Dask preload hook: tie a local cluster's worker process to the process that started it."""
    tie_to_environment()


@contextlib.contextmanager
def children_tied() -> Iterator[None]:
    """While the block runs, processes this one spawns find its pid in `PARENT_PID_ENV`."""
    before = os.environ.get(PARENT_PID_ENV)
    os.environ[PARENT_PID_ENV] = str(os.getpid())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(PARENT_PID_ENV, None)
        else:
            os.environ[PARENT_PID_ENV] = before


def _set_parent_death_signal() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _alive(pid: int, direct: bool) -> bool:
    if direct:
        # A dead parent's children are handed to another process at once, while a dead process
        # may linger as a zombie that kill(pid, 0) still finds.
        return os.getppid() == pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(pid: int, direct: bool) -> None:
    fd = None
    with contextlib.suppress(AttributeError, OSError):
        fd = os.pidfd_open(pid)
    if fd is not None and _alive(pid, direct):
        select.select([fd], [], [])  # readable once the process has exited
        os._exit(1)
    while _alive(pid, direct):
        time.sleep(POLL_SECONDS)
    os._exit(1)
