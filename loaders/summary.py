"""What a load did, per source: the counts `turnaround load` prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from loaders.batch import Batch


@dataclass
class SourceTally:
    """What one load did for one source."""

    files_new: int = 0
    files_replaced: int = 0
    files_unchanged: int = 0
    rows: int = 0
    skipped: int = 0
    rejected: int = 0
    #: wall seconds spent on this source (finding, reading, parsing, writing its files)
    seconds: float = field(default=0.0, compare=False)


@dataclass
class LoadSummary:
    """What one `load` did, per source."""

    load_id: int
    sources: dict[str, SourceTally] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    reject_kinds: Counter[tuple[str, str]] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        """A short human-readable report, one line per source."""
        out = []
        for source, t in sorted(self.sources.items()):
            out.append(
                f"{source:<20} {t.files_new} new, {t.files_replaced} changed, "
                f"{t.files_unchanged} unchanged files; {t.rows} rows"
                + (f"; {t.skipped} unrelated entries skipped" if t.skipped else "")
                + (f"; {t.rejected} records rejected" if t.rejected else "")
                + f"; {t.seconds:.2f} s"
            )
        for (source, kind), count in sorted(self.reject_kinds.items()):
            out.append(f"rejected {count:>6}  {source}: {kind}")
        out += [f"warning: no file matches {glob}" for glob in self.unmatched]
        return out

    def count(self, source: str, batch: Batch) -> None:
        """Count a batch into the summary."""
        tally = self.sources.setdefault(source, SourceTally())
        tally.files_new += batch.new
        tally.files_replaced += batch.changed
        tally.files_unchanged += batch.unchanged
        tally.rows += batch.row_count
        tally.skipped += batch.skipped
        tally.rejected += batch.rejected
        for kind, count in batch.reject_kinds.items():
            self.reject_kinds[(source, kind)] += count
