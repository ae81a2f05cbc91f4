"""The core commands from the outside: validate, run, compare.

Bad input must end with exit status 2 and one clear message on stderr naming the file (or the
option), the dotted key and what is allowed, never a traceback (contract section 2). Most cases
run in-process through Typer's CliRunner; two run the real console script.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ALIGNED = REPO / "scenarios" / "aligned.toml"
SILOED = REPO / "scenarios" / "siloed.toml"
PRESETS = sorted((REPO / "scenarios").glob("*.toml"))
# Short runs: 6 weeks, 1-week warm-up.
SHORT = ["--set", "run.horizon_days=42", "--set", "run.warmup_days=7", "-q"]
REQUIRED_KPIS = [
    "prospects",
    "mqls",
    "mqls_accepted",
    "mqls_worked",
    "never_worked",
    "sqls",
    "opportunities",
    "customers",
    "revenue",
    "mql_to_sql_rate",
    "lead_to_customer_rate",
    "first_touch_hours_mean",
    "first_touch_hours_p50",
    "first_touch_hours_p90",
    "sla_attainment",
    "sla_breaches",
    "rep_utilization",
]


def _edit(data: dict, dotted: str, value) -> dict:
    *path, last = dotted.split(".")
    node = data
    for part in path:
        node = node.setdefault(part, {})
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return data


_DELETE = object()

# (id, dotted key to break in the minimal scenario, bad value, command, text that must appear)
FILE_CASES = [
    ("unknown-key", "sales.repz", 3, "validate", ["sales.repz", "did you mean sales.reps"]),
    ("wrong-type", "sales.reps", "many", "validate", ["sales.reps", "valid integer", '"many"']),
    (
        "rate-out-of-range",
        "handoff.acceptance_rate",
        1.5,
        "run",
        ["handoff.acceptance_rate", "less than or equal to 1", "1.5"],
    ),
    ("reps-zero", "sales.reps", 0, "run", ["sales.reps", "greater than or equal to 1"]),
    (
        "bad-dist-name",
        "sales.handling_minutes",
        {"dist": "weibull", "mean": 3},
        "validate",
        ["sales.handling_minutes", "dist must be one of", "exponential", "lognormal"],
    ),
    (
        "lognormal-mean-without-cv",
        "sales.handling_minutes",
        {"dist": "lognormal", "mean": 10},
        "run",
        ["sales.handling_minutes", "median+sigma or mean+cv"],
    ),
    ("negative-constant", "deals.deal_size", -5, "validate", ["deals.deal_size", ">= 0"]),
    (
        "no-workdays",
        "sales.workdays",
        [],
        "validate",
        ["sales.workdays", "no working days"],
    ),
    (
        "work-hours-reversed",
        "sales.work_hours",
        [17, 9],
        "validate",
        ["sales.work_hours", "0 <= start < end <= 24"],
    ),
    (
        "warmup-past-horizon",
        "run.warmup_days",
        28,
        "run",
        ["run", "warmup_days (28) must be less than horizon_days (28)"],
    ),
    (
        "cadence-not-from-zero",
        "sales.cadence_hours",
        [1, 24],
        "validate",
        ["sales.cadence_hours", "must start at 0"],
    ),
    ("bad-queue", "sales.queue", "random", "run", ["sales.queue", "'fifo', 'lifo' or 'priority'"]),
    ("missing-required", "sales.reps", _DELETE, "run", ["sales.reps", "is required but missing"]),
    ("bad-profile", "arrivals.weekday_profile", [1, 2], "validate", ["weekday_profile", "7"]),
]


def _assert_usage_error(result, *fragments: str) -> None:
    everything = (result.stdout or "") + (result.stderr or "")
    assert result.exit_code == 2, everything
    assert "Traceback" not in everything
    assert result.stderr.startswith("error: "), result.stderr
    for text in fragments:
        assert text in result.stderr, f"{text!r} not in {result.stderr!r}"


@pytest.mark.parametrize(
    ("key", "value", "command", "fragments"),
    [c[1:] for c in FILE_CASES],
    ids=[c[0] for c in FILE_CASES],
)
def test_bad_scenario_file(
    cli, write_scenario, minimal_scenario_dict, key, value, command, fragments
):
    path = write_scenario(_edit(minimal_scenario_dict, key, value), "team.toml")
    result = cli(command, path)
    _assert_usage_error(result, str(path), *fragments)


@pytest.mark.parametrize(
    ("sets", "fragments"),
    [
        (["sales.reps=abc"], ["--set", "sales.reps", "valid integer", '"abc"']),
        (["sales.repz=3"], ["--set", "sales.repz", "did you mean sales.reps"]),
        (["sales.reps"], ["--set", "sales.reps", "KEY=VALUE"]),
        (["sales.reps.count=3"], ["sales.reps.count", "is a value, not a section"]),
        (["sales.contact_rate=-0.1"], ["sales.contact_rate", "greater than or equal to 0"]),
    ],
    ids=["bad-value", "unknown-key", "no-equals", "value-as-section", "negative-rate"],
)
def test_bad_set(cli, sets, fragments):
    args = [x for s in sets for x in ("--set", s)]
    result = cli("run", ALIGNED, *args, "-q")
    _assert_usage_error(result, *fragments)
    if "KEY=VALUE" not in fragments:
        assert str(ALIGNED) in result.stderr  # names the file the --set applies to


def test_missing_file(cli, tmp_path):
    path = tmp_path / "nowhere.toml"
    _assert_usage_error(cli("run", path), str(path), "file not found")


def test_invalid_toml(cli, write_scenario):
    path = write_scenario('name = "x"\n[run\nhorizon_days = 3\n', "broken.toml")
    _assert_usage_error(cli("validate", path), str(path), "not valid TOML")


def test_zero_replications(cli):
    _assert_usage_error(cli("run", ALIGNED, "--replications", "0", "-q"), "replications", "from 1")
    _assert_usage_error(
        cli("compare", SILOED, ALIGNED, "--replications", "0", "-q"), "replications", "from 1"
    )


def test_replications_beyond_the_limit(cli):
    """10^20 replications used to overflow (and hang quota and staffing); beyond 10,000 is
    refused before anything runs."""
    for command in (
        ("run", ALIGNED),
        ("staffing", ALIGNED),
        ("quota", ALIGNED, "--target-revenue", "1e6"),
    ):
        for n in ("10001", str(10**20)):
            res = cli(*command, "--replications", n, "-q")
            assert res.exit_code == 2, res.stderr
            assert "--replications" in res.stderr and "10,000" in res.stderr
            assert "Traceback" not in res.stderr and res.stdout == ""


def test_negative_seed(cli):
    """--seed -1 is bad input (seeds are >= 0, as run.seed is), not an unexpected error.

    Regression: it once reached numpy's SeedSequence, whose ValueError was then masked as an
    AttributeError by the engine's error handling, and the command exited 1."""
    _assert_usage_error(cli("run", ALIGNED, "--seed", "-1", *SHORT), "seed")


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_validate_presets(cli, path):
    result = cli("validate", path)
    assert result.exit_code == 0, result.stderr
    assert "ok" in result.stdout
    assert result.stderr == ""


