"""The report's figures: each a plotly figure with a title, axis units and a one-line reading."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.tables import WORKFLOWS

COLORS = {"file_transfer": "#d62728", "streaming": "#1f77b4"}
SIZE_COLORS = {128: "#1b9e77", 256: "#d95f02", 512: "#7570b3", 1024: "#e7298a"}
TEMPLATE = "plotly_white"
BINS = 40
# Figures carry summaries, not samples: a histogram its bins, a CDF at most this many steps, a
# box its quartiles, a date axis one point per day, so the page stays the same size however
# many years of data the warehouse holds (every sample made a 36 MB page at x100).
CDF_POINTS = 400


@dataclass
class Figure:
    """A figure of the page: an anchor, a title, the plotly figure and what it shows."""

    key: str
    title: str
    figure: go.Figure
    reading: str


def layout(fig: go.Figure, title: str, x: str, y: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title=title,
        template=TEMPLATE,
        height=height,
        margin={"l": 70, "r": 30, "t": 60, "b": 60},
        legend={"orientation": "h", "y": -0.2},
    )
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=y)
    return fig


def _bins(values: pd.Series) -> np.ndarray:
    """One set of BINS equal bins for every trace of a histogram, from the smallest value to the
    largest (numpy counts the last edge into the last bin)."""
    low, high = float(values.min()), float(values.max())
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, BINS + 1)


def _samples(samples: pd.DataFrame, size: int) -> pd.DataFrame:
    kept = samples[(samples["scan_size"] == size) & ~samples["is_outlier"]]
    return kept


def histogram(values: pd.Series, edges: np.ndarray, share: bool = True) -> go.Bar:
    """Bars of the share of `values` in each bin (one trace's bars sum to 1), or the count."""
    counts, _ = np.histogram(values.to_numpy(dtype=float), bins=edges)
    return go.Bar(
        x=(edges[:-1] + edges[1:]) / 2,
        y=counts / max(len(values), 1) if share else counts,
        width=edges[1] - edges[0],
    )


def _histogram_traces(kept: pd.DataFrame, show_legend: bool) -> list[go.Bar]:
    edges = _bins(kept["time_to_data_s"])
    traces = []
    for workflow, label in WORKFLOWS.items():
        values = kept.loc[kept["workflow"] == workflow, "time_to_data_s"]
        if values.empty:
            continue
        traces.append(
            histogram(values, edges).update(
                name=label,
                marker_color=COLORS[workflow],
                opacity=0.65,
                legendgroup=workflow,
                showlegend=show_legend,
            )
        )
    return traces


def _mean(kept: pd.DataFrame, workflow: str) -> float:
    return float(kept.loc[kept["workflow"] == workflow, "time_to_data_s"].mean())


def distribution_figures(samples: pd.DataFrame) -> list[Figure]:
    """Per scan size, file-transfer time and streaming latency overlaid; then all four, 2 x 2."""
    figures = []
    sizes = sorted(int(s) for s in samples["scan_size"].unique())
    for size in sizes:
        kept = _samples(samples, size)
        fig = go.Figure(_histogram_traces(kept, True))
        fig.update_layout(barmode="overlay")
        title = f"Time to data, {size} × {size} scans"
        ft, st = _mean(kept, "file_transfer"), _mean(kept, "streaming")
        reading = (
            f"Streamed {size} × {size} scans reach the supercomputer in {st:.1f} s on average, "
            f"files in {ft:.1f} s: {ft / st:.1f} times longer."
            if ft == ft and st == st and st > 0
            else f"Only one workflow has data for {size} × {size} scans."
        )
        figures.append(
            Figure(
                f"distribution-{size}",
                title,
                layout(fig, title, "time to data (s)", "probability"),
                reading + " IQR outliers left out; both histograms share one set of bins.",
            )
        )
    if sizes:
        grid = make_subplots(rows=2, cols=2, subplot_titles=[f"{s} × {s}" for s in sizes[:4]])
        for index, size in enumerate(sizes[:4]):
            for trace in _histogram_traces(_samples(samples, size), index == 0):
                grid.add_trace(trace, row=index // 2 + 1, col=index % 2 + 1)
        grid.update_layout(barmode="overlay")
        title = "Time to data, every scan size"
        layout(grid, title, "", "", height=700)
        grid.update_xaxes(title_text="time to data (s)")
        grid.update_yaxes(title_text="probability")
        figures.append(
            Figure(
                "distribution-grid",
                title,
                grid,
                "Streaming's distribution stays narrow at every size while file transfer's "
                "spreads out with the queue and the offload.",
            )
        )
    return figures


def _cdf_steps(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The empirical CDF of sorted values as (value, share of the values <= it), at every value
    or, for more than CDF_POINTS, at CDF_POINTS of them evenly spaced in rank (first and last
    included). Exact at each point drawn; between two, the step is off by at most the share of
    values between them (about 1/CDF_POINTS)."""
    n = ordered.size
    at = np.arange(n) if n <= CDF_POINTS else np.linspace(0, n - 1, CDF_POINTS).round()
    x = ordered[np.unique(at.astype(int))]
    return x, np.searchsorted(ordered, x, side="right") / n


def cdf_figure(samples: pd.DataFrame) -> Figure:
    """The share of scans on the supercomputer within t seconds, per size and workflow."""
    fig = go.Figure()
    readings = []
    for size in sorted(int(s) for s in samples["scan_size"].unique()):
        for workflow, label in WORKFLOWS.items():
            values = np.sort(
                samples.loc[
                    (samples["scan_size"] == size) & (samples["workflow"] == workflow),
                    "time_to_data_s",
                ].to_numpy(dtype=float)
            )
            if values.size == 0:
                continue
            x, share = _cdf_steps(values)
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=share,
                    mode="lines",
                    line={
                        "shape": "hv",
                        "color": SIZE_COLORS.get(size),
                        "dash": "solid" if workflow == "streaming" else "dash",
                    },
                    name=f"{size} × {size} {label.lower()}",
                )
            )
            if size == 512:
                p90 = float(np.quantile(values, 0.9))
                readings.append(f"{label.lower()} {p90:.0f} s")
    fig.update_xaxes(type="log")
    title = "Time to data, cumulative"
    reading = (
        "90% of 512 × 512 scans are on the supercomputer within " + " vs ".join(readings) + "."
        if readings
        else "Read a size's curve at 0.9 for the time within which 90% of its scans arrive."
    )
    return Figure(
        "cdf",
        title,
        layout(fig, title, "time to data (s, log scale)", "share of scans", height=480),
        reading + " All samples, outliers included: what a user waits, bad days and all.",
    )
