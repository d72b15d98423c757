"""`ncem/rec_status/<date>/4dstem_rec_status_<r>_scan_<n>.json`: receiver status files."""

from __future__ import annotations

import json
import random
from pathlib import Path

from turnaround.demo.model import Scan
from turnaround.demo.times import iso_time, local


def uuid_like(rng: random.Random) -> str:
    """A deterministic UUID-shaped hex string."""
    text = f"{rng.getrandbits(128):032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def write_rec_status(out: Path, rng: random.Random, scans: list[Scan]) -> None:
    """Four receiver status files per scan, in a folder per local day of acquisition."""
    root = out / "ncem" / "rec_status"
    made: set[Path] = set()
    for scan in sorted(scans, key=lambda s: s.number):
        folder = root / local(scan.acquired).date().isoformat()
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        uuid = uuid_like(rng)
        for receiver, delay in enumerate(scan.receiver_delays):
            draw = rng.random()
            form = "utc" if draw < 0.85 else "z" if draw < 0.93 else "local"
            doc = {
                "time": iso_time(scan.acquired + delay, form),
                "last_scan_number": scan.number,
                "progress": 1.0,
                "UUID": uuid,
            }
            name = f"4dstem_rec_status_{receiver}_scan_{scan.number}.json"
            (folder / name).write_text(json.dumps(doc) + "\n", encoding="utf-8", newline="\n")
