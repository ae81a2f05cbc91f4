"""Run many (scenario, replication) pairs on an executor, in chunks, as results come in.

The unit of work is a chunk: one scenario and a few replication ids, run by the top-level (so
picklable) `run_chunk`. Completion is collected through ``add_done_callback`` and a thread-safe
queue, never ``concurrent.futures.wait``/``as_completed`` (which reject Dask futures), so any
executor works. Outcomes come back sorted by (job, replication): nothing depends on the
executor, the worker count or the order in which chunks finish.
"""

from __future__ import annotations

import math
import queue
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..model import FunnelRecord, simulate
from ..model.funnel import check_simulated_work
from ..results import compute_kpis
from ..scenario import Scenario
from .executors import (
    ExecutorLike,
    as_executor,
    check_picklable,
    is_pickling_failure,
    pickling_hint,
    worker_count,
)
from .limits import MAX_REPLICATIONS, MAX_SEED
from .progress import progress_bar

ExtraKpis = Callable[[FunnelRecord], Mapping[str, float]]

# A chunk never holds more than this many replications, so a killed sweep loses little work and
# progress moves; a replication takes tens of milliseconds, so task overhead is already amortised.
MAX_CHUNK = 25


@dataclass(frozen=True)
class Job:
    """Replications of one scenario; ``key`` is the caller's id for it (a point, a coalition).

    With ``parameter_uncertainty`` each replication runs on its own draw of the scenario's
    fitted parameters (see `funnelsim.experiment.uncertainty`); keys under ``hold`` (a
    sweep's swept keys) always keep the scenario's value."""

    key: int
    scenario: Scenario
    replications: tuple[int, ...]
    parameter_uncertainty: bool = False
    hold: tuple[str, ...] = ()
    until_h: float | None = None  # simulate only until this hour (see `simulate`)


@dataclass(frozen=True)
class Outcome:
    """One (job, replication): its KPIs, or the error that stopped it."""

    key: int
    replication: int
    kpis: dict[str, float] | None
    record: FunnelRecord | None = None
    error: str | None = None


def replicate(
    scenario: Scenario,
    seed: int,
    replication: int,
    keep_record: bool = False,
    until_h: float | None = None,
):
    """One replication: ``(kpis, record or None)``. Top-level so that executors can pickle it."""
    rec = simulate(scenario, seed, replication, until_h)
    return compute_kpis(rec), (rec if keep_record else None)


def run_chunk(
    scenario: Scenario,
    seed: int,
    key: int,
    replications: Sequence[int],
    keep_records: bool,
    extra_kpis: ExtraKpis | None,
    capture_errors: bool,
    parameter_uncertainty: bool = False,
    hold: tuple[str, ...] = (),
    until_h: float | None = None,
) -> list[Outcome]:
    """Run replications of one scenario; top-level so any executor can ship it to a worker.

    With ``capture_errors`` a failing replication becomes an `Outcome` carrying its message
    (failures are data); otherwise the exception propagates to the caller. With
    ``parameter_uncertainty`` replication r runs on its parameter draw.
    """
    from ..memory import give_back
    from .uncertainty import scenario_for

    out = []
    for r in replications:
        try:
            s = scenario_for(scenario, seed, r, hold) if parameter_uncertainty else scenario
            kpis, rec = replicate(s, seed, r, keep_records or extra_kpis is not None, until_h)
            if extra_kpis is not None:
                kpis = {**kpis, **_extra(extra_kpis, rec)}
            out.append(Outcome(key, r, kpis, rec if keep_records else None))
            del rec
            give_back()  # so a long series of replications does not creep up in memory
        except Exception as exc:
            if not capture_errors:
                raise
            out.append(Outcome(key, r, None, None, f"{type(exc).__name__}: {exc}"))
    return out


def _extra(fn: ExtraKpis, rec: FunnelRecord) -> dict[str, float]:
    values = fn(rec)
    if not isinstance(values, Mapping):
        raise TypeError(
            f"extra_kpis must return a mapping of KPI name to number, not {type(values).__name__}"
        )
    return {str(k): float(v) for k, v in values.items()}


def chunk_size_for(executor: Any, jobs: Sequence[Job], chunk_size: int | None) -> int:
    """Replications per task: 1 in process, else about four tasks per worker, at most MAX_CHUNK."""
    if chunk_size is not None:
        _check_chunk_size(chunk_size)
        return chunk_size
    workers = worker_count(executor)
    if workers <= 1:
        return 1
    total = sum(len(j.replications) for j in jobs)
    return max(1, min(MAX_CHUNK, math.ceil(total / (4 * workers))))


