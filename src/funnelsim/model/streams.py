"""Named random streams, one per mechanism, derived from (seed, replication, stream name).

A stream is keyed by a stable hash of its name, so adding a mechanism never shifts another's
numbers. Draws belong to a prospect, not to a position in a list: prospect p of replication r
gets the same uniform in a stream whatever the scenario, the volume or the other prospects, which
is what makes comparisons paired (common random numbers) and lets a higher volume only *add*
prospects.

Two kinds of stream serve that:

- Sequential streams (`Streams.chunk`): the arrival process is drawn chunk by chunk of time
  (`arrivals.chunk_hours`), and chunk k of a stream always starts at the same position of its
  generator (PCG64 ``advance``), so the j-th number of chunk k never depends on how many
  numbers other chunks used. These carry the few per-prospect draws every prospect needs.
- Counter-based streams (`Streams.at`): the uniform of prospect p in a per-lead stream is a
  SplitMix64 hash of p's 64-bit id and the stream's key, computed in bulk for exactly the leads
  that need it (the MQLs, the SQLs). Nothing is drawn for the prospects a stage never reaches.
"""

from __future__ import annotations

import zlib

import numpy as np

# Chunk k of a sequential stream starts at output (k + _CHUNK_BIAS) << 32: chunks from -2^20 up
# have room for 2^32 numbers each, far more than a chunk of arrivals draws.
_CHUNK_BIAS = 1 << 20
_U53 = 1.0 / (1 << 53)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The sequential generator for one mechanism of one replication."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replication, _key(name))))
    )


def uniforms(seed: int, replication: int, name: str, n: int) -> np.ndarray:
    """``n`` uniforms in [0, 1) from the start of a sequential stream (prefix-stable)."""
    return stream(seed, replication, name).random(n)


def prospect_ids(chunk: int, index: np.ndarray) -> np.ndarray:
    """The 64-bit id of prospect ``index`` (its place in its chunk's arrival order of levels)
    in chunk ``chunk``: the identity every per-lead draw is keyed by."""
    return (np.uint64(chunk + _CHUNK_BIAS) << np.uint64(32)) | np.asarray(index, dtype=np.uint64)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, elementwise: a bijection of uint64 that scatters nearby inputs."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


class Streams:
    """Every named stream of one (seed, replication), sequential and counter-based."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = seed
        self.replication = replication
        self._generators: dict[str, tuple[np.random.Generator, dict]] = {}
        self._keys: dict[str, np.uint64] = {}

    def _generator(self, name: str) -> tuple[np.random.Generator, dict]:
        got = self._generators.get(name)
        if got is None:
            gen = stream(self.seed, self.replication, name)
            got = (gen, gen.bit_generator.state)
            self._generators[name] = got
        return got

    def chunk(self, name: str, chunk: int) -> np.random.Generator:
        """The sequential stream ``name`` positioned at the start of chunk ``chunk``; draw from
        it in the same order every time (it is shared: finish with it before the next call)."""
        gen, start = self._generator(name)
        gen.bit_generator.state = start
        gen.bit_generator.advance((chunk + _CHUNK_BIAS) << 32)
        return gen

    def key(self, name: str) -> np.uint64:
        """The 64-bit key of counter-based stream ``name`` (from SeedSequence, as for the
        sequential streams)."""
        k = self._keys.get(name)
        if k is None:
            ss = np.random.SeedSequence(self.seed, spawn_key=(self.replication, _key(name)))
            k = ss.generate_state(1, np.uint64)[0]
            self._keys[name] = k
        return k

    def at(self, name: str, mixed_ids: np.ndarray) -> np.ndarray:
        """Uniforms in [0, 1) of stream ``name`` for the prospects whose ids went through
        `mix64` (``mixed_ids = mix64(prospect_ids(...))``, computed once and shared by every
        stream: two streams' draws are then unrelated even for ids that differ by their keys)."""
        bits = mix64(mixed_ids ^ self.key(name)) >> np.uint64(11)
        return bits.astype(np.float64) * _U53
