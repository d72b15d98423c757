"""`refresh` of ../shared/published-data reproduces the published analysis.

The reference outputs are only compared against, never loaded.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import REFERENCE, Built

TOLERANCE = 1e-9
SIZES = (128, 256, 512, 1024)
LOCAL = "America/Los_Angeles"

# The paper's Table 1: size -> (file transfer mean, std, streaming mean, std, enhancement)
PAPER_TABLE = {
    128: (52.0, 30.6, 4.0, 0.0, 13.0),
    256: (92.3, 38.6, 6.8, 0.6, 13.6),
    512: (138.5, 28.2, 25.1, 1.3, 5.5),
    1024: (442.6, 53.5, 97.2, 4.1, 4.6),
}


def _local(column: str) -> str:
    """SQL for a UTC timestamptz as facility-local naive text."""
    return f"strftime(timezone('{LOCAL}', {column}), '%Y-%m-%dT%H:%M:%S')"


def _seconds(text: pd.Series) -> pd.Series:
    """`HH:MM:SS` or `0 days HH:MM:SS` as seconds."""
    return pd.to_timedelta(text).dt.total_seconds()


def test_refresh_exits_0_and_prints_the_table(published: Built) -> None:
    assert published.exit_code == 0, published.output
    assert ", 0 error" in published.output
    assert "128x128" in published.output and "x13.0" in published.output
    assert str(published.warehouse) in published.output


def test_reference_outputs_are_never_loaded(published: Built) -> None:
    paths = [row[0] for row in published.query("select path from raw.loads")]
    assert paths, "nothing was loaded"
    assert not [p for p in paths if "reference-outputs" in p]


def test_fct_count_jobs_equals_merged_job_info(published: Built) -> None:
    ours = published.frame(
        f"""
        select job_name, job_id, scan_id, scan_size,
            {_local("submitted_at")} as submit, {_local("started_at")} as start,
            {_local("ended_at")} as "end", elapsed_s, distiller_elapsed_s, timelimit_s,
            req_nodes, qos, user_name, exit_code, queue_time_s
        from marts.fct_count_jobs
        """
    )
    ref = pd.read_csv(REFERENCE / "merged_job_info.csv", dtype=str)
    assert len(ref) == 2268
    assert len(ours) == len(ref)
    expected = pd.DataFrame(
        {
            "job_name": ref["Job Name"],
            "job_id": ref["Job ID"].astype("int64"),
            "scan_id": ref["id"].astype(float).astype("int64"),
            "scan_size": ref["size"].astype(float).astype("int64"),
            "submit": ref["Submit"],
            "start": ref["Start"],
            "end": ref["End"],
            "elapsed_s": _seconds(ref["Elapsed"]).astype("int64"),
            "distiller_elapsed_s": _seconds(ref["elapsed"]),
            "timelimit_s": _seconds(ref["Timelimit"]).astype("int64"),
            "req_nodes": ref["ReqNodes"].astype("int64"),
            "qos": ref["QOS"],
            "user_name": ref["User"],
            "exit_code": ref["ExitCode"],
        }
    )
    # queue time is start - submit, the naive difference in this data (no job spans a DST change)
    expected["queue_time_s"] = (
        (pd.to_datetime(ref["Start"]) - pd.to_datetime(ref["Submit"]))
        .dt.total_seconds()
        .astype("int64")
    )
    key = ["job_id", "scan_id"]
    ours = ours.astype({c: "int64" for c in ("scan_id", "scan_size", "req_nodes")})
    ours = ours.sort_values(key).reset_index(drop=True)
    expected = expected.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(ours[expected.columns], expected, check_dtype=False)


def test_offload_means_agree(published: Built) -> None:
    ours = dict(published.query("select scan_size, mean_offload_s from marts.offload_by_size"))
    ref = pd.read_csv(REFERENCE / "ncem_offload_times.csv")
    assert sorted(ours) == sorted(ref["size"])
    for size, offload in zip(ref["size"], ref["offload_time"], strict=True):
        assert ours[size] == pytest.approx(offload, abs=TOLERANCE)


@pytest.mark.parametrize("size", SIZES)
def test_streaming_latencies_agree(published: Built, size: int) -> None:
    ours = published.frame(
        f"""
        select distiller_id, scan_number,
            strftime(timezone('{LOCAL}', written_at), '%Y-%m-%d %H:%M:%S') as nersc_write_time,
            strftime(timezone('{LOCAL}', first_status_at), '%Y-%m-%d %H:%M:%S')
                as ncem_created_time,
            latency_s
        from marts.fct_streaming_scans
        where scan_size = {size}
        order by scan_number
        """
    )
    ref = pd.read_csv(REFERENCE / f"streaming_times_{size}.csv").sort_values("scan_number")
    assert list(ours["scan_number"]) == list(ref["scan_number"])
    assert list(ours["distiller_id"]) == list(ref["distiller_id"])
    assert list(ours["nersc_write_time"]) == list(ref["nersc_write_time"])
    assert list(ours["ncem_created_time"]) == list(ref["ncem_created_time"])
    diffs = ours["latency_s"].to_numpy() - ref["time_difference_seconds"].to_numpy()
    assert abs(diffs).max() <= TOLERANCE


STAT_COLUMNS = {
    "Number of Points": "n",
    "Mean time": "mean_s",
    "Median time": "median_s",
    "Standard Deviation": "std_s",
    "Minimum time": "min_s",
    "Maximum time": "max_s",
    "25th percentile": "p25_s",
    "75th percentile": "p75_s",
}


@pytest.mark.parametrize("size", SIZES)
def test_time_to_data_statistics_agree(published: Built, size: int) -> None:
    ref = pd.read_csv(REFERENCE / f"statistics_transfers_{size}.csv")
    assert len(ref) == 4
    for _, row in ref.iterrows():
        label = row["Statistics"]
        workflow = "streaming" if " Streaming " in label else "file_transfer"
        outliers = "removed" if label.endswith("without Outliers") else "included"
        columns = ", ".join(STAT_COLUMNS.values())
        (ours,) = published.query(
            f"""
            select {columns} from marts.time_to_data_stats
            where scan_size = {size} and workflow = '{workflow}' and outliers = '{outliers}'
            """
        )
        for (ref_column, _), value in zip(STAT_COLUMNS.items(), ours, strict=True):
            assert value == pytest.approx(row[ref_column], abs=TOLERANCE), (label, ref_column)


def papers_table(built: Built) -> dict[int, tuple[float, ...]]:
    """marts.transfer_comparison as the paper prints it: per scan size, the means and standard
    deviations of both workflows and the enhancement, to one decimal."""
    rows = built.query(
        """
        select scan_size, round(file_transfer_mean_s, 1), round(file_transfer_std_s, 1),
            round(streaming_mean_s, 1), round(streaming_std_s, 1), round(enhancement, 1)
        from marts.transfer_comparison order by scan_size
        """
    )
    return {size: tuple(values) for size, *values in rows}


def test_transfer_comparison_is_the_papers_table(published: Built) -> None:
    assert papers_table(published) == PAPER_TABLE


def test_data_sizes_follow_the_detector(published: Built) -> None:
    sizes = dict(published.query("select scan_size, data_size_gb from marts.transfer_comparison"))
    for size in SIZES:
        assert sizes[size] == pytest.approx(size * size * 576 * 576 * 2 / 1e9)


def test_save_time_statistics_agree(published: Built) -> None:
    ref = pd.read_csv(REFERENCE / "save_time_stats.csv")
    ours = {
        row[0]: row[1:]
        for row in published.query(
            """
            select scan_size, real_mean_save_s, real_std_save_s, blank_mean_save_s,
                blank_std_save_s, save_overhead_s
            from marts.save_overhead_by_size
            """
        )
    }
    position = {("Real", "mean"): 0, ("Real", "std"): 1, ("Blank", "mean"): 2, ("Blank", "std"): 3}
    for _, row in ref.iterrows():
        value = ours[row["Size"]][position[(row["Type"], row["Stat"])]]
        assert value == pytest.approx(row["save_time"], abs=TOLERANCE)
    for size, values in ours.items():
        assert values[4] == pytest.approx(values[0] - values[2], abs=TOLERANCE), size


def test_queue_time_daily_agrees_with_ranked_days(published: Built) -> None:
    ours = published.frame(
        """
        select strftime(submit_date, '%Y-%m-%d') as day, strftime(submit_month, '%Y-%m') as month,
            mean_queue_time_s, queue_time_rank, queue_time_rank_in_month
        from marts.queue_time_daily
        """
    ).set_index("day")
    ranked = pd.read_csv(REFERENCE / "ranked_days.csv")
    assert sorted(ours.index) == sorted(ranked["Submit_date"])
    for day, queue_time in zip(ranked["Submit_date"], ranked["queue_time"], strict=True):
        assert ours.loc[day, "mean_queue_time_s"] == pytest.approx(queue_time, abs=TOLERANCE)
    # worst first: ranks follow the reference's order (ties share a rank)
    ranks = [ours.loc[day, "queue_time_rank"] for day in ranked["Submit_date"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    by_month = pd.read_csv(REFERENCE / "ranked_days_by_month.csv")
    for month, day in zip(by_month["Submit_month_year"], by_month["Submit_date"], strict=True):
        assert ours.loc[day, "month"] == month
    for _, days in by_month.groupby("Submit_month_year", sort=False):
        month_ranks = [ours.loc[day, "queue_time_rank_in_month"] for day in days["Submit_date"]]
        # the reference lists each month's days best first
        assert month_ranks == sorted(month_ranks, reverse=True)


def test_queue_time_stats_cover_every_job(published: Built) -> None:
    stats = dict(published.query("select outliers, n from marts.queue_time_stats"))
    (jobs,) = published.query("select count(*) from marts.fct_count_jobs")[0]
    assert stats["included"] == jobs == 2268
    assert 0 < stats["removed"] < jobs


def test_the_published_data_loads_with_zero_rejects(published: Built) -> None:
    assert published.query("select count(*) from raw.rejected_records") == [(0,)]
    assert published.query("select coalesce(sum(rejected), 0) from raw.loads") == [(0,)]
    assert "Rejected records" not in published.output
