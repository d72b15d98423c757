"""The report's figures of how the pipeline runs: queue time of the counting jobs, offload and
save time, records per source."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reports.figures import SIZE_COLORS, Figure, histogram, layout


def queue_figures(jobs: pd.DataFrame, timezone: str = "UTC") -> list[Figure]:
    """Queue time: histogram, by submit day, by month (days and months in the facility's
    `timezone`, like the worst-days table of `queue_time_daily`)."""
    queue = jobs["queue_time_s"].astype(float)
    submitted = pd.to_datetime(jobs["submitted_at"], utc=True).dt.tz_convert(timezone)
    return [
        queue_histogram(queue),
        queue_by_date(jobs, submitted, queue, timezone),
        # a log axis cannot show the many zero waits: plot wait + 1 s
        queue_by_month(submitted, queue + 1, timezone),
    ]


def queue_histogram(queue: pd.Series) -> Figure:
    """How long the jobs waited, on a log count axis."""
    _, edges = np.histogram(queue.to_numpy(), bins=60)
    bars = histogram(queue, edges, share=False)
    hist = go.Figure(bars.update(marker_color="#7f7f7f", name="jobs"))
    hist.update_yaxes(type="log")
    median = float(queue.median())
    share_minute = float((queue <= 60).mean() * 100)
    title = "Queue time of the counting jobs"
    return Figure(
        "queue-histogram",
        title,
        layout(hist, title, "queue time (s)", "jobs (log scale)"),
        f"Half the jobs start within {median:.0f} s and {share_minute:.0f}% within a "
        "minute; the long tail is a few bad days.",
    )


def queue_by_date(
    jobs: pd.DataFrame, submitted: pd.Series, queue: pd.Series, timezone: str
) -> Figure:
    """Each submit day's median and longest wait (log scale, wait + 1 s)."""
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
    return Figure(
        "queue-by-date",
        title,
        layout(scatter, title, f"submit day ({timezone})", "queue time + 1 (s, log scale)"),
        "Each day's longest wait (its job in the hover) and median: waits come in bursts "
        "on particular days rather than spread evenly"
        + (
            f"; the longest, {float(worst['queue_time_s']) / 3600:.1f} h, was job "
            f"{worst['job_id']}."
            if worst is not None
            else "."
        ),
    )


def queue_by_month(submitted: pd.Series, shifted: pd.Series, timezone: str) -> Figure:
    """Each submit month's waits as a box (five numbers a month, not its samples)."""
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
    return Figure(
        "queue-by-month",
        title,
        layout(box, title, f"submit month ({timezone})", "queue time + 1 (s, log scale)"),
        "Each box spans a month's middle half of waits; months differ by their tails more "
        "than by their medians.",
    )


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
        figures.append(offload_figure(scans, by_size))
    if not overhead.empty:
        figures.append(save_overhead_figure(overhead))
    return figures


def offload_figure(scans: pd.DataFrame, by_size: pd.DataFrame) -> Figure:
    """Each scan's offload time by size, with the mean per size."""
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
    return Figure(
        "offload",
        title,
        layout(fig, title, "scan size", "offload time (s, log scale)"),
        "Writing a scan's files at NCEM grows with its size"
        + (
            f": {largest['mean_offload_s']:.1f} s on average for "
            f"{int(largest['scan_size'])} × {int(largest['scan_size'])}."
            if largest is not None
            else "."
        ),
    )


def save_overhead_figure(overhead: pd.DataFrame) -> Figure:
    """Save time of real against blank data per size."""
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
    return Figure(
        "save-overhead",
        title,
        layout(fig, title, "scan size", "save time (s)"),
        f"Saving real data costs {top['save_overhead_s']:.1f} s more than blank data at "
        f"{int(top['scan_size'])} × {int(top['scan_size'])}; file transfer pays it twice.",
    )


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
        layout(fig, title, "source", "staging (records, log scale)"),
        (
            f"Every source has records; {top['source_name']} holds the most ({top['n_records']:,})."
            if not empty
            else f"No records from {', '.join(empty)}: add its inputs to the config."
        ),
    )
