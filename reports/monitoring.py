"""The report's section "Over time and against promises": weekly time to data with the flagged
weeks, the service levels coloured by status, and each workflow's fitted transfer model with the
predicted sizes. Summaries only (one point a week, a size or a level), like the rest of the page.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reports.figures import COLORS, SIZE_COLORS, Figure, layout
from reports.tables import WORKFLOWS

LABELS = {**WORKFLOWS, "count_job": "Counting jobs"}
STATUS_CLASSES = {"met": "met", "breached": "breached", "no data": "nodata"}
CSS = """
tr.met td.status { background: #d8f0d8; } tr.breached td.status { background: #f8d0d0;
  color: #b00020; font-weight: bold; } tr.nodata td.status { background: #eee; color: #666; }
"""


def weekly_figures(trends: pd.DataFrame) -> list[Figure]:
    """Per workflow, each size's weekly p90 (lines) and p50 (dotted), flagged weeks marked."""
    ttd = trends[trends["measure"] == "time_to_data"].copy() if not trends.empty else trends
    if not ttd.empty:
        ttd["week_start_date"] = pd.to_datetime(ttd["week_start_date"]).dt.strftime("%Y-%m-%d")
    figures = []
    for workflow, label in WORKFLOWS.items():
        weeks = ttd[ttd["workflow"] == workflow] if not ttd.empty else ttd
        if weeks.empty:
            continue
        fig = go.Figure()
        for size in sorted(int(s) for s in weeks["scan_size"].unique()):
            fig.add_traces(_size_traces(weeks[weeks["scan_size"] == size], size))
        flagged = weeks[weeks["is_flagged"].astype(bool)]
        fig.add_trace(
            go.Scatter(
                x=flagged["week_start_date"],
                y=flagged["p90_s"],
                mode="markers",
                marker={"symbol": "x", "size": 11, "color": "#b00020"},
                name="flagged week",
                text=flagged["flag_reason"],
                hovertemplate="week of %{x}: p90 %{y:.1f} s<br>%{text}<extra></extra>",
            )
        )
        fig.update_yaxes(type="log")
        if weeks["week_start_date"].nunique() < 2:  # a date axis of one day spans milliseconds
            fig.update_xaxes(type="category")
        key = f"weekly-{workflow.replace('_', '-')}"
        title = f"{label}: time to data by week"
        figures.append(
            Figure(
                key,
                title,
                layout(fig, title, "week (facility-local, Monday)", "time to data (s, log scale)"),
                _weekly_reading(label, weeks, flagged),
            )
        )
    return figures


def with_gaps(weeks: pd.DataFrame) -> pd.DataFrame:
    """One size's weeks in order, with an empty row (NaN values) before each week that does
    not follow the previous one: a week without data is absent, and its line breaks there
    instead of bridging it."""
    ordered = weeks.sort_values("week_start_date").reset_index(drop=True)
    starts = pd.to_datetime(ordered["week_start_date"])
    after_gap = starts.diff() > pd.Timedelta(days=7)
    rows = []
    for index, row in ordered.iterrows():
        if after_gap[index]:
            gap = starts[index] - pd.Timedelta(days=7)
            rows.append({"week_start_date": gap.strftime("%Y-%m-%d"), "p90_s": None, "p50_s": None})
        rows.append({"week_start_date": row["week_start_date"], "p90_s": row["p90_s"],
                     "p50_s": row["p50_s"]})  # fmt: skip
    return pd.DataFrame(rows, columns=["week_start_date", "p90_s", "p50_s"])


def _size_traces(weeks: pd.DataFrame, size: int) -> list[go.Scatter]:
    ordered = with_gaps(weeks)
    color = SIZE_COLORS.get(size)
    name = f"{size} × {size}"
    return [
        go.Scatter(
            x=ordered["week_start_date"],
            y=ordered["p90_s"],
            mode="lines+markers",
            line={"color": color},
            marker={"size": 4},
            name=f"{name} p90",
            legendgroup=name,
        ),
        go.Scatter(
            x=ordered["week_start_date"],
            y=ordered["p50_s"],
            mode="lines",
            line={"color": color, "dash": "dot"},
            name=f"{name} p50",
            legendgroup=name,
        ),
    ]


def _weekly_reading(label: str, weeks: pd.DataFrame, flagged: pd.DataFrame) -> str:
    count = weeks["week_start_date"].nunique()
    had = f"{count} week{'s' if count != 1 else ''} with data"
    if flagged.empty:
        return f"{label}: {had}, none flagged against its baseline."
    worst = flagged.loc[(flagged["p90_s"] / flagged["baseline_p90_s"]).idxmax()]
    size = int(worst["scan_size"])
    return (
        f"{label}: {had}, {len(flagged)} flagged; the sharpest rise, "
        f"{size} × {size} in the week of {worst['week_start_date']}, had a p90 of "
        f"{float(worst['p90_s']):.0f} s against {float(worst['baseline_p90_s']):.0f} s before."
    )


def levels_table(levels: pd.DataFrame) -> str:
    """The service levels, one row each, the status cell coloured."""
    if levels.empty:
        return "<p>No service level is defined (seeds/service_levels.csv).</p>"
    rows = []
    for level in levels.sort_values("level_id").itertuples():
        size = (
            "all"
            if pd.isna(level.scan_size)
            else f"{int(level.scan_size)} × {int(level.scan_size)}"
        )
        measured = "-" if pd.isna(level.measured_s) else f"{float(level.measured_s):.1f}"
        end = level.window_end_date
        window = "-" if pd.isna(end) else f"to {pd.Timestamp(end):%Y-%m-%d}"
        cells = [
            str(level.level_id),
            LABELS.get(str(level.workflow), str(level.workflow).replace("_", " ")),
            size,
            f"{level.statistic} {str(level.measure).replace('_', ' ')}",
            f"{float(level.max_s):g}",
            measured,
            f"{int(level.window_days)} days {window}",
            str(int(level.n)),
            str(level.severity),
        ]
        status = str(level.status)
        row = "".join(f'<td class="left">{html.escape(c)}</td>' for c in cells[:4])
        row += "".join(f"<td>{html.escape(c)}</td>" for c in cells[4:])
        row += f'<td class="status">{html.escape(status)}</td>'
        rows.append(f'<tr class="{STATUS_CLASSES.get(status, "nodata")}">{row}</tr>')
    header = ["Level", "Workflow", "Scan size", "Statistic", "Promised (s)", "Measured (s)"]
    header += ["Window", "n", "Severity", "Status"]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(rows)
    return f'<table id="service-levels"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def model_figure(
    model: pd.DataFrame, predictions: pd.DataFrame, stats: pd.DataFrame
) -> Figure | None:
    """Time to data against data size: each size's mean (outliers removed), each workflow's
    fitted line (its overhead and bandwidth in the legend), the predicted sizes with their
    95% prediction intervals."""
    if model.empty or predictions.empty:
        return None
    fig = go.Figure()
    largest = float(predictions["data_size_gb"].max())
    for fit in model.itertuples():
        workflow, color = str(fit.workflow), COLORS.get(str(fit.workflow))
        label = WORKFLOWS.get(workflow, workflow)
        if not pd.isna(fit.bandwidth_gb_s):
            xs = np.geomspace(float(predictions["data_size_gb"].min()) / 2, largest, 60)
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=fit.overhead_s + xs * fit.slope_s_per_gb,
                    mode="lines",
                    line={"color": color},
                    name=f"{label}: {fit.overhead_s:.1f} s + size / {fit.bandwidth_gb_s:.2f} GB/s",
                )
            )
        fig.add_traces(_measured_and_predicted(workflow, label, color, predictions, stats))
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    title = "Time to data against data size"
    return Figure(
        "transfer-model",
        title,
        layout(fig, title, "data size (GB, log scale)", "time to data (s, log scale)", 480),
        _model_reading(model, predictions),
    )


