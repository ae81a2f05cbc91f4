"""Column names of the generic export, the maps onto other systems' headers, and reading a map.

A map says which header of an export holds each generic column. One header may feed several
columns (a CRM whose leads are MQLs from the moment they exist maps ``mql_at`` to its create
date too). Two flags cover exports that lack a column the generic format has:

- ``won_if_closed = true``: the export records only wins (HubSpot's "Became a Customer Date"),
  so every ``closed_at`` is a won deal and a lost one is simply never closed.
- ``closed_flag = "<header>"``: a true/false column saying the deal is closed; where it is false
  the ``closed_at`` and ``won`` cells are ignored (Salesforce fills ``CloseDate`` with the
  *expected* close date of open opportunities).

A map file (``--columns MAP.toml``)::

    [leads]
    lead_id = "Record ID"
    created_at = "Create Date"
    mql_at = "Became a Marketing Qualified Lead Date"

    [activities]
    lead_id = "Contact ID"
    at = "Activity date"

    won_if_closed = true
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError

LEAD_COLUMNS = (
    "lead_id",
    "created_at",
    "source",
    "mql_at",
    "accepted",
    "rejection_reason",
    "first_touch_at",
    "reached_at",
    "sql_at",
    "opportunity_at",
    "closed_at",
    "won",
    "amount",
    "owner",
)
# Stage times in funnel order: each must not come before the one it follows (see validation).
TIME_COLUMNS = (
    "created_at",
    "mql_at",
    "first_touch_at",
    "reached_at",
    "sql_at",
    "opportunity_at",
    "closed_at",
)
BOOL_COLUMNS = ("accepted", "won")
ACTIVITY_COLUMNS = ("lead_id", "at", "owner", "duration_minutes", "reached")
REQUIRED = {"leads": ("lead_id", "created_at"), "activities": ("lead_id", "at")}


@dataclass(frozen=True)
class ColumnMap:
    """Generic column -> the export's header, for the leads file and the activities file."""

    name: str
    leads: dict[str, str] = field(default_factory=dict)
    activities: dict[str, str] = field(default_factory=dict)
    won_if_closed: bool = False
    closed_flag: str | None = None

    def header(self, table: str, column: str) -> str:
        mapping = self.leads if table == "leads" else self.activities
        return mapping.get(column, column)


GENERIC = ColumnMap("generic")

# HubSpot's standard contacts export (Contacts > Export, with the lifecycle-stage date
# properties chosen): its columns carry the properties' labels. HubSpot records the date a
# contact *became a customer*, not a lost deal, so every close is a win (won_if_closed).
# Activities: a calls export (Activities > Calls) with the associated contact's record id.
HUBSPOT = ColumnMap(
    "hubspot",
    leads={
        "lead_id": "Record ID",
        "created_at": "Create Date",
        "source": "Original Source",
        "owner": "Contact owner",
        "mql_at": "Became a Marketing Qualified Lead Date",
        "first_touch_at": "First Engagement Date",
        "sql_at": "Became a Sales Qualified Lead Date",
        "opportunity_at": "Became an Opportunity Date",
        "closed_at": "Became a Customer Date",
        "amount": "Recent Deal Amount",
    },
    activities={
        "lead_id": "Associated Contact IDs",
        "at": "Activity date",
        "owner": "Activity assigned to",
        "duration_minutes": "Call duration (minutes)",
        "reached": "Connected",
    },
    won_if_closed=True,
)

# Salesforce Lead records with their converted opportunity, as a SOQL query or Data Loader
# writes them (API field names; relationship fields as dotted paths), e.g.
#   SELECT Id, CreatedDate, LeadSource, OwnerId, ConvertedDate, ConvertedOpportunity.CreatedDate,
#          ConvertedOpportunity.CloseDate, ConvertedOpportunity.IsClosed,
#          ConvertedOpportunity.IsWon, ConvertedOpportunity.Amount FROM Lead
# A Salesforce lead is with sales from the moment it exists (mql_at = CreatedDate); converting
# it is the qualification (sql_at = ConvertedDate). Activities: Task records (calls).
SALESFORCE = ColumnMap(
    "salesforce",
    leads={
        "lead_id": "Id",
        "created_at": "CreatedDate",
        "mql_at": "CreatedDate",
        "source": "LeadSource",
        "owner": "OwnerId",
        "sql_at": "ConvertedDate",
        "opportunity_at": "ConvertedOpportunity.CreatedDate",
        "closed_at": "ConvertedOpportunity.CloseDate",
        "won": "ConvertedOpportunity.IsWon",
        "amount": "ConvertedOpportunity.Amount",
    },
    activities={
        "lead_id": "WhoId",
        "at": "CreatedDate",
        "owner": "OwnerId",
        "duration_minutes": "CallDurationInSeconds",
        "reached": "IsReached__c",
    },
    closed_flag="ConvertedOpportunity.IsClosed",
)

BUILT_IN = {"generic": GENERIC, "hubspot": HUBSPOT, "salesforce": SALESFORCE}


def read_column_map(path: str | Path, base: ColumnMap = GENERIC) -> ColumnMap:
    """A ``--columns MAP.toml`` file laid over ``base``; `UsageError` names what is wrong."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--columns {path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--columns {path}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--columns {path}: not valid TOML: {exc}") from None
    allowed = {"leads", "activities", "won_if_closed", "closed_flag"}
    for key in data:
        if key not in allowed:
            raise UsageError(
                f"--columns {path}: unknown entry {key!r}{_hint(key, allowed)} (allowed: "
                f"{', '.join(sorted(allowed))})"
            )
    leads = _section(path, data, "leads", LEAD_COLUMNS + ("closed",))
    activities = _section(path, data, "activities", ACTIVITY_COLUMNS)
    flag = data.get("won_if_closed", base.won_if_closed)
    if not isinstance(flag, bool):
        raise UsageError(f"--columns {path}: won_if_closed must be true or false (given {flag!r})")
    closed = data.get("closed_flag", base.closed_flag)
    if closed is not None and not isinstance(closed, str):
        raise UsageError(f"--columns {path}: closed_flag must be a header name (given {closed!r})")
    return ColumnMap(
        f"{base.name} + {path.name}",
        {**base.leads, **leads},
        {**base.activities, **activities},
        flag,
        closed,
    )


def _section(path: Path, data: dict[str, Any], name: str, known: tuple[str, ...]) -> dict:
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise UsageError(f'--columns {path}: [{name}] must be a table of column = "Header"')
    for key, header in section.items():
        if key not in known:
            raise UsageError(
                f"--columns {path}: [{name}] {key}: unknown column{_hint(key, known)} (the "
                f"generic columns are: {', '.join(known)})"
            )
        if not isinstance(header, str) or not header:
            raise UsageError(
                f"--columns {path}: [{name}] {key} must name a header as text (given {header!r})"
            )
    return dict(section)


def _hint(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""
