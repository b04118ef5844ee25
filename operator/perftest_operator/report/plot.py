"""Write a PNG of each analysed series with its change points marked (the I/O edge for plots).

One PNG per call: one panel per file and metric, in a grid of up to three columns. Each panel
shows the values by run index, the level (median) of each segment as a step line, and a
vertical line just before the first run after each change point: red for a regression, green
for an improvement, labelled with the change in percent. matplotlib is imported here only,
with the Agg backend, so the rest of the command never loads it. It is not a dependency of the
package but its `plot` extra: the operator image does not carry it.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
from collections.abc import Sequence

from perftest_operator.report.analyze import FileResult, MetricResult
from perftest_operator.report.numbers import format_percent

MAX_COLUMNS = 3
PANEL_INCHES = (6.0, 2.6)
DPI = 100
REGRESSION_COLOUR = "tab:red"
IMPROVEMENT_COLOUR = "tab:green"
LEVEL_COLOUR = "tab:gray"
MISSING_MATPLOTLIB = (
    "--plot needs matplotlib, which is not installed: pip install 'perftest-operator[plot]'"
)


def can_plot() -> bool:
    """Whether matplotlib can be imported (the package's `plot` extra is installed)."""
    return importlib.util.find_spec("matplotlib") is not None


def _levels(metric: MetricResult, runs: int) -> tuple[list[float], list[float]]:
    """x and y of the step line: each segment's median, from the change points' before/after."""
    points = metric.change_points
    if not points:
        return [], []
    bounds = [0, *(found.index for found in points), runs]
    levels = [points[0].point.before, *(found.point.after for found in points)]
    xs: list[float] = []
    ys: list[float] = []
    for (start, end), level in zip(itertools.pairwise(bounds), levels, strict=True):
        xs += [start - 0.5, end - 0.5]
        ys += [level, level]
    return xs, ys


def write_plot(results: Sequence[FileResult], path: str) -> None:
    """Write one PNG with a panel per file and metric to `path` (OSError if it cannot)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    panels = [(result, metric) for result in results for metric in result.metrics]
    columns = min(MAX_COLUMNS, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure, axes = pyplot.subplots(
        rows,
        columns,
        figsize=(PANEL_INCHES[0] * columns, PANEL_INCHES[1] * rows),
        squeeze=False,
    )
    # Fixed margins: a layout engine costs seconds per hundred panels.
    figure.subplots_adjust(
        left=0.5 / figure.get_figwidth(),
        right=1 - 0.15 / figure.get_figwidth(),
        bottom=0.55 / figure.get_figheight(),
        top=1 - 0.35 / figure.get_figheight(),
        wspace=0.18,
        hspace=0.75,
    )
    try:
        for (result, metric), ax in zip(panels, axes.flat, strict=False):
            ax.plot(metric.column.positions, metric.column.values, marker="o", markersize=3)
            xs, ys = _levels(metric, result.table.runs)
            if xs:
                ax.plot(xs, ys, color=LEVEL_COLOUR, linestyle="--", linewidth=1)
            for found in metric.change_points:
                colour = REGRESSION_COLOUR if found.point.regression else IMPROVEMENT_COLOUR
                ax.axvline(found.index - 0.5, color=colour, linewidth=1.5)
                ax.annotate(
                    format_percent(found.point.change_percent),
                    xy=(found.index - 0.5, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(3, -12),
                    textcoords="offset points",
                    color=colour,
                    fontsize=8,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
                )
            ax.set_title(f"{result.file}: {metric.metric}", fontsize=9)
            ax.set_xlabel("run (oldest first)", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.locator_params(nbins=5)  # fewer ticks: tick objects are most of the drawing time
        for ax in axes.flat[len(panels) :]:
            ax.set_visible(False)
        figure.savefig(path, dpi=DPI, format="png")
    finally:
        pyplot.close(figure)