def test_run_json_matches_contract(cli):
    result = cli("run", ALIGNED, *SHORT, "--replications", "3", "--seed", "4", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)  # stdout is one JSON document and nothing else
    assert doc["scenario"] == "aligned"
    assert doc["seed"] == 4 and doc["replications"] == 3 and doc["horizon_days"] == 42
    assert set(REQUIRED_KPIS) <= set(doc["kpis"])
    for name in REQUIRED_KPIS:
        kpi = doc["kpis"][name]
        assert len(kpi["values"]) == 3, name
        assert len(kpi["ci95"]) == 2, name
        finite = [v for v in kpi["values"] if v is not None]
        if finite:
            assert kpi["mean"] == pytest.approx(sum(finite) / len(finite)), name
            lo, hi = kpi["ci95"]
            assert lo <= kpi["mean"] <= hi, name


def test_run_json_same_numbers_as_api(cli):
    """The CLI is a thin layer over the public API: same seed, same numbers."""
    import funnelsim as fs

    result = cli("run", ALIGNED, *SHORT, "--replications", "2", "--seed", "4", "--json")
    doc = json.loads(result.stdout)
    s = fs.load(ALIGNED, {"run.horizon_days": 42, "run.warmup_days": 7})
    k = fs.run(s, 2, 4, keep_records=False, progress=False).kpis
    assert doc["kpis"]["revenue"]["values"] == k["revenue"].tolist()
    assert doc["kpis"]["sqls"]["values"] == k["sqls"].tolist()


def test_run_text_output(cli):
    result = cli("run", ALIGNED, *SHORT, "--replications", "2")
    assert result.exit_code == 0, result.stderr
    assert "aligned" in result.stdout and "revenue" in result.stdout
    assert "sla_attainment" in result.stdout


def test_overloaded_queue_warns_on_stderr(cli):
    """One rep for ~110 MQLs a week: a sense-check warning on stderr, the JSON still clean."""
    result = cli("run", ALIGNED, *SHORT, "--set", "sales.reps=1", "--replications", "1", "--json")
    assert result.exit_code == 0, result.stderr
    assert "warning:" in result.stderr and "sales.reps" in result.stderr
    assert "grows without bound" in result.stderr
    assert "warning" not in result.stdout
    json.loads(result.stdout)


def test_sense_check_warning_goes_to_stderr(cli):
    result = cli("validate", ALIGNED, "--set", "sales.reps=1")
    assert result.exit_code == 0, result.stderr
    assert "ok" in result.stdout and "warning" not in result.stdout
    assert "warning:" in result.stderr and "sales.reps" in result.stderr
    assert "grows without bound" in result.stderr
    assert str(ALIGNED) in result.stderr


