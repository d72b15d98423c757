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


@dataclass
class Figure:
    """A figure of the page: an anchor, a title, the plotly figure and what it shows."""

    key: str
    title: str
    figure: go.Figure
    reading: str


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 420) -> go.Figure:
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


def _bins(values: pd.Series) -> dict[str, float]:
    """One set of bins for every trace of a histogram."""
    low, high = float(values.min()), float(values.max())
    size = (high - low) / BINS if high > low else 1.0
    return {"start": low, "end": high + size, "size": size}


def _samples(samples: pd.DataFrame, size: int) -> pd.DataFrame:
    kept = samples[(samples["scan_size"] == size) & ~samples["is_outlier"]]
    return kept


def _histogram_traces(kept: pd.DataFrame, show_legend: bool) -> list[go.Histogram]:
    bins = _bins(kept["time_to_data_s"])
    return [
        go.Histogram(
            x=kept.loc[kept["workflow"] == workflow, "time_to_data_s"],
            name=label,
            histnorm="probability",
            xbins=bins,
            marker_color=COLORS[workflow],
            opacity=0.65,
            legendgroup=workflow,
            showlegend=show_legend,
        )
        for workflow, label in WORKFLOWS.items()
        if (kept["workflow"] == workflow).any()
    ]


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
                _layout(fig, title, "time to data (s)", "probability"),
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
        _layout(grid, title, "", "", height=700)
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
                ].to_numpy()
            )
            if values.size == 0:
                continue
            share = np.arange(1, values.size + 1) / values.size
            fig.add_trace(
                go.Scatter(
                    x=values,
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
        _layout(fig, title, "time to data (s, log scale)", "share of scans", height=480),
        reading + " All samples, outliers included: what a user waits, bad days and all.",
    )


def queue_figures(jobs: pd.DataFrame) -> list[Figure]:
    """Queue time: histogram, by submit date, by month."""
    queue = jobs["queue_time_s"].astype(float)
    hist = go.Figure(go.Histogram(x=queue, nbinsx=60, marker_color="#7f7f7f"))
    hist.update_yaxes(type="log")
    median = float(queue.median())
    share_minute = float((queue <= 60).mean() * 100)
    title = "Queue time of the counting jobs"
    figures = [
        Figure(
            "queue-histogram",
            title,
            _layout(hist, title, "queue time (s)", "jobs (log scale)"),
            f"Half the jobs start within {median:.0f} s and {share_minute:.0f}% within a "
            "minute; the long tail is a few bad days.",
        )
    ]
    submitted = pd.to_datetime(jobs["submitted_at"], utc=True)
    # a log axis cannot show the many zero waits: plot wait + 1 s
    shifted = queue + 1
    scatter = go.Figure(
        go.Scatter(
            x=submitted,
            y=shifted,
            mode="markers",
            marker={
                "size": 5,
                "color": jobs["scan_size"],
                "colorscale": "Viridis",
                "showscale": True,
                "colorbar": {"title": "scan size"},
            },
            text=jobs["job_id"].astype(str),
            customdata=queue,
            hovertemplate="job %{text}<br>%{x}<br>%{customdata} s<extra></extra>",
        )
    )
    scatter.update_yaxes(type="log")
    worst = jobs.loc[queue.idxmax()] if len(jobs) else None
    title = "Queue time by submit date"
    figures.append(
        Figure(
            "queue-by-date",
            title,
            _layout(scatter, title, "submitted (UTC)", "queue time + 1 (s, log scale)"),
            "Waits come in bursts on particular days rather than spread evenly"
            + (
                f"; the longest, {float(worst['queue_time_s']) / 3600:.1f} h, was job "
                f"{worst['job_id']}."
                if worst is not None
                else "."
            ),
        )
    )
    months = submitted.dt.strftime("%Y-%m")
    box = go.Figure(
        [
            go.Box(y=shifted[months == month], name=month, marker_color="#7f7f7f", boxpoints=False)
            for month in sorted(months.unique())
        ]
    )
    box.update_yaxes(type="log")
    box.update_layout(showlegend=False)
    title = "Queue time by month"
    figures.append(
        Figure(
            "queue-by-month",
            title,
            _layout(box, title, "submit month (UTC)", "queue time + 1 (s, log scale)"),
            "Each box spans a month's middle half of waits; months differ by their tails more "
            "than by their medians.",
        )
    )
    return figures


def offload_figures(
    scans: pd.DataFrame, by_size: pd.DataFrame, overhead: pd.DataFrame
) -> list[Figure]:
    """Offload time per scan and its mean per size; the save-time overhead."""
    figures = []
    if not scans.empty:
        fig = go.Figure()
        for size in sorted(int(s) for s in scans["scan_size"].unique()):
            points = scans[scans["scan_size"] == size]
            fig.add_trace(
                go.Box(
                    y=points["offload_s"],
                    name=f"{size} × {size}",
                    boxpoints="all",
                    jitter=0.4,
                    pointpos=0,
                    marker_color=SIZE_COLORS.get(size),
                    fillcolor="rgba(0,0,0,0)",
                    line={"color": "rgba(0,0,0,0)"},
                    showlegend=False,
                )
            )
        if not by_size.empty:
            ordered = by_size.sort_values("scan_size")
            fig.add_trace(
                go.Scatter(
                    x=[f"{int(s)} × {int(s)}" for s in ordered["scan_size"]],
                    y=ordered["mean_offload_s"],
                    mode="markers+lines",
                    name="mean",
                    marker={"symbol": "diamond", "size": 12, "color": "black"},
                )
            )
        fig.update_yaxes(type="log")
        largest = by_size.sort_values("scan_size").iloc[-1] if not by_size.empty else None
        title = "Offload time at NCEM by scan size"
        figures.append(
            Figure(
                "offload",
                title,
                _layout(fig, title, "scan size", "offload time (s, log scale)"),
                "Writing a scan's files at NCEM grows with its size"
                + (
                    f": {largest['mean_offload_s']:.1f} s on average for "
                    f"{int(largest['scan_size'])} × {int(largest['scan_size'])}."
                    if largest is not None
                    else "."
                ),
            )
        )
    if not overhead.empty:
        ordered = overhead.sort_values("scan_size")
        labels = [f"{int(s)} × {int(s)}" for s in ordered["scan_size"]]
        fig = go.Figure(
            [
                go.Bar(
                    x=labels,
                    y=ordered["real_mean_save_s"],
                    name="real data",
                    error_y={"array": ordered["real_std_save_s"]},
                    marker_color="#d62728",
                ),
                go.Bar(
                    x=labels,
                    y=ordered["blank_mean_save_s"],
                    name="blank data",
                    error_y={"array": ordered["blank_std_save_s"]},
                    marker_color="#7f7f7f",
                ),
            ]
        )
        fig.update_layout(barmode="group")
        top = ordered.iloc[-1]
        title = "Save time of the counting job"
        figures.append(
            Figure(
                "save-overhead",
                title,
                _layout(fig, title, "scan size", "save time (s)"),
                f"Saving real data costs {top['save_overhead_s']:.1f} s more than blank data at "
                f"{int(top['scan_size'])} × {int(top['scan_size'])}; file transfer pays it twice.",
            )
        )
    return figures


def coverage_figure(coverage: pd.DataFrame) -> Figure:
    """Records per source."""
    ordered = coverage.sort_values("source_name")
    fig = go.Figure(
        go.Bar(x=ordered["source_name"], y=ordered["n_records"], marker_color="#1f77b4")
    )
    fig.update_yaxes(type="log")
    empty = [s for s, n in zip(ordered["source_name"], ordered["n_records"], strict=True) if n == 0]
    top = ordered.loc[ordered["n_records"].idxmax()]
    title = "Records per source"
    return Figure(
        "coverage",
        title,
        _layout(fig, title, "source", "staging (records, log scale)"),
        (
            f"Every source has records; {top['source_name']} holds the most ({top['n_records']:,})."
            if not empty
            else f"No records from {', '.join(empty)}: add its inputs to the config."
        ),
    )
