"""The file lists: NCEM data files and NERSC counted files as stat listings, folder walks
and CSV exports, into exact raw rows."""

from __future__ import annotations

import os
from pathlib import Path

from loaders import load
from tests.helpers import as_path, load_only, make_config, query, raw_rows, stat_listing, write

# --------------------------------------------------------------------------- formats: file lists


def test_ncem_stat_listing_epochs_stat_y_and_skipped_names(tmp_path: Path) -> None:
    text = stat_listing(
        "/data/scan/data_scan0000012345_00.data|1697470245",
        "/data/scan/data_scan0000012345_01.data|1697470245.123456789",
        "",
        "/data/scan/data_scan0000012346_00.data|2023-10-16 08:30:45.123456789 -0700",
        "/data/scan/notes.txt|1697470245",
        "/data/scan/data_scan12_00.data|1697470245",
        "/data/we|ird/data_scan0000012347_02.data|1697470246",
    )
    config = load_only(tmp_path, "ncem_data_files", "stat", {"listing.txt": text})
    src = str((tmp_path / "in" / "listing.txt").resolve())
    assert raw_rows(config, "ncem_data_files") == [
        (src, 1, "/data/scan/data_scan0000012345_00.data", "0000012345", "00", "1697470245"),
        (
            src,
            2,
            "/data/scan/data_scan0000012345_01.data",
            "0000012345",
            "01",
            "1697470245.123456789",
        ),
        (
            src,
            4,
            "/data/scan/data_scan0000012346_00.data",
            "0000012346",
            "00",
            "2023-10-16 08:30:45.123456789 -0700",
        ),
        (src, 7, "/data/we|ird/data_scan0000012347_02.data", "0000012347", "02", "1697470246"),
    ]
    # data_scan12_00.data is a data file with a broken name: rejected, not skipped
    assert query(config, "select rows, skipped, rejected from raw.loads") == [(4, 1, 1)]
    assert query(config, "select line_number, reason from raw.rejected_records") == [
        (6, "file name is not data_scan<scan, 10 digits>_<part>.data")
    ]


def test_ncem_dir_walk_nested_without_following_symlinked_dirs(tmp_path: Path) -> None:
    root = tmp_path / "ncem"
    first = write(root / "data_scan0000000001_00.data", b"x")
    write(root / "notes.txt", b"x")
    second = write(root / "b" / "data_scan0000000002_01.data", b"x")
    third = write(root / "b" / "c" / "data_scan0000000002_02.data", b"x")
    outside = write(tmp_path / "outside" / "data_scan0000000099_00.data", b"x")
    (root / "linked").symlink_to(outside.parent, target_is_directory=True)
    os.utime(first, ns=(1697470245_123456789, 1697470245_123456789))
    os.utime(second, ns=(1697470246_000000001, 1697470246_000000001))
    os.utime(third, ns=(1697470247_000000000, 1697470247_000000000))
    config = make_config(tmp_path, [("ncem_data_files", "dir", ["ncem"])])
    summary = load(config)
    src = str(root.resolve())
    assert raw_rows(config, "ncem_data_files") == [
        (src, 1, str(first), "0000000001", "00", "1697470245.123456789"),
        (src, 3, str(second), "0000000002", "01", "1697470246.000000001"),
        (src, 4, str(third), "0000000002", "02", "1697470247.000000000"),
    ]
    path = as_path(config, "path")
    assert query(config, f"select {path}, format, rows, skipped from raw.loads") == [
        (src, "dir", 3, 1)
    ]
    assert (
        summary.sources["ncem_data_files"].rows,
        summary.sources["ncem_data_files"].skipped,
    ) == (
        3,
        1,
    )


def test_ncem_csv(tmp_path: Path) -> None:
    text = (
        "time_last_written,host,scan_number\n"
        "2023-10-16T08:30:45.123456789-07:00,ncem-0,12345\n"
        "2023-10-16T15:31:00Z,ncem-1,12346\n"
    )
    config = load_only(tmp_path, "ncem_data_files", "csv", {"write_times.csv": text})
    src = str((tmp_path / "in" / "write_times.csv").resolve())
    assert raw_rows(config, "ncem_data_files") == [
        (src, 2, None, "12345", None, "2023-10-16T08:30:45.123456789-07:00"),
        (src, 3, None, "12346", None, "2023-10-16T15:31:00Z"),
    ]


