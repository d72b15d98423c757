"""`turnaround demo` then `refresh`: the synthetic data passes every dbt test and fills every mart,
each defect kind the filters remove is present in staging and absent from the marts, and
`turnaround check` finds the planted regression."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from tests.conftest import Built, refresh, turnaround
from turnaround.demo.params import REGRESSION_FIRST_DAY, ROUTINE_LAST_DAY

MARTS = (
    "fct_count_jobs",
    "fct_offload_scans",
    "offload_by_size",
    "fct_streaming_scans",
    "save_overhead_by_size",
    "time_to_data_stats",
    "transfer_comparison",
    "queue_time_stats",
    "queue_time_daily",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("demo")
    done = turnaround("demo", "--out", str(out), "--scale", "1", "--seed", "7")
    assert done.returncode == 0, done.stderr
    return refresh(out / "turnaround.toml")


def test_refresh_of_the_demo_passes_every_test(demo: Built) -> None:
    assert demo.exit_code == 0, demo.output
    assert ", 0 error" in demo.output


@pytest.mark.parametrize("mart", MARTS)
def test_every_mart_has_rows(demo: Built, mart: str) -> None:
    ((rows,),) = demo.query(f"select count(*) from marts.{mart}")
    assert rows > 0


def test_comparison_has_every_size_and_streaming_wins(demo: Built) -> None:
    rows = demo.query("select scan_size, enhancement from marts.transfer_comparison")
    assert sorted(size for size, _ in rows) == [128, 256, 512, 1024]
    assert all(enhancement > 1 for _, enhancement in rows)


DEFECTS = {
    "another job name": "position('distiller-count' in jobs.job_name) = 0",
    "no start": "jobs.started_at is null",
    "not 4 nodes": "jobs.req_nodes <> 4",
    "not a realtime QOS": "position('realtime_' in jobs.qos) = 0",
    "failed exit code": "jobs.exit_code <> '0:0'",
}


@pytest.mark.parametrize("defect", DEFECTS)
def test_each_defect_kind_is_in_staging_and_filtered_out(demo: Built, defect: str) -> None:
    where = DEFECTS[defect]
    ((in_staging,),) = demo.query(
        f"select count(*) from staging.stg_slurm__jobs as jobs where {where}"
    )
    assert in_staging > 0, f"the demo has no job with {defect}"
    ((in_mart,),) = demo.query(
        f"""
        select count(*) from marts.fct_count_jobs as facts
        inner join staging.stg_slurm__jobs as jobs on cast(jobs.job_id as bigint) = facts.job_id
        where {where}
        """
    )
    assert in_mart == 0


def test_long_distiller_runs_and_missing_slurm_ids_are_filtered_out(demo: Built) -> None:
    ((long_runs,),) = demo.query(
        "select count(*) from staging.stg_distiller__scan_jobs where distiller_elapsed_s > 1740"
    )
    ((no_job,),) = demo.query(
        "select count(*) from staging.stg_distiller__scan_jobs where slurm_job_id is null"
    )
    assert long_runs > 0 and no_job > 0
    ((kept,),) = demo.query(
        "select count(*) from marts.fct_count_jobs where distiller_elapsed_s > 1740"
    )
    assert kept == 0


def test_steps_and_repeated_jobs_collapse_to_one_row_per_job(demo: Built) -> None:
    ((steps,),) = demo.query("select count(*) from raw.slurm where job_id like '%.%'")
    ((repeated,),) = demo.query(
        """
        select count(*) from (
            select job_id from raw.slurm where job_id not like '%.%'
            group by job_id having count(distinct _source_file) > 1
        )
        """
    )
    assert steps > 0 and repeated > 0
    ((jobs, distinct),) = demo.query(
        "select count(*), count(distinct job_id) from staging.stg_slurm__jobs"
    )
    assert jobs == distinct


def test_distiller_id_zero_is_loaded_raw_and_dropped_in_staging(demo: Built) -> None:
    ((raw_zero,),) = demo.query(
        "select count(*) from raw.nersc_counted_files where distiller_id = '00000'"
    )
    ((staged_zero,),) = demo.query(
        "select count(*) from staging.stg_nersc__counted_files where distiller_id = 0"
    )
    assert raw_zero > 0 and staged_zero == 0


PLANTED = (
    "receiver_clock_skew",
    "scan_with_missing_receivers",
    "scan_counter_reset",
    "slurm_start_before_submit",
    "slurm_end_before_start",
    "slurm_elapsed_differs_from_end_minus_start",
    "slurm_job_without_time_limit",
    "slurm_job_over_a_day",
    "distiller_and_sacct_elapsed_disagree",
    "distiller_scan_without_slurm_job",
    "distiller_job_missing_from_sacct",
    "assert_experiments_complete",
    "assert_no_rejected_records",
)


@pytest.mark.parametrize("test_name", PLANTED)
def test_each_planted_defect_is_reported_by_the_test_named_for_it(
    demo: Built, test_name: str
) -> None:
    warned = [line for line in demo.output.splitlines() if line.startswith("  warn: ")]
    assert any(f".{test_name}" in line for line in warned), test_name


def test_malformed_records_are_set_aside_and_counted_per_kind(demo: Built) -> None:
    rejected = demo.query("select source, reason from raw.rejected_records order by source, reason")
    assert ("slurm", "time '2023-02-30T10:00:00' is not YYYY-MM-DDTHH:MM:SS, Unknown or None") in (
        rejected
    )
    assert ("rec_status", "JSON object has no string 'time'") in rejected
    assert (
        "ncem_data_files",
        "file name is not data_scan<scan, 10 digits>_<part>.data",
    ) in rejected
    assert "Rejected records in the warehouse (raw.rejected_records):" in demo.output


# A day after the demo's newest records: every source is fresh (today's clock finds them stale).
AS_OF = (ROUTINE_LAST_DAY + timedelta(days=1)).isoformat()
PLANTED_WEEKS = {
    f"{year}-W{week:02d}"
    for year, week, _ in (
        (REGRESSION_FIRST_DAY + timedelta(days=d)).isocalendar()
        for d in range((ROUTINE_LAST_DAY - REGRESSION_FIRST_DAY).days + 1)
    )
}


def test_check_reports_the_planted_regression(demo: Built) -> None:
    done = turnaround("check", "--config", str(demo.config), "--as-of", AS_OF)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    levels = [line.split() for line in lines if line.split()[:1] in (["met"], ["breached"])]
    assert {fields[2].rstrip(":"): fields[0] for fields in levels} == {
        "file_transfer_1024_p90": "met",
        "file_transfer_p90": "breached",
        "queue_time_p90": "met",
        "streaming_1024_p90": "met",
        "streaming_p90": "met",
    }
    assert not [line for line in lines if line.startswith("stale")]
    flagged = re.findall(r"^flagged +week (\S+): file transfer ", done.stdout, re.MULTILINE)
    assert PLANTED_WEEKS & set(flagged), done.stdout
    assert done.stdout.rstrip().endswith("level file_transfer_p90 breached")


def test_check_json_fails_on_the_planted_level_only(demo: Built) -> None:
    done = turnaround("check", "--config", str(demo.config), "--as-of", AS_OF, "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert document["failures"] == ["level file_transfer_p90 breached"]
    assert {source["status"] for source in document["freshness"]} == {"fresh"}
    breached = [level for level in document["levels"] if level["status"] != "met"]
    assert [level["level_id"] for level in breached] == ["file_transfer_p90"]
    assert breached[0]["measured_s"] > breached[0]["max_s"]
    weeks = {
        week["iso_week"]
        for week in document["flagged_weeks"]
        if week["measure"] == "time_to_data" and week["workflow"] == "file_transfer"
    }
    assert weeks & PLANTED_WEEKS
