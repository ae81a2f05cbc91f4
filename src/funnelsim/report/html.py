"""The report as one self-contained HTML page: inline CSS, charts as base64 PNG data URIs, no
script and no external URL, so it opens the same from an e-mail attachment, offline."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import pandas as pd

CSS = """
body { margin: 0; background: #f4f5f7; color: #1d232b;
       font: 16px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; background: #ffffff; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 21px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #d9dde3; }
.meta { color: #59616b; font-size: 14px; margin: 0; }
.headline { font-size: 24px; font-weight: 600; line-height: 1.35; margin: 20px 0 4px;
            padding: 16px 20px; background: #eef6f2; border-left: 6px solid #2e7d5b; }
.headline.unclear { background: #f7f3ea; border-left-color: #8a6d1f; }
figure { margin: 20px 0; }
figure img { display: block; width: 100%; height: auto; border: 1px solid #e3e6ea; }
figcaption { color: #59616b; font-size: 14px; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 8px 0; }
th, td { text-align: right; padding: 4px 10px; border-bottom: 1px solid #e3e6ea; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eceff3; }
tr.key td { font-weight: 600; }
tr.differs td { background: #fff6dd; }
td.sig { color: #2e7d5b; font-weight: 700; text-align: center; }
details { margin: 10px 0; }
summary { cursor: pointer; color: #3b4653; font-weight: 600; }
.note { color: #59616b; font-size: 14px; }
footer { margin-top: 40px; color: #8a9099; font-size: 12px; }
"""


@dataclass(frozen=True)
class Chart:
    """One embedded chart: its element id, heading, caption and PNG bytes."""

    id: str
    heading: str
    caption: str
    png: bytes

    def img(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        return (
            f'<figure id="{escape(self.id)}"><img src="data:image/png;base64,{data}" '
            f'alt="{escape(self.heading)}"><figcaption>{escape(self.caption)}</figcaption>'
            "</figure>"
        )


def table_html(
    frame: pd.DataFrame,
    *,
    row_classes: Sequence[str] | None = None,
    cell_classes: dict[str, str] | None = None,
    index_label: str | None = None,
) -> str:
    """A DataFrame of text as an HTML table (every cell escaped); the index is the first column.
    ``row_classes`` gives a class per row, ``cell_classes`` a class per column."""
    cell_classes = cell_classes or {}
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    label = escape(index_label if index_label is not None else str(frame.index.name or ""))
    rows = []
    for i, (key, row) in enumerate(frame.iterrows()):
        cls = f' class="{escape(row_classes[i])}"' if row_classes and row_classes[i] else ""
        cells = "".join(
            f'<td class="{escape(cell_classes[c])}">{escape(str(v))}</td>'
            if c in cell_classes
            else f"<td>{escape(str(v))}</td>"
            for c, v in row.items()
        )
        rows.append(f"<tr{cls}><td>{escape(str(key))}</td>{cells}</tr>")
    return (
        f"<table><thead><tr><th>{label}</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def page(title: str, meta: str, sections: Sequence[tuple[str, str, str]], footer: str) -> str:
    """The whole document. ``sections`` are ``(id, heading, inner html)``; a heading of "" is
    left out (the headline box needs none)."""
    body = []
    for sid, heading, inner in sections:
        h2 = f"<h2>{escape(heading)}</h2>" if heading else ""
        body.append(f'<section id="{escape(sid)}">{h2}{inner}</section>')
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main><header><h1>{escape(title)}</h1>"
        f'<p class="meta">{escape(meta)}</p></header>'
        + "\n".join(body)
        + f"<footer>{escape(footer)}</footer></main></body></html>\n"
    )
