"""Executors: results never depend on where, in what chunks, or in what order runs complete.

Replication r of a scenario depends only on (scenario, seed, r), so a serial run, a process pool,
a Dask cluster, any chunk size and any completion order must give identical numbers: every
comparison here is exact.
"""

from __future__ import annotations

import concurrent.futures as cf
import random
import threading
import time

import pandas as pd
import pytest

import funnelsim as fs
from funnelsim.experiment.executors import SerialExecutor, open_executor

GRID = {"sales.reps": [2, 4], "sales.handling_minutes": [10, 25]}
REPS = 3
SEED = 21


@pytest.fixture(scope="module")
def base(minimal_dict_factory):
    return fs.from_dict(minimal_dict_factory(), source="minimal")


@pytest.fixture(scope="module")
def serial(base):
    return fs.sweep(base, GRID, REPS, SEED, progress=False)


def test_serial_executor_returns_finished_futures():
    fut = SerialExecutor().submit(divmod, 7, 2)
    assert fut.done() and fut.result() == (3, 1)
    failed = SerialExecutor().submit(divmod, 1, 0)
    assert isinstance(failed.exception(), ZeroDivisionError)


def test_process_pool_gives_identical_results(base, serial):
    with cf.ProcessPoolExecutor(2) as pool:
        pooled = fs.sweep(base, GRID, REPS, SEED, executor=pool, progress=False)
    pd.testing.assert_frame_equal(pooled.kpis, serial.kpis, check_exact=True)


@pytest.mark.parametrize("chunk_size", [1, 2, 5])
def test_chunk_size_does_not_change_results(base, serial, chunk_size):
    got = fs.sweep(base, GRID, REPS, SEED, chunk_size=chunk_size, progress=False)
    pd.testing.assert_frame_equal(got.kpis, serial.kpis, check_exact=True)


class ShufflingExecutor:
    """A thread pool that delays each task at random, so tasks finish out of submission order;
    records the order in which they finish."""

    def __init__(self) -> None:
        self._pool = cf.ThreadPoolExecutor(4)
        self._rng = random.Random(3)
        self._lock = threading.Lock()
        self.finished: list[int] = []
        self._n = 0

    def submit(self, fn, /, *args):
        i, delay = self._n, self._rng.uniform(0, 0.03)
        self._n += 1

        def task():
            time.sleep(delay)
            out = fn(*args)
            with self._lock:
                self.finished.append(i)
            return out

        return self._pool.submit(task)

    def shutdown(self) -> None:
        self._pool.shutdown()


def test_order_of_completion_does_not_change_results(base, serial):
    ex = ShufflingExecutor()
    try:
        got = fs.sweep(base, GRID, REPS, SEED, executor=ex, chunk_size=1, progress=False)
    finally:
        ex.shutdown()
    assert ex.finished != sorted(ex.finished), "the test double should finish out of order"
    pd.testing.assert_frame_equal(got.kpis, serial.kpis, check_exact=True)


def test_run_and_compare_take_an_executor(base):
    other = fs.override(base, {"sales.reps": 2})
    plain_run = fs.run(base, REPS, SEED, keep_records=False, progress=False)
    plain_cmp = fs.compare(other, base, REPS, SEED, progress=False)
    with cf.ProcessPoolExecutor(2) as pool:
        pooled_run = fs.run(base, REPS, SEED, keep_records=False, executor=pool, progress=False)
        pooled_cmp = fs.compare(other, base, REPS, SEED, executor=pool, progress=False)
    pd.testing.assert_frame_equal(pooled_run.kpis, plain_run.kpis, check_exact=True)
    pd.testing.assert_frame_equal(pooled_cmp.table(), plain_cmp.table(), check_exact=True)


def test_records_come_back_from_workers(base):
    with cf.ProcessPoolExecutor(2) as pool:
        pooled = fs.run(base, 2, SEED, keep_records=True, executor=pool, progress=False)
    here = fs.run(base, 2, SEED, keep_records=True, progress=False)
    pd.testing.assert_frame_equal(pooled.ledger(1), here.ledger(1))


def test_dask_local_cluster_gives_identical_results(
    base, serial, cli, write_scenario, minimal_dict_factory, tmp_path
):
    """A Dask client (API) and ``--executor dask:ADDRESS`` (CLI) match the serial sweep."""
    distributed = pytest.importorskip(
        "distributed", reason="the dask extra (dask.distributed) is not installed"
    )
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        got = fs.sweep(base, GRID, REPS, SEED, executor=client, progress=False)
        pd.testing.assert_frame_equal(got.kpis, serial.kpis, check_exact=True)
        path = write_scenario(minimal_dict_factory())
        res = cli(
            "sweep",
            path,
            "--grid",
            "sales.reps=2,4",
            "--grid",
            "sales.handling_minutes=10,25",
            "--replications",
            REPS,
            "--seed",
            SEED,
            "--executor",
            f"dask:{cluster.scheduler_address}",
            "--out",
            tmp_path / "d",
            "--quiet",
        )
        assert res.exit_code == 0, res.stderr
    from_cli = pd.read_csv(tmp_path / "d" / "results.csv")
    pd.testing.assert_frame_equal(from_cli, serial.kpis, check_dtype=False)


