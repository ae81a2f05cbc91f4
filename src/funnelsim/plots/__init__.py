"""Charts a leader can put on a slide. Each function returns a `matplotlib.figure.Figure`, takes
an optional ``ax`` to draw into, and reads plain pandas data (or runs and comparisons).

    import funnelsim as fs
    cmp = fs.compare(siloed, aligned, replications=10, keep_records=True)
    fs.plots.funnel(cmp).savefig("funnel.png")
"""

from .attribution import waterfall, waterfall_steps
from .distribution import revenue_distribution
from .funnel import STAGES, funnel, funnel_table
from .quota import quota_curve
from .speed import first_touch, speed_to_lead
from .style import PALETTE, png_bytes, save_png
from .sweeps import heatmap, sweep_line, tornado, tornado_frame
from .timeseries import period_bands, period_dashboard, period_series

__all__ = [
    "PALETTE",
    "STAGES",
    "first_touch",
    "funnel",
    "funnel_table",
    "heatmap",
    "period_bands",
    "period_dashboard",
    "period_series",
    "png_bytes",
    "quota_curve",
    "revenue_distribution",
    "save_png",
    "speed_to_lead",
    "sweep_line",
    "tornado",
    "tornado_frame",
    "waterfall",
    "waterfall_steps",
]
