"""Fuzz the command line as a hostile user would: mutated scenario files and bad options.

Hypothesis builds scenario files from a small valid one by setting keys (known, misspelt and
invented) to values of every kind (huge and tiny numbers, NaN, infinities, huge integers, text,
dates, nested arrays, tables, distribution tables with odd names and parameters), deleting
required keys and corrupting the TOML text; and command lines from every command's options with
valid and invalid values. Whatever comes in, the contract holds:

- the exit status is 0 or 2 (a sweep whose points fail exits 1, listing them);
- no traceback and no "unexpected error", and nothing runs longer than `CASE_SECONDS`;
- on success with ``--json``, stdout is exactly one strict JSON document (no NaN);
- on failure, stdout is empty, and a refused scenario is named with the key at fault.

Derandomized and database-free, so CI sees the same cases on every run; most run in-process
(fast), a few as real subprocesses (where a traceback would really be printed).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import funnelsim as fs
from funnelsim.cli import app
from funnelsim.scenario.checks import estimate_work

CASE_SECONDS = 30
SETTINGS = dict(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class Hang(BaseException):
    """A case ran past CASE_SECONDS (a BaseException, so the CLI's error handler cannot eat it)."""


def _alarm(signum, frame):
    raise Hang(f"no answer within {CASE_SECONDS} s")


def base_dict() -> dict[str, Any]:
    """A valid scenario that runs in milliseconds."""
    return {
        "name": "fuzz",
        "run": {"horizon_days": 7, "replications": 2, "seed": 3},
        "arrivals": {"prospects_per_week": 60},
        "sales": {"reps": 2, "handling_minutes": 10, "attempts": 2},
        "deals": {"deal_size": 1000, "sales_cycle_days": 5},
    }


# ------------------------------------------------------------------------------- TOML writing


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def to_toml(data: dict[str, Any]) -> str:
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in data.items() if not _table(v)]
    for section, body in data.items():
        if _table(body):
            lines.append(f"\n[{json.dumps(section)}]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


def _table(v: Any) -> bool:
    return isinstance(v, dict)


# -------------------------------------------------------------------------------- strategies

NUMBERS = st.one_of(
    st.integers(-3, 12),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, 2**31, 2**63, 2**64, 10**30, 10**300]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 1e-308, 5e-324, 1e-6, 0.5, 1e6, 1e200, -0.0]),
)
SCALARS = st.one_of(
    NUMBERS, st.booleans(), st.text(max_size=10), st.dates(), st.sampled_from(["fifo", "24/7"])
)
DIST_NAMES = st.one_of(
    st.sampled_from(["constant", "exponential", "lognormal", "gamma", "uniform", "weibull"]),
    st.integers(),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
PARAMS = ("mean", "cv", "median", "sigma", "low", "high", "value", "shape")
DISTRIBUTIONS = st.builds(
    lambda name, params: {"dist": name, **params},
    DIST_NAMES,
    st.dictionaries(st.sampled_from(PARAMS), NUMBERS, max_size=3),
)
VALUES = st.recursive(
    st.one_of(SCALARS, DISTRIBUTIONS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
# Values a knob could well take, so that many mutated scenarios still run (and their JSON is
# checked), not only the ones refused.
PLAUSIBLE = st.one_of(
    st.integers(0, 8),
    st.floats(0.0, 1.0),
    st.sampled_from(
        [0.5, 2.0, 24.0, 90.0, True, False, "business", "priority", "lifo", "recurring",
         {"dist": "exponential", "mean": 3}, {"dist": "lognormal", "median": 5, "sigma": 1},
         {"dist": "gamma", "mean": 4, "cv": 0.5}, {"dist": "uniform", "low": 1, "high": 3}]
    ),
)  # fmt: skip
DEEP = st.integers(1, 3000).map(lambda n: "[" * n + "1" + "]" * n)
KEYS = st.sampled_from(
    [*fs.all_keys(), "sales.repz", "run.seeds", "nosuch.key", "extra", "run", "sales"]
)
CHANNEL = st.fixed_dictionaries(
    {"name": st.one_of(st.text(max_size=5), NUMBERS), "share": NUMBERS},
    optional={"mql_rate": NUMBERS, "time_to_mql_days": st.one_of(NUMBERS, DISTRIBUTIONS)},
)
MUTATION = st.one_of(
    st.tuples(st.just("set"), KEYS, PLAUSIBLE),
    st.tuples(st.just("set"), KEYS, VALUES),
    st.tuples(st.just("set"), st.just("arrivals.channels"), st.lists(CHANNEL, max_size=3)),
    st.tuples(st.just("set"), st.just("sales.cadence_hours"), st.lists(NUMBERS, max_size=4)),
    st.tuples(st.just("delete"), KEYS, st.none()),
)


def mutate(data: dict[str, Any], mutations: list[tuple[str, str, Any]]) -> dict[str, Any]:
    for op, key, value in mutations:
        parts = key.split(".")
        node = data
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        if op == "set":
            node[parts[-1]] = value
        else:
            node.pop(parts[-1], None)
    return data


@st.composite
def scenario_texts(draw) -> tuple[str, list[str]]:
    """TOML text of a mutated scenario, and the keys the mutations touched."""
    mutations = draw(st.lists(MUTATION, min_size=0, max_size=3))
    text = to_toml(mutate(base_dict(), mutations))
    corrupt = draw(st.sampled_from(["none"] * 6 + ["truncate", "insert", "deep"]))
    if corrupt == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif corrupt == "insert":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(min_size=1, max_size=5)) + text[at:]
    elif corrupt == "deep":
        text += f"\n[extra]\nx = {draw(DEEP)}\n"
    return text, [key for _, key, _ in mutations]


# ------------------------------------------------------------------------------- the checks

STRICT = {"parse_constant": lambda c: (_ for _ in ()).throw(ValueError(f"{c} is not JSON"))}


def check(code: int, stdout: str, stderr: str, args: list[str], json_out: bool) -> None:
    where = f"\nargs: {args}\nstderr: {stderr[-2000:]}"
    assert "Traceback" not in stderr + stdout, where
    assert "unexpected error" not in stderr, where
    allowed = {0, 2} | ({1} if args[0] == "sweep" and "failed (see" in stderr else set())
    assert code in allowed, f"exit {code}{where}"
    if code == 0 and json_out:
        json.loads(stdout, **STRICT)
    if code == 2:
        assert stdout == "", f"stdout on failure: {stdout[:500]!r}{where}"
        assert stderr.strip(), where


FILE_LEVEL = ("not valid TOML", "is not UTF-8", "values nested too deeply")


def names_a_key(stderr: str, path: Path) -> bool:
    """Every line of the refusal names the file and then a dotted key (``FILE: KEY: ...``), or
    says what is wrong with the file as a whole (it is not TOML, not text)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    first = lines[0]
    prefix = f"error: {path}: "
    if not first.startswith(prefix):
        return False
    for line in lines:
        rest = line.removeprefix("error: ").removeprefix(f"{path}: ")
        if line.startswith("... and ") or rest.startswith(FILE_LEVEL):
            continue
        if not re.match(r"[^\s:]+: ", rest):
            return False
    return True


def invoke(args: list[str]) -> tuple[int, str, str]:
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    try:
        res = CliRunner().invoke(app, args, catch_exceptions=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return res.exit_code, res.stdout, res.stderr


def _cheap(path: Path) -> bool:
    """Run only scenarios of a few thousand prospects: the fuzz hunts crashes, not load."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = fs.load(path)
    except fs.ScenarioError:
        return True  # refused before anything runs
    work = estimate_work(s)
    return work.prospects * s.run.replications < 20_000 and work.attempts < 50_000


# -------------------------------------------------------------------------------- scenario files


@settings(max_examples=300, **SETTINGS)
@given(case=scenario_texts(), command=st.sampled_from(["validate", "run", "compare"]))
def test_mutated_scenario_files(tmp_path_factory, case, command):
    text, _keys = case
    path = tmp_path_factory.mktemp("fuzz") / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    if command != "validate" and not _cheap(path):
        command = "validate"
    args = {
        "validate": ["validate", str(path)],
        "run": ["run", str(path), "--json", "-q", "--replications", "2"],
        "compare": ["compare", str(path), str(path), "--json", "-q", "--replications", "2"],
    }[command]
    code, out, err = invoke(args)
    event(f"{command} exit {code}")
    check(code, out, err, args, json_out=command != "validate")
    if code == 2:
        assert names_a_key(err, path), f"the refusal names no file and key:\n{err}"


# -------------------------------------------------------------------------------- command lines

COUNTS = st.sampled_from(["1", "2", "0", "-1", "10001", str(10**20), "1e20", "abc", "", "2.5"])
SEEDS = st.sampled_from(["0", "7", "-1", str(2**63), str(2**64), "x"])
FLOATS = st.sampled_from(["0.05", "0", "-1", "nan", "inf", "1e308", "2", "x"])
SETS = st.builds(lambda k, v: f"{k}={toml_value(v)}", KEYS, VALUES) | st.sampled_from(
    ["sales.reps", "=3", "sales.reps=", "a..b=1", "sales.reps.x=1", "run=5"]
)
GRID = st.sampled_from(
    ["sales.reps=2,3", "sales.reps=0,2", "sales.reps", "sales.nope=1", "sales.reps=2,2", "=1,2",
     "sales.handling_minutes=5,1e308", "run.seed=1,2", "sales.reps=" + ",".join(["2"] * 3)]
)  # fmt: skip
LHS = st.sampled_from(
    ["sales.reps=1:3", "sales.reps=3:1", "sales.reps=1:inf", "sales.reps", "x=1:2"]
)
OPTIONS = {
    "run": {
        "--replications": COUNTS,
        "--seed": SEEDS,
        "--set": SETS,
        "--workers": st.sampled_from(["1", "0", "-3", str(10**6)]),
        "--executor": st.sampled_from(["serial", "ray", "dask:", "dask:nohost", "process:2"]),
        "--precision": FLOATS,
        "--max-replications": st.sampled_from(["3", "0", "-1", "10001", str(10**20)]),
        "--precision-kpi": st.sampled_from(["revenue", "revenu", ""]),
        "--report": st.sampled_from(["weekly", "daily", "hourly"]),
        "--chunk-size": COUNTS,
    },
    "sweep": {
        "--grid": GRID,
        "--lhs": LHS,
        "--samples": st.sampled_from(["2", "0", "-1", str(10**6), "x"]),
        "--replications": COUNTS,
        "--seed": SEEDS,
        "--chunk-size": COUNTS,
        "--set": SETS,
    },
    "quota": {
        "--target-revenue": st.sampled_from(["2e4", "0", "-5", "nan", "inf", "1e308", "x"]),
        "--confidence": FLOATS,
        "--replications": st.sampled_from(["2", "0", "-1", str(10**20)]),
        "--tolerance": FLOATS,
        "--booked-within-days": FLOATS,
        "--sla-target": FLOATS,
        "--seed": SEEDS,
    },
    "staffing": {
        "--sla-target": FLOATS,
        "--replications": st.sampled_from(["2", "0", "-1", str(10**20)]),
        "--rep-cost-per-year": FLOATS,
        "--seed": SEEDS,
    },
}
REQUIRED = {"quota": ["--target-revenue", "2e4"], "sweep": [], "run": [], "staffing": []}


@st.composite
def command_lines(draw, scenario: Path, out: Path) -> tuple[list[str], bool]:
    command = draw(st.sampled_from(list(OPTIONS)))
    opts = OPTIONS[command]
    chosen = draw(st.lists(st.sampled_from(list(opts)), max_size=4))
    args = [command, str(scenario)]
    for name in chosen:
        args += [name, draw(opts[name])]
    if command == "sweep":
        if "--grid" not in chosen and "--lhs" not in chosen and draw(st.booleans()):
            args += ["--grid", "sales.reps=2,3"]
        args += ["--out", str(out), "-q"]
        if "--replications" not in chosen:
            args += ["--replications", "2"]
    else:
        args += [*REQUIRED[command], "--json", "-q"]
        if "--replications" not in chosen:
            args += ["--replications", "2"]
    return args, command != "sweep"


@settings(max_examples=200, **SETTINGS)
@given(data=st.data())
def test_bad_command_lines(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("cli")
    scenario = folder / "scenario.toml"
    scenario.write_text(to_toml(base_dict()))
    args, json_out = data.draw(command_lines(scenario, folder / "out"))
    code, out, err = invoke(args)
    event(f"{args[0]} exit {code}")
    check(code, out, err, args, json_out)


# ------------------------------------------------------------------- files that are not files


@pytest.mark.parametrize("given", ["/dev/zero", "/dev/null", "folder", "fifo", "missing.toml"])
@pytest.mark.parametrize("option", ["scenario", "--points"])
def test_folders_devices_and_pipes_given_as_files_exit_2(given, option, tmp_path):
    import os

    target = tmp_path / given if not given.startswith("/") else Path(given)
    if given == "folder":
        target.mkdir()
    if given == "fifo":
        os.mkfifo(target)
    scenario = tmp_path / "s.toml"
    scenario.write_text(to_toml(base_dict()))
    if option == "scenario":
        args = ["validate", str(target)]
    else:
        args = ["sweep", str(scenario), "--points", str(target), "--out", str(tmp_path / "o")]
    code, out, err = invoke(args)
    check(code, out, err, args, json_out=False)
    assert code == 2 and str(target) in err, err


# ------------------------------------------------------------------------- real subprocesses


@settings(max_examples=6, **SETTINGS)
@given(case=scenario_texts())
def test_the_real_command_prints_no_traceback(tmp_path_factory, case):
    text, _keys = case
    path = tmp_path_factory.mktemp("sub") / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    args = ["run", str(path), "--json", "-q", "--replications", "1"]
    if not _cheap(path):
        args = ["validate", str(path)]
    proc = subprocess.run(
        [sys.executable, "-m", "funnelsim.cli", *args],
        capture_output=True,
        text=True,
        timeout=CASE_SECONDS * 2,
    )
    check(proc.returncode, proc.stdout, proc.stderr, args, json_out=args[0] == "run")
    if proc.returncode == 2:
        assert names_a_key(proc.stderr, path), proc.stderr