def test_compare_json(cli):
    """compare --json: diff is alternative - baseline and relative is diff / baseline (a pandas
    row's ``.diff`` is a method, not the column: this once made compare --json exit 1)."""
    result = cli("compare", SILOED, ALIGNED, *SHORT, "--replications", "3", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["baseline"] == "siloed" and doc["alternative"] == "aligned"
    assert doc["replications"] == 3
    rev = doc["kpis"]["revenue"]
    assert {"baseline", "alternative", "diff", "ci95", "relative"} <= set(rev)
    assert rev["diff"] == pytest.approx(rev["alternative"] - rev["baseline"])
    assert rev["relative"] == pytest.approx(rev["diff"] / rev["baseline"])


def _console_script() -> list[str]:
    exe = Path(sys.executable).with_name("funnelsim")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("funnelsim")
    return [found] if found else [sys.executable, "-m", "funnelsim.cli"]


def test_console_script_bad_input(write_scenario, minimal_scenario_dict):
    """The installed `funnelsim` script: exit 2, message on stderr, nothing on stdout."""
    path = write_scenario(_edit(minimal_scenario_dict, "sales.repz", 3), "team.toml")
    proc = subprocess.run(
        [*_console_script(), "run", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert str(path) in proc.stderr and "did you mean sales.reps" in proc.stderr


def test_console_script_run_json():
    proc = subprocess.run(
        [*_console_script(), "run", str(ALIGNED), *SHORT, "--replications", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["kpis"]["revenue"]["values"]) == 2


def test_run_json_undefined_kpis_are_null(cli):
    """No opportunity ever happens: win_rate is undefined and comes out as null (valid JSON,
    no NaN); one replication has no confidence interval."""
    result = cli(
        "run", ALIGNED, *SHORT, "--set", "deals.opportunity_rate=0", "--replications", "1", "--json"
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    win = doc["kpis"]["win_rate"]
    assert {k: win[k] for k in ("mean", "ci95", "values")} == {
        "mean": None,
        "ci95": [None, None],
        "values": [None],
    }
    assert win["null_reason"].startswith("undefined in every replication")
    assert doc["kpis"]["customers"]["values"] == [0]
    assert doc["kpis"]["revenue"]["ci95"] == [None, None]
    assert "2 or more replications" in doc["kpis"]["revenue"]["null_reason"]


def test_run_out_writes_files(cli, tmp_path):
    out = tmp_path / "run"
    result = cli("run", ALIGNED, *SHORT, "--replications", "2", "--out", out)
    assert result.exit_code == 0, result.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written, "nothing written"
    assert "wrote" in result.stderr and str(out) in result.stderr


@pytest.mark.parametrize(
    ("sets", "fragments"),
    [
        (["run.horizon_days=inf"], ["run.horizon_days", "finite number"]),
        (
            ["sales.cadence_hours=[0, nan]", "sales.attempts=2"],
            ["sales.cadence_hours[1]", "finite"],
        ),
        (["sales.focus_block_minutes=inf"], ["sales.focus_block_minutes", "finite"]),
        (["sales.reps=true"], ["sales.reps", "valid integer", "(given: true)"]),
        (["sales.reps=7.5"], ["sales.reps", "valid integer"]),
        (["nurture.recycle=yes"], ["nurture.recycle", "valid boolean"]),
        (["sales.availability=true"], ["sales.availability", "not true/false"]),
        (["arrivals.prospects_per_week=5e6"], ["arrivals.prospects_per_week", "10,000,000"]),
        (["sales.new_hires=99"], ["new_hires (99) cannot exceed reps"]),
    ],
    ids=[
        "inf",
        "nan-in-list",
        "inf-block",
        "bool-int",
        "float-int",
        "yes-bool",
        "bool-float",
        "too-many-prospects",
        "cross-field",
    ],
)
def test_values_that_once_crashed_hung_or_slipped_through(cli, sets, fragments):
    """Found in review: infinities and NaN crashed or hung the run, true/false and "yes" passed
    as numbers and booleans, and a huge volume ran until the machine killed it."""
    args = [x for s in sets for x in ("--set", s)]
    result = cli("validate", ALIGNED, *args)
    _assert_usage_error(result, *fragments)
    assert "given: {" not in result.stderr  # a cross-field check never dumps its whole section


def test_a_binary_file_or_a_folder_is_not_a_scenario(cli, tmp_path):
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    _assert_usage_error(cli("validate", binary), str(binary), "not UTF-8")
    _assert_usage_error(cli("validate", tmp_path), "folder")


def test_run_out_that_cannot_be_a_folder_fails_before_simulating(cli, tmp_path):
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    _assert_usage_error(cli("run", ALIGNED, *SHORT, "--out", a_file), "--out", "is a file")
