"""The HTML report a leader can e-mail: headline, key numbers, charts, attribution, settings."""

from ..experiment.attribution import THEMES, lever_themes
from .build import Report, build_report, render_report
from .content import Headline, headline, settings_table

__all__ = [
    "THEMES",
    "Headline",
    "Report",
    "build_report",
    "headline",
    "lever_themes",
    "render_report",
    "settings_table",
]