def test_nersc_stat_suffix_and_distiller_zero(tmp_path: Path) -> None:
    text = stat_listing(
        "/pscratch/FOURD_231016_0830_01234_00042.h5|1697470245",
        "/pscratch/FOURD_231016_0830_01234_00042_centered.h5|1697470245.5",
        "/pscratch/FOURD_231016_0831_00000_00043.h5|2023-10-16 08:31:00 -0700",
        "/pscratch/FOURD_231016_0831_01235_00043.txt|1697470245",
        "/pscratch/FOURD_231016_0831_1235_00043.h5|1697470245",
    )
    config = load_only(tmp_path, "nersc_counted_files", "stat", {"counted.txt": text})
    src = str((tmp_path / "in" / "counted.txt").resolve())
    assert raw_rows(config, "nersc_counted_files") == [
        (
            src,
            1,
            "/pscratch/FOURD_231016_0830_01234_00042.h5",
            "01234",
            "00042",
            "231016_0830",
            "1697470245",
        ),
        (
            src,
            2,
            "/pscratch/FOURD_231016_0830_01234_00042_centered.h5",
            "01234",
            "00042",
            "231016_0830",
            "1697470245.5",
        ),
        (
            src,
            3,
            "/pscratch/FOURD_231016_0831_00000_00043.h5",
            "00000",
            "00043",
            "231016_0831",
            "2023-10-16 08:31:00 -0700",
        ),
    ]
    assert query(config, "select rows, skipped, rejected from raw.loads") == [(3, 1, 1)]


def test_nersc_dir_walk(tmp_path: Path) -> None:
    root = tmp_path / "pscratch"
    one = write(root / "2023" / "FOURD_231016_0830_01234_00042_centered.h5", b"h5")
    write(root / "2023" / "FOURD_231016_0830_01234_00042.log", b"log")
    os.utime(one, ns=(1697470300_500000000, 1697470300_500000000))
    config = make_config(tmp_path, [("nersc_counted_files", "dir", ["pscratch"])])
    load(config)
    assert raw_rows(config, "nersc_counted_files") == [
        (
            str(root.resolve()),
            2,
            str(one),
            "01234",
            "00042",
            "231016_0830",
            "1697470300.500000000",
        )
    ]
    assert query(config, "select rows, skipped from raw.loads") == [(1, 1)]


def test_nersc_csv(tmp_path: Path) -> None:
    text = (
        "distiller_id,scan_number,datetime\n1234,42,2023-10-16 08:30:45\n0,43,2023-10-16T08:31:00\n"
    )
    config = load_only(tmp_path, "nersc_counted_files", "csv", {"scan_times_1.csv": text})
    src = str((tmp_path / "in" / "scan_times_1.csv").resolve())
    assert raw_rows(config, "nersc_counted_files") == [
        (src, 2, None, "1234", "42", None, "2023-10-16 08:30:45"),
        (src, 3, None, "0", "43", None, "2023-10-16T08:31:00"),
    ]


# --------------------------------------------------------------------------- oddities that load


def test_dir_walk_skips_dangling_symlinks(tmp_path: Path) -> None:
    good = write(tmp_path / "in" / "data_scan0000004728_00.data", "x")
    (tmp_path / "in" / "data_scan0000004728_01.data").symlink_to(tmp_path / "gone")
    config = make_config(tmp_path, [("ncem_data_files", "dir", ["in"])])
    load(config)
    assert query(config, "select file_path from raw.ncem_data_files") == [(str(good),)]


def test_nested_folders_matched_by_one_dir_glob_are_walked_once(tmp_path: Path) -> None:
    write(tmp_path / "in" / "data_scan0000004728_00.data", "x")
    write(tmp_path / "in" / "sub" / "data_scan0000004728_01.data", "x")
    config = make_config(tmp_path, [("ncem_data_files", "dir", ["in/**"])])
    load(config)
    assert query(
        config, "select count(*), count(distinct _source_file) from raw.ncem_data_files"
    ) == [(2, 1)]
