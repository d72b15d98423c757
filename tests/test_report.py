"""The report: the page in headless Chromium with no network, the artefacts, empty warehouses,
the connection released, and the dbt exposure."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import sync_playwright

from reports import figures as figs
from reports import operations as ops
from reports.data import MARTS, read_marts
from tests.conftest import TURNAROUND, Built, published_inputs, refresh, turnaround
from turnaround.dbt import PROJECT_DIR

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAPER_CELLS = [
    ("128 × 128", "52.0 ± 30.6", "4.0 ± 0.0", "× 13.0"),
    ("256 × 256", "92.3 ± 38.6", "6.8 ± 0.6", "× 13.6"),
    ("512 × 512", "138.5 ± 28.2", "25.1 ± 1.3", "× 5.5"),
    ("1024 × 1024", "442.6 ± 53.5", "97.2 ± 4.1", "× 4.6"),
]


@pytest.fixture(scope="module")
def report_dir(published: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    done = turnaround("report", "--config", str(published.config), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_refresh_writes_the_report_beside_the_config(published: Built) -> None:
    index = published.config.parent / "reports" / "out" / "index.html"
    assert f"Report: {index}" in published.output
    assert index.exists() and (index.parent / "plotly.min.js").exists()


def test_report_without_out_writes_beside_the_config_not_the_working_folder(
    published: Built, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [TURNAROUND, "report", "--config", str(published.config)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    index = published.config.parent / "reports" / "out" / "index.html"
    assert f"Report: {index}" in done.stdout
    assert list(elsewhere.iterdir()) == []


def test_page_draws_every_figure_offline_in_chromium(report_dir: Path, tmp_path: Path) -> None:
    assert_page_draws_every_figure(report_dir, tmp_path)


def assert_page_draws_every_figure(report_dir: Path, tmp_path: Path) -> None:
    """The page of `report_dir` in headless Chromium, offline: every figure drawn, no error,
    no request, the paper's table, the test results, the service levels and the fit."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    assert "cdn" not in html.lower() and "https://" not in html
    requests: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
            context.route(
                re.compile(r"^(?!file:).*"),
                lambda route: (requests.append(route.request.url), route.abort()),
            )
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto((report_dir / "index.html").as_uri())
            page.wait_for_function("window.Plotly !== undefined", timeout=30_000)
            page.wait_for_function(
                """() => [...document.querySelectorAll('.js-plotly-plot')]
                        .every(p => p.querySelector('svg.main-svg g.trace'))""",
                timeout=30_000,
            )
            plots = page.eval_on_selector_all(".js-plotly-plot", "els => els.map(e => e.id)")
            ids = page.eval_on_selector_all("[id]", "els => els.map(e => e.id)")
            figure_divs = page.eval_on_selector_all(
                "div.plotly-graph-div", "els => els.filter(e => e.data).map(e => e.id)"
            )
            drawn = page.eval_on_selector_all(
                ".js-plotly-plot",
                "els => els.filter(e => e.querySelectorAll('svg.main-svg g.trace').length > 0"
                " && e.getBoundingClientRect().height > 100).length",
            )
            table = page.inner_text("#comparison-table")
            results = page.inner_text("#test-results")
            levels = page.eval_on_selector_all(
                "#service-levels tbody tr",
                "rows => rows.map(r => [r.className, getComputedStyle("
                "r.querySelector('td.status')).backgroundColor])",
            )
            model_legend = page.eval_on_selector("#transfer-model .legend", "e => e.textContent")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert requests == []
    expected = {
        "distribution-128",
        "distribution-256",
        "distribution-512",
        "distribution-1024",
        "distribution-grid",
        "cdf",
        "queue-histogram",
        "queue-by-date",
        "queue-by-month",
        "offload",
        "save-overhead",
        "coverage",
        "weekly-file-transfer",
        "weekly-streaming",
        "transfer-model",
    }
    assert set(plots) == expected
    assert drawn == len(plots)
    # each figure is drawn into its own div (an id used twice drew it into a section)
    assert len(ids) == len(set(ids))
    assert set(figure_divs) == expected
    for cells in PAPER_CELLS:
        line = next(row for row in table.splitlines() if row.startswith(cells[0]))
        for cell in cells:
            assert cell in line
    assert re.search(r"\d+ pass, \d+ warn, 0 fail", results)
    # every default level is met by the published data, its status cell drawn green
    assert [cls for cls, _ in levels] == ["met"] * 5
    assert {colour for _, colour in levels} == {"rgb(216, 240, 216)"}
    assert "File transfer: 54.1 s + size / 1.82 GB/s" in model_legend
    assert "Streaming: 1.9 s + size / 7.38 GB/s" in model_legend
    assert shot.stat().st_size > 50_000


