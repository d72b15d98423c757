"""Assembling the page: `DIR/index.html`, plotly.js beside it, and the publication artefacts."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from plotly.offline import get_plotlyjs

from reports import figures as figs
from reports import monitoring
from reports import operations as ops
from reports.data import MARTS, ReportData, read_build_results, read_marts
from reports.tables import comparison_frame, one, pm, to_csv, to_latex, to_markdown
from warehouse import write_atomic

PLOTLY_JS = "plotly.min.js"

CSS = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1em 2em;
       color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f4f4f4; } td.left, th.left { text-align: left; }
.reading { color: #444; margin: 0.2em 0 1.2em; font-style: italic; }
.note { background: #fff6d6; border: 1px solid #e8d48a; padding: 0.6em 1em; }
.fail { color: #b00020; font-weight: bold; } .warn { color: #a66300; }
figure { margin: 0; }
"""


@dataclass
class ReportResult:
    """What `build_report` wrote."""

    index: Path
    artefacts: list[Path] = field(default_factory=list)
    empty_marts: list[str] = field(default_factory=list)


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> str:
    head = "".join(
        f'<th class="left">{html.escape(h)}</th>' if i < left else f"<th>{html.escape(h)}</th>"
        for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="left">{html.escape(c)}</td>' if i < left else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(figure: figs.Figure) -> str:
    div = figure.figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=figure.key,
        config={"displaylogo": False, "responsive": True},
    )
    return (
        f'<figure class="chart">{div}<p class="reading">{html.escape(figure.reading)}</p></figure>'
    )


