"""Read a bundle written by ``leadforge generate`` as a generic export.

A leadforge lead is handed to sales when it is created (its first stage is ``mql``), and an
opportunity opens when the lead reaches SQL, so ``mql_at`` is the lead's creation and the
opportunity's ``created_at`` is both its SQL and its opportunity time. A won deal's date and
value come from ``opportunities.closed_at``/``close_outcome`` (or the ``customers`` table), its
value from ``estimated_acv``; a sales activity reached the lead when its outcome is
``connected``, ``meeting_set`` or ``demo_completed``.

Every timestamp in a bundle is a date, so nothing measured in minutes or hours can be fitted:
not the response-time decay, not the wait to first touch in hours, not the working hours or the
hour-of-day profile (they keep their neutral values and the notes say why). Each lead is
followed for the bundle's ``horizon_days`` after it is created (``snapshot_day`` for a
snapshot-safe ``student_public`` bundle, whose close outcomes are redacted), and is censored
there.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UsageError
from .columns import GENERIC
from .export import Export, build_export

REACHED = {"connected", "meeting_set", "demo_completed"}


def _table(folder: Path, name: str, required: bool = True) -> pd.DataFrame | None:
    path = folder / "tables" / f"{name}.parquet"
    if not path.exists():
        if required:
            raise UsageError(f"{folder}: not a leadforge bundle (no tables/{name}.parquet)")
        return None
    try:
        return pd.read_parquet(path)
    except ImportError:
        raise UsageError(
            "reading a leadforge bundle needs pyarrow: pip install 'funnelsim[parquet]'"
        ) from None
    except Exception as exc:  # noqa: BLE001 - a damaged file is the user's to fix
        raise UsageError(f"{path}: cannot read the table ({type(exc).__name__}: {exc})") from None


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("").astype(str).str.strip()


def read_bundle(folder: str | Path, as_of: pd.Timestamp | None = None) -> Export:
    """The bundle's leads (and sales activities) as a checked `Export`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: --format leadforge takes the folder of a bundle")
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{folder}: no readable manifest.json ({exc})") from None
    leads = _table(folder, "leads")
    opps = _table(folder, "opportunities")
    acts = _table(folder, "sales_activities", required=False)
    customers = _table(folder, "customers", required=False)
    assert leads is not None and opps is not None
    for col in ("lead_id", "lead_created_at"):
        if col not in leads.columns:
            raise UsageError(f"{folder}/tables/leads.parquet: no {col} column")
    frame = pd.DataFrame(
        {
            "lead_id": _text(leads["lead_id"]),
            "created_at": _text(leads["lead_created_at"]),
            "mql_at": _text(leads["lead_created_at"]),
            "source": _text(leads.get("lead_source", pd.Series([""] * len(leads)))),
            "owner": _text(leads.get("owner_rep_id", pd.Series([""] * len(leads)))),
        }
    )
    o = opps.drop_duplicates("lead_id", keep="first").set_index("lead_id")
    by_lead = o.reindex(frame["lead_id"])
    created = _text(by_lead["created_at"]).to_numpy()
    frame["sql_at"] = created
    frame["opportunity_at"] = created
    redacted = "closed_at" not in o.columns or "close_outcome" not in o.columns
    if not redacted:
        outcome = _text(by_lead["close_outcome"])
        closed = _text(by_lead["closed_at"]).to_numpy()
        frame["closed_at"] = closed
        won = outcome.map({"closed_won": "true", "closed_lost": "false"}).fillna("")
        frame["won"] = won.to_numpy(object)
        frame.loc[frame["closed_at"] == "", "won"] = ""
    elif customers is not None and {"opportunity_id", "customer_start_at"} <= set(customers):
        start = customers.set_index("opportunity_id")["customer_start_at"]
        won_at = _text(by_lead["opportunity_id"].map(start))
        frame["closed_at"] = won_at.to_numpy()
        frame["won"] = (won_at != "").map({True: "true", False: ""}).to_numpy()
    acv = by_lead.get("estimated_acv")
    if acv is not None and "won" in frame:
        frame["amount"] = np.where(frame["won"].eq("true"), _text(acv).to_numpy(), "")
    source = str(folder)
    safe = bool(manifest.get("relational_snapshot_safe", False))
    days = manifest.get("snapshot_day") if safe else manifest.get("horizon_days")
    activities = None
    if acts is not None and len(acts):
        activities = (
            pd.DataFrame(
                {
                    "lead_id": _text(acts["lead_id"]),
                    "at": _text(acts["activity_timestamp"]),
                    "owner": _text(acts.get("rep_id", pd.Series([""] * len(acts)))),
                    "reached": _text(acts.get("activity_outcome", pd.Series([""] * len(acts))))
                    .isin(REACHED)
                    .map({True: "true", False: "false"}),
                }
            ),
            f"{folder}/tables/sales_activities.parquet",
        )
    export = build_export(
        frame, source, GENERIC, activities, as_of, None if days is None else float(days)
    )
    notes = list(export.notes)
    notes.append(
        "leadforge bundle: timestamps are dates only, so the response-time decay, first-touch "
        "hours, working hours and the hour-of-day profile cannot be fitted"
    )
    if redacted:
        notes.append(
            "leadforge student_public bundle: close outcomes and dates are redacted, so the win "
            "rate, sales cycle and deal size keep preset values"
        )
    return Export(**{**export.__dict__, "notes": tuple(notes)})  # type: ignore[arg-type]
