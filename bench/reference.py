"""Reference measurements for the rec_status JSON loader: what it cannot beat, what it replaced.

- `read_floor(folder)`: one plain Python pass that walks the folder and opens and reads every
  `4dstem_rec_status_*.json` in it: the least work any loader of those files must do.
- `stat_floor(folder)`: the walk floor, one `os.stat` of every file of the tree (what finding
  new or changed files costs at least, without reading them).
- `cat_jq_seconds(files, work)`: the analysis notes' extraction loop, `cat $file | jq -r '.time'`
  then `date -d "$raw_time" --utc '+%Y-%m-%dT%H:%M:%S+00:00'`, run by bash over the files.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import time
from pathlib import Path

REC_STATUS_GLOB = "4dstem_rec_status_*.json"

# The loop of ../shared/seed/analysis-notes.md (the offload and created-times scripts), over a
# list of files instead of `ls | grep | sort -u`; one CSV line per file, like theirs.
CAT_JQ_LOOP = r"""
while IFS= read -r file_name; do
    raw_time=$(cat $file_name | jq -r '.time')
    iso_time=$(date -d "$raw_time" --utc '+%Y-%m-%dT%H:%M:%S+00:00')
    echo "${file_name},${iso_time}" >> "$2"
done < "$1"
"""


def require_tools() -> None:
    """Stop with one clear message when the cat|jq reference cannot run."""
    missing = [tool for tool in ("bash", "cat", "jq", "date") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(
            f"bench: the cat|jq reference needs {', '.join(missing)} on PATH "
            "(Debian: sudo apt-get install jq)"
        )


def rec_status_files(folder: Path) -> list[Path]:
    """Every receiver status file under folder, sorted."""
    return sorted(folder.rglob(REC_STATUS_GLOB))


def read_floor(folder: Path) -> tuple[float, int, int]:
    """Seconds to walk folder and read every status file; also the files and bytes read."""
    start = time.perf_counter()
    files = size = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            if fnmatch.fnmatchcase(name, REC_STATUS_GLOB):
                with open(os.path.join(parent, name), "rb") as handle:
                    size += len(handle.read())
                files += 1
    return time.perf_counter() - start, files, size


# One plain Python process that opens and reads every status file of a folder (and of its
# subfolders): the floor of a whole `turnaround load rec_status` process, start-up included.
PLAIN_READ_PROCESS = r"""
import os, sys
def read(folder):
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                read(entry.path)
            elif entry.name.startswith("4dstem_rec_status_") and entry.name.endswith(".json"):
                with open(entry.path, "rb") as handle:
                    handle.read()
read(sys.argv[1])
"""


def flat_copy(folder: Path, dest: Path) -> int:
    """The status files of a dated tree in one folder, as the receivers write them: a hard
    link per file (a copy where links fail), the first of each name (the scan counter
    restarts, so names repeat across days). Returns the number of files."""
    dest.mkdir(parents=True, exist_ok=True)
    names: set[str] = set()
    for path in rec_status_files(folder):
        if path.name in names:
            continue
        names.add(path.name)
        try:
            os.link(path, dest / path.name)
        except OSError:
            shutil.copy2(path, dest / path.name)
    return len(names)


def stat_floor(folder: Path) -> tuple[float, int]:
    """Seconds to walk folder and `os.stat` every file; also the number of files."""
    start = time.perf_counter()
    files = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            os.stat(os.path.join(parent, name))
            files += 1
    return time.perf_counter() - start, files


def warm_page_cache(folder: Path) -> int:
    """Read every file under folder once (untimed), so the timed passes all find it cached."""
    size = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(parent, name), "rb") as handle:
                size += len(handle.read())
    return size


def sample(files: list[Path], count: int) -> list[Path]:
    """`count` files spread evenly over the sorted list (all of them if there are fewer)."""
    if len(files) <= count:
        return list(files)
    return [files[i * len(files) // count] for i in range(count)]


def cat_jq_seconds(files: list[Path], work: Path) -> float:
    """Wall seconds of the cat|jq|date loop over files; checks it produced one time per file."""
    work.mkdir(parents=True, exist_ok=True)
    listing, out = work / "cat_jq_files.txt", work / "cat_jq_times.csv"
    listing.write_text("".join(f"{path}\n" for path in files), encoding="utf-8")
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    subprocess.run(["bash", "-c", CAT_JQ_LOOP, "cat-jq", str(listing), str(out)], check=True)
    seconds = time.perf_counter() - start
    lines = out.read_text(encoding="utf-8").splitlines()
    empty = [line for line in lines if line.endswith(",")]
    if len(lines) != len(files) or empty:
        raise SystemExit(f"bench: the cat|jq loop gave {len(lines)} lines for {len(files)} files")
    return seconds
