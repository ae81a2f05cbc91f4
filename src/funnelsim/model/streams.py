"""Named random streams, one per mechanism, derived from (seed, replication, stream name).

A stream is keyed by a stable hash of its name, so adding a mechanism never shifts another's
numbers. Draws are indexed by prospect: prospect i of replication r gets the same uniforms in every
scenario, which is what makes comparisons paired (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator for one mechanism of one replication."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replication, key)))
    )


def uniforms(seed: int, replication: int, name: str, n: int) -> np.ndarray:
    """``n`` uniforms in [0, 1); the first k are the same whatever ``n`` is."""
    return stream(seed, replication, name).random(n)