def test_every_figure_has_a_title_axis_units_and_a_reading(published: Built) -> None:
    data = read_marts(published.warehouse)
    figures = [
        *figs.distribution_figures(data["fct_time_to_data"]),
        figs.cdf_figure(data["fct_time_to_data"]),
        *ops.queue_figures(data["fct_count_jobs"]),
        *ops.offload_figures(
            data["fct_offload_scans"], data["offload_by_size"], data["save_overhead_by_size"]
        ),
        ops.coverage_figure(data["source_coverage"]),
    ]
    assert len(figures) == 12
    for figure in figures:
        layout = figure.figure.layout
        assert layout.title.text == figure.title and figure.title
        axes = [layout[name] for name in layout if name.startswith(("xaxis", "yaxis"))]
        titles = [axis.title.text for axis in axes if axis.title.text]
        assert titles, figure.key
        # measured axes carry their unit in parentheses: (s), (s, log scale), ...
        assert any(
            re.search(r"\((s|GB|records|jobs|share|probability)", t)
            or t in ("probability", "share of scans")
            for t in titles
        ), (figure.key, titles)
        assert figure.reading.endswith(".") and len(figure.reading) > 30


def test_figures_hold_summaries_so_the_page_does_not_grow_with_the_data() -> None:
    rng = np.random.default_rng(20261125)
    n = 200_000
    sizes = rng.choice([128, 256, 512, 1024], n)
    samples = pd.DataFrame(
        {
            "scan_size": sizes,
            "workflow": rng.choice(["file_transfer", "streaming"], n),
            "time_to_data_s": rng.gamma(4.0, 20.0, n),
            "is_outlier": rng.random(n) < 0.02,
        }
    )
    submitted = pd.Timestamp("2023-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 365 * 86400, n), unit="s"
    )
    jobs = pd.DataFrame(
        {
            "job_id": np.arange(n) + 1000,
            "queue_time_s": rng.integers(0, 5000, n),
            "submitted_at": submitted,
            "scan_size": sizes,
        }
    )
    distributions = figs.distribution_figures(samples)
    cdf = figs.cdf_figure(samples)
    queue = ops.queue_figures(jobs, "America/Los_Angeles")
    for figure in [*distributions, cdf, *queue]:
        assert len(figure.figure.to_json()) < 150_000, figure.key  # samples would be MBs
    # a histogram's bars: each workflow's share of its kept samples per bin, summing to 1
    kept = samples[(samples["scan_size"] == 512) & ~samples["is_outlier"]]
    bars = {trace.name: trace for trace in distributions[2].figure.data}
    streamed = kept.loc[kept["workflow"] == "streaming", "time_to_data_s"].to_numpy()
    span = (kept["time_to_data_s"].min(), kept["time_to_data_s"].max())
    expected, _ = np.histogram(streamed, bins=figs.BINS, range=span)
    assert np.allclose(bars["Streaming"].y, expected / streamed.size)
    for trace in bars.values():  # the largest value is in the last bin, not dropped
        assert sum(trace.y) == pytest.approx(1.0)
    # the CDF: a few hundred steps, from the smallest value to the largest at share 1
    curve = cdf.figure.data[0]
    first = np.sort(
        samples.loc[
            (samples["scan_size"] == 128) & (samples["workflow"] == "file_transfer"),
            "time_to_data_s",
        ].to_numpy()
    )
    assert len(curve.x) <= figs.CDF_POINTS
    assert (curve.x[0], curve.x[-1], curve.y[-1]) == (first[0], first[-1], 1.0)
    index = np.searchsorted(first, curve.x[len(curve.x) // 2], side="right")
    assert curve.y[len(curve.y) // 2] == index / first.size
    # per facility-local day the longest wait and its job; per month the median
    local = submitted.tz_convert("America/Los_Angeles")
    by_day = jobs.assign(day=local.strftime("%Y-%m-%d")).groupby("day")["queue_time_s"]
    longest = queue[1].figure.data[1]
    assert list(longest.y) == list(by_day.max().to_numpy() + 1)
    assert longest.x[0] == "2022-12-31"  # the first UTC hours of 2023 are 2022 in California
    months = queue[2].figure.data[0]
    month_of = local.strftime("%Y-%m")
    assert list(months.median) == list(
        (jobs["queue_time_s"] + 1).groupby(month_of).median().astype(float)
    )


def test_box_whiskers_never_end_inside_the_box() -> None:
    values = pd.Series([1.0, 101.0, 101.0, 101.0, 1.0, 1.0, 1.0, 101.0])
    groups = pd.Series(["a"] * 4 + ["b"] * 4)
    boxes = ops._tukey_boxes(values, groups)
    # a: q1 = 76 and no value between 76 - 1.5 IQR and 76 but 1, which is outside the reach
    assert boxes.loc["a", "q1"] == 76.0
    assert boxes.loc["a", "lowerfence"] == 76.0
    assert boxes.loc["b", "q3"] == 26.0
    assert boxes.loc["b", "upperfence"] == 26.0
    assert (boxes["lowerfence"] <= boxes["q1"]).all() and (boxes["upperfence"] >= boxes["q3"]).all()


def test_latex_table_rounds_to_the_papers_values(report_dir: Path) -> None:
    tex = (report_dir / "comparison.tex").read_text(encoding="utf-8")
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    rows = [line for line in tex.splitlines() if line.startswith("$") and line.endswith(r"\\")]
    assert rows == [
        r"$128 \times 128$ & 10.9 & $52.0 \pm 30.6$ & $4.0 \pm 0.0$ & 13.0 \\",
        r"$256 \times 256$ & 43.5 & $92.3 \pm 38.6$ & $6.8 \pm 0.6$ & 13.6 \\",
        r"$512 \times 512$ & 173.9 & $138.5 \pm 28.2$ & $25.1 \pm 1.3$ & 5.5 \\",
        r"$1024 \times 1024$ & 695.8 & $442.6 \pm 53.5$ & $97.2 \pm 4.1$ & 4.6 \\",
    ]


def test_markdown_and_csv_artefacts(report_dir: Path) -> None:
    markdown = (report_dir / "comparison.md").read_text(encoding="utf-8")
    for size, ft, st, enhancement in PAPER_CELLS:
        assert f"| {size} | " in markdown and ft in markdown and st in markdown
        assert enhancement in markdown
    csv = (report_dir / "comparison.csv").read_text(encoding="utf-8").splitlines()
    header = csv[0].split(",")
    assert header[:7] == [
        "scan_size",
        "data_size_gb",
        "file_transfer_mean_s",
        "file_transfer_std_s",
        "streaming_mean_s",
        "streaming_std_s",
        "enhancement",
    ]
    assert "streaming_gb_per_s" in header and "file_transfer_p90_s" in header
    assert len(csv) == 5
    assert csv[1].startswith("128,10.871635968,51.978101729538")


def test_report_releases_the_warehouse(published: Built, tmp_path: Path) -> None:
    from loaders.config import load_config
    from reports.page import build_report

    config = load_config(published.config)
    build_report(config.path, config.warehouse, tmp_path / "out")
    con = duckdb.connect(str(config.warehouse))  # read-write: fails if a connection lingers
    con.close()


def _config(folder: Path, inputs: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "turnaround.toml"
    path.write_text(f'warehouse = "warehouse.duckdb"\n\n{inputs}', encoding="utf-8")
    return path


def test_no_warehouse_gives_a_page_naming_the_command(tmp_path: Path) -> None:
    config = _config(tmp_path, "")
    done = turnaround("report", "--config", str(config), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'id="empty-marts"' in html
    for mart in MARTS:
        assert f"<code>marts.{mart}</code>" in html
    assert f"turnaround refresh --config {config}" in html
    assert "Traceback" not in done.stdout + done.stderr


def test_partial_warehouse_lists_only_the_empty_marts(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        f'[[inputs]]\nsource = "stempy_log"\nformat = "json"\n'
        f'paths = ["{published_inputs().as_posix()}/stempy/save_times.json"]\n',
    )
    built = refresh(config)
    assert built.exit_code == 0, built.output
    html = (tmp_path / "reports" / "out" / "index.html").read_text(encoding="utf-8")
    note = html.split('id="empty-marts"')[1].split("</div>")[0]
    assert "<code>marts.save_overhead_by_size</code>" not in note
    assert "<code>marts.fct_count_jobs</code>" in note
    assert 'id="save-overhead"' in html


def test_docs_generate_shows_the_report_in_the_lineage(published: Built) -> None:
    done = turnaround("docs", "--config", str(published.config))
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads(
        (published.config.parent / "dbt" / "target" / "manifest.json").read_text(encoding="utf-8")
    )
    exposure = manifest["exposures"]["exposure.turnaround.turnaround_report"]
    depends = {node.split(".")[-1] for node in exposure["depends_on"]["nodes"]}
    assert depends == set(MARTS)
    check = manifest["exposures"]["exposure.turnaround.turnaround_check"]
    from turnaround.check import MARTS as CHECKED

    assert {node.split(".")[-1] for node in check["depends_on"]["nodes"]} == set(CHECKED)
    assert (published.config.parent / "dbt" / "target" / "index.html").exists()
    assert PROJECT_DIR.joinpath("models", "marts", "_marts__exposures.yml").exists()


def test_the_service_level_table_marks_each_status() -> None:
    from reports.monitoring import levels_table

    def level(level_id: str, status: str, measured: float | None) -> dict[str, object]:
        return {
            "level_id": level_id, "workflow": "count_job", "scan_size": None,
            "measure": "queue_time", "statistic": "p90", "max_s": 60.0, "window_days": 30,
            "severity": "error", "window_end_date": None if measured is None else "2023-10-11",
            "n": 0 if measured is None else 9, "measured_s": measured, "status": status,
        }  # fmt: skip

    table = levels_table(
        pd.DataFrame(
            [level("a", "met", 30.0), level("b", "breached", 75.25), level("c", "no data", None)]
        )
    )
    assert '<tr class="met"><td class="left">a</td><td class="left">Counting jobs</td>' in table
    assert '<tr class="breached"><td class="left">b</td>' in table and "<td>75.2</td>" in table
    assert '<tr class="nodata"><td class="left">c</td>' in table
    assert '<td class="status">no data</td>' in table


def test_weekly_lines_break_at_weeks_without_data() -> None:
    from reports.monitoring import with_gaps

    weeks = pd.DataFrame(
        {
            "week_start_date": ["2023-09-18", "2023-09-04", "2023-09-11"],
            "p90_s": [30.0, 10.0, 20.0],
            "p50_s": [3.0, 1.0, 2.0],
        }
    )
    assert with_gaps(weeks)["p90_s"].tolist() == [10.0, 20.0, 30.0]  # consecutive: no break
    later = pd.concat(
        [weeks, pd.DataFrame({"week_start_date": ["2023-10-09"], "p90_s": [50.0], "p50_s": [5.0]})]
    )
    broken = with_gaps(later)
    assert broken["week_start_date"].tolist() == [
        "2023-09-04", "2023-09-11", "2023-09-18", "2023-10-02", "2023-10-09"
    ]  # fmt: skip
    assert broken["p90_s"].isna().tolist() == [False, False, False, True, False]