def test_unpicklable_function_for_a_process_pool_says_how_to_fix_it(base):
    with (
        cf.ProcessPoolExecutor(1) as pool,
        pytest.raises(fs.UsageError, match="importable from a module") as info,
    ):
        fs.run(base, 2, executor=pool, extra_kpis=lambda rec: {"x": 1.0}, progress=False)
    assert "run serially" in str(info.value)


def test_a_user_function_runs_in_workers_when_importable(base):
    with cf.ProcessPoolExecutor(2) as pool:
        got = fs.run(
            base, 2, SEED, executor=pool, extra_kpis=_count, keep_records=False, progress=False
        )
    assert got.kpis["mql_count"].tolist() == got.kpis["mqls"].astype(float).tolist()


def _count(record):
    return {"mql_count": float(record.mql_id.size)}


@pytest.mark.parametrize(
    "spec, workers, message",
    [
        ("ray", None, "--executor must be one of"),
        ("serial", 0, "--workers must be at least 1"),
        ("dask:tcp://127.0.0.1:1", 2, "cannot be used with an existing scheduler"),
        ("dask:notanaddress", None, r"dask:tcp://HOST:PORT or dask:HOST:PORT"),
        ("dask:tcp://host:notaport", None, r"not a scheduler address; use dask:tcp://HOST"),
        ("dask:host:70000", None, "PORT from 1 to 65535"),
        ("dask::8786", None, "not a scheduler address"),
        ("dask:", None, "needs a scheduler address.*plain --executor dask"),
        ("dask: ", 2, "needs a scheduler address"),
        ("serial", 2, "--workers 2 contradicts it: drop --executor serial"),
        ("serial:x", None, "--executor must be one of"),
        ("process:x", None, "--executor must be one of"),
        ("dask:nosuch://x", None, "not a scheduler address.*dask:tcp://HOST:PORT"),
    ],
)
def test_bad_executor_specs_are_usage_errors(spec, workers, message):
    """Each refused before any cluster starts or connection is tried (a bad Dask address used
    to escape as Dask's own ValueError, exit 1; "dask:" quietly started a local cluster; an
    explicit serial with --workers quietly used a pool)."""
    with pytest.raises(fs.UsageError, match=message), open_executor(spec, workers):
        pass


def test_an_address_dask_itself_refuses_is_a_usage_error(monkeypatch):
    """Dask's parser is the last word: its ValueError or TypeError becomes a UsageError that says
    which forms are allowed."""
    import distributed

    def refuse(address, timeout=None):
        raise ValueError(f"invalid address {address!r}")

    monkeypatch.setattr(distributed, "Client", refuse)
    with (
        pytest.raises(fs.UsageError, match="invalid address.*dask:tcp://HOST:PORT"),
        open_executor("dask:tcp://10.0.0.5:8786"),
    ):
        pass


def test_open_executor_kinds():
    with open_executor() as ex:
        assert isinstance(ex, SerialExecutor)
    with open_executor(None, 1) as ex:
        assert isinstance(ex, SerialExecutor)
    with open_executor(None, 2) as ex:
        assert isinstance(ex, cf.ProcessPoolExecutor)
    with open_executor("serial", 1) as ex:
        assert isinstance(ex, SerialExecutor)


def test_a_non_executor_is_refused(base):
    with pytest.raises(fs.UsageError, match="submit"):
        fs.run(base, 2, executor=object(), progress=False)


def test_notebook_function_for_a_spawned_pool_says_how_to_fix_it(base, monkeypatch):
    """A function defined in a notebook lives in an interactive __main__ (no file): it pickles
    by name, but spawn- or forkserver-started workers cannot import it, so we refuse up front."""
    import multiprocessing
    import sys
    import types

    notebook = types.ModuleType("__main__")  # like a Jupyter kernel's: no __file__

    def measure(record):
        return {"x": 1.0}

    measure.__module__, measure.__qualname__ = "__main__", "measure"
    notebook.measure = measure
    monkeypatch.setitem(sys.modules, "__main__", notebook)
    spawn = multiprocessing.get_context("spawn")
    with (
        cf.ProcessPoolExecutor(1, mp_context=spawn) as pool,
        pytest.raises(fs.UsageError, match="spawn-started worker processes") as info,
    ):
        fs.run(base, 2, executor=pool, extra_kpis=measure, progress=False)
    assert "top level of a .py file" in str(info.value)
