"""The comparison table: the paper's Table 1 and its neighbours; as a frame, LaTeX, MD, CSV."""

from __future__ import annotations

import math

import pandas as pd

WORKFLOWS = {"file_transfer": "File transfer", "streaming": "Streaming"}


def comparison_frame(stats: pd.DataFrame, comparison: pd.DataFrame) -> pd.DataFrame:
    """One row per scan size: the paper's columns (outliers removed), then the outliers-included
    means, medians, p90/p99 and throughput (GB/s = data size / mean time) of each workflow."""
    if comparison.empty:
        return pd.DataFrame()
    rows = []
    for _, base in comparison.sort_values("scan_size").iterrows():
        size = int(base["scan_size"])
        row: dict[str, object] = {
            "scan_size": size,
            "data_size_gb": base["data_size_gb"],
            "file_transfer_mean_s": base["file_transfer_mean_s"],
            "file_transfer_std_s": base["file_transfer_std_s"],
            "streaming_mean_s": base["streaming_mean_s"],
            "streaming_std_s": base["streaming_std_s"],
            "enhancement": base["enhancement"],
        }
        for workflow in WORKFLOWS:
            for outliers in ("included", "removed"):
                match = stats[
                    (stats["scan_size"] == size)
                    & (stats["workflow"] == workflow)
                    & (stats["outliers"] == outliers)
                ]
                if match.empty:
                    continue
                stat = match.iloc[0]
                if outliers == "included":
                    row[f"{workflow}_all_mean_s"] = stat["mean_s"]
                    row[f"{workflow}_all_std_s"] = stat["std_s"]
                    row[f"{workflow}_all_n"] = int(stat["n"])
                else:
                    row[f"{workflow}_n"] = int(stat["n"])
                    row[f"{workflow}_median_s"] = stat["median_s"]
                    row[f"{workflow}_p90_s"] = stat["p90_s"]
                    row[f"{workflow}_p99_s"] = stat["p99_s"]
            mean = row.get(f"{workflow}_mean_s")
            row[f"{workflow}_gb_per_s"] = (
                base["data_size_gb"] / mean
                if isinstance(mean, int | float) and mean > 0
                else math.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not math.isnan(float(value))


def pm(mean: object, std: object) -> str:
    """`52.0 ± 30.6` (text), `-` when unknown."""
    if not _number(mean):
        return "-"
    return f"{mean:.1f} ± {std:.1f}" if _number(std) else f"{mean:.1f}"


def one(value: object, fmt: str = "{:.1f}") -> str:
    return fmt.format(value) if _number(value) else "-"


def to_latex(frame: pd.DataFrame) -> str:
    """The paper's layout: booktabs, one row per size, cells like `$52.0 \\pm 30.6$`."""
    lines = [
        r"\begin{table}",
        r"\centering",
        r"\caption{Time to data on the supercomputer, file transfer vs streaming "
        r"(mean $\pm$ standard deviation, IQR outliers removed).}",
        r"\label{tab:transfer-comparison}",
        r"\begin{tabular}{lrrrr}",
        r"\toprule",
        r"Scan size & Data size (GB) & File transfer (s) & Streaming (s) & Enhancement \\",
        r"\midrule",
    ]
    for _, row in frame.iterrows():
        size = int(row["scan_size"])
        lines.append(
            rf"${size} \times {size}$ & {row['data_size_gb']:.1f} & "
            rf"{_latex_pm(row['file_transfer_mean_s'], row['file_transfer_std_s'])} & "
            rf"{_latex_pm(row['streaming_mean_s'], row['streaming_std_s'])} & "
            rf"{one(row['enhancement'])} \\"
        )
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def _latex_pm(mean: object, std: object) -> str:
    if not _number(mean):
        return "--"
    return rf"${mean:.1f} \pm {std:.1f}$" if _number(std) else rf"${mean:.1f}$"


def to_markdown(frame: pd.DataFrame) -> str:
    """The same table in Markdown."""
    lines = [
        "| Scan size | Data size (GB) | File transfer (s) | Streaming (s) | Enhancement |",
        "|---|---:|---:|---:|---:|",
    ]
    for _, row in frame.iterrows():
        size = int(row["scan_size"])
        lines.append(
            f"| {size} × {size} | {row['data_size_gb']:.1f} | "
            f"{pm(row['file_transfer_mean_s'], row['file_transfer_std_s'])} | "
            f"{pm(row['streaming_mean_s'], row['streaming_std_s'])} | "
            f"× {one(row['enhancement'])} |"
        )
    return "\n".join(lines) + "\n"


def to_csv(frame: pd.DataFrame) -> str:
    """Every column of the comparison frame, full precision."""
    return frame.to_csv(index=False)
