"""Give freed memory back to the operating system between replications.

A replication allocates and frees a few hundred megabytes of numpy arrays and DataFrames. glibc
keeps much of what is freed on its heap, so without a nudge a process that runs replication
after replication holds more and more of it (measured in benchmarks/bench_run_out.py: a 4-
replication `run --out` peaked 1.33x higher than one replication, though nothing was kept).
`malloc_trim` returns the free heap at the cost of a few milliseconds; elsewhere (macOS,
Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc


@functools.cache
def _trim():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def give_back(collect: bool = False) -> None:
    """Return the heap's free memory to the system (glibc only; otherwise a no-op).
    ``collect``: first free what only reference cycles hold (DataFrames do), a full
    garbage collection of some milliseconds."""
    if collect:
        gc.collect()
    trim = _trim()
    if trim is not None:
        trim(0)
