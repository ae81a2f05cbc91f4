"""Where runs execute: in this process, in a process pool, or on a Dask cluster.

Any object with ``submit(fn, *args)`` returning a future that has ``result()`` and
``add_done_callback(cb)`` will do (the `concurrent.futures` protocol, which Dask's
``client.get_executor()`` and ``mpi4py.futures`` also speak). The caller owns the executor's
lifetime; `open_executor` is a context manager for the usual ones. Results never depend on the
executor: replication r of a scenario depends only on (scenario, seed, r).
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import pickle
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from ..errors import UsageError
from ..lifeline import children_tied, tie_to
from .limits import max_workers


class FutureLike(Protocol):
    def result(self, timeout: float | None = None) -> Any: ...

    def add_done_callback(self, fn: Callable[[Any], object]) -> None: ...


class ExecutorLike(Protocol):
    def submit(self, fn: Callable[..., Any], /, *args: Any) -> FutureLike: ...


class SerialExecutor:
    """Runs each task at once in this process and returns a finished future.

    The default everywhere, and the right choice in notebooks: nothing needs to be pickled.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to release; present so it can stand in for any executor."""

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


EXECUTOR_CHOICES = "serial, process, dask or dask:ADDRESS (e.g. dask:tcp://10.0.0.5:8786)"
DASK_ADDRESS_FORMS = "dask:tcp://HOST:PORT or dask:HOST:PORT (e.g. dask:tcp://10.0.0.5:8786)"
# After tcp:// or tls:// (or no scheme): a host name, IPv4 or bracketed IPv6 address, then :PORT.
_HOST_PORT = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]@]+):(\d{1,5})")


@contextmanager
def open_executor(spec: str | None = None, workers: int | None = None) -> Iterator[ExecutorLike]:
    """An executor for ``spec``, shut down when the block ends.

    - ``None``: in this process; with ``workers`` > 1, a process pool instead.
    - ``"serial"``: in this process (``workers`` > 1 contradicts it and is refused).
    - ``"process"``: a `ProcessPoolExecutor` with ``workers`` processes (default: all cores).
    - ``"dask"``: a ``dask.distributed`` client on a new local cluster (``workers`` processes).
    - ``"dask:ADDRESS"``: a client of the running scheduler at ADDRESS.

    Yields an object with ``submit``; pass it as ``executor=`` to `run`, `compare`, `sweep` or
    `attribute`. The Dask ones need the ``dask`` extra: ``pip install 'funnelsim[dask]'``.
    """
    if workers is not None and not 1 <= workers <= max_workers():
        raise UsageError(
            f"--workers must be at least 1 and at most {max_workers()} (four per CPU core) "
            f"(given: {workers})"
        )
    kind, colon, address = (spec or "").strip().partition(":")
    kind, address = kind.lower(), address.strip()
    if spec is None and workers is not None and workers > 1:
        with _process_pool(workers) as pool:
            yield pool
    elif spec is None or (kind == "serial" and not colon):
        if workers is not None and workers > 1:
            raise UsageError(
                f"--executor serial runs everything in this process, so --workers {workers} "
                "contradicts it: drop --executor serial (or use --executor process) to run "
                f"in {workers} worker processes, or drop --workers to run serially"
            )
        yield SerialExecutor()
    elif kind == "process" and not colon:
        with _process_pool(workers) as pool:
            yield pool
    elif kind == "dask" and not colon:
        with _dask_client(None, workers) as client:
            yield client.get_executor(pure=False)
    elif kind == "dask":
        _check_dask_address(address)
        with _dask_client(address, workers) as client:
            yield client.get_executor(pure=False)
    else:
        raise UsageError(f"--executor must be one of {EXECUTOR_CHOICES} (given: {spec!r})")


@contextmanager
def _process_pool(workers: int | None) -> Iterator[cf.ProcessPoolExecutor]:
    """A process pool whose workers die with this process, even on SIGKILL (`lifeline`)."""
    pool = cf.ProcessPoolExecutor(workers, initializer=tie_to, initargs=(os.getpid(),))
    with pool:
        # Start every worker now, from this thread (the one the block runs in): a worker's
        # parent-death signal is tied to the thread that started it.
        pool.submit(os.getpid)
        yield pool


def _check_dask_address(address: str) -> None:
    """Refuse a scheduler address Dask could not parse, before trying to connect."""
    if not address:
        raise UsageError(
            "--executor dask: needs a scheduler address after the colon, "
            f"{DASK_ADDRESS_FORMS}; use plain --executor dask for a local cluster"
        )
    scheme, sep, rest = address.partition("://")
    if sep and scheme.lower() not in ("tcp", "tls"):
        return  # inproc://, ucx://, ...: Dask's own parser judges those
    match = _HOST_PORT.fullmatch(rest if sep else address)
    if match is None or not 1 <= int(match.group(1)) <= 65535:
        raise UsageError(
            f"--executor dask:{address}: not a scheduler address; use {DASK_ADDRESS_FORMS}, "
            "with PORT from 1 to 65535"
        )


@contextmanager
def _dask_client(address: str | None, workers: int | None):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError(
            "--executor dask needs dask.distributed, which is not installed; "
            "install the extra with: pip install 'funnelsim[dask]'"
        ) from None
    if address is not None:
        if workers is not None:
            raise UsageError(
                "--workers sizes a local cluster; it cannot be used with an existing scheduler "
                f"(--executor dask:{address})"
            )
        try:
            client = Client(address, timeout=30)
        except OSError as exc:
            raise UsageError(
                f"--executor dask:{address}: cannot reach a Dask scheduler there ({exc})"
            ) from None
        except (ValueError, TypeError) as exc:
            # Dask's own parser is the last word on addresses our pattern let through.
            raise UsageError(
                f"--executor dask:{address}: not a scheduler address ({exc}); use "
                f"{DASK_ADDRESS_FORMS}"
            ) from None
        with client:
            yield client
        return
    # One thread per worker process: a replication holds the GIL all the way through. Each
    # worker process is tied to this one, so that it dies with it (`funnelsim.lifeline`); the
    # variable stays set while the cluster lives, for workers it restarts.
    with children_tied():
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            dashboard_address=None,
            preload=["funnelsim.lifeline"],
        )
        with cluster, Client(cluster) as client:
            yield client


def as_executor(executor: Any) -> ExecutorLike:
    """The executor to submit to: serial for None, a Dask client's executor for a client."""
    if executor is None:
        return SerialExecutor()
    if type(executor).__module__.startswith("distributed") and hasattr(executor, "get_executor"):
        return executor.get_executor(pure=False)
    if not callable(getattr(executor, "submit", None)):
        raise UsageError(
            f"executor must have a submit(fn, *args) method like concurrent.futures executors "
            f"(given: {type(executor).__name__})"
        )
    return executor


