"""The calibrate command: fit a scenario to a CRM export, optionally backtest it on a holdout."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from .. import api
from ..errors import UsageError
from .common import app, echo_err, handled, print_frame, print_json, progress_flag
from .options import JsonOpt, QuietOpt


def _require_lifelines() -> None:
    try:
        import lifelines  # noqa: F401
    except ImportError:
        raise UsageError(
            "calibrate needs lifelines, which is not installed: pip install 'funnelsim' "
            "(or pip install lifelines)"
        ) from None


@app.command()
@handled
def calibrate(
    export: Annotated[
        Path,
        typer.Argument(
            help="The CRM export: a CSV file (one row per lead), or a leadforge bundle folder.",
            show_default=False,
        ),
    ],
    activities: Annotated[
        Path | None, typer.Option(help="CSV with one row per sales attempt.")
    ] = None,
    format: Annotated[
        str, typer.Option(help="generic, hubspot, salesforce or leadforge.")
    ] = "generic",
    columns: Annotated[
        Path | None, typer.Option(help="MAP.toml naming your export's headers.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Snapshot date (default: the export's latest timestamp)."),
    ] = None,
    holdout_from: Annotated[
        str | None,
        typer.Option(
            "--holdout-from",
            help="Fit on leads created before this date; simulate and compare the rest.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the fitted scenario (TOML) to this file.")
    ] = None,
    charts: Annotated[
        Path | None,
        typer.Option(help="With --holdout-from: write the backtest's charts (PNG) to this folder."),
    ] = None,
    replications: Annotated[
        int, typer.Option(help="Backtest replications (with --holdout-from).")
    ] = 40,
    seed: Annotated[int, typer.Option(help="Backtest seed.")] = 1,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Fit a scenario to a CRM export: censoring-aware rates and delays, each delay's family by
    AIC, the response-time decay by maximum likelihood, the team from its attempts, arrivals,
    channels and deal size. Every fitted number in --out carries its 95% CI, n and method."""
    _require_lifelines()
    if out is not None and out.exists() and out.is_dir():
        raise UsageError(f"--out {out}: is a folder; give a file name such as fitted.toml")
    if charts is not None and holdout_from is None:
        raise UsageError("--charts only applies together with --holdout-from")
    read = dict(activities=activities, format=format, columns=columns, as_of=as_of)
    e = api.load_export(export, **read)
    for w in e.warnings:
        echo_err(f"warning: {w}")
    bt = None
    if holdout_from is not None:
        bt = api.backtest(
            e,
            holdout_from,
            replications=replications,
            seed=seed,
            progress=progress_flag(quiet),
        )
        cal = bt.calibration
    else:
        cal = api.calibrate(e)
    if out is not None:
        cal.write(out)
        echo_err(f"wrote {out}")
    if charts is not None and bt is not None:
        charts.mkdir(parents=True, exist_ok=True)
        for name, fig in (("backtest_funnel", bt.funnel_figure()), ("backtest_km", bt.km_figure())):
            fig.savefig(charts / f"{name}.png", dpi=110)
        echo_err(f"wrote backtest_funnel.png, backtest_km.png to {charts}")
    if json_out:
        doc = cal.to_dict()
        if bt is not None:
            doc["backtest"] = bt.to_dict()
        print_json(doc)
        return
    _print(cal, bt)


def _fmt(v) -> str:
    if isinstance(v, float):
        return "-" if math.isnan(v) else f"{v:.4g}"
    if isinstance(v, dict):
        v = ", ".join(f"{k}={x:.3g}" if isinstance(x, float) else f"{k}={x}" for k, x in v.items())
    text = str(v)
    return text if len(text) <= 48 else text[:45] + "..."


def _print(cal, bt) -> None:
    import pandas as pd

    e = cal.export
    t = cal.table()
    shown = t[~t.index.str.startswith("report.")]
    rows = pd.DataFrame(
        {
            "value": [_fmt(v) for v in shown["value"]],
            "95% CI": [
                "" if math.isnan(lo) else f"[{lo:.4g}, {hi:.4g}]"
                for lo, hi in zip(shown["ci_low"], shown["ci_high"], strict=True)
            ],
            "n": [f"{int(n):,}" if n else "" for n in shown["n"]],
            "naive": [_fmt(v) for v in shown["naive"]],
            "": ["" if f else "not fitted" for f in shown["fitted"]],
        },
        index=shown.index,
    )
    print_frame(
        f"{cal.scenario.name}: fitted to {e.n:,} leads as of {e.as_of:%Y-%m-%d %H:%M} "
        "(naive = stage counts over leads, ignoring censoring)",
        rows,
    )
    chosen = cal.aic[cal.aic["chosen"]] if len(cal.aic) else cal.aic
    if len(chosen):
        typer.echo("")
        typer.echo("delay families chosen by AIC:")
        for delay, g in cal.aic.groupby("delay", sort=False):
            parts = ", ".join(
                f"{'*' if c else ''}{f} {a:,.1f}"
                for f, a, c in zip(g["family"], g["aic"], g["chosen"], strict=True)
            )
            typer.echo(f"  {delay}: {parts}")
    if cal.decay is not None:
        d = cal.decay
        lo, hi = d.tau_interval
        typer.echo("")
        typer.echo(
            f"response-time decay: sql_rate {d.sql_rate:.3f}, decay_floor {d.floor:.3f}, "
            f"decay_tau_hours {d.tau_hours:.3g} (profile 95% CI [{lo:.3g}, {hi:.3g}] h)"
        )
        prof = d.profile[d.profile["deviance"] <= 12]
        typer.echo(
            "  profile: "
            + ", ".join(f"{r.tau_hours:.3g} h: {-r.deviance / 2:.1f}" for r in prof.itertuples())
        )
    for note in cal.notes:
        typer.echo(f"note: {note}")
    if bt is not None:
        table = bt.table().copy()
        print_frame(
            f"\nbacktest: fitted on leads before {bt.holdout_from:%Y-%m-%d}, simulated from it to "
            f"the snapshot ({bt.replications} replications"
            f"{', parameter uncertainty on' if bt.parameter_uncertainty else ''}); "
            f"{bt.coverage:.0%} of statistics inside their 95% prediction interval",
            pd.DataFrame(
                {
                    "observed": [_fmt(v) for v in table["observed"]],
                    "simulated": [_fmt(v) for v in table["simulated"]],
                    "95% PI": [
                        f"[{_fmt(lo)}, {_fmt(hi)}]"
                        for lo, hi in zip(table["pi_low"], table["pi_high"], strict=True)
                    ],
                    "": ["" if x is None or x else "outside" for x in table["inside"]],
                },
                index=table.index,
            ),
        )