def _measured_and_predicted(
    workflow: str, label: str, color: str | None, predictions: pd.DataFrame, stats: pd.DataFrame
) -> list[go.Scatter]:
    traces = []
    if not stats.empty:
        kept = stats[(stats["workflow"] == workflow) & (stats["outliers"] == "removed")]
        sizes = predictions[predictions["workflow"] == workflow][["scan_size", "data_size_gb"]]
        measured = kept.merge(sizes, on="scan_size")
        traces.append(
            go.Scatter(
                x=measured["data_size_gb"],
                y=measured["mean_s"],
                mode="markers",
                marker={"color": color, "size": 9},
                name=f"{label}: measured mean",
            )
        )
    predicted = predictions[
        (predictions["workflow"] == workflow) & ~predictions["is_measured_size"].astype(bool)
    ]
    traces.append(
        go.Scatter(
            x=predicted["data_size_gb"],
            y=predicted["predicted_s"],
            mode="markers+text",
            marker={"color": color, "size": 11, "symbol": "diamond-open"},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": predicted["prediction_high_s"] - predicted["predicted_s"],
                "arrayminus": predicted["predicted_s"] - predicted["prediction_low_s"],
            },
            text=[f"{int(s)} × {int(s)}" for s in predicted["scan_size"]],
            textposition="middle left",
            name=f"{label}: predicted (95% interval)",
        )
    )
    return traces


def _model_reading(model: pd.DataFrame, predictions: pd.DataFrame) -> str:
    parts = []
    for fit in model.itertuples():
        label = WORKFLOWS.get(str(fit.workflow), str(fit.workflow))
        if pd.isna(fit.bandwidth_gb_s):
            parts.append(f"{label} has no positive slope to fit")
            continue
        parts.append(
            f"{label.lower()} takes {fit.overhead_s:.0f} s plus the data at "
            f"{fit.bandwidth_gb_s:.2f} GB/s (r² {fit.r_squared:.3f})"
        )
    unmeasured = predictions[~predictions["is_measured_size"].astype(bool)]
    said = "; ".join(parts) + "." if parts else ""
    said = said[:1].upper() + said[1:]
    if not unmeasured.empty:
        largest = unmeasured.sort_values("scan_size").iloc[-1]
        size = int(largest["scan_size"])
        times = " and ".join(
            f"{r.predicted_s:.0f} s by {WORKFLOWS.get(str(r.workflow), r.workflow).lower()}"
            for r in unmeasured[unmeasured["scan_size"] == size].itertuples()
        )
        said += f" A {size} × {size} scan would take about {times}."
    return said