def worker_count(executor: Any) -> int:
    """How many tasks the executor runs at once (a best guess for foreign executors)."""
    if isinstance(executor, SerialExecutor):
        return 1
    n = getattr(executor, "_max_workers", None)
    if isinstance(n, int) and n > 0:
        return n
    client = getattr(executor, "_client", None)
    if client is not None and hasattr(client, "nthreads"):
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:  # noqa: BLE001 - only a sizing hint
            pass
    return os.cpu_count() or 1


def pickling_hint(fn: Callable[..., Any] | None) -> str:
    name = getattr(fn, "__qualname__", None) or "your function"
    return (
        f"functions sent to a process pool must be importable from a module, and {name} is not "
        "(a lambda, a nested function, or one defined in a notebook cell): move it to the top "
        "level of a .py file and import it from there, or run serially (executor=None, no "
        "--workers)"
    )


def check_picklable(executor: Any, fn: Callable[..., Any] | None) -> None:
    """Fail early, with a fix, when a process pool could not ship the user's function ``fn``."""
    if fn is None or not isinstance(executor, cf.ProcessPoolExecutor):
        return
    try:
        pickle.dumps(fn)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise UsageError(f"cannot send {fn!r} to worker processes: {pickling_hint(fn)}") from exc
    # A function from an interactive __main__ pickles by name, but a worker started by spawn or
    # forkserver (the default from Python 3.14) imports a fresh __main__ that lacks it.
    ctx = getattr(executor, "_mp_context", None)
    method = ctx.get_start_method() if ctx is not None else "fork"
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if getattr(fn, "__module__", None) == "__main__" and main_file is None and method != "fork":
        raise UsageError(
            f"cannot send {fn.__qualname__} to {method}-started worker processes: "
            f"{pickling_hint(fn)}"
        )


def is_pickling_failure(exc: BaseException) -> bool:
    """True for errors that mean a task could not be shipped to or unpacked in a worker."""
    if isinstance(exc, pickle.PicklingError):
        return True
    text = str(exc)
    return isinstance(exc, AttributeError | TypeError) and (
        "pickle" in text or "Can't get attribute" in text
    )