def _check_chunk_size(chunk_size: int | None) -> None:
    if chunk_size is not None and (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, int)
        or not 1 <= chunk_size <= MAX_REPLICATIONS
    ):
        raise UsageError(
            f"--chunk-size must be a whole number of replications per task, from 1 to "
            f"{MAX_REPLICATIONS:,} (given: {chunk_size!r}); leave it out to size tasks to the "
            "workers"
        )


def check_options(
    seed: Any, executor: Any, chunk_size: int | None, extra_kpis: ExtraKpis | None
) -> ExecutorLike:
    """The checks `execute` makes before it runs anything, for a caller that must make them
    before it touches anything else (a sweep, before its folder). Raises `UsageError`; returns
    the executor to submit to."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise UsageError(
            f"--seed must be a whole number from 0 to 2**63 - 1 = {MAX_SEED} (given: {seed!r})"
        )
    ex = as_executor(executor)
    check_picklable(ex, extra_kpis)
    _check_chunk_size(chunk_size)
    return ex


def execute(
    jobs: Sequence[Job],
    seed: int,
    *,
    executor: Any = None,
    chunk_size: int | None = None,
    keep_records: bool = False,
    extra_kpis: ExtraKpis | None = None,
    capture_errors: bool = False,
    progress: bool | None = None,
    desc: str = "runs",
    on_outcomes: Callable[[list[Outcome]], None] | None = None,
) -> list[Outcome]:
    """Run every job's replications on ``executor`` (None: serially, in this process).

    ``on_outcomes`` is called in this thread with each finished chunk's outcomes, as they come
    (a store writes them then); it may replace items of that list (a streaming writer drops
    the records it has written). Returns all outcomes sorted by (key, replication).
    """
    ex = check_options(seed, executor, chunk_size, extra_kpis)
    if not capture_errors:
        # Here, before anything is submitted: a worker's error would reach us only as text.
        for scenario in {id(job.scenario): job.scenario for job in jobs}.values():
            check_simulated_work(scenario)
    size = chunk_size_for(ex, jobs, chunk_size)
    chunks = [
        (job, job.replications[i : i + size])
        for job in jobs
        for i in range(0, len(job.replications), size)
    ]
    total = sum(len(reps) for _, reps in chunks)
    window = 2 * worker_count(ex) + 2
    done: queue.Queue[int] = queue.Queue()
    in_flight: dict[int, tuple[tuple[Job, tuple[int, ...]], Any]] = {}
    results: list[Outcome] = []

    def finish(i: int, bar: Any) -> None:
        (job, reps), fut = in_flight.pop(i)
        outcomes = _collect(fut, job, reps, capture_errors, extra_kpis)
        if on_outcomes is not None:
            on_outcomes(outcomes)
        results.extend(outcomes)
        bar.update(len(reps))

    with progress_bar(total, desc, progress) as bar:
        try:
            for i, (job, reps) in enumerate(chunks):
                while len(in_flight) >= window:
                    finish(done.get(), bar)
                fut = ex.submit(
                    run_chunk,
                    job.scenario,
                    seed,
                    job.key,
                    reps,
                    keep_records,
                    extra_kpis,
                    capture_errors,
                    job.parameter_uncertainty,
                    job.hold,
                    job.until_h,
                )
                in_flight[i] = ((job, reps), fut)
                fut.add_done_callback(lambda _f, i=i: done.put(i))
                while not done.empty():
                    finish(done.get(), bar)
            while in_flight:
                finish(done.get(), bar)
        except BaseException:
            for _, fut in in_flight.values():
                fut.cancel()
            raise
    results.sort(key=lambda o: (o.key, o.replication))
    return results


def _collect(
    fut: Any,
    job: Job,
    reps: Sequence[int],
    capture_errors: bool,
    extra_kpis: ExtraKpis | None,
) -> list[Outcome]:
    try:
        return list(fut.result())
    except BrokenProcessPool as exc:
        if extra_kpis is not None:
            raise UsageError(
                f"a worker process died, most likely while unpacking extra_kpis: "
                f"{pickling_hint(extra_kpis)} (if it is importable, a worker may have run out of "
                "memory)"
            ) from exc
        raise
    except Exception as exc:
        if is_pickling_failure(exc):
            raise UsageError(
                f"cannot run in worker processes: {exc}; {pickling_hint(extra_kpis)}"
            ) from exc
        if not capture_errors:
            raise
        msg = f"{type(exc).__name__}: {exc}"
        return [Outcome(job.key, r, None, None, msg) for r in reps]
