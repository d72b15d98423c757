"""The monitoring marts (models/marts/monitoring/) on the published data, computed again here
with numpy and pandas from the samples of the public marts, independently of their SQL."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.conftest import REPO, Built
from turnaround.dbt import project_vars

TOLERANCE = 1e-9
LOCAL = "America/Los_Angeles"

#: the marts' contracts: column -> DuckDB type, in order
CONTRACTS: dict[str, dict[str, str]] = {
    "weekly_trends": {
        "measure": "VARCHAR",
        "week_start_date": "DATE",
        "iso_week": "VARCHAR",
        "workflow": "VARCHAR",
        "scan_size": "INTEGER",
        "n": "BIGINT",
        "mean_s": "DOUBLE",
        "p50_s": "DOUBLE",
        "p90_s": "DOUBLE",
        "p99_s": "DOUBLE",
        "baseline_weeks": "BIGINT",
        "baseline_p90_s": "DOUBLE",
        "baseline_mad_s": "DOUBLE",
        "is_flagged": "BOOLEAN",
        "flag_reason": "VARCHAR",
    },
    "transfer_model": {
        "workflow": "VARCHAR",
        "n": "BIGINT",
        "overhead_s": "DOUBLE",
        "bandwidth_gb_s": "DOUBLE",
        "slope_s_per_gb": "DOUBLE",
        "r_squared": "DOUBLE",
        "residual_se_s": "DOUBLE",
        "mean_gb": "DOUBLE",
        "sxx": "DOUBLE",
    },
    "transfer_predictions": {
        "workflow": "VARCHAR",
        "scan_size": "INTEGER",
        "data_size_gb": "DOUBLE",
        "predicted_s": "DOUBLE",
        "prediction_low_s": "DOUBLE",
        "prediction_high_s": "DOUBLE",
        "is_measured_size": "BOOLEAN",
    },
    "service_level_status": {
        "level_id": "VARCHAR",
        "workflow": "VARCHAR",
        "scan_size": "INTEGER",
        "measure": "VARCHAR",
        "statistic": "VARCHAR",
        "max_s": "DOUBLE",
        "window_days": "INTEGER",
        "severity": "VARCHAR",
        "description": "VARCHAR",
        "window_end_date": "DATE",
        "window_start_date": "DATE",
        "n": "BIGINT",
        "measured_s": "DOUBLE",
        "status": "VARCHAR",
    },
    "source_freshness": {
        "source_name": "VARCHAR",
        "newest_record_at": "TIMESTAMP WITH TIME ZONE",
        "max_age_days": "INTEGER",
        "severity": "VARCHAR",
    },
}


def close(ours: float | None, expected: float | None) -> bool:
    """Equal to TOLERANCE (relative for large values); two missing values are equal."""
    if ours is None or expected is None or pd.isna(ours) or pd.isna(expected):
        return (ours is None or pd.isna(ours)) and (expected is None or pd.isna(expected))
    return math.isclose(float(ours), float(expected), rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def text(value: object) -> str | None:
    """A text cell, None when missing (pandas reads a NULL as None or NaN)."""
    return None if value is None or pd.isna(value) else str(value)


def quantile(values: pd.Series | list[float], fraction: float) -> float:
    """Linearly interpolated quantile (numpy's default), as the marts' percentile_cont."""
    return float(np.quantile(np.asarray(values, dtype=float), fraction))


def local_dates(instants: pd.Series) -> pd.Series:
    """Facility-local calendar dates of UTC instants."""
    return pd.to_datetime(instants, utc=True).dt.tz_convert(LOCAL).dt.date


def samples(published: Built) -> pd.DataFrame:
    """Every monitored sample (measure, workflow, scan_size, sample_date, value_s), read from
    the public marts and dated here: a file transfer and a queue time by the job's submit, a
    streamed scan by its first receiver status."""
    time_to_data = published.frame("select * from marts.fct_time_to_data")
    jobs = published.frame("select * from marts.fct_count_jobs")
    streamed = published.frame("select * from marts.fct_streaming_scans")
    jobs["sample_key"] = jobs["job_id"].astype(str) + "/" + jobs["scan_id"].astype(str)
    jobs["sample_date"] = local_dates(jobs["submitted_at"])
    streamed["sample_key"] = streamed["scan_number"].astype(str)
    streamed["sample_date"] = local_dates(streamed["first_status_at"])
    transfers = time_to_data[time_to_data["workflow"] == "file_transfer"].merge(
        jobs[["sample_key", "sample_date"]], on="sample_key", validate="one_to_one"
    )
    streams = time_to_data[time_to_data["workflow"] == "streaming"].merge(
        streamed[["sample_key", "sample_date"]], on="sample_key", validate="one_to_one"
    )
    assert len(transfers) + len(streams) == len(time_to_data)
    ttd = pd.concat([transfers, streams]).rename(columns={"time_to_data_s": "value_s"})
    ttd["measure"] = "time_to_data"
    queue = jobs.rename(columns={"queue_time_s": "value_s"})
    queue["measure"] = "queue_time"
    queue["workflow"] = "count_job"
    columns = ["measure", "workflow", "scan_size", "sample_date", "value_s"]
    out = pd.concat([ttd[columns], queue[columns]], ignore_index=True)
    out["value_s"] = out["value_s"].astype(float)
    return out


def expected_weeks(published: Built) -> pd.DataFrame:
    """weekly_trends computed here with the project's default vars."""
    defaults = project_vars()
    baseline_weeks, min_weeks, min_samples, factor, mad_k, min_increase = (
        defaults[name]
        for name in (
            "trend_baseline_weeks",
            "trend_min_baseline_weeks",
            "trend_min_week_samples",
            "trend_p90_factor",
            "trend_mad_k",
            "trend_min_increase_s",
        )
    )
    frame = samples(published)
    dates = pd.to_datetime(frame["sample_date"])
    frame["week_start_date"] = (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.date
    rows = []
    keys = ["measure", "workflow", "scan_size"]
    for key, series in frame.groupby(keys):
        weeks = {
            week: {
                "n": len(group),
                "mean_s": float(group["value_s"].mean()),
                "p50_s": quantile(group["value_s"], 0.5),
                "p90_s": quantile(group["value_s"], 0.9),
                "p99_s": quantile(group["value_s"], 0.99),
            }
            for week, group in series.groupby("week_start_date")
        }
        for week, stats in weeks.items():
            earlier = [
                other["p90_s"]
                for other_week, other in weeks.items()
                if 1 <= (week - other_week).days // 7 <= baseline_weeks
            ]
            median = float(np.median(earlier)) if earlier else None
            mad = float(np.median([abs(p - median) for p in earlier])) if earlier else None
            enough = (
                len(earlier) >= min_weeks
                and stats["n"] >= min_samples
                and stats["p90_s"] - median >= min_increase
            )
            above_factor = enough and stats["p90_s"] > median * factor
            above_mad = enough and mad > 0 and stats["p90_s"] > median + mad_k * mad
            reasons = []
            if above_factor:
                reasons.append(f"p90 over {factor} x baseline")
            if above_mad:
                reasons.append(f"p90 over baseline + {mad_k} mad")
            year, number, _ = week.isocalendar()
            rows.append(
                dict(zip(keys, key, strict=True))
                | {"week_start_date": week, "iso_week": f"{year}-W{number:02d}"}
                | stats
                | {
                    "baseline_weeks": len(earlier),
                    "baseline_p90_s": median,
                    "baseline_mad_s": mad,
                    "is_flagged": bool(above_factor or above_mad),
                    "flag_reason": "; ".join(reasons) or None,
                }
            )
    return pd.DataFrame(rows)


def test_monitoring_marts_exist_with_their_contracts(published: Built) -> None:
    assert published.exit_code == 0, published.output
    for mart, columns in CONTRACTS.items():
        found = published.query(
            f"""
            select column_name, data_type from information_schema.columns
            where table_schema = 'marts' and table_name = '{mart}'
            order by ordinal_position
            """
        )
        assert dict(found) == columns, mart
        assert list(dict(found)) == list(columns), mart
        assert published.query(f"select count(*) from marts.{mart}")[0][0] > 0, mart


def test_transfer_model_equals_a_numpy_least_squares_fit(published: Built) -> None:
    frame = published.frame("select * from marts.fct_time_to_data")
    # the outliers again, here: Tukey's rule per size and workflow, interpolated quartiles
    grouped = frame.groupby(["scan_size", "workflow"])["time_to_data_s"]
    q1 = grouped.transform(lambda values: quantile(values, 0.25))
    q3 = grouped.transform(lambda values: quantile(values, 0.75))
    k = project_vars()["outlier_iqr_factor"]
    outlier = (frame["time_to_data_s"] < q1 - k * (q3 - q1)) | (
        frame["time_to_data_s"] > q3 + k * (q3 - q1)
    )
    assert (outlier == frame["is_outlier"]).all()
    detector = pd.read_csv(REPO / "seeds" / "detector.csv").iloc[0]
    frame["data_size_gb"] = (
        frame["scan_size"].astype(float) ** 2
        * detector["width_px"]
        * detector["height_px"]
        * detector["bytes_per_pixel"]
        / 1e9
    )
    model = published.frame("select * from marts.transfer_model").set_index("workflow")
    assert set(model.index) == {"file_transfer", "streaming"}
    for workflow, group in frame[~outlier].groupby("workflow"):
        x = group["data_size_gb"].to_numpy()
        y = group["time_to_data_s"].to_numpy()
        slope, intercept = np.polyfit(x, y, 1)
        residuals = y - (intercept + slope * x)
        sse = float(residuals @ residuals)
        r_squared = 1 - sse / float(((y - y.mean()) ** 2).sum())
        row = model.loc[workflow]
        assert row["n"] == len(x)
        assert close(row["overhead_s"], intercept), workflow
        assert close(row["slope_s_per_gb"], slope), workflow
        assert close(row["bandwidth_gb_s"], 1 / slope), workflow
        assert close(row["r_squared"], r_squared), workflow
        assert close(row["residual_se_s"], math.sqrt(sse / (len(x) - 2))), workflow
        assert close(row["mean_gb"], x.mean()), workflow
        assert close(row["sxx"], float(((x - x.mean()) ** 2).sum())), workflow


def test_transfer_predictions_use_the_t_table(published: Built) -> None:
    model = published.frame("select * from marts.transfer_model").set_index("workflow")
    predictions = published.frame("select * from marts.transfer_predictions")
    sizes = pd.read_csv(REPO / "seeds" / "prediction_sizes.csv")
    table = pd.read_csv(REPO / "seeds" / "t_quantiles.csv")
    assert len(predictions) == len(model) * len(sizes)
    for row in predictions.itertuples():
        fit = model.loc[row.workflow]
        x = float(sizes.set_index("scan_size").loc[row.scan_size, "data_size_gb"])
        t = float(table[table["df"] <= fit["n"] - 2].sort_values("df")["t_975"].iloc[-1])
        predicted = fit["overhead_s"] + fit["slope_s_per_gb"] * x
        half = (
            t
            * fit["residual_se_s"]
            * math.sqrt(1 + 1 / fit["n"] + (x - fit["mean_gb"]) ** 2 / fit["sxx"])
        )
        assert close(row.predicted_s, predicted)
        assert close(row.prediction_low_s, predicted - half)
        assert close(row.prediction_high_s, predicted + half)
        assert row.is_measured_size == (row.scan_size != 2048)


def test_weekly_trends_equal_the_weeks_computed_here(published: Built) -> None:
    expected = expected_weeks(published)
    ours = published.frame("select * from marts.weekly_trends")
    keys = ["measure", "workflow", "scan_size", "week_start_date"]
    ours["week_start_date"] = pd.to_datetime(ours["week_start_date"]).dt.date
    assert len(ours) == len(expected)
    merged = ours.merge(expected, on=keys, suffixes=("", "_expected"), validate="one_to_one")
    assert len(merged) == len(expected)
    for row in merged.to_dict("records"):
        where = {key: row[key] for key in keys}
        assert row["iso_week"] == row["iso_week_expected"], where
        assert row["n"] == row["n_expected"], where
        assert row["baseline_weeks"] == row["baseline_weeks_expected"], where
        for column in ("mean_s", "p50_s", "p90_s", "p99_s", "baseline_p90_s", "baseline_mad_s"):
            assert close(row[column], row[f"{column}_expected"]), (column, where)
        assert row["is_flagged"] == row["is_flagged_expected"], where
        assert text(row["flag_reason"]) == text(row["flag_reason_expected"]), where
    # the published data: file transfer and queue time over 2022-08 .. 2023-10, streaming in
    # the one week of its experiments (Oct 13, 2023)
    streaming = ours[ours["workflow"] == "streaming"]
    assert set(streaming["iso_week"]) == {"2023-W41"}
    assert not streaming["is_flagged"].any()
    assert ours["is_flagged"].any()


def test_service_levels_of_the_published_data(published: Built) -> None:
    status = published.frame("select * from marts.service_level_status").set_index("level_id")
    for column in ("window_end_date", "window_start_date"):
        status[column] = pd.to_datetime(status[column]).dt.date
    levels = pd.read_csv(REPO / "seeds" / "service_levels.csv").set_index("level_id")
    assert set(status.index) == set(levels.index)
    # every default level is met by the published data over its own last window
    assert set(status["status"]) == {"met"}
    frame = samples(published)
    newest = frame.groupby("measure")["sample_date"].max()
    assert str(newest["time_to_data"]) == "2023-10-13"  # the streaming experiments' day
    assert str(newest["queue_time"]) == "2023-10-11"
    for level_id, level in levels.iterrows():
        end = newest[level["measure"]]
        start = end - pd.Timedelta(days=int(level["window_days"]) - 1)
        chosen = frame[
            (frame["measure"] == level["measure"])
            & (frame["workflow"] == level["workflow"])
            & (frame["sample_date"] >= start)
            & (frame["sample_date"] <= end)
        ]
        if not pd.isna(level["scan_size"]):
            chosen = chosen[chosen["scan_size"] == int(level["scan_size"])]
        values = chosen["value_s"]
        statistic = level["statistic"]
        measured = (
            float(values.mean())
            if statistic == "mean"
            else quantile(values, int(statistic[1:]) / 100)
        )
        row = status.loc[level_id]
        assert row["window_end_date"] == end, level_id
        assert row["window_start_date"] == start, level_id
        assert row["n"] == len(values) > 0, level_id
        assert close(row["measured_s"], measured), level_id
        assert measured <= level["max_s"], level_id


@pytest.mark.parametrize(
    "source",
    ["slurm", "rec_status", "ncem_data_files", "nersc_counted_files", "stempy_log"],
)
def test_source_freshness_matches_the_newest_records(published: Built, source: str) -> None:
    fresh = published.query(
        f"""
        select freshness.newest_record_at = coverage.newest_record_at
        from marts.source_freshness as freshness
        inner join marts.source_coverage as coverage using (source_name)
        where source_name = '{source}'
        """
    )
    assert fresh == [(True,)]


def test_source_freshness_dates_distiller_by_its_jobs(published: Built) -> None:
    rows = dict(published.query("select source_name, newest_record_at from marts.source_freshness"))
    assert set(rows) == set(pd.read_csv(REPO / "seeds" / "freshness_levels.csv")["source"])
    newest_linked = published.query(
        """
        select max(jobs.submitted_at)
        from staging.stg_distiller__scan_jobs as scan_jobs
        inner join staging.stg_slurm__jobs as jobs on scan_jobs.slurm_job_id = jobs.job_id
        """
    )[0][0]
    assert newest_linked is not None
    assert rows["distiller_db"] == newest_linked


def test_check_on_the_published_data(published: Built) -> None:
    import json

    import jsonschema

    from tests.conftest import turnaround
    from turnaround.check import SCHEMA

    # a week after the last records every level is met and every source fresh: exit 0
    done = turnaround("check", "--config", str(published.config), "--as-of", "2023-10-20")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert sum(line.startswith("met ") for line in lines) == 5
    assert sum(" source " in line and line.startswith("fresh") for line in lines) == 6
    assert lines[-1] == "check as of 2023-10-20T00:00:00+00:00: every level met or without data"
    # today, a facility's monitor would page someone: the sources went quiet in 2023
    late = turnaround("check", "--config", str(published.config), "--json")
    assert late.returncode == 1
    document = json.loads(late.stdout)
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert "source slurm stale" in document["failures"]
    assert {level["status"] for level in document["levels"]} == {"met"}


def test_the_readme_states_the_published_fit_and_weeks(published: Built) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    # the fit as the README rounds it, from the mart the numpy test above pins
    words = " ".join(readme.split())
    model = published.frame("select * from marts.transfer_model").set_index("workflow")
    for workflow in ("file_transfer", "streaming"):
        row = model.loc[workflow]
        said = (
            f"{row['overhead_s']:.1f} s + size / {row['bandwidth_gb_s']:.2f} GB/s "
            f"(r² {row['r_squared']:.3f}, n {int(row['n'])})"
        )
        assert said in words, said
    # the week table, from the weeks computed here with numpy
    weeks = expected_weeks(published)
    start = readme.index("<!-- weeks:")
    table = readme[start : readme.index("<!-- end of weeks -->")].splitlines()[3:]
    stated = [[cell.strip() for cell in line.strip("|").split("|")] for line in table if line]
    names = {"time_to_data": "time to data", "queue_time": "queue time"}
    computed = []
    for (measure, workflow, size), group in weeks.groupby(["measure", "workflow", "scan_size"]):
        labels = sorted(group["iso_week"])
        computed.append(
            [
                names[measure],
                workflow.replace("_", " "),
                f"{size} \u00d7 {size}",
                str(len(group)),
                labels[0],
                labels[-1],
                str(int(group["is_flagged"].sum())),
                f"{float(np.median(group['p90_s'])):.1f}",
            ]
        )
    assert sorted(stated) == sorted(computed)
