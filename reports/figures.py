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


def _histogram(values: pd.Series, edges: np.ndarray, share: bool = True) -> go.Bar:
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
            _histogram(values, edges).update(
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
        _layout(fig, title, "time to data (s, log scale)", "share of scans", height=480),
        reading + " All samples, outliers included: what a user waits, bad days and all.",
    )


def queue_figures(jobs: pd.DataFrame, timezone: str = "UTC") -> list[Figure]:
    """Queue time: histogram, by submit day, by month (days and months in the facility's
    `timezone`, like the worst-days table of `queue_time_daily`)."""
    queue = jobs["queue_time_s"].astype(float)
    _, edges = np.histogram(queue.to_numpy(), bins=60)
    bars = _histogram(queue, edges, share=False)
    hist = go.Figure(bars.update(marker_color="#7f7f7f", name="jobs"))
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
    submitted = pd.to_datetime(jobs["submitted_at"], utc=True).dt.tz_convert(timezone)
    # a log axis cannot show the many zero waits: plot wait + 1 s
    shifted = queue + 1
    days = _daily(jobs, submitted, queue)
    scatter = go.Figure(
        [
            go.Scatter(
                x=days["day"],
                y=days["median"] + 1,
                mode="lines",
                line={"color": "#7f7f7f", "width": 1},
                name="median of the day",
            ),
            go.Scatter(
                x=days["day"],
                y=days["longest"] + 1,
                mode="markers",
                marker={
                    "size": 6,
                    "color": days["scan_size"],
                    "colorscale": "Viridis",
                    "showscale": True,
                    "colorbar": {"title": "scan size"},
                },
                name="longest of the day",
                text=days["job_id"],
                customdata=np.stack([days["longest"], days["jobs"]], axis=-1),
                hovertemplate="job %{text}<br>%{x}<br>%{customdata[0]} s, longest of "
                "%{customdata[1]} jobs<extra></extra>",
            ),
        ]
    )
    scatter.update_layout(legend={"orientation": "h", "y": -0.2})
    scatter.update_yaxes(type="log")
    worst = jobs.loc[queue.idxmax()] if len(jobs) else None
    title = "Queue time by submit date"
    figures.append(
        Figure(
            "queue-by-date",
            title,
            _layout(scatter, title, f"submit day ({timezone})", "queue time + 1 (s, log scale)"),
            "Each day's longest wait (its job in the hover) and median: waits come in bursts "
            "on particular days rather than spread evenly"
            + (
                f"; the longest, {float(worst['queue_time_s']) / 3600:.1f} h, was job "
                f"{worst['job_id']}."
                if worst is not None
                else "."
            ),
        )
    )
    months = _tukey_boxes(shifted, submitted.dt.strftime("%Y-%m"))
    box = go.Figure(
        go.Box(
            x=months.index,
            q1=months["q1"],
            median=months["median"],
            q3=months["q3"],
            lowerfence=months["lowerfence"],
            upperfence=months["upperfence"],
            marker_color="#7f7f7f",
            name="queue time",
        )
    )
    box.update_yaxes(type="log")
    box.update_layout(showlegend=False)
    title = "Queue time by month"
    figures.append(
        Figure(
            "queue-by-month",
            title,
            _layout(box, title, f"submit month ({timezone})", "queue time + 1 (s, log scale)"),
            "Each box spans a month's middle half of waits; months differ by their tails more "
            "than by their medians.",
        )
    )
    return figures


def _daily(jobs: pd.DataFrame, submitted: pd.Series, queue: pd.Series) -> pd.DataFrame:
    """Per submit day: the jobs, the median wait, and the longest with its job and size."""
    frame = pd.DataFrame(
        {
            "day": submitted.dt.strftime("%Y-%m-%d"),
            "queue": queue,
            "job_id": jobs["job_id"].astype(str),
            "scan_size": jobs["scan_size"],
        }
    )
    grouped = frame.groupby("day", sort=True)["queue"]
    longest = frame.loc[grouped.idxmax()].set_index("day")
    return pd.DataFrame(
        {
            "day": longest.index,
            "jobs": grouped.size().to_numpy(),
            "median": grouped.median().to_numpy(),
            "longest": longest["queue"].to_numpy(),
            "job_id": longest["job_id"].to_numpy(),
            "scan_size": longest["scan_size"].to_numpy(),
        }
    )


def _tukey_boxes(values: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Per group (sorted): the quartiles and the whiskers plotly draws from samples (the
    furthest values within 1.5 IQR of the box, never inside it), computed here so the page
    holds five numbers a group instead of its samples. Quartiles interpolate linearly (pandas'
    default)."""
    rows = {}
    for name, group in values.groupby(groups, sort=True):
        q1, median, q3 = (float(q) for q in group.quantile([0.25, 0.5, 0.75]))
        reach = 1.5 * (q3 - q1)
        rows[name] = {
            "q1": q1,
            "median": median,
            "q3": q3,
            "lowerfence": min(q1, float(group[group >= q1 - reach].min())),
            "upperfence": max(q3, float(group[group <= q3 + reach].max())),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


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
