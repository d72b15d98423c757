"""The comparison table and the rejected-record counts, as the terminal shows them."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse import connect


def comparison_rows(warehouse: Path) -> list[tuple[object, ...]] | None:
    """Rows of marts.transfer_comparison, smallest scans first (read-only, released at once);
    None when the mart has not been built."""
    con = connect(warehouse, read_only=True)
    try:
        return con.execute(
            """
            select scan_size, data_size_gb, file_transfer_mean_s, file_transfer_std_s,
                streaming_mean_s, streaming_std_s, enhancement
            from marts.transfer_comparison
            order by scan_size
            """
        ).fetchall()
    except duckdb.CatalogException:
        return None
    finally:
        con.close()


def _cell(mean: object, std: object) -> str:
    """`52.0 ± 30.6`, or `-` when unknown."""
    if mean is None:
        return "-"
    return f"{mean:.1f} ± {std:.1f}" if std is not None else f"{mean:.1f}"


def format_comparison(rows: list[tuple[object, ...]] | None) -> str:
    """The paper's table as plain text."""
    if rows is None:
        return "(marts.transfer_comparison was not built: see the dbt errors above)"
    header = ("scan", "data (GB)", "file transfer (s)", "streaming (s)", "enhancement")
    lines = [header]
    for size, gb, ft_mean, ft_std, st_mean, st_std, enhancement in rows:
        lines.append(
            (
                f"{size}x{size}",
                f"{gb:.1f}",
                _cell(ft_mean, ft_std),
                _cell(st_mean, st_std),
                "-" if enhancement is None else f"x{enhancement:.1f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    if len(lines) == 1:
        text.append("(no scan size has data yet)")
    return "\n".join(text)


def rejected_counts(warehouse: Path) -> list[tuple[str, str, int]]:
    """(source, kind of defect, records) held in raw.rejected_records."""
    con = connect(warehouse, read_only=True)
    try:
        return con.execute(
            """
            select source, reason_kind, count(*) from raw.rejected_records
            group by all order by source, reason_kind
            """
        ).fetchall()
    except duckdb.CatalogException:
        return []
    finally:
        con.close()