def _comparison_section(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p>No scan size has data for both workflows yet.</p>"
    paper = _table(
        ["Scan size", "Data size (GB)", "File transfer (s)", "Streaming (s)", "Enhancement"],
        [
            [
                f"{int(r.scan_size)} × {int(r.scan_size)}",
                one(r.data_size_gb),
                pm(r.file_transfer_mean_s, r.file_transfer_std_s),
                pm(r.streaming_mean_s, r.streaming_std_s),
                f"× {one(r.enhancement)}",
            ]
            for r in frame.itertuples()
        ],
    )
    detail_rows = []
    for r in frame.itertuples():
        row = r._asdict()
        for workflow, label in figs.WORKFLOWS.items():
            detail_rows.append(
                [
                    f"{int(r.scan_size)} × {int(r.scan_size)}",
                    label,
                    str(row.get(f"{workflow}_n", "-")),
                    pm(row.get(f"{workflow}_mean_s"), row.get(f"{workflow}_std_s")),
                    pm(row.get(f"{workflow}_all_mean_s"), row.get(f"{workflow}_all_std_s")),
                    one(row.get(f"{workflow}_median_s")),
                    one(row.get(f"{workflow}_p90_s")),
                    one(row.get(f"{workflow}_p99_s")),
                    one(row.get(f"{workflow}_gb_per_s"), "{:.2f}"),
                ]
            )
    detail = _table(
        [
            "Scan size",
            "Workflow",
            "n",
            "Mean ± std (s)",
            "With outliers (s)",
            "Median (s)",
            "p90 (s)",
            "p99 (s)",
            "Throughput (GB/s)",
        ],
        detail_rows,
        left=2,
    )
    return (
        '<div id="comparison-table">' + paper + "</div>"
        '<p class="reading">Mean ± standard deviation of the time from acquisition until the '
        "data is on the supercomputer, IQR outliers removed (the paper's Table 1).</p>"
        "<h3>Beside it</h3>"
        + detail
        + '<p class="reading">Means with outliers included, medians and tails after removing '
        "them, and throughput as data size over mean time.</p>"
    )


def _queue_stats(stats: pd.DataFrame) -> str:
    if stats.empty:
        return ""
    return "<h3>Queue time statistics</h3>" + _table(
        ["Outliers", "Jobs", "Mean (s)", "Std (s)", "Median (s)", "p90 (s)", "p99 (s)", "Max (s)"],
        [
            [
                r.outliers,
                str(r.n),
                one(r.mean_s),
                one(r.std_s),
                one(r.median_s),
                one(r.p90_s),
                one(r.p99_s),
                one(r.max_s),
            ]
            for r in stats.sort_values("outliers").itertuples()
        ],
    )


def _worst_days(daily: pd.DataFrame) -> str:
    if daily.empty:
        return ""
    worst = daily.sort_values("queue_time_rank").head(10)
    return "<h3>Ten worst days</h3>" + _table(
        ["Submit day", "Jobs", "Mean queue (s)", "Longest (s)"],
        [
            [
                str(r.submit_date)[:10],
                str(r.n_jobs),
                one(r.mean_queue_time_s),
                str(r.max_queue_time_s),
            ]
            for r in worst.itertuples()
        ],
    )


def _stamp(value: object) -> str:
    if value is None or pd.isna(value):
        return "-"
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")


def _freshness_section(data: ReportData) -> str:
    parts = []
    coverage = data["source_coverage"]
    if not coverage.empty:
        parts.append(_figure(ops.coverage_figure(coverage)))
        parts.append(
            _table(
                ["Source", "Records", "Newest record", "Files loaded", "Last load"],
                [
                    [
                        r.source_name,
                        str(r.n_records),
                        _stamp(r.newest_record_at),
                        str(r.n_file_loads),
                        _stamp(r.last_loaded_at),
                    ]
                    for r in coverage.sort_values("source_name").itertuples()
                ],
            )
        )
    build = data.build
    if build is None:
        parts.append("<p>No dbt build has run on this warehouse yet.</p>")
    else:
        counts = build.counts
        when = html.escape(str(build.generated_at))
        parts.append(
            f'<p id="test-results">dbt tests of the last build ({when}): '
            f"{counts['pass']} pass, {counts['warn']} warn, "
            f"{counts['fail'] + counts['error']} fail.</p>"
        )
        problems = build.problems
        if problems:
            parts.append(
                _table(
                    ["Test", "Status", "Failing rows"],
                    [[name, status, str(n)] for status, name, n in problems],
                )
            )
    return "".join(parts)


def _empty_note(empty: list[str], config_path: Path) -> str:
    if not empty:
        return ""
    items = "".join(
        f"<li><code>marts.{m}</code>: needs {html.escape(MARTS[m])}</li>" for m in empty
    )
    return (
        '<div class="note" id="empty-marts"><p>These marts are empty or not built yet:</p>'
        f"<ul>{items}</ul><p>Add the inputs to the config and run "
        f"<code>turnaround refresh --config {html.escape(str(config_path))}</code>.</p></div>"
    )


def _promises_section(data: ReportData) -> str:
    """Weekly time to data, the service levels, the transfer model (reports.monitoring)."""
    parts = [_figure(f) for f in monitoring.weekly_figures(data["weekly_trends"])]
    parts.append("<h3>Service levels</h3>")
    parts.append(monitoring.levels_table(data["service_level_status"]))
    parts.append(
        '<p class="reading">Each level over its window, which ends on the day of the newest '
        "sample; <code>turnaround check</code> prints the same and exits 1 on a breached "
        "<code>error</code> level (edit <code>seeds/service_levels.csv</code> to set yours).</p>"
    )
    model = monitoring.model_figure(
        data["transfer_model"], data["transfer_predictions"], data["time_to_data_stats"]
    )
    if model is not None:
        parts.append(_figure(model))
    return "".join(parts)


def _notice(notice: str | None) -> str:
    if not notice:
        return ""
    return f'<div class="note" id="incomplete-build"><p>{html.escape(notice)}</p></div>'


def render(
    data: ReportData,
    config_path: Path,
    warehouse: Path,
    timezone: str = "UTC",
    notice: str | None = None,
) -> str:
    """The page's HTML (`notice`: why the marts may not be one build's, shown first)."""
    sections: list[tuple[str, str, str]] = []
    frame = comparison_frame(data["time_to_data_stats"], data["transfer_comparison"])
    sections.append(("comparison", "File transfer vs streaming", _comparison_section(frame)))
    samples = data["fct_time_to_data"]
    if not samples.empty:
        body = "".join(_figure(f) for f in figs.distribution_figures(samples))
        sections.append(("distributions", "Time to data by scan size", body))
        sections.append(("cdf", "Time to data, cumulative", _figure(figs.cdf_figure(samples))))
    jobs = data["fct_count_jobs"]
    if not jobs.empty:
        body = "".join(_figure(f) for f in ops.queue_figures(jobs, timezone))
        tables = _queue_stats(data["queue_time_stats"]) + _worst_days(data["queue_time_daily"])
        sections.append(("queue", "Queue time", body + tables))
    offload = ops.offload_figures(
        data["fct_offload_scans"], data["offload_by_size"], data["save_overhead_by_size"]
    )
    if offload:
        sections.append(("offload", "Offload and save time", "".join(map(_figure, offload))))
    sections.append(("promises", "Over time and against promises", _promises_section(data)))
    sections.append(("freshness", "Data freshness and coverage", _freshness_section(data)))
    # sections are `section-<key>`: some keys are also a figure's (cdf, offload), and plotly
    # draws into the first element that has the figure's id
    toc = "".join(
        f'<li><a href="#section-{key}">{html.escape(title)}</a></li>' for key, title, _ in sections
    )
    body = "".join(
        f'<section id="section-{key}"><h2>{html.escape(title)}</h2>{content}</section>'
        for key, title, content in sections
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>turnaround: time to data on the supercomputer</title>"
        f'<style>{CSS}{monitoring.CSS}</style><script src="{PLOTLY_JS}"></script></head><body>'
        "<h1>Time to data on the supercomputer</h1>"
        f"<p>4D Camera (NCEM) to NERSC, from <code>{html.escape(str(warehouse))}</code>; "
        f'generated {generated}. Artefacts: <a href="comparison.tex">LaTeX</a>, '
        '<a href="comparison.md">Markdown</a>, <a href="comparison.csv">CSV</a>.</p>'
        f"{_notice(notice)}{_empty_note(data.empty_marts(), config_path)}"
        f"<ul>{toc}</ul>{body}</body></html>"
    )


def build_report(
    config_path: Path,
    warehouse: Path,
    out: Path,
    build_results: Path | None = None,
    timezone: str = "UTC",
    *,
    notice: str | None = None,
) -> ReportResult:
    """Write `out/index.html`, `out/plotly.min.js` and the comparison as .tex, .md and .csv
    (days and months of the figures in the facility's `timezone`; `notice`, when the marts
    are from an incomplete build, at the top of the page)."""
    data = read_marts(warehouse)
    if build_results is not None:
        data.build = read_build_results(build_results)
    out.mkdir(parents=True, exist_ok=True)
    # every file is written to a temporary file in `out` and renamed over its name: a symbolic
    # link there is replaced, never written through, and no reader sees half a file
    script = out / PLOTLY_JS
    plotly_js = get_plotlyjs().encode("utf-8")
    if script.is_symlink() or not script.exists() or script.stat().st_size != len(plotly_js):
        write_atomic(script, plotly_js)
    index = out / "index.html"
    page = render(data, config_path, warehouse, timezone, notice)
    write_atomic(index, page.encode("utf-8"))
    frame = comparison_frame(data["time_to_data_stats"], data["transfer_comparison"])
    artefacts = []
    for name, text in (
        ("comparison.tex", to_latex(frame)),
        ("comparison.md", to_markdown(frame)),
        ("comparison.csv", to_csv(frame)),
    ):
        path = out / name
        write_atomic(path, text.encode("utf-8"))
        artefacts.append(path)
    return ReportResult(index=index, artefacts=artefacts, empty_marts=data.empty_marts())
